/**
 * `failover-lab worker`: bad flags → exit 2 with one line, port in use → exit 3 with nothing
 * left running, and a real serve → SIGTERM → exit 0 cycle in a child process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { LeaseClient } from '../../src/worker/client.ts';
import { isLiveWorkerdChild, listWorkerdChildren } from '../../src/worker/procfs.ts';
import { disposeAndAssertNoLeaks, isolateTmpdir, removeSuiteTmp, SECRETS } from './helpers.ts';

const HOST = '127.0.20.4';
const suiteTmp = isolateTmpdir('cli');
const repoRoot = join(import.meta.dirname, '..', '..');

let stderr: string[] = [];
beforeEach(() => {
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
  process.env['LEASE_SECRETS'] = JSON.stringify(SECRETS);
});
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env['LEASE_SECRETS'];
});
afterAll(() => removeSuiteTmp(suiteTmp));

const run = (...args: string[]) => main(['node', 'failover-lab', 'worker', ...args]);

describe('failover-lab worker: bad input exits 2 with one clear line', () => {
  const cases: Array<{ args: string[]; where: RegExp; env?: string | null; file?: string }> = [
    {
      args: ['--port', 'abc'],
      where: /^failover-lab: --port: expected a non-negative integer, got "abc"\n$/,
    },
    { args: ['--port', '70000'], where: /^failover-lab: --port: must be an integer in \[0, 65535\]/ },
    {
      args: ['--host', '10.0.0.1'],
      where: /^failover-lab: --host: must be an IPv4 address in 127\.0\.0\.0\/8/,
    },
    { args: ['--variant', 'redis'], where: /^failover-lab: --variant: must be one of durable, legacy-kv/ },
    { args: ['--ttl-ms', '1.5'], where: /^failover-lab: --ttl-ms: expected a non-negative integer/ },
    { args: ['--ttl-ms', '0'], where: /^failover-lab: --ttl-ms: must be an integer in \[1,/ },
    {
      args: [],
      env: null,
      where: /^failover-lab: no secrets: pass --secrets-file F or set env LEASE_SECRETS/,
    },
    {
      args: [],
      env: '{"a":',
      where: /^failover-lab: env LEASE_SECRETS:1:6: not valid JSON: unexpected end of input\n$/,
    },
    {
      args: [],
      env: '{"a":""}',
      where: /^failover-lab: env LEASE_SECRETS: secret of region "a" must be a non-empty string/,
    },
    {
      args: [],
      env: '{"a":"short"}',
      where:
        /^failover-lab: env LEASE_SECRETS: secret of region "a" must be at least 16 characters, got 5\n$/,
    },
    { args: [], env: '[]', where: /^failover-lab: env LEASE_SECRETS: must be a JSON object/ },
    {
      args: ['--persist', '/dev/null'],
      where: /^failover-lab: --persist: cannot use \/dev\/null as the state directory: E[A-Z]+\n$/,
    },
    {
      args: ['--secrets-file', '/nonexistent/secrets.json'],
      where: /^failover-lab: \/nonexistent\/secrets\.json: cannot read secrets file: ENOENT/,
    },
    {
      args: [],
      file: '{\n  "a": "s",\n  "b": \n}\n',
      where: /^failover-lab: .*secrets\.json:4:1: not valid JSON: unexpected "}"\n$/,
    },
  ];
  for (const c of cases) {
    it(`${c.args.join(' ') || '(no flags)'}${c.env !== undefined ? ` with LEASE_SECRETS=${c.env}` : ''}${c.file ? ' with a broken secrets file' : ''}`, async () => {
      if (c.env === null) delete process.env['LEASE_SECRETS'];
      else if (c.env !== undefined) process.env['LEASE_SECRETS'] = c.env;
      const args = [...c.args];
      if (c.file) {
        const path = join(suiteTmp, 'secrets.json');
        writeFileSync(path, c.file);
        args.push('--secrets-file', path);
      }
      const code = await run(...args);
      if (c.file) rmSync(join(suiteTmp, 'secrets.json'));
      expect(code).toBe(2);
      expect(stderr.join('')).toMatch(c.where);
      expect(stderr.join('').trimEnd().split('\n')).toHaveLength(1);
      expect(listWorkerdChildren()).toEqual([]);
    });
  }
});

describe('failover-lab worker: infrastructure failures exit 3', () => {
  let blocker: Server | undefined;
  afterAll(() => blocker?.close());

  it('port already in use → exit 3 naming host:port, no workerd, no temp files', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(0, HOST, resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    expect(await run('--host', HOST, '--port', String(port))).toBe(3);
    const out = stderr.join('');
    expect(out).toMatch(
      new RegExp(`failover-lab: worker: ${HOST.replaceAll('.', '\\.')}:${port} is already in use`),
    );
    await disposeAndAssertNoLeaks(undefined, suiteTmp);
  });
});

describe('failover-lab worker: serve until SIGTERM', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  /** Starts `failover-lab worker` in a child; resolves once it printed its URL. */
  async function serve(extra: string[], childTmp: string) {
    const proc = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'failover-lab.mjs'),
        'worker',
        '--host',
        HOST,
        '--port',
        '0',
        '--ttl-ms',
        '5000',
        ...extra,
      ],
      { env: { ...process.env, LEASE_SECRETS: JSON.stringify(SECRETS), TMPDIR: childTmp }, stdio: 'pipe' },
    );
    child = proc;
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const stderrLines: string[] = [];
    createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on('line', (l) => stderrLines.push(l));
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: proc.stdout as NodeJS.ReadableStream }).once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`exited ${code}: ${stderrLines.join('\n')}`)));
    });
    return { proc, url, exited, stderrLines };
  }

  it('prints its URL, serves signed requests, exits 0 on SIGTERM and takes workerd with it', async () => {
    const childTmp = join(suiteTmp, 'child');
    mkdirSync(childTmp);
    const { proc, url, exited, stderrLines } = await serve([], childTmp);
    expect(url).toMatch(new RegExp(`^http://${HOST.replaceAll('.', '\\.')}:\\d+$`));

    const client = new LeaseClient({ url, region: 'a', secret: SECRETS.a });
    expect((await client.acquire('cli-lease')).body).toMatchObject({ granted: true, epoch: 1, ttlMs: 5000 });

    const workerd = listWorkerdChildren(proc.pid);
    expect(workerd).toHaveLength(1);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(isLiveWorkerdChild(workerd[0] as number, proc.pid)).toBe(false);
    expect(() => process.kill(workerd[0] as number, 0)).toThrow();
    expect(stderrLines.join('\n')).toMatch(/stopping \(SIGTERM\)/);
    // Only tsx's compile cache may remain in the child's TMPDIR: no fl-worker-*, no miniflare-*.
    expect(readdirSync(childTmp).filter((name) => !name.startsWith('tsx-'))).toEqual([]);
    rmSync(childTmp, { recursive: true, force: true });
    await disposeAndAssertNoLeaks(undefined, suiteTmp);
  });

  it('--persist DIR keeps the epoch counter across restarts; without it a restart starts over', async () => {
    const childTmp = join(suiteTmp, 'child-persist');
    const stateDir = join(suiteTmp, 'state', 'worker'); // created by the command
    mkdirSync(childTmp);
    const epochAfterRestart = async (extra: string[]) => {
      const first = await serve(extra, childTmp);
      const a = new LeaseClient({ url: first.url, region: 'a', secret: SECRETS.a });
      const granted = (await a.acquire('persisted')).body;
      expect(granted).toMatchObject({ granted: true });
      expect((await a.release('persisted', granted.epoch)).body).toMatchObject({ released: true });
      first.proc.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      const second = await serve(extra, childTmp);
      const b = new LeaseClient({ url: second.url, region: 'b', secret: SECRETS.b });
      const next = (await b.acquire('persisted')).body;
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      return [granted.epoch, next.epoch];
    };
    expect(await epochAfterRestart(['--persist', stateDir])).toEqual([1, 2]);
    expect(readdirSync(stateDir).length).toBeGreaterThan(0); // the caller's dir is kept
    expect(await epochAfterRestart([])).toEqual([1, 1]);
    rmSync(childTmp, { recursive: true, force: true });
    rmSync(join(suiteTmp, 'state'), { recursive: true, force: true });
    await disposeAndAssertNoLeaks(undefined, suiteTmp);
  });
});
