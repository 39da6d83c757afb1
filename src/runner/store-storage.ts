/**
 * The lease store's storage read from outside the Worker on real runs (`store-storage` events,
 * judged by `store-storage-bounded`): workerd (miniflare 4) keeps each Durable Object's storage
 * in a SQLite file under the Worker's persist directory (its `_cf_KV` table), and the runner
 * counts its keys with the sqlite3 CLI (read-only), as the topology's own PowerDNS set-up
 * already does — the Worker's code is never asked.
 *
 * The runner's own observer (its GET /status and GET /observations polls, signed like any
 * client) consumes nonces too, and those requests are not `lease` events. Its nonces carry
 * OBSERVER_NONCE_PREFIX, so the reading counts them apart (`executorNonceKeys`) and the checker
 * bounds only the rest by the controllers' requests. A random nonce of a controller starts so
 * by chance once in 2^32.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import type { NewEvent, StoreStorageEvent } from '../contracts/history.ts';
import { BINARIES } from '../topology/binaries.ts';
import { workerStateDir } from '../topology/boot/worker.ts';

/** The first hex digits of every nonce the runner's observer signs with ("0b5e7e" observe). */
export const OBSERVER_NONCE_PREFIX = '0b5e7e00';

/** A fresh observer nonce: the marker and 24 random hex digits (32 in all, as the Worker allows). */
export function observerNonce(): string {
  return OBSERVER_NONCE_PREFIX + randomBytes(12).toString('hex');
}

export type StorageReading = Pick<
  StoreStorageEvent,
  'object' | 'keys' | 'nonceKeys' | 'nonceIndexKeys' | 'executorNonceKeys'
>;

/**
 * One query over the storage table: every key, the nonce and index keys (by their prefixes'
 * ranges, `;` being the character after `:`), and those of the observer's nonces. Keys are
 * compared as text whatever type the table stores them as.
 */
export const STORAGE_QUERY = [
  'SELECT count(*),',
  "  coalesce(sum(k >= 'nonce:' AND k < 'nonce;'), 0),",
  "  coalesce(sum(k >= 'nexp:' AND k < 'nexp;'), 0),",
  `  coalesce(sum(substr(k, 1, ${6 + OBSERVER_NONCE_PREFIX.length}) = 'nonce:${OBSERVER_NONCE_PREFIX}'), 0),`,
  `  coalesce(sum(k >= 'nexp:' AND k < 'nexp;' AND instr(k, ':${OBSERVER_NONCE_PREFIX}') > 0), 0)`,
  'FROM (SELECT CAST(key AS TEXT) AS k FROM _cf_KV);',
].join('\n');

/** Parses the query's one output line (`a|b|c|d|e`) into a reading; null when it is not one. */
export function parseStorageCounts(object: string, line: string): StorageReading | null {
  const n = line.trim().split('|').map(Number);
  if (n.length !== 5 || n.some((x) => !Number.isSafeInteger(x) || x < 0)) return null;
  const [keys, nonces, index, ownNonces, ownIndex] = n as [number, number, number, number, number];
  return {
    object,
    keys,
    nonceKeys: nonces - ownNonces,
    nonceIndexKeys: index - ownIndex,
    executorNonceKeys: ownNonces,
  };
}

async function sqliteFiles(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true, encoding: 'utf8' });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sqliteFiles(p)));
    else if (e.name.endsWith('.sqlite')) out.push(p);
  }
  return out;
}

/**
 * Reads every Durable Object storage under `persistDir` that has the storage table (other
 * SQLite files there, e.g. KV's or miniflare's metadata, are skipped). Never throws: an
 * unreadable file is reported through `onError` and left out.
 */
export async function readStoreStorage(
  persistDir: string,
  sqlite3Path: string,
  onError: (msg: string) => void = () => {},
): Promise<StorageReading[]> {
  const run = promisify(execFile);
  const readings: StorageReading[] = [];
  for (const file of await sqliteFiles(persistDir)) {
    try {
      const { stdout } = await run(sqlite3Path, ['-readonly', '-batch', file, STORAGE_QUERY], {
        timeout: 10_000,
      });
      const r = parseStorageCounts(basename(file, '.sqlite'), stdout);
      if (r) readings.push(r);
      else onError(`${file}: unexpected sqlite3 output ${JSON.stringify(stdout.slice(0, 200))}`);
    } catch (err) {
      // not a Durable Object's storage (no _cf_KV table), or locked: skipped, said why
      const msg = String(err);
      if (!msg.includes('no such table')) onError(`${file}: ${msg.slice(0, 300)}`);
    }
  }
  return readings;
}

/**
 * Records one `store-storage` reading per Durable Object of the run's Worker, as its storage
 * is now. `afterRequestT`: when the store last answered the runner's observer (a crashed
 * Worker's storage is as its last request left it).
 */
export async function recordStoreStorage(
  runDir: string,
  sink: { now(): number; record(ev: NewEvent): void; note(source: string, message: string): void },
  afterRequestT: number | null,
): Promise<void> {
  const readings = await readStoreStorage(workerStateDir(runDir), BINARIES.sqlite3.path, (msg) =>
    sink.note('runner', `lease store storage not read: ${msg}`),
  );
  const t = sink.now();
  for (const r of readings) {
    sink.record({
      kind: 'store-storage',
      t,
      ...r,
      reason: 'end',
      ...(afterRequestT !== null ? { afterRequestT } : {}),
    });
  }
}
