/**
 * `loss` (our extension, cf. Shopify/toxiproxy#578): each chunk (TCP) or datagram (UDP) is
 * dropped with `probability` in [0, 1], rolled per item with the server's RNG. `toxicity`
 * still decides per link/session whether the toxic applies at all.
 *
 * On UDP this is packet loss: silence, no reset. On TCP a dropped chunk is a hole in the byte
 * stream (the kernel already acknowledged it), so the peer sees corrupt or stalled data —
 * useful for protocols that notice, not a model of TCP retransmission.
 */
import type { ToxicType } from './types.ts';

export const lossToxic: ToxicType = {
  type: 'loss',
  goStruct: 'LossToxic',
  attributes: [{ name: 'probability', goType: 'float64' }],
  bufferChunks: 0,
  validate(attrs) {
    const probability = attrs['probability'] ?? 0;
    if (!(probability >= 0 && probability <= 1)) return 'probability must be between 0 and 1';
    return undefined;
  },
  start(attrs, port) {
    const probability = attrs['probability'] ?? 0;
    return {
      onChunk(chunk) {
        if (port.random() >= probability) port.forward(chunk);
        port.finish();
      },
      onEnd() {
        port.closeOutput();
      },
      onInterrupt() {},
    };
  },
  datagram: {
    start(attrs, port) {
      const probability = attrs['probability'] ?? 0;
      return {
        onDatagram(datagram) {
          if (port.random() >= probability) port.forward(datagram);
        },
        onInterrupt() {},
      };
    },
  },
};
