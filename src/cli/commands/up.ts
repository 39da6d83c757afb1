/**
 * `failover-lab up`: boots the real two-region topology on loopback (src/topology/local.ts),
 * prints its endpoints and, with --keep, leaves it running until Ctrl-C. --check probes
 * every component once it is up (DNS from authoritatives and witnesses, HTTP from apps,
 * Worker, controllers, proxy API) and prints {ok, bootSeconds, components, links} with --json
 * (links: each link's proxy and its protocol, udp for the witness path by default).
 */
import type { Command } from 'commander';
import { BadInputError, EXIT_INFRA, EXIT_OK, InfraError } from '../../errors.ts';
import { componentHealth, type HealthResult } from '../../topology/health.ts';
import { startTopology, type Topology } from '../../topology/local.ts';
import { type TreeMemory, treeMemory } from '../../topology/memory.ts';
import type { ExitSetter } from '../command-module.ts';
import { DRIVER_OPTION_HELP, driverForUp } from '../driver-flag.ts';

interface UpOptions {
  keep?: boolean;
  timeScale: string;
  check?: boolean;
  json?: boolean;
  leaseBackend: string;
  driver?: string;
}

export interface UpCheck {
  ok: boolean;
  /** from the start of the boot until every component answered */
  bootSeconds: number;
  /** from process start (includes loading the harness and miniflare) until then */
  processSeconds: number;
  runOctet: number;
  /** the run's temp dir (removed at teardown) */
  runDir: string;
  components: Array<{
    name: string;
    kind: string;
    address: string;
    pid: number | null;
    bootSeconds: number | null;
    ok: boolean;
    detail: string;
  }>;
  /** every link's fault proxy and the protocol it carries (udp: the witness path over UDP) */
  links: LinkReport[];
  /** RSS of the harness and every process it started, once all answered (null: no /proc) */
  memory: TreeMemory | null;
}

export interface LinkReport {
  id: string;
  protocol: 'tcp' | 'udp';
  /** the proxy's listen address, where the link's traffic enters */
  listen: string;
  upstream: string;
}

export function linkReports(topo: Pick<Topology, 'proxies'>): LinkReport[] {
  return [...topo.proxies.values()].map((p) => ({
    id: p.link.id,
    protocol: p.link.protocol,
    listen: `${p.listen.host}:${p.listen.port}`,
    upstream: `${p.upstream.host}:${p.upstream.port}`,
  }));
}

/** Waits until every component answered once (or the deadline); records when each did. */
export async function checkComponents(topo: Topology, deadlineMs: number): Promise<UpCheck> {
  const results = new Map<string, HealthResult & { atS: number | null }>();
  await Promise.all(
    topo.components.map(async (c) => {
      let last: HealthResult = { ok: false, detail: 'not tried' };
      while (performance.now() < deadlineMs) {
        topo.supervisor.throwIfFailed();
        last = await componentHealth(topo, c.name, 500);
        if (last.ok) {
          // the boot's own record when it watched readiness: when the component first answered,
          // not when this poll, which starts only after the boot returned, got to it
          const polledS = (performance.now() - topo.bootStartedAtMs) / 1000;
          results.set(c.name, { ...last, atS: Math.min(topo.readySeconds?.get(c.name) ?? polledS, polledS) });
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      results.set(c.name, { ...last, atS: null });
    }),
  );
  const components = topo.components.map((c) => {
    const r = results.get(c.name)!;
    return {
      name: c.name,
      kind: c.kind,
      address: c.address,
      pid: c.pid ?? null,
      bootSeconds: r.atS === null ? null : round(r.atS),
      ok: r.ok,
      detail: r.detail,
    };
  });
  const ok = components.every((c) => c.ok);
  return {
    ok,
    bootSeconds: round(Math.max(...components.map((c) => c.bootSeconds ?? Number.POSITIVE_INFINITY))),
    processSeconds: round(performance.now() / 1000),
    runOctet: topo.octet,
    runDir: topo.runDir,
    components,
    links: linkReports(topo),
    memory: treeMemory(),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function endpointTable(topo: Topology): string {
  const rows = topo.components.map((c) => [c.name, c.kind, c.address, c.detail ?? '', String(c.pid ?? '')]);
  const header = ['component', 'kind', 'address', 'detail', 'pid'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((x, i) => x.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const lines = [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)];
  lines.push(
    '',
    `links (${topo.proxies.size}, each a Toxiproxy proxy "<from>__to__<to>" at ${topo.toxiproxyUrl}):`,
  );
  for (const p of topo.proxies.values()) {
    lines.push(
      `  ${p.link.id.padEnd(18)} ${p.link.protocol} ${p.listen.host}:${p.listen.port} -> ${p.upstream.host}:${p.upstream.port}`,
    );
  }
  lines.push(
    '',
    `service: dig @${topo.witnesses.w1!.host} -p ${topo.witnesses.w1!.port} ${topo.spec.serviceName}`,
  );
  lines.push(`logs: ${topo.logsDir}`);
  return lines.join('\n');
}

export function parseTimeScale(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 1)
    throw new BadInputError(`expected a number in (0, 1], got "${v}"`, '--time-scale');
  return n;
}

export function register(program: Command, setExit: ExitSetter): void {
  program
    .command('up')
    .description(
      'boot the real two-region topology on loopback (PowerDNS, unbound, workerd, controllers, fault proxy)',
    )
    .option('--keep', 'leave everything running until Ctrl-C')
    .option('--time-scale <x>', 'scale production timings (TTL 30 s, heartbeat 10 s) by x', '0.1')
    .option('--check', 'probe every component once up, report boot times, then tear down')
    .option('--json', 'print the --check result as JSON')
    .option('--lease-backend <b>', 'durable | kv (the known-unsafe legacy KV Worker)', 'durable')
    .option('--driver <d>', DRIVER_OPTION_HELP)
    .action(async (opts: UpOptions) => {
      const timeScale = parseTimeScale(opts.timeScale);
      if (opts.leaseBackend !== 'durable' && opts.leaseBackend !== 'kv') {
        throw new BadInputError(`expected durable or kv, got "${opts.leaseBackend}"`, '--lease-backend');
      }
      const driver = await driverForUp(opts.driver);
      const progress = opts.json ? () => {} : (l: string) => process.stderr.write(`${l}\n`);
      // one Topology shape for both drivers: the check, the table and --keep are the same
      const start =
        driver === 'docker'
          ? (await import('../../topology/docker/topology.ts')).startDockerTopology
          : startTopology;
      const topo = await start({
        timeScale,
        leaseBackend: opts.leaseBackend,
        progress,
        ...(opts.check ? { watchReadiness: true } : {}),
      });
      try {
        if (opts.check) {
          const result = await checkComponents(topo, performance.now() + 20_000);
          if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
          else {
            for (const c of result.components) {
              process.stdout.write(
                `${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(10)} ${c.address.padEnd(22)} ${c.bootSeconds ?? '-'} s  ${c.detail}\n`,
              );
            }
            process.stdout.write(
              `boot ${result.bootSeconds} s (process ${result.processSeconds} s): ${result.ok ? 'all components answer' : 'NOT all components answer'}\n`,
            );
          }
          setExit(result.ok ? EXIT_OK : EXIT_INFRA);
          return;
        }
        process.stdout.write(`${endpointTable(topo)}\n`);
        if (opts.keep) {
          process.stderr.write('up: running; Ctrl-C stops everything\n');
          // Ends on Ctrl-C/SIGTERM (normal) or on an unexpected exit (infrastructure error).
          const reason = await new Promise<unknown>((resolve) => {
            if (topo.supervisor.signal.aborted) resolve(topo.supervisor.signal.reason);
            topo.supervisor.signal.addEventListener('abort', () => resolve(topo.supervisor.signal.reason), {
              once: true,
            });
          });
          if (reason instanceof InfraError && reason.component !== 'harness') throw reason;
        }
        setExit(EXIT_OK);
      } finally {
        await topo.stop();
      }
    });
}
