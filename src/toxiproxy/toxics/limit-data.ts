/**
 * `limit_data` (bytes), spec §6.7: the first `bytes` bytes of the direction pass (a chunk
 * crossing the limit is cut), then the output closes. The count is per connection and
 * direction and survives updates; bytes ≤ 0 closes on the first chunk, dropping it.
 */
import type { DatagramToxic, ToxicType } from './types.ts';

/**
 * UDP: whole datagrams pass while the session's count in this direction stays within `bytes`
 * (a datagram is never cut: half a datagram is garbage). The datagram that would cross the
 * limit is dropped and the session ends; reaching the limit exactly ends it after forwarding.
 * A new session (the client's next datagram) starts counting from zero, like a new connection.
 */
const limitDataDatagram: DatagramToxic = {
  start(attrs, port, state) {
    const limitBytes = attrs['bytes'] ?? 0;
    return {
      onDatagram(datagram) {
        const sentBytes = state['sentBytes'] ?? 0;
        const afterBytes = sentBytes + datagram.data.length;
        if (sentBytes >= limitBytes || afterBytes > limitBytes) {
          port.closeSession();
          return;
        }
        state['sentBytes'] = afterBytes;
        port.forward(datagram);
        if (afterBytes >= limitBytes) port.closeSession();
      },
      onInterrupt() {},
    };
  },
};

export const limitDataToxic: ToxicType = {
  type: 'limit_data',
  goStruct: 'LimitDataToxic',
  attributes: [{ name: 'bytes', goType: 'int64' }],
  bufferChunks: 0,
  datagram: limitDataDatagram,
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
