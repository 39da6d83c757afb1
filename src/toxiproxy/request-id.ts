/**
 * `X-Toxiproxy-Request-Id` values: Toxiproxy uses an xid (12 bytes — 4 of Unix seconds,
 * 3 of machine id, 2 of pid, 3 of counter — written as 20 lowercase base32hex characters),
 * so ids sort by time and are unique per process. We build the same shape.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuv';
const machineId = randomBytes(3);
let counter = randomBytes(3).readUIntBE(0, 3);

function base32hex(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export function newRequestId(): string {
  const id = Buffer.alloc(12);
  id.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, 0);
  machineId.copy(id, 4);
  id.writeUInt16BE(process.pid & 0xffff, 7);
  counter = (counter + 1) & 0xffffff;
  id.writeUIntBE(counter, 9, 3);
  return base32hex(id);
}
