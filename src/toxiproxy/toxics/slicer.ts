/**
 * `slicer` (spec §6.6): each chunk is split in about halves, recursively, until a piece is at
 * most average_size + size_variation bytes; each split point moves by a random amount in
 * [−variation, variation). Pieces go out in order with `delay` **microseconds** after each.
 * Node timers have 1 ms resolution, so a delay of 1–999 µs waits about 1 ms.
 *
 * Go v2.12.0 dies on average_size ≤ 0, size_variation < 0 and size_variation ≥ average_size
 * (stack overflow or slice panic); we answer 400 for those instead (documented deviation).
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
    if (average <= 0) return 'average_size must be > 0 (Toxiproxy crashes on slicer average_size <= 0)';
    if (variation < 0) return 'size_variation must be >= 0 (Toxiproxy crashes on a negative size_variation)';
    if (variation >= average) {
      return 'size_variation must be < average_size (Toxiproxy can crash when size_variation >= average_size)';
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
