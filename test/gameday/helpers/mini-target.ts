/**
 * A minimal "deployment" for game-day tests, reached exactly like an external target: the
 * built-in Toxiproxy server (src/toxiproxy) in front of a tiny app (/health), a controller
 * /metrics stand-in and a DNS server, all on 127.0.<third>.x with ephemeral ports.
 */
import dgram from 'node:dgram';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import packet from 'dns-packet';
import { startToxiproxyServer } from '../../../src/toxiproxy/server.ts';

export interface MiniTarget {
  toxiproxyUrl: string;
  /** link id → proxy name */
  proxies: Record<string, string>;
  /** link id → proxy listen host:port */
  listen: Record<string, string>;
  appDirect: string;
  metricsUrl: string;
  /** DNS server (UDP and TCP), direct */
  dns: string;
  state: { healthy: boolean; leaseStatus: number; answers: string[] };
  /** requests the app has served (to prove a probe really went through) */
  appHits(): number;
  close(): Promise<void>;
}

const listenHttp = (srv: Server, host: string) =>
  new Promise<number>((res, rej) => {
    srv.once('error', rej);
    srv.listen({ host, port: 0 }, () => res((srv.address() as net.AddressInfo).port));
  });

export async function startMiniTarget(third: number): Promise<MiniTarget> {
  const host = (n: number) => `127.0.${third}.${n}`;
  const state = { healthy: true, leaseStatus: 1, answers: ['127.0.1.10'] };
  let hits = 0;

  const app = createServer((req, res) => {
    hits++;
    if (req.url === '/health') {
      res.writeHead(state.healthy ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(state.healthy ? 'OK region a\n' : 'DOWN\n');
      return;
    }
    res.writeHead(404).end();
  });
  const appPort = await listenHttp(app, host(2));

  const metrics = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# HELP failover_lease_status 1 while this controller holds the lease',
        '# TYPE failover_lease_status gauge',
        `failover_lease_status{region="a"} ${state.leaseStatus}`,
        'failover_role{region="a",role="primary"} 1',
        'failover_role{region="a",role="standby"} 0',
        '',
      ].join('\n'),
    );
  });
  const metricsPort = await listenHttp(metrics, host(3));

  const answer = (msg: Buffer): Buffer => {
    const q = packet.decode(msg);
    const question = q.questions?.[0];
    const known = question?.name.toLowerCase() === 'svc.app.example';
    return packet.encode({
      type: 'response',
      id: q.id,
      flags: packet.AUTHORITATIVE_ANSWER | (known ? 0 : 3), // rcode 3 = NXDOMAIN
      questions: q.questions,
      answers:
        known && question?.type === 'A'
          ? state.answers.map((a) => ({ type: 'A', name: question.name, ttl: 1, data: a }))
          : [],
    });
  };
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(answer(msg), rinfo.port, rinfo.address));
  await new Promise<void>((r) => udp.bind(0, host(4), () => r()));
  const dnsPort = udp.address().port;
  const tcp = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const body = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        const len = Buffer.alloc(2);
        len.writeUInt16BE(body.length);
        sock.end(Buffer.concat([len, body]));
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => tcp.listen({ host: host(4), port: dnsPort }, () => r()));

  const tp = await startToxiproxyServer({
    host: host(1),
    port: 0,
    config: [
      { name: 'client__to__app-a', listen: `${host(1)}:0`, upstream: `${host(2)}:${appPort}` },
      { name: 'ctl-a__to__worker', listen: `${host(1)}:0`, upstream: `${host(2)}:${appPort}` },
      { name: 'w1__to__auth-a', listen: `${host(1)}:0`, upstream: `${host(4)}:${dnsPort}` },
      { name: 'ctl-b__to__peer', listen: `${host(1)}:0`, upstream: `${host(3)}:${metricsPort}` },
    ],
  });
  const list = (await (await fetch(`${tp.url}/proxies`)).json()) as Record<string, { listen: string }>;
  const proxies: Record<string, string> = {};
  const listen: Record<string, string> = {};
  for (const [name, p] of Object.entries(list)) {
    const link = name.replace('__to__', '->');
    proxies[link] = name;
    listen[link] = p.listen;
  }

  let closing: Promise<void> | undefined;
  return {
    toxiproxyUrl: tp.url,
    proxies,
    listen,
    appDirect: `${host(2)}:${appPort}`,
    metricsUrl: `http://${host(3)}:${metricsPort}/metrics`,
    dns: `${host(4)}:${dnsPort}`,
    state,
    appHits: () => hits,
    close: () => {
      closing ??= closeAll();
      return closing;
    },
  };

  async function closeAll(): Promise<void> {
    await tp.close();
    await Promise.all([
      new Promise<void>((r) => app.close(() => r())),
      new Promise<void>((r) => metrics.close(() => r())),
      new Promise<void>((r) => tcp.close(() => r())),
    ]);
    app.closeAllConnections();
    metrics.closeAllConnections();
    udp.close();
  }
}

/** YAML for `target.external` pointing at a mini target. */
export function externalTargetYaml(t: MiniTarget): string {
  return [
    'target:',
    '  external:',
    `    toxiproxy: ${t.toxiproxyUrl}`,
    '    links:',
    ...Object.entries(t.proxies).map(([link, proxy]) => `      "${link}": ${proxy}`),
    '    metrics:',
    `      ctl-a: ${t.metricsUrl}`,
    '    resolvers:',
    `      auth-a: "${t.dns}"`,
    '    endpoints:',
    `      app-a: "${t.appDirect}"`,
    ...Object.entries(t.listen).map(([link, l]) => `      "${link}": "${l}"`),
  ].join('\n');
}
