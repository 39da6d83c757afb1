/**
 * `limit_data` (bytes), spec §6.7: the first `bytes` bytes of the direction pass (a chunk
 * crossing the limit is cut), then the output closes. The count is per connection and
 * direction and survives updates; bytes ≤ 0 closes on the first chunk, dropping it.
 */
import type { ToxicType } from './types.ts';

export const limitDataToxic: ToxicType = {
  type: 'limit_data',
  goStruct: 'LimitDataToxic',
  attributes: [{ name: 'bytes', goType: 'int64' }],
  bufferChunks: 0,
  start(attrs, port, state) {
    const limitBytes = attrs['bytes'] ?? 0;
    return {
      onChunk(chunk) {
        const sentBytes = state['sentBytes'] ?? 0;
        if (sentBytes >= limitBytes) {
          port.closeOutput();
          return;
        }
        const allowedBytes = limitBytes - sentBytes;
        const data = chunk.data.length > allowedBytes ? chunk.data.subarray(0, allowedBytes) : chunk.data;
        state['sentBytes'] = sentBytes + data.length;
        port.forward({ data, readAtMs: chunk.readAtMs });
        if (sentBytes + data.length >= limitBytes) port.closeOutput();
        else port.finish();
      },
      onEnd() {
        port.closeOutput();
      },
      onInterrupt() {},
    };
  },
};
