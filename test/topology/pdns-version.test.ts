/**
 * Running the topology against another PowerDNS (docs/topology.md "PowerDNS versions"):
 * FAILOVER_LAB_PDNS_SERVER picks the binary, FAILOVER_LAB_PDNS_CONF appends settings
 * (enable-lua-record-updates=yes on 5.1+). Bad values are exit 2 naming the variable.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BadInputError } from '../../src/errors.ts';
import {
  BINARIES,
  PDNS_CONF_ENV,
  PDNS_SERVER_ENV,
  pdnsExtraConf,
  pdnsServerPath,
} from '../../src/topology/binaries.ts';
import { pdnsConf } from '../../src/topology/configs.ts';

const conf = (extraLines?: string[]) =>
  pdnsConf({
    dir: '/tmp/x',
    dns: { host: '127.0.0.1', port: 5300 },
    api: { host: '127.0.0.1', port: 8081 },
    apiKey: 'k',
    luaHealthChecksIntervalS: 1,
    ...(extraLines ? { extraLines } : {}),
  });

describe('PowerDNS binary and settings overrides', () => {
  it("defaults to Debian's pdns_server", () => {
    expect(pdnsServerPath({})).toBe(BINARIES.pdnsServer.path);
    expect(pdnsServerPath({ [PDNS_SERVER_ENV]: '' })).toBe(BINARIES.pdnsServer.path);
  });

  it('takes an absolute path to an executable', () => {
    expect(pdnsServerPath({ [PDNS_SERVER_ENV]: '/bin/true' })).toBe('/bin/true');
  });

  it('refuses a relative path or a file that does not execute, naming the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-pdns-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const notExecutable = join(dir, 'pdns_server');
    writeFileSync(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    for (const bad of ['pdns_server', '/nonexistent/pdns_server', notExecutable]) {
      let err: unknown;
      try {
        pdnsServerPath({ [PDNS_SERVER_ENV]: bad });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BadInputError);
      expect(String((err as Error).message)).toContain(bad);
      expect((err as BadInputError & { where?: string }).where).toBe(`env ${PDNS_SERVER_ENV}`);
    }
  });

  it('splits extra settings on ";" and newlines and appends them after the generated ones', () => {
    const lines = pdnsExtraConf({
      [PDNS_CONF_ENV]: 'enable-lua-record-updates=yes; module-dir=/opt/pdns/lib\n',
    });
    expect(lines).toEqual(['enable-lua-record-updates=yes', 'module-dir=/opt/pdns/lib']);
    const text = conf(lines).trimEnd().split('\n');
    expect(text.slice(-2)).toEqual(lines);
    expect(conf().includes('FAILOVER_LAB_PDNS_CONF')).toBe(false);
    expect(pdnsExtraConf({})).toEqual([]);
  });

  it('refuses something that is not one key=value setting', () => {
    expect(() => pdnsExtraConf({ [PDNS_CONF_ENV]: 'enable-lua-record-updates' })).toThrow(BadInputError);
    expect(() => pdnsExtraConf({ [PDNS_CONF_ENV]: 'Bad Key=1' })).toThrow(/not a pdns.conf setting/);
  });
});
