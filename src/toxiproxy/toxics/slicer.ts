/**
 * `slicer` (spec §6.6): each chunk is split in about halves, recursively, until a piece is at
 * most average_size + size_variation bytes; each split point moves by a random amount in
 * [−variation, variation). Pieces go out in order with `delay` **microseconds** after each.
 * Node timers have 1 ms resolution, so a delay of 1–999 µs waits about 1 ms.
 *
 * Parity with Go v2.12.0 (toxics/slicer.go): we accept every attribute set on which its
 * split recursion is safe and answer 400 only where it kills the process (documented
 * deviation), from reading its `chunk(start, end)`:
 * - size_variation ≤ 0: no random shift; pieces halve until size ≤ average + variation, so it
 *   terminates iff average + variation ≥ 1. Otherwise a 1-byte piece splits into 0 + 1 bytes
 *   forever: a fatal stack overflow (the all-zero default included). A negative variation
 *   with average + variation ≥ 1 (e.g. 10 and −3) is safe and accepted.
 * - size_variation > 0: the split point moves by [−variation, variation) from the middle of
 *   a piece larger than average + variation. It can fall outside the piece (a slice-bounds
 *   panic) iff variation > average + 1; variation equal to average (or average + 1) is safe.
 */
import type { Chunk, ToxicType } from './types.ts';

/**
 * Piece end offsets for a chunk of `lengthBytes` (the last is always lengthBytes).
 * Split points are clamped so that no piece is empty even for odd inputs.
 */
export function slicePieceEnds(
  lengthBytes: number,
  averageBytes: number,
  variationBytes: number,
  random: () => number,
): number[] {
  const ends: number[] = [];
  const split = (start: number, end: number): void => {
    const size = end - start;
    if (size - averageBytes <= variationBytes || size < 2) {
      ends.push(end);
      return;
    }
    let mid = start + Math.floor(size / 2);
    if (variationBytes > 0) mid += Math.floor(random() * 2 * variationBytes) - variationBytes;
    mid = Math.min(end - 1, Math.max(start + 1, mid));
    split(start, mid);
    split(mid, end);
  };
  if (lengthBytes > 0) split(0, lengthBytes);
  return ends;
}

export const slicerToxic: ToxicType = {
  type: 'slicer',
  goStruct: 'SlicerToxic',
  attributes: [
    { name: 'average_size', goType: 'int' },
    { name: 'size_variation', goType: 'int' },
    { name: 'delay', goType: 'int' },
  ],
  bufferChunks: 0,
  validate(attrs) {
    const average = attrs['average_size'] ?? 0;
    const variation = attrs['size_variation'] ?? 0;
    if (variation <= 0 && average + variation < 1) {
      return 'average_size + size_variation must be >= 1 (Toxiproxy recurses forever on the first data otherwise)';
    }
    if (variation > average + 1) {
      return 'size_variation must be <= average_size + 1 (Toxiproxy can panic with slice bounds out of range otherwise)';
    }
    return undefined;
  },
  start(attrs, port) {
    const averageBytes = attrs['average_size'] ?? 0;
    const variationBytes = attrs['size_variation'] ?? 0;
    const delayMs = Math.max(0, attrs['delay'] ?? 0) / 1000;
    let held: Chunk | undefined;
    let pieceEnds: number[] = [];
    let nextPiece = 0;

    const sendPieces = (): void => {
      const chunk = held;
      if (!chunk) return;
      while (nextPiece < pieceEnds.length) {
        const start = nextPiece === 0 ? 0 : pieceEnds[nextPiece - 1]!;
        const end = pieceEnds[nextPiece]!;
        nextPiece++;
        port.forward({ data: chunk.data.subarray(start, end), readAtMs: chunk.readAtMs });
        if (delayMs > 0 && nextPiece < pieceEnds.length) {
          port.setTimer(sendPieces, delayMs);
          return;
        }
      }
      held = undefined;
      port.finish();
    };

    return {
      onChunk(chunk) {
        held = chunk;
        pieceEnds = slicePieceEnds(chunk.data.length, averageBytes, variationBytes, port.random);
        nextPiece = 0;
        sendPieces();
      },
      onEnd() {
        port.closeOutput();
      },
      onInterrupt() {
        // The rest of the current chunk goes on unsliced.
        const chunk = held;
        held = undefined;
        if (!chunk) return;
        const sentBytes = nextPiece === 0 ? 0 : pieceEnds[nextPiece - 1]!;
        if (sentBytes < chunk.data.length) {
          port.forward({ data: chunk.data.subarray(sentBytes), readAtMs: chunk.readAtMs });
        }
      },
    };
  },
};
