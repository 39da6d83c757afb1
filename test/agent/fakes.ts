/**
 * Real loopback servers standing in for the agent's peers in tests (127.0.10.x, port 0):
 * a lease Worker that verifies signatures and keeps a linearizable lease, a DNS resolver
 * over UDP+TCP, a PowerDNS API, a webhook receiver and a peer health endpoint.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { verifySignature } from '../../src/worker/signing.ts';

export const HOST = '127.0.10.1';

export interface Request {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function listen(server: http.Server, host = HOST): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return `http://${host}:${a.port}`;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A lease Worker: signed requests only, compare-and-set semantics, epochs never reused. */
export class FakeWorker {
  url = '';
  holder: string | null = null;
  epoch = 0;
  expiresAt: number | null = null;
  ttlMs: number;
  /** 'up' answers; 'down' answers 503; 'blackhole' never answers */
  mode: 'up' | 'down' | 'blackhole' = 'up';
  log: { op: string; region: string; granted?: boolean; epoch: number; at: number }[] = [];
  rejected: string[] = [];
  private readonly nonces = new Set<string>();
  private readonly server: http.Server;
  private readonly hanging: http.ServerResponse[] = [];

  constructor(
    readonly secrets: Record<string, string>,
    ttlMs: number,
  ) {
    this.ttlMs = ttlMs;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => res.writeHead(500).end());
    });
  }

  async start(host = HOST) {
    this.url = await listen(this.server, host);
    return this;
  }

  async stop() {
    for (const r of this.hanging) r.destroy();
    await close(this.server);
  }

  private live(now: number) {
    return this.holder !== null && this.expiresAt !== null && now < this.expiresAt;
  }

  private reply(now: number, extra: Record<string, unknown>) {
    const live = this.live(now);
    return {
      holder: live ? this.holder : null,
      epoch: this.epoch,
      ttlMs: this.ttlMs,
      expiresAt: live ? this.expiresAt : null,
      serverTime: now,
      ...extra,
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const body = await readBody(req);
    if (this.mode === 'blackhole') {
      this.hanging.push(res);
      return;
    }
    if (this.mode === 'down') {
      res.writeHead(503).end('down');
      return;
    }
    const now = Date.now();
    const url = new URL(req.url ?? '/', 'http://w');
    const pathWithQuery = url.pathname + url.search;
    const v = await verifySignature({
      headers: { get: (n) => (req.headers[n.toLowerCase()] as string | undefined) ?? null },
      method: req.method ?? 'GET',
      pathWithQuery,
      body,
      serverTimeMs: now,
      secrets: this.secrets,
    });
    if (!v.ok || this.nonces.has(v.nonce)) {
      this.rejected.push(v.ok ? 'replay' : v.reason);
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'unauthorized' }));
      return;
    }
    this.nonces.add(v.nonce);
    const region = v.region;
    const send = (o: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(o));
    const parsed = body ? (JSON.parse(body) as { lease?: string; epoch?: number }) : {};
    switch (`${req.method} ${url.pathname}`) {
      case 'POST /acquire': {
        let granted = false;
        if (!this.live(now)) {
          this.epoch += 1;
          this.holder = region;
          this.expiresAt = now + this.ttlMs;
          granted = true;
        }
        this.log.push({ op: 'acquire', region, granted, epoch: this.epoch, at: now });
        return send(this.reply(now, { granted }));
      }
      case 'POST /renew': {
        const granted = this.live(now) && this.holder === region && this.epoch === parsed.epoch;
        if (granted) this.expiresAt = now + this.ttlMs;
        this.log.push({ op: 'renew', region, granted, epoch: this.epoch, at: now });
        return send(this.reply(now, { granted }));
      }
      case 'POST /release': {
        const released = this.live(now) && this.holder === region && this.epoch === parsed.epoch;
        if (released) {
          this.holder = null;
          this.expiresAt = null;
        }
        this.log.push({ op: 'release', region, granted: released, epoch: this.epoch, at: now });
        return send(this.reply(now, { granted: false, released }));
      }
      case 'GET /status':
        this.log.push({ op: 'status', region, epoch: this.epoch, at: now });
        return send(this.reply(now, {}));
      default:
        res.writeHead(404).end();
    }
  }
}

export type DnsBehaviour =
  | { kind: 'answer'; addresses: string[] }
  | { kind: 'rcode'; rcode: 'SERVFAIL' | 'REFUSED' | 'NXDOMAIN' }
  | { kind: 'silence' }
  | { kind: 'truncate'; addresses: string[] };

const RCODE_NUM = { SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

/** A DNS resolver on UDP and TCP (same port) answering per query name. */
export class FakeDns {
  host: string;
  port = 0;
  behaviour: (name: string, transport: 'udp' | 'tcp') => DnsBehaviour = () => ({ kind: 'silence' });
  queries: { name: string; transport: 'udp' | 'tcp' }[] = [];
  private udp = dgram.createSocket('udp4');
  private tcp: net.Server;
  private sockets = new Set<net.Socket>();

  constructor(host = '127.0.10.2') {
    this.host = host;
    this.tcp = net.createServer((sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      let buf = Buffer.alloc(0);
      sock.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        const q = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        const out = this.answer(q, 'tcp');
        if (out) sock.write(dnsPacket.streamEncode(out));
      });
      sock.on('error', () => {});
    });
  }

  async start() {
    await new Promise<void>((resolve) => this.tcp.listen(0, this.host, () => resolve()));
    this.port = (this.tcp.address() as AddressInfo).port;
    await new Promise<void>((resolve, reject) => {
      this.udp.once('error', reject);
      this.udp.bind(this.port, this.host, () => resolve());
    });
    this.udp.on('message', (msg, rinfo) => {
      const out = this.answer(dnsPacket.decode(msg), 'udp');
      if (out) this.udp.send(dnsPacket.encode(out), rinfo.port, rinfo.address);
    });
    return this;
  }

  get endpoint() {
    return `${this.host}:${this.port}`;
  }

  private answer(q: dnsPacket.DecodedPacket, transport: 'udp' | 'tcp'): dnsPacket.Packet | null {
    const question = q.questions?.[0];
    if (!question) return null;
    this.queries.push({ name: question.name, transport });
    const b = this.behaviour(question.name, transport);
    const base = { type: 'response' as const, id: q.id, questions: q.questions };
    const flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE;
    switch (b.kind) {
      case 'silence':
        return null;
      case 'rcode':
        return { ...base, flags: flags | RCODE_NUM[b.rcode], answers: [] };
      case 'truncate':
        if (transport === 'udp') return { ...base, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [] };
        return this.addresses(base, flags, b.addresses, question.name);
      case 'answer':
        return this.addresses(base, flags, b.addresses, question.name);
    }
  }

  private addresses(
    base: dnsPacket.Packet,
    flags: number,
    addresses: string[],
    name: string,
  ): dnsPacket.Packet {
    return {
      ...base,
      flags,
      answers: addresses.map((data) => ({ type: 'A' as const, name, ttl: 5, class: 'IN' as const, data })),
    };
  }

  async stop() {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
  }
}

/** Generic recording HTTP server with a settable status (PowerDNS API, webhook, health). */
export class Recorder {
  url = '';
  requests: Request[] = [];
  status: (r: Request) => number = () => 200;
  responseBody = 'OK';
  private readonly server: http.Server;

  constructor() {
    this.server = http.createServer(async (req, res) => {
      const r = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: await readBody(req),
      };
      this.requests.push(r);
      const status = this.status(r);
      if (status === 0) return; // hang: never answer (timeout tests)
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 204 ? undefined : this.responseBody);
    });
  }

  async start(host = HOST) {
    this.url = await listen(this.server, host);
    return this;
  }

  async stop() {
    await close(this.server);
  }
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
