/**
 * Node-side unit tests of the Worker's pure parts (no workerd): the lease state machine
 * (property-based), request validation, nonce pruning, the KV location model, option
 * validation and the secrets-file JSON locator. The behaviour in workerd is covered by the
 * durable*, legacy-kv and cli suites; these pin down the edges cheaply.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jsonErrorOffset } from '../../src/cli/commands/worker.ts';
import type {
  DurableObjectListOptions,
  DurableObjectStorage,
  KVNamespace,
} from '../../src/worker/cf-types.ts';
import { LocationKv } from '../../src/worker/kv-locations.ts';
import { COMPATIBILITY_DATE, validateStartOptions } from '../../src/worker/launch.ts';
import { objectCallOf } from '../../src/worker/lease-object.ts';
import * as lease from '../../src/worker/lease-state.ts';
import { type NonceClaim, nonceEntries, nonceKey, pruneNonces } from '../../src/worker/nonces.ts';
import { parsePostBody, parseStatusQuery } from '../../src/worker/protocol.ts';
import { MAX_CLOCK_SKEW_MS } from '../../src/worker/signing.ts';

describe('lease state machine (property-based)', () => {
  const TTL_MS = 1000;
  const opArb = fc.record({
    op: fc.constantFrom('acquire', 'renew', 'release', 'status'),
    region: fc.constantFrom('a', 'b', 'c'),
    /** presented epoch relative to the current one */
    epochDelta: fc.constantFrom(0, 0, 0, -1, 1),
    advanceMs: fc.integer({ min: 0, max: 1500 }),
  });

  it('epochs are never reused; grants only when free; renew/release only for holder + epoch', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        let s: lease.LeaseState = lease.INITIAL_LEASE_STATE;
        let nowMs = 1_000_000;
        const grantedEpochs: number[] = [];
        for (const o of ops) {
          nowMs += o.advanceMs;
          const before = s;
          const holderBefore = lease.effectiveHolder(before, nowMs);
          const epoch = Math.max(0, before.epoch + o.epochDelta);
          if (o.op === 'status') {
            expect(lease.status(s, nowMs, TTL_MS)).toMatchObject({ holder: holderBefore, epoch: s.epoch });
            continue;
          }
          const t =
            o.op === 'acquire'
              ? lease.acquire(s, o.region, nowMs, TTL_MS)
              : o.op === 'renew'
                ? lease.renew(s, o.region, epoch, nowMs, TTL_MS)
                : lease.release(s, o.region, epoch, nowMs, TTL_MS);
          s = t.state;
          expect(s.epoch).toBeGreaterThanOrEqual(before.epoch);
          if (!t.changed) expect(s).toBe(before);
          if (o.op === 'acquire' && t.response.granted) {
            expect(holderBefore).toBeNull();
            expect(s.epoch).toBe(before.epoch + 1);
            grantedEpochs.push(s.epoch);
          } else {
            expect(s.epoch).toBe(before.epoch);
          }
          if (o.op === 'renew' && t.response.granted) {
            expect(holderBefore).toBe(o.region);
            expect(epoch).toBe(before.epoch);
            expect(s.expiresAt).toBe(nowMs + TTL_MS);
          }
          if (o.op === 'release' && t.response.released) {
            expect(before.holder).toBe(o.region);
            expect(epoch).toBe(before.epoch);
            expect(s.holder).toBeNull();
          }
        }
        expect(new Set(grantedEpochs).size).toBe(grantedEpochs.length);
      }),
      { numRuns: 300 },
    );
  });

  it('treats expiry as exclusive: at expiresAt the lease is already free', () => {
    const t = lease.acquire(lease.INITIAL_LEASE_STATE, 'a', 0, 100);
    expect(lease.effectiveHolder(t.state, 99)).toBe('a');
    expect(lease.effectiveHolder(t.state, 100)).toBeNull();
    expect(lease.renew(t.state, 'a', 1, 100, 100).response.granted).toBe(false);
  });

  it('refuses corrupt stored state', () => {
    expect(lease.isLeaseState({ holder: 'a', epoch: 3, expiresAt: 5 })).toBe(true);
    expect(lease.isLeaseState({ holder: 'a', epoch: '3', expiresAt: 5 })).toBe(false);
    expect(lease.isLeaseState({ holder: 1, epoch: 3, expiresAt: null })).toBe(false);
    expect(lease.isLeaseState(null)).toBe(false);
  });
});

describe('request validation', () => {
  it('accepts exactly the documented bodies', () => {
    expect(parsePostBody('acquire', '{"lease":"db"}')).toEqual({
      ok: true,
      request: { op: 'acquire', lease: 'db' },
    });
    expect(parsePostBody('renew', '{"lease":"db","epoch":0}')).toEqual({
      ok: true,
      request: { op: 'renew', lease: 'db', epoch: 0 },
    });
    expect(parsePostBody('renew', '{"lease":"db","epoch":9007199254740992}').ok).toBe(false);
    expect(parsePostBody('release', '{"lease":"db"}')).toEqual({ ok: false, error: 'missing field "epoch"' });
    expect(parsePostBody('acquire', `{"lease":"${'x'.repeat(129)}"}`).ok).toBe(false);
    expect(parsePostBody('acquire', '{"lease":"db","__proto__":1}')).toMatchObject({ ok: false });
  });

  it('status: one lease parameter, no body', () => {
    expect(parseStatusQuery(new URLSearchParams('lease=db'), '')).toMatchObject({ ok: true });
    expect(parseStatusQuery(new URLSearchParams('lease=db'), '{}')).toMatchObject({ ok: false });
    expect(parseStatusQuery(new URLSearchParams(''), '')).toMatchObject({ ok: false });
  });
});

/** Just enough of DO storage (ordered keys, list ranges) to exercise pruning. */
function memoryStorage(): DurableObjectStorage & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  return {
    data,
    async get<T>(keys: string[]) {
      return new Map(keys.filter((k) => data.has(k)).map((k) => [k, data.get(k) as T]));
    },
    async put(entries) {
      for (const [k, v] of Object.entries(entries)) data.set(k, v);
    },
    async delete(keys) {
      if (keys.length > 128) throw new Error('delete() takes at most 128 keys');
      let n = 0;
      for (const k of keys) if (data.delete(k)) n++;
      return n;
    },
    async list<T>(o: DurableObjectListOptions = {}) {
      const keys = [...data.keys()]
        .sort()
        .filter((k) => (!o.prefix || k.startsWith(o.prefix)) && (!o.end || k < o.end))
        .slice(0, o.limit ?? Infinity);
      return new Map(keys.map((k) => [k, data.get(k) as T]));
    },
  };
}

describe('lease object naming (durable.ts, the simulator)', () => {
  it('names the object after the lease, so every region meets in one object per lease', () => {
    const auth = (region: string) => ({ region, nonce: `n-${region}`, timestampMs: 1 });
    const a = objectCallOf({ op: 'acquire', lease: 'svc' }, auth('a'));
    const b = objectCallOf({ op: 'renew', lease: 'svc', epoch: 3 }, auth('b'));
    expect([a.name, b.name]).toEqual(['svc', 'svc']);
    expect(objectCallOf({ op: 'status', lease: 'other' }, auth('a')).name).toBe('other');
    // the command still carries the caller the signature proved
    expect([a.command.region, b.command.region, b.command.epoch]).toEqual(['a', 'b', 3]);
  });
});

describe('nonce memory', () => {
  it('keeps a nonce for the whole skew window and prunes it after, in bounded batches', async () => {
    const storage = memoryStorage();
    const claims: NonceClaim[] = Array.from({ length: 100 }, (_, i) => ({
      nonce: `${i}`.padStart(16, '0'),
      timestampMs: 1_000_000 + i,
    }));
    for (const c of claims) await storage.put(nonceEntries(c));
    // Still inside the window of the first one: nothing goes.
    expect(await pruneNonces(storage, 1_000_000 + MAX_CLOCK_SKEW_MS)).toBe(0);
    // Past every window: removed 64 at a time (the storage API's 128-key delete limit).
    const later = 1_000_100 + MAX_CLOCK_SKEW_MS + 5000;
    expect(await pruneNonces(storage, later)).toBe(64);
    expect(await pruneNonces(storage, later)).toBe(36);
    expect(storage.data.size).toBe(0);
  });

  it('prunes exactly the expired ones', async () => {
    const storage = memoryStorage();
    const old: NonceClaim = { nonce: 'aaaaaaaaaaaaaaaa', timestampMs: 0 };
    const fresh: NonceClaim = { nonce: 'bbbbbbbbbbbbbbbb', timestampMs: 60_000 };
    await storage.put({ ...nonceEntries(old), ...nonceEntries(fresh) });
    expect(await pruneNonces(storage, 60_000)).toBe(1);
    expect(storage.data.has(nonceKey(old.nonce))).toBe(false);
    expect(storage.data.has(nonceKey(fresh.nonce))).toBe(true);
  });
});

describe('KV location model (legacy-kv)', () => {
  afterEach(() => vi.useRealTimers());

  function centralKv(): KVNamespace & { puts: Array<{ ttl: number | undefined }> } {
    const data = new Map<string, { value: string; metadata: unknown }>();
    const puts: Array<{ ttl: number | undefined }> = [];
    return {
      puts,
      async get(key) {
        return data.get(key)?.value ?? null;
      },
      async getWithMetadata<M>(key: string) {
        const e = data.get(key);
        return { value: e?.value ?? null, metadata: (e?.metadata ?? null) as M | null };
      },
      async put(key, value, options) {
        puts.push({ ttl: options?.expirationTtl });
        data.set(key, { value, metadata: options?.metadata });
      },
      async delete(key) {
        data.delete(key);
      },
    };
  }

  it('serves cached reads (negative ones too) until cacheTtl, own writes at once, expiry first', async () => {
    vi.useFakeTimers({ now: 10_000_000, toFake: ['Date'] });
    const kv = centralKv();
    const x = new LocationKv(kv, { location: 'unit-x', cacheTtlMs: 6000, expirationMs: 3000 });
    const y = new LocationKv(kv, { location: 'unit-y', cacheTtlMs: 6000, expirationMs: 3000 });
    expect(await y.get('k')).toBeNull(); // y caches "absent"
    await x.put('k', 'x');
    expect(await x.get('k')).toBe('x'); // own write visible
    expect(await y.get('k')).toBeNull(); // stale negative lookup
    expect(kv.puts.at(-1)?.ttl).toBe(60); // the real binding always gets KV's minimum
    vi.setSystemTime(10_000_000 + 3000);
    expect(await x.get('k')).toBeNull(); // expiry beats the cache
    vi.setSystemTime(10_000_000 + 6001);
    await x.put('k', 'x2');
    expect(await y.get('k')).toBe('x2'); // y's cache aged out: reads the central store
  });
});

describe('startWorker option validation', () => {
  const ok = { host: '127.0.20.9', port: 0, variant: 'durable' as const, secrets: { a: 's'.repeat(16) } };
  it.each([
    [{ host: '127.0.0.256' }, /^host: /],
    [{ host: '0.0.0.0' }, /^host: /],
    [{ host: 'localhost' }, /^host: /],
    [{ port: -1 }, /^port: /],
    [{ secrets: {} }, /^secrets: must name at least one region/],
    [{ secrets: { 'a b': 's'.repeat(16) } }, /^secrets: region name/],
    [
      { secrets: { a: 's'.repeat(15) } },
      /^secrets: secret of region "a" must be at least 16 characters, got 15$/,
    ],
    [{ leaseTtlMs: 0 }, /^leaseTtlMs: /],
  ])('rejects %j', (patch, message) => {
    expect(() => validateStartOptions({ ...ok, ...patch })).toThrow(message);
  });
  it('names the source of the option when told', () => {
    expect(() => validateStartOptions({ ...ok, port: 1e6 }, { port: '--port' })).toThrow(/^--port: /);
    expect(() => validateStartOptions(ok)).not.toThrow();
  });
});

describe('secrets file JSON error location', () => {
  it.each([
    ['{"a":', 5],
    ['{"a" 1}', 5],
    ['{\n  "a": "s",\n  "b": \n}\n', 22],
    ['{"a":"s"} x', 10],
    ['["a",]', 5],
    ['{"a":"\u0001"}', 6],
  ])('%j fails at offset %i', (text, offset) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorOffset(text)).toBe(offset);
  });
});

describe('wrangler.toml', () => {
  it('deploys the durable entry with the class, migration and compatibility date the code uses', async () => {
    const toml = readFileSync(join(import.meta.dirname, '..', '..', 'wrangler.toml'), 'utf8');
    expect(toml).toMatch(/^main = "src\/worker\/durable\.ts"$/m);
    expect(toml).toMatch(new RegExp(`^compatibility_date = "${COMPATIBILITY_DATE}"$`, 'm'));
    expect(toml).toMatch(/^\[\[durable_objects\.bindings\]\]\nname = "LEASE"\nclass_name = "LeaseObject"$/m);
    expect(toml).toMatch(/^new_sqlite_classes = \["LeaseObject"\]$/m);
    expect(toml).not.toMatch(/^LEASE_SECRETS\s*=/m); // a secret, never a plain var
    const entry = await import('../../src/worker/durable.ts');
    expect(typeof entry.LeaseObject).toBe('function');
    expect(typeof entry.default.fetch).toBe('function');
  });
});
