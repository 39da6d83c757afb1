import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/agent/env.ts';
import { BadInputError } from '../../src/cli/errors.ts';

const BASE_ENV = {
  REGION: 'b',
  PEER_REGION: 'a',
  CLOUDFLARE_WORKER_URL: 'http://127.0.10.1:8787',
  LEASE_SECRET: 'secret-b-456',
  DNS_WITNESSES: '127.0.10.2:5353,127.0.10.3,127.0.10.4:53',
  PEER_HEALTH_URL: 'http://127.0.10.5:8080/health',
  PEER_APP_ADDR: '127.0.1.10',
  TOMBSTONE_ADDR: '127.0.9.9',
};

function errorOf(env: Record<string, string>): BadInputError {
  try {
    loadAgentConfig(env);
  } catch (err) {
    if (err instanceof BadInputError) return err;
    throw err;
  }
  throw new Error('expected a BadInputError');
}

describe('agent config from the environment', () => {
  it('applies the controller defaults and parses witnesses as host:port ids', () => {
    const c = loadAgentConfig(BASE_ENV);
    expect(c.controller.witnesses).toEqual(['127.0.10.2:5353', '127.0.10.3:53', '127.0.10.4:53']);
    expect(c.controller).toMatchObject({
      witnessQuorum: 2,
      leaseTtlMs: 30_000,
      heartbeatMs: 10_000,
      mode: 'automatic',
    });
    expect(c.admin).toEqual({ host: '127.0.0.1', port: 0 });
    expect(c.lease.leaseName).toBe('primary');
    expect(c.witnesses.zone).toBe('app.example');
  });

  it('timing knobs pass through and are validated together', () => {
    const c = loadAgentConfig({ ...BASE_ENV, LEASE_TTL_MS: '600', MODE: 'semi-automatic', QUORUM: '3' });
    expect(c.controller).toMatchObject({
      leaseTtlMs: 600,
      heartbeatMs: 200,
      mode: 'semi-automatic',
      witnessQuorum: 3,
    });
    expect(errorOf({ ...BASE_ENV, LEASE_TTL_MS: '600', HEARTBEAT_MS: '590' }).message).toMatch(
      /^env LEASE_TTL_MS\/HEARTBEAT_MS\/MAX_PAUSE_MS\/MAX_DELAY_MS: heartbeatMs \+ 2\*maxDelayMs/,
    );
  });

  it('names the bad variable and what was expected', () => {
    expect(errorOf({ ...BASE_ENV, QUORUM: 'abc' }).message).toBe(
      'env QUORUM: expected an integer >= 1 (got "abc")',
    );
    expect(errorOf({ ...BASE_ENV, QUORUM: '4' }).message).toMatch(
      /^env QUORUM: witnessQuorum must be an integer in 1\.\.3/,
    );
    expect(errorOf({ ...BASE_ENV, MODE: 'yolo' }).message).toMatch(/^env MODE: /);
    expect(errorOf({ ...BASE_ENV, DNS_WITNESSES: 'a b' }).message).toMatch(
      /^env DNS_WITNESSES: expected host:port/,
    );
    expect(errorOf({ ...BASE_ENV, CLOUDFLARE_WORKER_URL: 'ftp://x' }).message).toMatch(
      /^env CLOUDFLARE_WORKER_URL: /,
    );
    const { REGION: _r, ...noRegion } = BASE_ENV;
    expect(errorOf(noRegion).message).toBe('env REGION: required but not set');
    expect(errorOf({ ...BASE_ENV, PDNS_API_URLS: 'http://127.0.10.6:8081' }).message).toBe(
      'env PDNS_API_KEY: required when PDNS_API_URLS is set',
    );
  });

  it('`failover-lab controller` exits 2 with one stderr line naming the variable', () => {
    const r = spawnSync(process.execPath, ['bin/failover-lab.mjs', 'controller'], {
      env: { PATH: process.env.PATH ?? '', ...BASE_ENV, QUORUM: 'abc' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('QUORUM');
    expect(r.stdout).toBe('');
  });
});
