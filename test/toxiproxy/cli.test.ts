/** `failover-lab toxiproxy` as a process: startup, --config, exit codes, clean stop on signals. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOutcome } from './helpers.ts';

const HOST = '127.0.30.4';
const BIN = join(import.meta.dirname, '../../bin/failover-lab.mjs');
let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'toxiproxy-cli-'));
});

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, 'toxiproxy', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Wait for the "… API on http://…" line and return the URL. */
async function apiUrl(r: Run, timeoutMs = 20_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const match = /API on (http:\/\/\S+)/.exec(r.stdout());
    if (match) return match[1]!;
    if (r.child.exitCode !== null) throw new Error(`exited ${r.child.exitCode}: ${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`no URL printed; stderr: ${r.stderr()}`);
}

describe('failover-lab toxiproxy', () => {
  it('serves the API with the --config proxies and stops cleanly on SIGTERM', async () => {
    const config = join(dir, 'proxies.json');
    writeFileSync(config, JSON.stringify([{ name: 'db', listen: `${HOST}:0`, upstream: `${HOST}:1` }]));
    const r = run(['--host', HOST, '--port', '0', '--config', config]);
    const url = await apiUrl(r);
    const version = await fetch(`${url}/version`, { headers: { 'User-Agent': 'cli-test' } });
    expect(version.status).toBe(200);
    const proxies = (await (await fetch(`${url}/proxies`)).json()) as Record<string, { listen: string }>;
    expect(Object.keys(proxies)).toEqual(['db']);
    const proxyListen = proxies['db']!.listen;
    expect(await connectOutcome(proxyListen)).toBe('ok');
    r.child.kill('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(r.stdout()).toContain('stopped (SIGTERM)');
    expect(await connectOutcome(proxyListen)).toBe('ECONNREFUSED');
    expect(await connectOutcome(url.replace('http://', ''))).toBe('ECONNREFUSED');
  });

  it('stops cleanly on SIGINT', async () => {
    const r = run(['--host', HOST, '--port', '0']);
    await apiUrl(r);
    r.child.kill('SIGINT');
    expect(await r.exited).toEqual({ code: 0, signal: null });
  });

  it('API port in use → exit 3 with one line saying so', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, HOST, resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = run(['--host', HOST, '--port', String(port)]);
      expect((await r.exited).code).toBe(3);
      const lines = r.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/in use/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('a config proxy that cannot bind → exit 3, and no API is left listening', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, HOST, resolve));
    const port = (blocker.address() as { port: number }).port;
    const config = join(dir, 'conflict.json');
    writeFileSync(config, JSON.stringify([{ name: 'x', listen: `${HOST}:${port}`, upstream: 'y:1' }]));
    try {
      const r = run(['--host', HOST, '--port', '0', '--config', config]);
      expect((await r.exited).code).toBe(3);
      expect(r.stderr()).toContain('address already in use');
      expect(r.stdout()).toBe('');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('bad flags and bad config files → exit 2 naming the flag or file:line:col', async () => {
    const badPort = run(['--port', '99999']);
    expect((await badPort.exited).code).toBe(2);
    expect(badPort.stderr()).toContain('--port');

    const syntax = join(dir, 'syntax.json');
    writeFileSync(syntax, '[\n  {"name": "a",}\n]\n');
    const badSyntax = run(['--host', HOST, '--port', '0', '--config', syntax]);
    expect((await badSyntax.exited).code).toBe(2);
    expect(badSyntax.stderr()).toContain(`${syntax}:2:16`);

    const missing = join(dir, 'missing-upstream.json');
    writeFileSync(missing, '[{"name":"a","listen":"127.0.30.4:0"}]');
    const badItem = run(['--host', HOST, '--port', '0', '--config', missing]);
    expect((await badItem.exited).code).toBe(2);
    expect(badItem.stderr()).toMatch(/missing-upstream\.json:1:2: proxy 1: missing required field: upstream/);

    const absent = run(['--host', HOST, '--port', '0', '--config', join(dir, 'nope.json')]);
    expect((await absent.exited).code).toBe(2);
    expect(absent.stderr()).toContain('nope.json');
  });
});
