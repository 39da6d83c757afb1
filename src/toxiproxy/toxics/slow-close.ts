/**
 * `slow_close`: data passes untouched; the EOF is passed on `delay` ms late (spec §6.3).
 * Interrupted while waiting, it stops waiting and the EOF goes on at once.
 */
import type { ToxicType } from './types.ts';

export const slowCloseToxic: ToxicType = {
  type: 'slow_close',
  goStruct: 'SlowCloseToxic',
  attributes: [{ name: 'delay', goType: 'int64' }],
  bufferChunks: 0,
  start(attrs, port) {
    const delayMs = attrs['delay'] ?? 0;
    let closing = false;
    return {
      onChunk(chunk) {
        port.forward(chunk);
        port.finish();
      },
      onEnd() {
        if (delayMs <= 0) {
          port.closeOutput();
          return;
        }
        closing = true;
        port.setTimer(() => port.closeOutput(), delayMs);
      },
      onInterrupt() {
        if (closing) port.closeOutput();
      },
    };
  },
};
