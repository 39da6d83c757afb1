/**
 * Every toxic type the API accepts, by its `type` name. There is no `down` toxic (spec §4.2).
 * `loss` is our extension (docs/toxiproxy.md, "UDP proxies and loss").
 */
import { bandwidthToxic } from './bandwidth.ts';
import { latencyToxic } from './latency.ts';
import { limitDataToxic } from './limit-data.ts';
import { lossToxic } from './loss.ts';
import { noopToxic } from './noop.ts';
import { resetPeerToxic } from './reset-peer.ts';
import { slicerToxic } from './slicer.ts';
import { slowCloseToxic } from './slow-close.ts';
import { timeoutToxic } from './timeout.ts';
import type { ToxicType } from './types.ts';

const TOXIC_TYPES: readonly ToxicType[] = [
  latencyToxic,
  bandwidthToxic,
  slowCloseToxic,
  timeoutToxic,
  resetPeerToxic,
  slicerToxic,
  limitDataToxic,
  noopToxic,
  lossToxic,
];

const BY_NAME = new Map(TOXIC_TYPES.map((t) => [t.type, t]));

export function toxicTypeNamed(type: string): ToxicType | undefined {
  return BY_NAME.get(type);
}

export function toxicTypeNames(): string[] {
  return TOXIC_TYPES.map((t) => t.type);
}
