/**
 * `bandwidth`: `rate` in KB/s with KB = 1000 bytes, per connection and direction (spec §6.2).
 * A chunk owes len/rate ms; chunks bigger than 100 ms worth (rate×100 bytes) go out in
 * 100 ms pieces. Departures are scheduled on a running clock rather than as separate sleeps,
 * so timer overshoot does not accumulate (Go carries its rounding error forward for the
 * same reason). rate 0 stalls the stream until the toxic is removed or changed, as in Go;
 * a negative rate (a Go crash) is rejected with 400.
 */
import type { Chunk, ToxicType } from './types.ts';

/** Go sends large chunks in pieces of 100 ms worth of bytes. */
const PIECE_MS = 100;

export const bandwidthToxic: ToxicType = {
  type: 'bandwidth',
  goStruct: 'BandwidthToxic',
  attributes: [{ name: 'rate', goType: 'int64' }],
  bufferChunks: 0,
  validate(attrs) {
    if ((attrs['rate'] ?? 0) < 0) return 'rate must be >= 0 (a negative rate crashes Toxiproxy)';
    return undefined;
  },
  start(attrs, port) {
    const bytesPerMs = attrs['rate'] ?? 0; // KB/s with KB = 1000 B is bytes per ms
    const pieceBytes = bytesPerMs * PIECE_MS;
    let held: Chunk | undefined;
    // When the link's budget is next free; never in the past when a chunk arrives (no burst credit).
    let freeAtMs = 0;

    const sendNextPiece = (): void => {
      const chunk = held;
      if (!chunk) return;
      const piece = chunk.data.length > pieceBytes ? chunk.data.subarray(0, pieceBytes) : chunk.data;
      freeAtMs = Math.max(freeAtMs, port.nowMs()) + piece.length / bytesPerMs;
      port.setTimer(() => {
        port.forward({ data: piece, readAtMs: chunk.readAtMs });
        if (piece.length === chunk.data.length) {
          held = undefined;
          port.finish();
        } else {
          chunk.data = chunk.data.subarray(piece.length);
          sendNextPiece();
        }
      }, freeAtMs - port.nowMs());
    };

    return {
      onChunk(chunk) {
        held = { data: chunk.data, readAtMs: chunk.readAtMs };
        if (bytesPerMs <= 0) return; // rate 0: hold until interrupted
        sendNextPiece();
      },
      onEnd() {
        port.closeOutput();
      },
      onInterrupt() {
        // Never drop data on the floor: the rest of the chunk goes on unthrottled.
        const chunk = held;
        held = undefined;
        if (chunk && chunk.data.length > 0) port.forward(chunk);
      },
    };
  },
};
