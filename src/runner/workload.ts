/**
 * The client workload of a real run: each client resolves the service name through a
 * witness (UDP, falling back to the next witness), maps the answer to a region and writes
 * to that region's app through its client->app link (a fresh connection per write, as a
 * client that reconnects would, so a per-connection fault hits individual writes).
 * The apps log accepted/rejected writes themselves; the client records what DNS told it
 * (dns-answer) and notes when it cannot resolve or reach anything.
 */
import { request } from 'node:http';
import { queryDns } from '../topology/dns.ts';
import type { Topology } from '../topology/local.ts';
import type { Recorder } from './recorder.ts';

export class ClientWorkload {
  private stopped = false;
  private paused = false;
  private loops: Array<Promise<void>> = [];
  private readonly regionOfAddress = new Map<string, string>();
  private writes = 0;

  constructor(
    private readonly topo: Topology,
    private readonly rec: Recorder,
    private readonly clients: number,
    private readonly intervalMs: number,
  ) {
    for (const [r, e] of Object.entries(topo.apps)) this.regionOfAddress.set(e.host, r);
  }

  start(): void {
    for (let i = 0; i < this.clients; i++) this.loops.push(this.loop(i));
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  get writesAttempted(): number {
    return this.writes;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async loop(i: number): Promise<void> {
    const name = `client-${i + 1}`;
    const ws = this.topo.spec.witnesses;
    let lastProblem = '';
    const note = (problem: string) => {
      if (problem === lastProblem) return;
      lastProblem = problem;
      this.rec.recordNow({ kind: 'note', source: name, message: problem || 'client writes flow again' });
    };
    // spread clients over the interval
    await delay((this.intervalMs * i) / Math.max(1, this.clients));
    while (!this.stopped) {
      const started = performance.now();
      if (!this.paused) {
        let region: string | null = null;
        let resolved = false;
        for (let k = 0; k < ws.length && !resolved; k++) {
          const w = ws[(i + k) % ws.length]!;
          try {
            const r = await queryDns(this.topo.witnesses[w]!, this.topo.spec.serviceName, {
              timeoutMs: Math.min(300, this.intervalMs),
            });
            resolved = true;
            region = r.answers.map((a) => this.regionOfAddress.get(a)).find((x) => x !== undefined) ?? null;
            this.rec.recordNow({
              kind: 'dns-answer',
              resolver: w,
              name: this.topo.spec.serviceName,
              rcode: r.rcode,
              answers: r.answers,
              region,
            });
          } catch {
            /* next witness */
          }
        }
        if (!resolved) note('cannot resolve the service name through any witness');
        else if (region === null) note('the service name points to no app');
        else {
          const res = await this.write(name, region);
          this.writes++;
          note(res === null ? '' : `write to app-${region} failed: ${res}`);
        }
      }
      const wait = this.intervalMs - (performance.now() - started);
      if (wait > 0) await delay(wait);
    }
  }

  /** null = the app answered (accepted or rejected: the app logs which); else a transport error */
  private write(client: string, region: string): Promise<string | null> {
    const p = this.topo.proxies.get(`client->app-${region}`)!;
    return new Promise((resolve) => {
      const body = JSON.stringify({ client });
      const req = request(
        {
          host: p.listen.host,
          port: p.listen.port,
          method: 'POST',
          path: '/write',
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(null));
          res.on('error', (e) => resolve(e.message));
        },
      );
      req.setTimeout(Math.max(200, this.intervalMs), () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve(e.message));
      req.end(body);
    });
  }
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
