/**
 * The service record's health checks go through the authoritative→app proxies, like the
 * region names': the agent publishes `svc` as ifurlextup with each authoritative's own check
 * URLs (SVC_CHECK_URLS), and cutting both proxies of app-a moves the svc answer of both
 * authoritatives to app-b, while region a stays primary; healing brings app-a back.
 * Queries go to the authoritatives directly (UDP); every wait polls with a generous deadline.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderedExtupLua } from '../../src/agent/lua.ts';
import { LinkFaults } from '../../src/faults/index.ts';
import { queryDns } from '../../src/topology/dns.ts';
import { httpGet } from '../../src/topology/health.ts';
import { startTopology, type Topology } from '../../src/topology/local.ts';

let topo: Topology;
let links: LinkFaults;

beforeAll(async () => {
  topo = await startTopology({ installSignalHandlers: false });
  links = new LinkFaults(topo.toxiproxyUrl, topo.proxies);
}, 60_000);

afterAll(async () => {
  await topo?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | null>, deadlineMs = 30_000): Promise<T> {
  const until = performance.now() + deadlineMs;
  let last: unknown = null;
  while (performance.now() < until) {
    try {
      const v = await probe();
      if (v !== null) return v;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

const svcAnswer = async (auth: string): Promise<string> => {
  const r = await queryDns(topo.auths[auth]!.dns, topo.spec.serviceName, { timeoutMs: 1000 });
  return `${r.rcode} ${r.answers.join(',')}`;
};

/** Both authoritatives answer `address` for svc, three rounds in a row (first answers of a new check are random). */
async function bothAnswer(address: string): Promise<void> {
  let streak = 0;
  await waitFor(`svc = ${address} from every authoritative`, async () => {
    const answers = await Promise.all(topo.spec.regions.map(svcAnswer));
    streak = answers.every((a) => a === `NOERROR ${address}`) ? streak + 1 : 0;
    return streak >= 3 ? true : null;
  });
}

const roleOf = async (region: string): Promise<string> => {
  const ctl = topo.controllers[region]!.admin;
  const r = await httpGet(`http://${ctl.host}:${ctl.port}/status`);
  return (JSON.parse(r.body) as { view: { role: string } }).view.role;
};

describe('svc record health checks through the auth->app proxies', () => {
  it('the agent publishes ifurlextup with each authoritative its own check URLs', async () => {
    // ctl-a bootstraps to primary and publishes (an act "publish" in its events file)
    await waitFor('ctl-a publish', async () => {
      const text = readFileSync(topo.controllers.a!.eventsFile, 'utf8');
      return /"kind":"act"[^\n]*"action":"publish"/.test(text) ? true : null;
    });
    for (const auth of topo.spec.regions) {
      const api = topo.auths[auth]!.api;
      const svcContents = async () => {
        const res = await fetch(
          `http://${api.host}:${api.port}/api/v1/servers/localhost/zones/app.example.`,
          {
            headers: { 'X-API-Key': topo.pdnsApiKey },
          },
        );
        expect(res.status).toBe(200);
        const zone = (await res.json()) as {
          rrsets: Array<{ name: string; records: Array<{ content: string }> }>;
        };
        return zone.rrsets.find((r) => r.name === topo.spec.serviceName)!.records.map((r) => r.content);
      };
      const check = (app: string) => {
        const p = topo.proxies.get(`auth-${auth}->app-${app}`)!.listen;
        return `http://${p.host}:${p.port}/health`;
      };
      const expected = [
        `A "${orderedExtupLua([
          { answer: topo.apps.a!.host, checkUrl: check('a') },
          { answer: topo.apps.b!.host, checkUrl: check('b') },
        ])}"`,
      ];
      // the PATCH may still be on its way when the act is logged
      await waitFor(`auth-${auth} svc record`, async () =>
        JSON.stringify(await svcContents()) === JSON.stringify(expected) ? true : null,
      );
      expect(await svcContents()).toEqual(expected);
    }
  });

  it('cutting both proxies of app-a switches svc to app-b on both authoritatives; healing brings app-a back', async () => {
    const appA = topo.apps.a!.host;
    const appB = topo.apps.b!.host;
    await bothAnswer(appA);
    expect(await roleOf('a')).toBe('primary');
    const cut = ['auth-a->app-a', 'auth-b->app-a'];
    try {
      for (const l of cut) await links.setEnabled(l, false);
      await bothAnswer(appB);
      // the apps themselves are fine: only the health-check paths are cut
      expect((await httpGet(`http://${appA}:${topo.apps.a!.port}/health`)).status).toBe(200);
    } finally {
      for (const l of cut) await links.setEnabled(l, true);
    }
    await bothAnswer(appA);
    expect(await roleOf('a')).toBe('primary');
  });
});
