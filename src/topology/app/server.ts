/**
 * App/database stand-in: a child process per region (and the always-up tombstone).
 *
 * Write authority is fenced and bounded, the way a real database would have to be (rules in
 * ./fence.ts):
 * - POST /promote and POST /extend {epoch, validityMs}: accepted only if epoch ≥ the
 *   highest epoch ever seen; authority lasts validityMs from *receipt*, on this process's
 *   own monotonic clock, so it lapses by itself if the controller goes silent.
 * - POST /demote {epoch}: drops authority (ignored if it names an older epoch than held).
 * - POST /write {client}: accepted only while authority is valid.
 * - POST /authority {action: promote|extend|demote, epoch, validityMs}: the same, in the
 *   shape of the production agent's promotion webhook (src/agent/adapters.ts runHooks).
 * - GET /health: "OK <region>" (the PowerDNS health checks match 'OK').
 * Every decision is appended to APP_EVENTS_FILE as JSONL stamped with CLOCK_MONOTONIC
 * (process.hrtime), which every process on the machine shares, so the harness converts the
 * stamps to history time exactly.
 *
 * The highest epoch seen is durable (APP_STATE_FILE), like a real database's fencing token:
 * a restarted app still rejects stale epochs. Authority itself is not: after a restart
 * the app accepts no writes until its controller promotes or extends it again.
 *
 * Env: APP_REGION, APP_HOST, APP_PORT, APP_EVENTS_FILE, APP_STATE_FILE, APP_MODE=app|tombstone.
 * The fence rules are ./fence.ts (pure; the simulator's app model runs the same module).
 * Standalone (bundled by esbuild into the run dir): imports only node:* and ./fence.ts.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readAuthorityCommand } from '../../contracts/authority-hook.ts';
import * as fence from './fence.ts';

const region = process.env.APP_REGION ?? 'x';
const host = process.env.APP_HOST ?? '127.0.0.1';
const port = Number(process.env.APP_PORT ?? '0');
const eventsFile = process.env.APP_EVENTS_FILE;
const tombstone = process.env.APP_MODE === 'tombstone';

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

const stateFile = process.env.APP_STATE_FILE;

function loadHighestEpoch(): number {
  if (!stateFile) return -1;
  try {
    const v = JSON.parse(readFileSync(stateFile, 'utf8')) as { highestEpochSeen?: unknown };
    return typeof v.highestEpochSeen === 'number' ? v.highestEpochSeen : -1;
  } catch {
    return -1;
  }
}

/** Applies a fence step; the durable part is written synchronously, before answering, so the fence survives a crash right after the reply. */
function apply(step: fence.FenceStep): fence.FenceDecision {
  state = step.state;
  if (step.persist && stateFile)
    writeFileSync(stateFile, JSON.stringify({ highestEpochSeen: state.highestEpochSeen }));
  return step.decision;
}

let state: fence.FenceState = fence.restart(loadHighestEpoch());
let acceptedWrites = 0;
let rejectedWrites = 0;

/** `atMs`: when the decision was taken (a grant's window starts at receipt, not at logging). */
function log(ev: Record<string, unknown>, atMs: number = nowMs()): void {
  if (!eventsFile) return;
  appendFileSync(eventsFile, `${JSON.stringify({ hrMs: atMs, region, ...ev })}\n`);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (chunks.length === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function grant(op: 'promote' | 'extend', epoch: number, validityMs: number, res: ServerResponse) {
  const now = nowMs();
  const d = apply(fence.grant(state, op, epoch, validityMs, now));
  if (d.op === 'reject') {
    log({ kind: 'app-authority', op: 'reject', epoch, reason: d.reason });
    return send(res, 409, { ok: false, error: 'stale epoch', highestEpochSeen: d.highestEpochSeen });
  }
  if (d.op !== 'grant') throw new Error(`fence answered ${d.op} to a ${op}`);
  log({ kind: 'app-authority', op: 'grant', epoch, untilHrMs: d.untilMs, reason: op, validityMs }, now);
  send(res, 200, { ok: true, epoch, validityMs, highestEpochSeen: state.highestEpochSeen });
}

function demote(epoch: number | null, reason: string, res: ServerResponse) {
  const held = state.authorityEpoch;
  const d = apply(fence.demote(state, epoch, reason));
  log({ kind: 'app-authority', op: d.op, epoch: d.epoch, reason: d.reason });
  if (d.op === 'reject') return send(res, 409, { ok: false, error: 'stale epoch', authorityEpoch: held });
  send(res, 200, { ok: true });
}

/** A promote/extend/demote, by the path's action or (webhook) the body's: one reading for both. */
function authority(body: Record<string, unknown>, action: unknown, res: ServerResponse) {
  const c = readAuthorityCommand(body, action);
  if ('error' in c) return send(res, 400, { error: c.error });
  if (c.op === 'demote') return demote(c.epoch, c.reason, res);
  return grant(c.op, c.epoch, c.validityMs, res);
}

function write(body: Record<string, unknown>, res: ServerResponse) {
  const client = typeof body.client === 'string' ? body.client : 'anonymous';
  const now = nowMs();
  const d = fence.write(state, now);
  if (d.accepted) {
    acceptedWrites++;
    log({ kind: 'app-write', client, epoch: d.epoch, accepted: true }, now);
    return send(res, 200, { accepted: true, region, epoch: d.epoch });
  }
  rejectedWrites++;
  log({ kind: 'app-write', client, epoch: d.epoch, accepted: false, reason: d.reason }, now);
  send(res, 503, { accepted: false, region, reason: d.reason });
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/health')
    return send(res, 200, `OK ${tombstone ? 'tombstone' : region}\n`);
  if (tombstone) return send(res, 404, { error: 'tombstone serves /health only' });
  if (req.method === 'GET' && path === '/state') {
    const now = nowMs();
    const held = fence.holding(state, now);
    return send(res, 200, {
      region,
      highestEpochSeen: state.highestEpochSeen,
      authorityEpoch: state.authorityEpoch,
      holding: held,
      remainingMs: held ? state.validUntilMs - now : 0,
      acceptedWrites,
      rejectedWrites,
    });
  }
  if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' });
  void readJson(req).then((body) => {
    if (body === null) return send(res, 400, { error: 'body must be a JSON object' });
    switch (path) {
      case '/promote':
      case '/extend':
      case '/demote':
        return authority(body, path.slice(1), res);
      case '/write':
        return write(body, res);
      case '/authority':
        // the agent's promotion webhook: {action, epoch, validityMs, region[, reason]}
        return authority(body, body.action, res);
      default:
        return send(res, 404, { error: 'unknown path' });
    }
  });
});

server.keepAliveTimeout = 2000;
server.listen({ host, port }, () => {
  const addr = server.address();
  process.stdout.write(
    `app ${region} listening on ${typeof addr === 'object' && addr ? `${addr.address}:${addr.port}` : ''}\n`,
  );
});
// Nothing to flush (events are appended synchronously): exit at once so stops are fast.
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
