/**
 * `timeout` (ms), spec §6.4: every chunk is read and thrown away. With timeout > 0 the
 * output closes after `timeout` ms with no chunk arriving (an inactivity timer, restarted by
 * each chunk and by every (re)start of the toxic); with 0 the stream hangs. Removing the
 * toxic closes the connections it was on, because a stream that lost data is corrupt.
 */
import type { DatagramToxic, ToxicType } from './types.ts';

/**
 * UDP (blackhole): every datagram is dropped. With timeout > 0 the session is forgotten after
 * `timeout` ms without a datagram in this direction, as a stream would be closed; with 0 the
 * session stays. Removing the toxic does not end sessions: no datagram stream is corrupted.
 */
const timeoutDatagram: DatagramToxic = {
  start(attrs, port) {
    const timeoutMs = attrs['timeout'] ?? 0;
    let timer: { cancel(): void } | undefined;
    const arm = (): void => {
      timer?.cancel();
      if (timeoutMs > 0) timer = port.after(timeoutMs, () => port.closeSession());
    };
    arm();
    return {
      onDatagram() {
        arm();
      },
      onInterrupt() {},
    };
  },
};

export const timeoutToxic: ToxicType = {
  type: 'timeout',
  goStruct: 'TimeoutToxic',
  attributes: [{ name: 'timeout', goType: 'int64' }],
  bufferChunks: 0,
  closesConnectionOnRemove: true,
  datagram: timeoutDatagram,
  start(attrs, port) {
    const timeoutMs = attrs['timeout'] ?? 0;
    const arm = (): void => {
      if (timeoutMs > 0) port.setTimer(() => port.closeOutput(), timeoutMs);
    };
    arm();
    return {
      onChunk() {
        arm();
        port.finish();
      },
      onEnd() {
        port.closeOutput();
      },
      onInterrupt() {},
    };
  },
};
