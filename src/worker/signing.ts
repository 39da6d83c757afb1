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
import { SIGNATURE_CLOCK_SKEW_MS } from '../contracts/spec.ts';

export const SIGNATURE_HEADERS = {
  region: 'x-fl-region',
  timestamp: 'x-fl-timestamp',
  nonce: 'x-fl-nonce',
  signature: 'x-fl-signature',
} as const;

export const MAX_CLOCK_SKEW_MS = SIGNATURE_CLOCK_SKEW_MS;

/**
 * Shortest HMAC secret the Worker and its launcher accept, in characters. A guessable key
 * makes every other check moot; 16 is the floor (the topology generates 32 hex characters,
 * `openssl rand -hex 32` gives 64). The controller's LEASE_SECRET has the same minimum.
 */
export const MIN_SECRET_CHARS = 16;

const encoder = new TextEncoder();

export function canonicalString(
  method: string,
  pathWithQuery: string,
  timestampMs: number,
  nonce: string,
  body: string,
): string {
  // concatenation, not [..].join: the same string without an array per signed request
  return `${method.toUpperCase()}\n${pathWithQuery}\n${timestampMs}\n${nonce}\n${body}`;
}

/** WebCrypto HMAC-SHA256 as lowercase hex (exported for drivers of the request pipeline). */
export async function hmacHex(secret: string, message: string): Promise<string> {
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

export type VerifyResult =
  | { ok: true; region: string; nonce: string; timestampMs: number }
  | { ok: false; reason: VerifyFailure };

/** What a request claims about itself, and the message whose MAC would prove it. */
export interface SignatureClaim {
  region: string;
  timestampMs: number;
  nonce: string;
  /** the presented signature, lowercased */
  signature: string;
  /** the region's secret and the canonical string: the inputs of the expected MAC */
  secret: string;
  message: string;
}

/**
 * First half of verification, pure and synchronous: presence and shape of the headers, the
 * region's secret, and the canonical string to MAC. The MAC itself is computed by the
 * caller (WebCrypto in workerd, a synchronous HMAC in the simulator), then judged by
 * judgeSignature: the rules stay here, only the crypto call differs per runtime.
 */
export function readSignatureClaim(
  input: Omit<VerifyInput, 'serverTimeMs'>,
): { ok: true; claim: SignatureClaim } | { ok: false; reason: VerifyFailure } {
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
  const message = canonicalString(input.method, input.pathWithQuery, timestampMs, nonce, input.body);
  return { ok: true, claim: { region, timestampMs, nonce, signature: sig.toLowerCase(), secret, message } };
}

/** Second half, pure: the presented signature against the expected MAC, then freshness. */
export function judgeSignature(
  claim: SignatureClaim,
  expectedMacHex: string,
  serverTimeMs: number,
): VerifyResult {
  if (!constantTimeEqual(expectedMacHex, claim.signature)) return { ok: false, reason: 'bad-signature' };
  if (Math.abs(serverTimeMs - claim.timestampMs) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'stale' };
  return { ok: true, region: claim.region, nonce: claim.nonce, timestampMs: claim.timestampMs };
}

/**
 * Checks presence, freshness and the HMAC. Replay detection needs memory of nonces and is
 * done by the caller (the Worker) after this returns ok, so this function stays pure.
 */
export async function verifySignature(input: VerifyInput): Promise<VerifyResult> {
  const read = readSignatureClaim(input);
  if (!read.ok) return read;
  const expected = await hmacHex(read.claim.secret, read.claim.message);
  return judgeSignature(read.claim, expected, input.serverTimeMs);
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
