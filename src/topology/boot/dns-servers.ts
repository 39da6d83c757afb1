/**
 * Boot phases of the DNS servers: per region a PowerDNS authoritative (config and sqlite
 * zone written, then started) and the unbound witnesses, which reach the authoritatives
 * through their witness->auth proxies.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../../errors.ts';
import { BINARIES, pdnsExtraConf, pdnsServerPath } from '../binaries.ts';
import { pdnsConf, unboundConf, zoneRecords, zoneSql } from '../configs.ts';
import type { LinkWiring, RunAddresses } from './ports.ts';
import type { BootRun } from './run.ts';

/** Starts one authoritative per region; one job per region. */
export function startAuthoritatives(run: BootRun, a: RunAddresses, wiring: LinkWiring): Array<Promise<void>> {
  const { spec } = run;
  const schemaSql = readFileSync(BINARIES.pdnsSqliteSchema.path, 'utf8');
  return spec.regions.map(async (r) => {
    const dir = join(run.runDir, `auth-${r}`);
    mkdirSync(join(dir, 'run'), { recursive: true });
    writeFileSync(
      join(dir, 'pdns.conf'),
      pdnsConf({
        dir,
        dns: a.authDns[r]!,
        api: a.authApi[r]!,
        apiKey: run.pdnsApiKey,
        luaHealthChecksIntervalS: run.timing.pdnsHealthCheckIntervalS,
        extraLines: pdnsExtraConf(),
      }),
    );
    const checkUrl = (app: string) => wiring.appCheckUrlOf(r, app);
    const rows = zoneRecords({
      zone: spec.zone,
      authAddresses: spec.regions.map((x) => a.authDns[x]!.host),
      serviceLabel: spec.serviceName.replace(`.${spec.zone}`, ''),
      // the agent's SVC_CHECK_URLS form: checks through this authoritative's auth->app proxies
      serviceUnits: run.orderedRegions.map((x) => ({ answer: a.apps[x]!.host, checkUrl: checkUrl(x) })),
      regionNames: spec.regions.map((x) => ({
        label: spec.regionName(x).replace(`.${spec.zone}`, ''),
        app: { answer: a.apps[x]!.host, checkUrl: checkUrl(x) },
        tombstone: {
          answer: a.tombstone.host,
          checkUrl: `http://${a.tombstone.host}:${a.tombstone.port}/health`,
        },
      })),
      ttlS: 1,
    });
    await runToCompletion(
      BINARIES.sqlite3.path,
      [join(dir, 'pdns.sqlite3')],
      zoneSql(schemaSql, spec.zone, rows),
      'sqlite3',
    );
    run.supervisor.spawn({
      name: `auth-${r}`,
      command: pdnsServerPath(),
      args: [`--config-dir=${dir}`],
    });
  });
}

/** Starts the unbound witnesses; one job per witness. */
export function startWitnesses(run: BootRun, a: RunAddresses, wiring: LinkWiring): Array<Promise<void>> {
  const { spec } = run;
  return spec.witnesses.map(async (w) => {
    const dir = join(run.runDir, w);
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'unbound.conf');
    writeFileSync(
      conf,
      unboundConf({
        dir,
        listen: a.witnesses[w]!,
        zone: spec.zone,
        stubAddrs: spec.regions.map((r) => wiring.proxyOf(`${w}->auth-${r}`)),
        upstreamTransport: spec.links.find((l) => l.id === `${w}->auth-${spec.regions[0]}`)!.protocol,
      }),
    );
    run.supervisor.spawn({ name: w, command: BINARIES.unbound.path, args: ['-d', '-c', conf] });
  });
}

/** Runs a short helper (sqlite3) to completion, feeding `input` on stdin. */
function runToCompletion(command: string, args: string[], input: string, name: string): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => {
      err += String(d);
    });
    p.on('error', (e) => rej(new InfraError(`${command}: ${e.message}`, name)));
    p.on('exit', (code) =>
      code === 0 ? res() : rej(new InfraError(`${command} exited with ${code}: ${err.trim()}`, name)),
    );
    p.stdin.end(input);
  });
}
