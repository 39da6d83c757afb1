import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/agent/env.ts';
import { BadInputError } from '../../src/errors.ts';

const BASE_ENV = {
  REGION: 'b',
  PEER_REGION: 'a',
  CLOUDFLARE_WORKER_URL: 'http://127.0.10.1:8787',
  LEASE_SECRET: 'secret-b-456-0123456789',
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
      'env QUORUM: expected an integer from 1 to 1000 (got "abc")',
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

  describe('SVC_CHECK_URLS (ifurlextup publish form)', () => {
    const API1 = 'http://127.0.10.6:8081';
    const API2 = 'http://127.0.10.7:8081';
    const CHECKS = {
      [API1]: { a: 'http://127.0.10.41:7001/health', b: 'http://127.0.10.42:7002/health' },
      [API2]: { a: 'http://127.0.10.43:7003/health', b: 'http://127.0.10.44:7004/health' },
    };
    const PUBLISH = { PDNS_API_URLS: `${API1}/,${API2}`, PDNS_API_KEY: 'k', APP_ADDR: '127.0.2.10' };
    const withChecks = (v: unknown) => ({
      ...BASE_ENV,
      ...PUBLISH,
      SVC_CHECK_URLS: typeof v === 'string' ? v : JSON.stringify(v),
    });

    it('without it, the ifurlup form stays the default', () => {
      const c = loadAgentConfig({
        ...BASE_ENV,
        ...PUBLISH,
        SVC_HEALTH_URL: 'http://svc.app.example:8080/health',
      });
      expect(c.publish.healthUrl).toBe('http://svc.app.example:8080/health');
      expect(c.publish.checkUrls).toBeNull();
    });

    it('is parsed per API URL and replaces SVC_HEALTH_URL', () => {
      const c = loadAgentConfig(withChecks({ ...CHECKS, [API1]: undefined, [`${API1}/`]: CHECKS[API1] }));
      expect(c.publish.checkUrls).toEqual(CHECKS);
      expect(c.publish.healthUrl).toBeNull();
    });

    it('a bad value names the variable and what was expected', () => {
      const msg = (v: unknown) => errorOf(withChecks(v)).message;
      expect(msg('{not json')).toMatch(
        /^env SVC_CHECK_URLS: expected JSON \{"<PowerDNS API URL>".*not valid JSON \(got "\{not json"\)$/,
      );
      expect(msg([CHECKS[API1]])).toMatch(/^env SVC_CHECK_URLS: expected JSON /);
      expect(
        msg({ ...CHECKS, [API2]: { a: 'http://auth-b.example:7003/health', b: CHECKS[API2].b } }),
      ).toMatch(
        /^env SVC_CHECK_URLS: .*"http:\/\/auth-b\.example:7003\/health" is not an http\(s\) URL with an IPv4 host/,
      );
      expect(msg({ ...CHECKS, [API2]: { ...CHECKS[API2], a: "http://127.0.10.43:7003/it's" } })).toMatch(
        /is not an http\(s\) URL with an IPv4 host/,
      );
      expect(msg({ [API1]: CHECKS[API1] })).toBe(
        `env SVC_CHECK_URLS: no entry for PowerDNS API "${API2}" (one per PDNS_API_URLS entry)`,
      );
      expect(msg({ ...CHECKS, 'http://127.0.10.9:8081': CHECKS[API1] })).toBe(
        'env SVC_CHECK_URLS: key "http://127.0.10.9:8081" is not one of PDNS_API_URLS',
      );
      expect(msg({ ...CHECKS, [API2]: { b: CHECKS[API2].b } })).toBe(
        `env SVC_CHECK_URLS: "${API2}": no check URL for region "a"`,
      );
      expect(msg({ ...CHECKS, [API2]: { ...CHECKS[API2], c: CHECKS[API2].b } })).toBe(
        `env SVC_CHECK_URLS: "${API2}": region "c" is neither REGION nor PEER_REGION`,
      );
      expect(
        errorOf({ ...withChecks(CHECKS), SVC_HEALTH_URL: 'http://svc.app.example:8080/health' }).message,
      ).toBe(
        'env SVC_CHECK_URLS: set either SVC_CHECK_URLS (ifurlextup) or SVC_HEALTH_URL (ifurlup), not both',
      );
      const { PDNS_API_URLS: _p, ...noApis } = withChecks(CHECKS);
      expect(errorOf(noApis).message).toBe(
        'env SVC_CHECK_URLS: needs PDNS_API_URLS (its keys are those URLs)',
      );
      // with neither form, the publisher has nothing to publish
      expect(errorOf({ ...BASE_ENV, ...PUBLISH }).message).toMatch(
        /^env SVC_HEALTH_URL: required when PDNS_API_URLS is set/,
      );
    });

    it('`failover-lab controller` exits 2 naming SVC_CHECK_URLS', () => {
      const r = spawnSync(process.execPath, ['bin/failover-lab.mjs', 'controller'], {
        env: { PATH: process.env.PATH ?? '', ...withChecks('{"x":1}') },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/SVC_CHECK_URLS: expected JSON/);
      expect(r.stdout).toBe('');
    });
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
