/**
 * Probes that tell whether a link really carries traffic: a TCP connect to the proxy's
 * listen address, and a protocol round trip through it (HTTP for API/health links, DNS over
 * TCP for witness and witness→authoritative links). Used to verify that a fault took effect
 * and that it was reverted.
 */
import { connect } from 'node:net';
import { queryDns } from '../topology/dns.ts';
import type { LinkProxy } from '../topology/proxies.ts';

export type ConnectOutcome = 'connected' | 'refused' | 'timeout' | 'error';

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
    s.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'error'));
  });
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

/** One request/response through the link's proxy, in the link's own protocol. */
export async function linkRoundTrip(p: LinkProxy, timeoutMs = 600): Promise<RoundTrip> {
  if (isDnsLink(p.link.id)) {
    const started = performance.now();
    try {
      const r = await queryDns(p.listen, 'app.example.', {
        tcp: p.link.protocol !== 'udp',
        timeoutMs,
        type: 'SOA',
      });
      return { ok: true, elapsedMs: r.elapsedMs, detail: `DNS ${r.rcode}` };
    } catch (err) {
      return { ok: false, elapsedMs: performance.now() - started, detail: (err as Error).message };
    }
  }
  return httpRoundTrip(p.listen.host, p.listen.port, timeoutMs);
}
