/**
 * `latency` (ms) ± `jitter` (ms), spec §6.1. Each chunk leaves at (time it was read) + delay,
 * so a burst read together leaves together: the delay is not added per chunk and throughput
 * is unchanged. Chunks are handled in order, so a chunk with a smaller draw waits behind
 * earlier ones (never reordered). The departure time becomes the chunk's new stamp, which is
 * why two latency toxics in one direction add up.
 */
import type { Attributes, Chunk, Datagram, DatagramRun, DatagramToxic, ToxicType } from './types.ts';

/** A whole number of ms, uniform in [-jitter, jitter-1], like Go's rand.Int63n(2j) - j. */
function drawDelayMs(attrs: Attributes, random: () => number): number {
  const latencyMs = attrs['latency'] ?? 0;
  const jitterMs = attrs['jitter'] ?? 0;
  if (jitterMs <= 0) return latencyMs;
  return latencyMs + Math.floor(random() * 2 * jitterMs) - jitterMs;
}

/**
 * UDP: each datagram leaves at (time received) + its own draw. Datagrams are independent, so
 * with jitter a later datagram may overtake an earlier one, as on a real network path.
 */
const latencyDatagram: DatagramToxic = {
  start(attrs, port): DatagramRun {
    const held = new Map<Datagram, { cancel(): void }>();
    return {
      onDatagram(datagram) {
        const departAtMs = datagram.readAtMs + drawDelayMs(attrs, port.random);
        const waitMs = departAtMs - port.nowMs();
        if (waitMs <= 0) {
          port.forward(datagram);
          return;
        }
        datagram.readAtMs = departAtMs; // stacked latency toxics add up
        held.set(
          datagram,
          port.after(waitMs, () => {
            held.delete(datagram);
            port.forward(datagram);
          }),
        );
      },
      onInterrupt() {
        // As for streams: what is held goes on at once, in arrival order.
        for (const [datagram, timer] of held) {
          timer.cancel();
          port.forward(datagram);
        }
        held.clear();
      },
    };
  },
};

export const latencyToxic: ToxicType = {
  type: 'latency',
  goStruct: 'LatencyToxic',
  attributes: [
    { name: 'latency', goType: 'int64' },
    { name: 'jitter', goType: 'int64' },
  ],
  bufferChunks: 1024,
  datagram: latencyDatagram,
  start(attrs, port) {
    let held: Chunk | undefined;
    const delayMs = (): number => drawDelayMs(attrs, port.random);

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
