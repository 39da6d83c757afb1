/**
 * `reset_peer` (timeout ms), spec §6.5: on the first chunk (or EOF) in its direction the
 * chunk is dropped and, `timeout` ms later, the output closes. The RST itself comes from the
 * connection: if a reset_peer toxic existed when the connection was made (whatever its
 * toxicity), both sockets are closed with RST (SO_LINGER 0); added later, the close is a FIN.
 * Go does not serve interrupts during the wait, so the pending close survives restarts.
 */
import type { ToxicType } from './types.ts';

export const resetPeerToxic: ToxicType = {
  type: 'reset_peer',
  goStruct: 'ResetToxic',
  attributes: [{ name: 'timeout', goType: 'int64' }],
  bufferChunks: 0,
  resetsPeer: true,
  start(attrs, port) {
    const timeoutMs = Math.max(0, attrs['timeout'] ?? 0);
    let fired = false;
    const fire = (): void => {
      if (fired) return;
      fired = true;
      port.closeOutputAfter(timeoutMs);
    };
    return {
      onChunk() {
        fire();
        port.finish();
      },
      onEnd() {
        fire();
      },
      onInterrupt() {},
    };
  },
};
