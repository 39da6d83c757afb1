/**
 * `failover-lab worker`: serve the lease Worker locally in workerd (miniflare) until SIGINT
 * or SIGTERM. Prints the URL as the only stdout line; logs go to stderr.
 */
import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BadInputError, EXIT_OK, InfraError } from '../../errors.ts';
import type { Variant } from '../../worker/http.ts';
import {
  type OptionSources,
  type StartWorkerOptions,
  startWorker,
  VARIANTS,
  validateStartOptions,
} from '../../worker/launch.ts';
import { isLiveWorkerdChild } from '../../worker/procfs.ts';
import { MIN_SECRET_CHARS } from '../../worker/signing.ts';
import type { ExitSetter } from '../command-module.ts';

const WORKERD_WATCH_INTERVAL_MS = 500;

interface WorkerFlags {
  host: string;
  port: string;
  variant: string;
  ttlMs?: string;
  kvCacheTtlMs?: string;
  kvMinExpirationTtlMs?: string;
  secretsFile?: string;
  persist?: string;
}

function intFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value))
    throw new BadInputError(`expected a non-negative integer, got "${value}"`, flag);
  return Number(value);
}

/**
 * Offset of the first JSON syntax error in `text` (called only after JSON.parse failed):
 * Node 20's JSON.parse messages rarely carry a position, and bad input must be reported as
 * file:line:col. A minimal scanner of the JSON grammar; it validates, builds nothing.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const ch = text[i] as string;
      if (ch === '"') {
        i++;
        return;
      }
      if (ch < ' ') fail();
      i += ch === '\\' ? 2 : 1;
    }
    fail();
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (close === '}') {
          ws();
          if (text[i] !== '"') fail();
          string();
          ws();
          if (text[i] !== ':') fail();
          i++;
        }
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === close) {
          i++;
          return;
        } else fail();
      }
    }
    if (ch === '"') {
      string();
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    if (NUMBER.exec(text)) {
      i = NUMBER.lastIndex;
      return;
    }
    fail();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
  } catch (offset) {
    return offset as number;
  }
  return text.length;
}

/** "file:line:col: what" for a JSON syntax error, in one line. */
function jsonSyntaxError(text: string, file: string): BadInputError {
  const offset = Math.min(jsonErrorOffset(text), text.length);
  const lines = text.slice(0, offset).split('\n');
  const found = offset >= text.length ? 'end of input' : JSON.stringify(text[offset]);
  return new BadInputError(
    `not valid JSON: unexpected ${found}`,
    `${file}:${lines.length}:${(lines.at(-1)?.length ?? 0) + 1}`,
  );
}

function loadSecrets(file: string | undefined): { secrets: Record<string, string>; where: string } {
  let text: string;
  let where: string;
  if (file !== undefined) {
    where = file;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new BadInputError(
        `cannot read secrets file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        file,
      );
    }
  } else {
    where = 'env LEASE_SECRETS';
    const env = process.env['LEASE_SECRETS'];
    if (env === undefined || env.trim() === '') {
      throw new BadInputError(
        'no secrets: pass --secrets-file F or set env LEASE_SECRETS to {"<region>":"<secret>"}',
      );
    }
    text = env;
  }
  try {
    return { secrets: JSON.parse(text) as Record<string, string>, where };
  } catch {
    throw jsonSyntaxError(text, where);
  }
}

/**
 * --persist DIR: Durable Object (and KV) state lives there and survives a restart, so the
 * epoch counter never starts over. Created if missing; anything but a directory is refused.
 */
function persistDir(dir: string): string {
  if (dir.trim() === '') throw new BadInputError('expected a directory path', '--persist');
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new BadInputError(`cannot use ${dir} as the state directory: ${code}`, '--persist');
  }
  return resolve(dir);
}

const FLAG_SOURCES: OptionSources = {
  host: '--host',
  port: '--port',
  variant: '--variant',
  leaseTtlMs: '--ttl-ms',
  kvCacheTtlMs: '--kv-cache-ttl-ms',
  kvMinExpirationTtlMs: '--kv-min-expiration-ttl-ms',
};

export function optionsFromFlags(flags: WorkerFlags, log: (line: string) => void): StartWorkerOptions {
  const opts: StartWorkerOptions = {
    host: flags.host,
    port: intFlag(flags.port, '--port') ?? 0,
    variant: flags.variant as Variant,
    secrets: {},
    log,
  };
  const ttl = intFlag(flags.ttlMs, '--ttl-ms');
  if (ttl !== undefined) opts.leaseTtlMs = ttl;
  const cacheTtl = intFlag(flags.kvCacheTtlMs, '--kv-cache-ttl-ms');
  if (cacheTtl !== undefined) opts.kvCacheTtlMs = cacheTtl;
  const minExpiration = intFlag(flags.kvMinExpirationTtlMs, '--kv-min-expiration-ttl-ms');
  if (minExpiration !== undefined) opts.kvMinExpirationTtlMs = minExpiration;
  if (flags.persist !== undefined) opts.persistDir = persistDir(flags.persist);
  // Flags first (with stand-in secrets), so a bad flag is reported before missing secrets.
  validateStartOptions({ ...opts, secrets: { check: 'flags-only-stand-in' } }, FLAG_SOURCES);
  const { secrets, where } = loadSecrets(flags.secretsFile);
  opts.secrets = secrets;
  validateStartOptions(opts, { ...FLAG_SOURCES, secrets: where });
  return opts;
}

/**
 * Stop requests: SIGINT/SIGTERM (installed before workerd starts, so a signal during
 * startup still leads to dispose instead of an orphaned workerd), or workerd dying.
 */
function stopSignals(): { stopped: Promise<string>; watch(pid: number | null): void; cancel(): void } {
  let resolveStop: (reason: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    resolveStop = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => resolveStop(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let timer: NodeJS.Timeout | undefined;
  return {
    stopped,
    watch(pid) {
      if (pid === null) return;
      timer = setInterval(() => {
        if (!isLiveWorkerdChild(pid)) resolveStop('workerd-exited');
      }, WORKERD_WATCH_INTERVAL_MS);
    },
    cancel() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (timer) clearInterval(timer);
    },
  };
}

export function register(program: Command, setExit: ExitSetter): void {
  program
    .command('worker')
    .description(
      'Serve the lease Worker locally in workerd (miniflare) until SIGINT/SIGTERM; prints its URL.',
    )
    .option('--host <ip>', 'listen address in 127.0.0.0/8', '127.0.0.1')
    .option('--port <n>', 'listen port, 0 = pick a free one', '0')
    .option(
      '--variant <v>',
      `${VARIANTS.join(' | ')}; legacy-kv is KNOWN UNSAFE (for the harness)`,
      'durable',
    )
    .option('--ttl-ms <n>', 'lease TTL in ms (LEASE_TTL_MS, default 30000)')
    .option('--kv-cache-ttl-ms <n>', 'legacy-kv: per-location KV read cache TTL in ms (default 60000)')
    .option('--kv-min-expiration-ttl-ms <n>', "legacy-kv: KV's expirationTtl minimum in ms (default 60000)")
    .option(
      '--secrets-file <file>',
      `JSON {"<region>":"<secret>"} (each secret ≥ ${MIN_SECRET_CHARS} characters); otherwise env LEASE_SECRETS`,
    )
    .option(
      '--persist <dir>',
      'keep Durable Object state in DIR across restarts (default: a temp dir, gone on exit: epochs start over)',
    )
    .action(async (flags: WorkerFlags) => {
      const log = (line: string) => process.stderr.write(`worker: ${line}\n`);
      const opts = optionsFromFlags(flags, log);
      if (opts.variant === 'legacy-kv') {
        process.stderr.write(
          'failover-lab worker: WARNING: legacy-kv is KNOWN UNSAFE (split brain by design)\n',
        );
      }
      const stop = stopSignals();
      try {
        const handle = await startWorker(opts);
        stop.watch(handle.workerdPid);
        process.stdout.write(`${handle.url}\n`);
        log(`serving ${handle.variant} on ${handle.url} (workerd pid ${handle.workerdPid ?? 'unknown'})`);
        const reason = await stop.stopped;
        log(`stopping (${reason})`);
        await handle.dispose();
        if (reason === 'workerd-exited') throw new InfraError('workerd exited unexpectedly', 'worker');
        setExit(EXIT_OK);
      } finally {
        stop.cancel();
      }
    });
}
