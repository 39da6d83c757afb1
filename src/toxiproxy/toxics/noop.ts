/** `noop`: pass-through. Internal in Go but creatable through the API (spec §6). */
import { passThroughDatagramRun, passThroughRun, type ToxicType } from './types.ts';

export const noopToxic: ToxicType = {
  type: 'noop',
  goStruct: 'NoopToxic',
  attributes: [],
  bufferChunks: 0,
  start: (_attrs, port) => passThroughRun(port),
  datagram: { start: (_attrs, port) => passThroughDatagramRun(port) },
};
