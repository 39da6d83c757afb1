/**
 * Probes that tell whether a link really carries traffic: a TCP connect to the proxy's
 * listen address, and a protocol round trip through it (HTTP for API/health links, DNS over
 * TCP for witness and witness→authoritative links). Used to verify that a fault took effect
 * and that it was reverted, by the runner's link faults and by game days.
 */
import { connect } from 'node:net';
import type { LinkProtocol } from '../scenario/topology-description.ts';
import type { Endpoint } from '../topology/configs.ts';
import { queryDns } from '../topology/dns.ts';
import type { LinkProxy } from '../topology/proxies.ts';

export type ConnectOutcome = 'connected' | 'refused' | 'timeout' | `error:${string}`;

export function tcpConnect(host: string, port: number, timeoutMs = 500): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (o: ConnectOutcome) => {
      clearTimeout(timer);
      s.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    s.once('connect', () => done('connected'));
    s.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'refused' : `error:${err.code ?? err.message}`),
    );
  });
}

/**
 * Reaches a proxy in its own protocol: a TCP connect, or for a UDP proxy (the witness path)
 * one DNS query, as UDP has no connect. A disabled UDP proxy has no socket, so the query's
 * connected UDP socket is refused (ICMP port unreachable); silence is a timeout, not a refusal.
 */
export async function reachProxy(
  at: Endpoint,
  protocol: LinkProtocol,
  timeoutMs = 500,
): Promise<ConnectOutcome> {
  if (protocol === 'tcp') return tcpConnect(at.host, at.port, timeoutMs);
  const rt = await dnsRoundTrip(at, 'udp', timeoutMs);
  if (rt.ok) return 'connected';
  if (/ECONNREFUSED/.test(rt.detail)) return 'refused';
  return /timeout|timed out/i.test(rt.detail) ? 'timeout' : `error:${rt.detail}`;
}

export interface RoundTrip {
  ok: boolean;
  elapsedMs: number;
  detail: string;
}

/** True when the link's target speaks DNS (witness, or an authoritative reached by a witness). */
export function isDnsLink(linkId: string): boolean {
  const [from, to] = linkId.split('->');
  return (
    (/^w\d+$/.test(to ?? '') && (from ?? '').startsWith('ctl-')) ||
    (/^w\d+$/.test(from ?? '') && (to ?? '').startsWith('auth-'))
  );
}

function httpRoundTrip(host: string, port: number, timeoutMs: number): Promise<RoundTrip> {
  const started = performance.now();
  return new Promise((resolve) => {
    let got = '';
    const s = connect({ host, port });
    const done = (ok: boolean, detail: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ ok, elapsedMs: performance.now() - started, detail });
    };
    const timer = setTimeout(() => done(false, `no HTTP reply within ${timeoutMs} ms`), timeoutMs);
    s.once('connect', () => s.write(`GET /health HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n`));
    s.on('data', (d) => {
      got += String(d);
      if (got.length >= 12) done(got.startsWith('HTTP/'), `reply: ${got.split('\r\n')[0]}`);
    });
    s.once('error', (err) => done(false, err.message));
    s.once('close', () =>
      done(got.startsWith('HTTP/'), got ? `reply: ${got.split('\r\n')[0]}` : 'closed without a reply'),
    );
  });
}

/** One DNS question (SOA of the zone) and its answer, whatever the rcode. */
async function dnsRoundTrip(at: Endpoint, protocol: LinkProtocol, timeoutMs: number): Promise<RoundTrip> {
  const started = performance.now();
  try {
    const r = await queryDns(at, 'app.example.', { tcp: protocol !== 'udp', timeoutMs, type: 'SOA' });
    return { ok: true, elapsedMs: r.elapsedMs, detail: `DNS ${r.rcode}` };
  } catch (err) {
    return { ok: false, elapsedMs: performance.now() - started, detail: (err as Error).message };
  }
}

/** One request/response through the link's proxy, in the link's own protocol. */
export function linkRoundTrip(p: LinkProxy, timeoutMs = 600): Promise<RoundTrip> {
  if (isDnsLink(p.link.id)) return dnsRoundTrip(p.listen, p.link.protocol, timeoutMs);
  return httpRoundTrip(p.listen.host, p.listen.port, timeoutMs);
}
