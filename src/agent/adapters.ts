/**
 * Small HTTP/process adapters the runtime performs actions through: the peer health probe,
 * the PowerDNS API publisher and the promotion hooks. None of them throws; each returns
 * { ok, error? } so the runtime can always feed a result back to the core.
 */
import { execFile } from 'node:child_process';
import { describeError } from './lease-client.ts';

export interface Outcome {
  ok: boolean;
  error?: string;
}

/** GET the peer's health URL; any 2xx within the timeout is healthy. */
export async function probePeer(url: string, timeoutMs: number): Promise<Outcome> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok ? { ok: true } : { ok: false, error: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}

export interface PublishOptions {
  apiUrls: string[];
  apiKey: string;
  serverId: string;
  zone: string;
  serviceName: string;
  healthUrl: string;
  ttlSeconds: number;
  timeoutMs: number;
}

/**
 * The rrset body that puts `activeAddress` first in the svc LUA record (ordered failover:
 * the first unit with a healthy address wins). See the PowerDNS recipe §3–4.
 */
export function svcPatchBody(
  o: Pick<PublishOptions, 'zone' | 'serviceName' | 'healthUrl' | 'ttlSeconds'>,
  activeAddress: string,
  otherAddress: string,
) {
  const lua = `ifurlup('${o.healthUrl}', {{'${activeAddress}'},{'${otherAddress}'}}, {stringmatch='OK', timeout='1'})`;
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

/** PATCHes every configured authoritative; ok only if all answered 204. */
export async function publishActive(
  o: PublishOptions,
  activeAddress: string,
  otherAddress: string,
): Promise<Outcome> {
  const body = JSON.stringify(svcPatchBody(o, activeAddress, otherAddress));
  const results = await Promise.all(
    o.apiUrls.map(async (base) => {
      const url = `${base.replace(/\/$/, '')}/api/v1/servers/${encodeURIComponent(o.serverId)}/zones/${encodeURIComponent(`${o.zone}.`)}`;
      try {
        const res = await fetch(url, {
          method: 'PATCH',
          headers: { 'X-API-Key': o.apiKey, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(o.timeoutMs),
        });
        const text = await res.text();
        return res.status === 204 ? null : `${base}: HTTP ${res.status} ${text.slice(0, 120)}`;
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
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(call),
            signal: AbortSignal.timeout(o.timeoutMs),
          });
          await res.arrayBuffer();
          if (!res.ok) errors.push(`webhook HTTP ${res.status}`);
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
