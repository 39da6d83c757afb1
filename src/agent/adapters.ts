/**
 * Small HTTP/process adapters the runtime performs actions through: the peer health probe,
 * the PowerDNS API publisher and the promotion hooks. None of them throws; each returns
 * { ok, error? } so the runtime can always feed a result back to the core.
 */
import { execFile } from 'node:child_process';
import { httpRequest } from './http-client.ts';
import { describeError } from './lease-client.ts';
import { orderedExtupLua, orderedUrlupLua } from './lua.ts';

export interface Outcome {
  ok: boolean;
  error?: string;
}

/** a 2xx status (what fetch's Response.ok meant) */
const isOk = (status: number): boolean => status >= 200 && status <= 299;

/** GET the peer's health URL; any 2xx within the timeout is healthy. */
export async function probePeer(url: string, timeoutMs: number): Promise<Outcome> {
  try {
    const res = await httpRequest(url, { timeoutMs });
    return isOk(res.status) ? { ok: true } : { ok: false, error: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}

/**
 * Per PowerDNS API base URL (no trailing slash), region id → the URL that authoritative
 * checks that region's app at: through its own auth→app path, IP-literal (SVC_CHECK_URLS).
 */
export type SvcCheckUrls = Record<string, Record<string, string>>;

export interface PublishOptions {
  apiUrls: string[];
  apiKey: string;
  serverId: string;
  zone: string;
  serviceName: string;
  /** ifurlup form (the default): one URL, checked at each app address */
  healthUrl?: string | null;
  /** ifurlextup form: per-authoritative check URLs; when set, it replaces `healthUrl` */
  checkUrls?: SvcCheckUrls | null;
  ttlSeconds: number;
  timeoutMs: number;
}

/** Which region each of the two published addresses belongs to (needed by the ifurlextup form). */
export interface PublishRegions {
  active: string;
  other: string;
}

function svcRrsets(o: Pick<PublishOptions, 'zone' | 'serviceName' | 'ttlSeconds'>, lua: string) {
  return {
    rrsets: [
      {
        name: `${o.serviceName}.${o.zone}.`,
        type: 'LUA',
        ttl: o.ttlSeconds,
        changetype: 'REPLACE',
        records: [{ content: `A "${lua}"`, disabled: false }],
      },
    ],
  };
}

/**
 * The rrset body that puts `activeAddress` first in the svc LUA record (ordered failover:
 * the first unit with a healthy address wins). See the PowerDNS recipe §3–4.
 */
export function svcPatchBody(
  o: Pick<PublishOptions, 'zone' | 'serviceName' | 'ttlSeconds'> & { healthUrl: string },
  activeAddress: string,
  otherAddress: string,
) {
  return svcRrsets(o, orderedUrlupLua(o.healthUrl, [activeAddress, otherAddress]));
}

/**
 * The ifurlextup variant for one authoritative: same answers and order, but each app is
 * checked at the URL this authoritative reaches it through (`checkUrlsOfApi`: region → URL).
 */
export function svcExtupPatchBody(
  o: Pick<PublishOptions, 'zone' | 'serviceName' | 'ttlSeconds'>,
  checkUrlsOfApi: Record<string, string>,
  active: { region: string; address: string },
  other: { region: string; address: string },
) {
  const unit = (u: { region: string; address: string }) => {
    const checkUrl = checkUrlsOfApi[u.region];
    if (checkUrl === undefined) throw new Error(`no check URL for region "${u.region}"`);
    return { answer: u.address, checkUrl };
  };
  return svcRrsets(o, orderedExtupLua([unit(active), unit(other)]));
}

const apiBase = (base: string) => base.replace(/\/$/, '');

/**
 * PATCHes every configured authoritative; ok only if all answered 204. With `checkUrls` each
 * authoritative gets its own ifurlextup body (`regions` names the two addresses' regions);
 * otherwise every authoritative gets the same ifurlup body.
 */
export async function publishActive(
  o: PublishOptions,
  activeAddress: string,
  otherAddress: string,
  regions?: PublishRegions,
): Promise<Outcome> {
  const bodyFor = (base: string): string => {
    if (o.checkUrls) {
      const urls = o.checkUrls[apiBase(base)];
      if (!urls) throw new Error('no check URLs configured for this API');
      if (!regions) throw new Error('the ifurlextup form needs the regions of both addresses');
      return JSON.stringify(
        svcExtupPatchBody(
          o,
          urls,
          { region: regions.active, address: activeAddress },
          { region: regions.other, address: otherAddress },
        ),
      );
    }
    if (!o.healthUrl) throw new Error('neither a health URL nor check URLs are configured');
    return JSON.stringify(svcPatchBody({ ...o, healthUrl: o.healthUrl }, activeAddress, otherAddress));
  };
  const results = await Promise.all(
    o.apiUrls.map(async (base) => {
      const url = `${apiBase(base)}/api/v1/servers/${encodeURIComponent(o.serverId)}/zones/${encodeURIComponent(`${o.zone}.`)}`;
      try {
        const body = bodyFor(base);
        const res = await httpRequest(url, {
          method: 'PATCH',
          headers: { 'X-API-Key': o.apiKey, 'content-type': 'application/json' },
          body,
          timeoutMs: o.timeoutMs,
        });
        return res.status === 204 ? null : `${base}: HTTP ${res.status} ${res.body.slice(0, 120)}`;
      } catch (err) {
        return `${base}: ${describeError(err)}`;
      }
    }),
  );
  const errors = results.filter((r): r is string => r !== null);
  return errors.length === 0 ? { ok: true } : { ok: false, error: errors.join('; ') };
}

export interface HookCall {
  action: 'promote' | 'extend' | 'demote';
  epoch: number;
  validityMs: number;
  region: string;
}

export interface HookOptions {
  webhookUrl: string | null;
  command: string | null;
  timeoutMs: number;
}

/**
 * Hands write authority to the local resource: POST {action, epoch, validityMs, region} to
 * the webhook and/or run the command with the same values as arguments and env. Both must
 * succeed. With neither configured there is no resource to tell, which counts as success.
 */
export async function runHooks(o: HookOptions, call: HookCall): Promise<Outcome> {
  const errors: string[] = [];
  const tasks: Promise<void>[] = [];
  if (o.webhookUrl) {
    const url = o.webhookUrl;
    tasks.push(
      (async () => {
        try {
          const res = await httpRequest(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(call),
            timeoutMs: o.timeoutMs,
          });
          if (!isOk(res.status)) errors.push(`webhook HTTP ${res.status}`);
        } catch (err) {
          errors.push(`webhook ${describeError(err)}`);
        }
      })(),
    );
  }
  if (o.command) {
    const command = o.command;
    tasks.push(
      new Promise<void>((resolve) => {
        // Run through the shell so PROMOTE_COMMAND may carry its own arguments; our values
        // come as positional parameters ($1..$3) and env, never spliced into the string.
        execFile(
          '/bin/sh',
          [
            '-c',
            `${command} "$@"`,
            'failover-hook',
            call.action,
            String(call.epoch),
            String(call.validityMs),
          ],
          {
            timeout: o.timeoutMs,
            env: {
              ...process.env,
              FAILOVER_ACTION: call.action,
              FAILOVER_EPOCH: String(call.epoch),
              FAILOVER_VALIDITY_MS: String(call.validityMs),
              FAILOVER_REGION: call.region,
            },
          },
          (err, _stdout, stderr) => {
            if (err)
              errors.push(
                `command ${err.killed ? 'timed out' : `failed (${err.code ?? err.message})`}: ${String(stderr).slice(0, 200)}`,
              );
            resolve();
          },
        );
      }),
    );
  }
  await Promise.all(tasks);
  return errors.length === 0 ? { ok: true } : { ok: false, error: errors.join('; ') };
}
