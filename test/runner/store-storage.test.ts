/**
 * The runner reads the lease store's storage from its SQLite files, never from the Worker
 * (src/runner/store-storage.ts): counts of all keys, nonce and index keys, the observer's own
 * nonces apart.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  OBSERVER_NONCE_PREFIX,
  observerNonce,
  parseStorageCounts,
  readStoreStorage,
} from '../../src/runner/store-storage.ts';
import { BINARIES } from '../../src/topology/binaries.ts';

const SQLITE = BINARIES.sqlite3.path;
const dir = mkdtempSync(join(tmpdir(), 'fl-store-storage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Durable Object storage file as workerd keeps it: the `_cf_KV` table. */
function objectFile(path: string, keys: string[]): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const values = keys.map((k) => `('${k}', x'00')`).join(',');
  execFileSync(SQLITE, [
    path,
    `CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB); INSERT INTO _cf_KV VALUES ${values};`,
  ]);
}

const nonceKeys = (nonce: string) => [`nonce:${nonce}`, `nexp:1767225600000:${nonce}`];

describe('lease store storage read from its SQLite files', () => {
  it("observer nonces carry the marker and pass the Worker's nonce format", () => {
    const n = observerNonce();
    expect(n.startsWith(OBSERVER_NONCE_PREFIX)).toBe(true);
    expect(n).toMatch(/^[0-9a-f]{16,128}$/);
    expect(observerNonce()).not.toBe(n);
  });

  it("parses the counts, the observer's nonces left out", () => {
    expect(parseStorageCounts('o', '12|5|5|2|2\n')).toEqual({
      object: 'o',
      keys: 12,
      nonceKeys: 3,
      nonceIndexKeys: 3,
      executorNonceKeys: 2,
    });
    expect(parseStorageCounts('o', 'Error: no such table')).toBeNull();
    expect(parseStorageCounts('o', '1|2|3')).toBeNull();
  });

  it.skipIf(!existsSync(SQLITE))(
    'counts every Durable Object file under the persist dir; other SQLite files are skipped',
    async () => {
      const persist = join(dir, 'persist');
      const controller = ['aa11', 'bb22', 'cc33'].map((x) => x.repeat(4));
      const observer = [`${OBSERVER_NONCE_PREFIX}${'1'.repeat(24)}`];
      objectFile(join(persist, 'do', 'lease-LeaseObject', 'abc123.sqlite'), [
        'lease',
        'obsmeta',
        'obs:000000000001',
        ...[...controller, ...observer].flatMap(nonceKeys),
        // a nonce whose index entry is gone: the nonce key still counts
        'nonce:dd44dd44dd44dd44',
      ]);
      // not a Durable Object's storage (no _cf_KV): skipped without an error
      mkdirSync(join(persist, 'kv'), { recursive: true });
      execFileSync(SQLITE, [join(persist, 'kv', 'meta.sqlite'), 'CREATE TABLE other (x);']);
      writeFileSync(join(persist, 'notes.txt'), 'not sqlite');
      const errors: string[] = [];
      const readings = await readStoreStorage(persist, SQLITE, (m) => errors.push(m));
      expect(errors).toEqual([]);
      expect(readings).toEqual([
        { object: 'abc123', keys: 12, nonceKeys: 4, nonceIndexKeys: 3, executorNonceKeys: 1 },
      ]);
    },
  );

  it('a missing persist dir reads as no storage', async () => {
    expect(await readStoreStorage(join(dir, 'nowhere'), SQLITE)).toEqual([]);
  });
});
