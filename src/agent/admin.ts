/**
 * The agent's admin HTTP server: GET /metrics, /healthz, /readyz, /status and the operator
 * commands POST /approve, /reject, /promote, /demote (202). No authentication: bind it to
 * loopback or a private interface (docs/controller.md).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { failoverBoundMs, safeWindowMs } from '../controller/core.ts';
import type { OperatorCommand } from '../controller/driver.ts';
import type { ControllerConfig, ControllerView } from '../controller/types.ts';
import type { AgentMetrics } from './metrics.ts';

/** What the admin server reads from and commands on the running agent. */
export interface AdminTarget {
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly view: ControllerView;
  readonly controllerConfig: ControllerConfig;
  /** the loop still runs (healthz) */
  readonly alive: boolean;
  /** not shutting down: operator commands are accepted */
  readonly accepting: boolean;
  /** outcome of the last lease exchange (`ok` = a reply came back), null before any */
  readonly lastLeaseOk: boolean | null;
  localMs(): number;
  operator(command: OperatorCommand): void;
}

const OPERATOR_PATHS: Record<string, OperatorCommand> = {
  '/approve': 'approve',
  '/reject': 'reject',
  '/promote': 'promote',
  '/demote': 'demote',
};
const GET_PATHS = ['/metrics', '/healthz', '/readyz', '/status'];

/** Listens on host:port; resolves with the server and its bound URL. */
export async function startAdminServer(
  target: AdminTarget,
  host: string,
  port: number,
): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    handle(target, req, res).catch((err) => {
      target.logger.error({ err }, 'admin request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return { server, url: `http://${addr.address}:${addr.port}` };
}

async function handle(t: AdminTarget, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://admin').pathname;
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (GET_PATHS.includes(path) && req.method !== 'GET') return json(405, { error: 'use GET' });
  if (path in OPERATOR_PATHS && req.method !== 'POST') return json(405, { error: 'use POST' });
  req.resume();
  switch (path) {
    case '/metrics': {
      const body = await t.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': t.metrics.registry.contentType });
      res.end(body);
      return;
    }
    case '/healthz':
      return json(t.alive ? 200 : 503, { ok: t.alive });
    case '/readyz': {
      const ready = t.alive && t.lastLeaseOk === true;
      const reason = t.lastLeaseOk === null ? 'no lease reply yet' : 'last lease request failed';
      return json(ready ? 200 : 503, { ready, reason: ready ? undefined : reason });
    }
    case '/status':
      return json(200, { view: t.view, localMs: t.localMs(), config: statusConfig(t.controllerConfig) });
    default: {
      const command = OPERATOR_PATHS[path];
      if (!command) return json(404, { error: 'not found' });
      if (!t.accepting) return json(503, { error: 'shutting down' });
      t.logger.info({ command }, `operator ${command} via admin API`);
      t.operator(command);
      return json(202, { accepted: command, view: t.view });
    }
  }
}

function statusConfig(c: ControllerConfig) {
  return {
    region: c.region,
    peerRegion: c.peerRegion,
    mode: c.mode,
    witnesses: c.witnesses,
    quorum: c.witnessQuorum,
    leaseTtlMs: c.leaseTtlMs,
    heartbeatMs: c.heartbeatMs,
    safeWindowMs: safeWindowMs(c),
    failoverBoundMs: failoverBoundMs(c),
  };
}
