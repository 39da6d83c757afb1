/**
 * Probe execution: one attempt of each probe type, and Litmus-style retries around it
 * (1 + retries attempts, `interval` apart, each limited by `timeout`; the run passes if
 * any attempt passes). Scheduling by mode lives in ../experiment.ts.
 */
import { spawn } from 'node:child_process';
import type { Probe } from '../plan.ts';
import { errorText, monotonicMs, sleep } from '../util.ts';
import { dnsQuery, normalizeAnswer } from './dns-query.ts';
import { httpRequest } from './http-request.ts';
import { aggregate, compare, parsePromText, selectSamples } from './prom-text.ts';

/** Named endpoints of the target, used by `${endpoints.x}`, `${metrics.x}`, `${resolvers.x}`, `${hosts.x}` and prom `target`. */
export interface ProbeContext {
  /** name → host:port */
  endpoints: Record<string, string>;
  /** name → /metrics URL */
  metrics: Record<string, string>;
  /** name → DNS server host:port */
  resolvers: Record<string, string>;
  /** name → address (e.g. app-a → 127.41.1.10), for DNS expectations */
  hosts: Record<string, string>;
}

export interface AttemptResult {
  ok: boolean;
  detail: string;
}

export interface ProbeRun {
  ok: boolean;
  /** true when the run was cut short by its caller (not a probe verdict) */
  aborted: boolean;
  attempts: number;
  detail: string;
  durationMs: number;
}

export type ProbeExecutor = (probe: Probe, signal: AbortSignal) => Promise<AttemptResult>;

const REF_RE = /\$\{(endpoints|metrics|resolvers|hosts)\.([^}]+)\}/g;

/** Replaces `${endpoints.app-a}`-style references; unknown names are an error naming the reference. */
export function substitute(s: string, ctx: ProbeContext): string {
  return s.replace(REF_RE, (_m, kind: keyof ProbeContext, name: string) => {
    const v = ctx[kind][name];
    if (v === undefined)
      throw new Error(
        `unknown reference \${${kind}.${name}} (known: ${Object.keys(ctx[kind]).join(', ') || 'none'})`,
      );
    return v;
  });
}

/** Every `${...}` reference and resolver/target name a probe uses, for validation before a run. */
export function probeReferences(probe: Probe): Array<{ kind: keyof ProbeContext; name: string }> {
  const refs: Array<{ kind: keyof ProbeContext; name: string }> = [];
  const scan = (s: string | undefined) => {
    if (!s) return;
    for (const m of s.matchAll(REF_RE)) refs.push({ kind: m[1] as keyof ProbeContext, name: m[2]! });
  };
  if (probe.type === 'http') scan(probe.http.url);
  if (probe.type === 'dns') {
    scan(probe.dns.resolver);
    if (!probe.dns.resolver.includes(':') && !probe.dns.resolver.includes('${'))
      refs.push({ kind: 'resolvers', name: probe.dns.resolver });
    const e = probe.dns.expect;
    for (const a of [...(e.answers ?? []), ...(e.contains ?? []), ...(e.notContains ?? [])]) scan(a);
  }
  if (probe.type === 'prom') {
    scan(probe.prom.url);
    if (probe.prom.target) refs.push({ kind: 'metrics', name: probe.prom.target });
  }
  if (probe.type === 'cmd') for (const a of probe.cmd.args) scan(a);
  return refs;
}

export function makeProbeExecutor(ctx: ProbeContext): ProbeExecutor {
  return async (probe, signal) => {
    try {
      switch (probe.type) {
        case 'http':
          return await httpAttempt(probe, ctx, signal);
        case 'dns':
          return await dnsAttempt(probe, ctx, signal);
        case 'prom':
          return await promAttempt(probe, ctx, signal);
        case 'cmd':
          return await cmdAttempt(probe, ctx, signal);
      }
    } catch (err) {
      return { ok: false, detail: errorText(err) };
    }
  };
}

type Of<T extends Probe['type']> = Extract<Probe, { type: T }>;

async function httpAttempt(
  probe: Of<'http'>,
  ctx: ProbeContext,
  signal: AbortSignal,
): Promise<AttemptResult> {
  const h = probe.http;
  const url = substitute(h.url, ctx);
  const res = await httpRequest(url, { method: h.method, headers: h.headers, body: h.body, signal });
  const wanted = Array.isArray(h.expect.status) ? h.expect.status : [h.expect.status];
  if (!wanted.includes(res.status))
    return { ok: false, detail: `${h.method} ${url} → ${res.status}, expected ${wanted.join('|')}` };
  if (h.expect.body !== undefined && !new RegExp(h.expect.body).test(res.body))
    return {
      ok: false,
      detail: `${h.method} ${url} → ${res.status}, body does not match /${h.expect.body}/`,
    };
  return { ok: true, detail: `${h.method} ${url} → ${res.status}` };
}

async function dnsAttempt(probe: Of<'dns'>, ctx: ProbeContext, signal: AbortSignal): Promise<AttemptResult> {
  const d = probe.dns;
  const server =
    d.resolver.includes(':') || d.resolver.includes('${')
      ? substitute(d.resolver, ctx)
      : ctx.resolvers[d.resolver];
  if (!server) throw new Error(`unknown resolver "${d.resolver}"`);
  const r = await dnsQuery({ server, name: d.name, type: d.type, transport: d.transport, signal });
  const got = r.answers.map(normalizeAnswer);
  const sub = (xs: string[] | undefined) => xs?.map((x) => substitute(x, ctx));
  const expect = {
    answers: sub(d.expect.answers),
    contains: sub(d.expect.contains),
    notContains: sub(d.expect.notContains),
  };
  const shown = `${d.name} ${d.type} @${server} → ${r.rcode} [${r.answers.join(', ')}]`;
  if (r.rcode !== d.expect.rcode.toUpperCase())
    return { ok: false, detail: `${shown}, expected rcode ${d.expect.rcode}` };
  if (expect.answers) {
    const want = [...new Set(expect.answers.map(normalizeAnswer))].sort();
    const have = [...new Set(got)].sort();
    if (want.join(',') !== have.join(','))
      return { ok: false, detail: `${shown}, expected exactly [${want.join(', ')}]` };
  }
  for (const c of expect.contains ?? [])
    if (!got.includes(normalizeAnswer(c))) return { ok: false, detail: `${shown}, missing ${c}` };
  for (const c of expect.notContains ?? [])
    if (got.includes(normalizeAnswer(c))) return { ok: false, detail: `${shown}, must not contain ${c}` };
  return { ok: true, detail: shown };
}

async function promAttempt(
  probe: Of<'prom'>,
  ctx: ProbeContext,
  signal: AbortSignal,
): Promise<AttemptResult> {
  const p = probe.prom;
  const url = p.url !== undefined ? substitute(p.url, ctx) : ctx.metrics[p.target!];
  if (!url) throw new Error(`unknown metrics target "${p.target}"`);
  const res = await httpRequest(url, { signal });
  if (res.status !== 200) return { ok: false, detail: `GET ${url} → ${res.status}` };
  const matchers = Object.entries(p.labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const selector = matchers ? `${p.metric}{${matchers}}` : p.metric;
  const samples = selectSamples(parsePromText(res.body), p.metric, p.labels);
  if (samples.length === 0 && p.aggregate !== 'count')
    return { ok: false, detail: `${selector}: no sample at ${url}` };
  const value = aggregate(
    samples.map((s) => s.value),
    p.aggregate,
  );
  const expected = Array.isArray(p.value) ? `[${p.value.join(', ')}]` : String(p.value);
  const ok = compare(value, p.criteria, p.value);
  return { ok, detail: `${p.aggregate}(${selector}) = ${value}, want ${p.criteria} ${expected}` };
}

/** Output kept from a command probe; enough for a regex over a status line. */
const MAX_CMD_OUTPUT_BYTES = 1024 * 1024;

function cmdAttempt(probe: Of<'cmd'>, ctx: ProbeContext, signal: AbortSignal): Promise<AttemptResult> {
  const c = probe.cmd;
  const args = c.args.map((a) => substitute(a, ctx));
  return new Promise((resolve) => {
    // No shell: arguments reach the program as given, nothing is interpreted.
    const child = spawn(c.command, args, {
      cwd: c.cwd,
      env: { ...process.env, ...c.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
      // SIGKILL: a probe that outlives its timeout or an abort must not linger.
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < MAX_CMD_OUTPUT_BYTES) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < MAX_CMD_OUTPUT_BYTES) stderr += d.toString('utf8');
    });
    let settled = false;
    const finish = (r: AttemptResult) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    child.on('error', (err) => finish({ ok: false, detail: `${c.command}: ${errorText(err)}` }));
    child.on('close', (code, sig) => {
      const shown = `${[c.command, ...args].join(' ')} → ${sig ? `killed by ${sig}` : `exit ${code}`}`;
      if (sig || code !== c.expect.exitCode)
        return finish({
          ok: false,
          detail: `${shown}, expected exit ${c.expect.exitCode}${stderr ? `; stderr: ${stderr.trim().slice(0, 200)}` : ''}`,
        });
      if (c.expect.stdout !== undefined && !new RegExp(c.expect.stdout, 'm').test(stdout))
        return finish({ ok: false, detail: `${shown}, stdout does not match /${c.expect.stdout}/` });
      finish({ ok: true, detail: shown });
    });
  });
}

/** Runs a probe Litmus-style: up to 1 + retries attempts, `interval` apart, each limited by `timeout`. */
export async function runProbe(probe: Probe, exec: ProbeExecutor, signal: AbortSignal): Promise<ProbeRun> {
  const started = monotonicMs();
  const { timeout, retries, interval } = probe.runProperties;
  let last: AttemptResult = { ok: false, detail: 'not run' };
  let attempts = 0;
  for (let i = 0; i <= retries; i++) {
    if (signal.aborted) break;
    attempts++;
    const attemptSignal = AbortSignal.any([signal, AbortSignal.timeout(timeout)]);
    last = await exec(probe, attemptSignal);
    if (signal.aborted) break;
    // The probe's own error on a timeout is just "aborted": say what happened instead.
    if (!last.ok && attemptSignal.aborted) last = { ok: false, detail: `timed out after ${timeout} ms` };
    if (last.ok) break;
    if (i < retries && (await sleep(interval, signal))) break;
  }
  const aborted = signal.aborted && !last.ok;
  return {
    ok: last.ok,
    aborted,
    attempts,
    detail: last.detail,
    durationMs: Math.round(monotonicMs() - started),
  };
}
