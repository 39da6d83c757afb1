/**
 * `failover-lab up --check --json` cold-boots the whole real topology, every component
 * answers, and the teardown leaves nothing: no process, no bound socket on the run's
 * addresses, no temp dir, no lock.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeTopology } from '../../src/scenario/topology-description.ts';
import { lockDir } from '../../src/topology/addresses.ts';
import { REPO_ROOT } from '../../src/topology/local.ts';
import { chooseDnsTransport } from '../../src/topology/proxies.ts';
import { boundSocketsOnOctet, processesWithArg } from './leaks.ts';

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(REPO_ROOT, 'bin/failover-lab.mjs'), ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('failover-lab up --check --json', () => {
  it('boots every component, reports boot times and tears down completely', async () => {
    const res = await runCli(['up', '--check', '--json']);
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout.trim()) as {
      ok: boolean;
      bootSeconds: number;
      runOctet: number;
      runDir: string;
      components: Array<{
        name: string;
        address: string;
        bootSeconds: number | null;
        ok: boolean;
        detail: string;
      }>;
      links: Array<{ id: string; protocol: string; listen: string; upstream: string }>;
    };
    expect(out.ok).toBe(true);
    expect(out.bootSeconds).toBeGreaterThan(0);
    expect(out.runOctet).toBeGreaterThanOrEqual(40);
    expect(out.runOctet).toBeLessThanOrEqual(99);
    const names = out.components.map((c) => c.name).sort();
    expect(names).toEqual(
      [
        'app-a',
        'app-b',
        'auth-a',
        'auth-b',
        'ctl-a',
        'ctl-b',
        'toxiproxy',
        'tombstone',
        'w1',
        'w2',
        'w3',
        'worker',
      ].sort(),
    );
    for (const c of out.components) {
      expect(c.ok, `${c.name}: ${c.detail}`).toBe(true);
      expect(c.bootSeconds).toBeLessThanOrEqual(out.bootSeconds);
      // every component on its own address of the run's range
      expect(c.address.startsWith(`127.${out.runOctet}.`)).toBe(true);
    }
    const auth = out.components.find((c) => c.name === 'auth-a')!;
    expect(auth.detail).toMatch(/DNS NOERROR, API HTTP 200/);
    // the witness path (controller → resolver → authoritative) runs over UDP through UDP
    // proxies; every other link is TCP. The witnesses answered above, through w*->auth-* (UDP).
    const witnessPath = (id: string) => /^ctl-[ab]->w\d$/.test(id) || /^w\d->auth-[ab]$/.test(id);
    expect(out.links.filter((l) => witnessPath(l.id))).toHaveLength(12);
    for (const l of out.links) expect(l.protocol, l.id).toBe(witnessPath(l.id) ? 'udp' : 'tcp');
    for (const l of out.links) expect(l.listen.startsWith(`127.${out.runOctet}.`), l.id).toBe(true);
    // torn down: nothing listens on the run's addresses, no process refers to its temp dir
    expect(boundSocketsOnOctet(out.runOctet)).toEqual([]);
    expect(processesWithArg(out.runDir)).toEqual([]);
    expect(existsSync(out.runDir)).toBe(false);
    expect(existsSync(join(lockDir(), `${out.runOctet}.lock`))).toBe(false);
  });

  it('rejects a bad flag with exit 2 before starting anything', async () => {
    const res = await runCli(['up', '--check', '--lease-backend', 'etcd']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--lease-backend: expected durable or kv/);
  });
});

describe('witness-path transport (no boot)', () => {
  it('the witness path is UDP by default and TCP when asked; nothing else changes', () => {
    const udp = describeTopology();
    const tcp = describeTopology({ dnsTransport: 'tcp' });
    const ids = (spec: typeof udp, protocol: string) =>
      spec.links.filter((l) => l.protocol === protocol).map((l) => l.id);
    expect(ids(udp, 'udp')).toHaveLength(12);
    expect(ids(udp, 'udp').every((id) => /^(ctl-[ab]->w\d|w\d->auth-[ab])$/.test(id))).toBe(true);
    expect(ids(tcp, 'udp')).toEqual([]);
    expect(tcp.links.map((l) => l.id)).toEqual(udp.links.map((l) => l.id));
  });

  it('explicit choice, then FAILOVER_LAB_DNS_TRANSPORT, then tcp with an external Toxiproxy, else udp', () => {
    expect(chooseDnsTransport('tcp', false, {})).toBe('tcp');
    expect(chooseDnsTransport(undefined, false, { FAILOVER_LAB_DNS_TRANSPORT: 'TCP' })).toBe('tcp');
    expect(chooseDnsTransport(undefined, true, { FAILOVER_LAB_DNS_TRANSPORT: 'udp' })).toBe('udp');
    expect(chooseDnsTransport(undefined, true, {})).toBe('tcp');
    expect(chooseDnsTransport(undefined, false, {})).toBe('udp');
    expect(() => chooseDnsTransport(undefined, false, { FAILOVER_LAB_DNS_TRANSPORT: 'quic' })).toThrow(
      /expected udp or tcp, got "quic"/,
    );
  });
});
