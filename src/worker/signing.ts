/**
 * Request signing shared by the lease Worker (verifier, runs in workerd) and the
 * controller's lease client (signer, runs in Node). WebCrypto only, so the same module
 * runs in both runtimes; no Node imports allowed here.
 *
 * Canonical string (UTF-8), fields joined by "\n":
 *   METHOD \n PATH(+query) \n TIMESTAMP_MS \n NONCE \n BODY
 * Signature = lowercase hex HMAC-SHA256(regionSecret, canonical).
 * Headers: x-fl-region, x-fl-timestamp (unix ms), x-fl-nonce (16+ hex chars), x-fl-signature.
 * The Worker authenticates *before* parsing the body, rejects |serverTime - ts| > 30 s,
 * and rejects a nonce it has already seen within the skew window (replay).
 */

export const SIGNATURE_HEADERS = {
  region: 'x-fl-region',
  timestamp: 'x-fl-timestamp',
  nonce: 'x-fl-nonce',
  signature: 'x-fl-signature',
} as const;

export const MAX_CLOCK_SKEW_MS = 30_000;

const encoder = new TextEncoder();

export function canonicalString(
  method: string,
  pathWithQuery: string,
  timestampMs: number,
  nonce: string,
  body: string,
): string {
  return [method.toUpperCase(), pathWithQuery, String(timestampMs), nonce, body].join('\n');
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(message));
  return toHex(new Uint8Array(mac));
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function randomNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return toHex(bytes);
}

export interface SignInput {
  region: string;
  secret: string;
  method: string;
  pathWithQuery: string;
  body: string;
  timestampMs: number;
  nonce?: string;
}

/** Returns the four headers to attach to the request. */
export async function signRequest(input: SignInput): Promise<Record<string, string>> {
  const nonce = input.nonce ?? randomNonce();
  const sig = await hmacHex(
    input.secret,
    canonicalString(input.method, input.pathWithQuery, input.timestampMs, nonce, input.body),
  );
  return {
    [SIGNATURE_HEADERS.region]: input.region,
    [SIGNATURE_HEADERS.timestamp]: String(input.timestampMs),
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: sig,
  };
}

export type VerifyFailure = 'missing' | 'unknown-region' | 'bad-signature' | 'stale' | 'replay';

export interface VerifyInput {
  headers: { get(name: string): string | null };
  method: string;
  pathWithQuery: string;
  body: string;
  serverTimeMs: number;
  secrets: Record<string, string>;
}

/**
 * Checks presence, freshness and the HMAC. Replay detection needs memory of nonces and is
 * done by the caller (the Worker) after this returns ok, so this function stays pure.
 */
export async function verifySignature(
  input: VerifyInput,
): Promise<
  { ok: true; region: string; nonce: string; timestampMs: number } | { ok: false; reason: VerifyFailure }
> {
  const region = input.headers.get(SIGNATURE_HEADERS.region);
  const ts = input.headers.get(SIGNATURE_HEADERS.timestamp);
  const nonce = input.headers.get(SIGNATURE_HEADERS.nonce);
  const sig = input.headers.get(SIGNATURE_HEADERS.signature);
  if (!region || !ts || !nonce || !sig || !/^\d{1,16}$/.test(ts) || !/^[0-9a-f]{16,128}$/.test(nonce)) {
    return { ok: false, reason: 'missing' };
  }
  const secret = Object.hasOwn(input.secrets, region) ? input.secrets[region] : undefined;
  if (!secret) return { ok: false, reason: 'unknown-region' };
  const timestampMs = Number(ts);
  const expected = await hmacHex(
    secret,
    canonicalString(input.method, input.pathWithQuery, timestampMs, nonce, input.body),
  );
  if (!constantTimeEqual(expected, sig.toLowerCase())) return { ok: false, reason: 'bad-signature' };
  if (Math.abs(input.serverTimeMs - timestampMs) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'stale' };
  return { ok: true, region, nonce, timestampMs };
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
