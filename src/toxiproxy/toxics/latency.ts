/**
 * `latency` (ms) ± `jitter` (ms), spec §6.1. Each chunk leaves at (time it was read) + delay,
 * so a burst read together leaves together: the delay is not added per chunk and throughput
 * is unchanged. Chunks are handled in order, so a chunk with a smaller draw waits behind
 * earlier ones (never reordered). The departure time becomes the chunk's new stamp, which is
 * why two latency toxics in one direction add up.
 */
import type { Chunk, ToxicType } from './types.ts';

export const latencyToxic: ToxicType = {
  type: 'latency',
  goStruct: 'LatencyToxic',
  attributes: [
    { name: 'latency', goType: 'int64' },
    { name: 'jitter', goType: 'int64' },
  ],
  bufferChunks: 1024,
  start(attrs, port) {
    const latencyMs = attrs['latency'] ?? 0;
    const jitterMs = attrs['jitter'] ?? 0;
    let held: Chunk | undefined;

    const delayMs = (): number => {
      if (jitterMs <= 0) return latencyMs;
      // A whole number of ms, uniform in [-jitter, jitter-1], like Go's rand.Int63n(2j) - j.
      return latencyMs + Math.floor(port.random() * 2 * jitterMs) - jitterMs;
    };

    const release = (): void => {
      const chunk = held;
      held = undefined;
      if (chunk) port.forward(chunk);
    };

    return {
      onChunk(chunk) {
        const departAtMs = chunk.readAtMs + delayMs();
        const waitMs = departAtMs - port.nowMs();
        if (waitMs <= 0) {
          port.forward(chunk);
          port.finish();
          return;
        }
        chunk.readAtMs = departAtMs;
        held = chunk;
        port.setTimer(() => {
          release();
          port.finish();
        }, waitMs);
      },
      onEnd() {
        port.closeOutput();
      },
      onInterrupt() {
        // Go releases the chunk in hand at once, skipping the rest of its delay.
        release();
      },
    };
  },
};
