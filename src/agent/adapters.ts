/**
 * Small HTTP/process adapters the runtime performs actions through: the peer health probe,
 * the PowerDNS API publisher and the promotion hooks. None of them throws; each returns
 * { ok, error? } so the runtime can always feed a result back to the core.
 */
import { execFile } from 'node:child_process';
import type { AuthorityHookCall } from '../contracts/authority-hook.ts';
import { httpRequest } from './http-client.ts';
import { describeError } from './lease-client.ts';
import { type PublishOptions, type PublishRegions, publishPatches } from './publish-plan.ts';

export {
  type PublishOptions,
  type PublishRegions,
  type SvcCheckUrls,
  svcExtupPatchBody,
  svcPatchBody,
} from './publish-plan.ts';

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
 * PATCHes every configured authoritative (the requests publish-plan.ts builds); ok only if
 * all answered 204.
 */
export async function publishActive(
  o: PublishOptions,
  activeAddress: string,
  otherAddress: string,
  regions?: PublishRegions,
): Promise<Outcome> {
  const results = await Promise.all(
    publishPatches(o, activeAddress, otherAddress, regions).map(async (p) => {
      if ('error' in p) return `${p.apiBase}: ${p.error}`;
      try {
        const res = await httpRequest(p.url, {
          method: p.method,
          headers: p.headers,
          body: p.body,
          timeoutMs: o.timeoutMs,
        });
        return res.status === 204 ? null : `${p.apiBase}: HTTP ${res.status} ${res.body.slice(0, 120)}`;
      } catch (err) {
        return `${p.apiBase}: ${describeError(err)}`;
      }
    }),
  );
  const errors = results.filter((r): r is string => r !== null);
  return errors.length === 0 ? { ok: true } : { ok: false, error: errors.join('; ') };
}

/** The webhook's body (src/contracts/authority-hook.ts): {action, epoch, validityMs, region[, reason]}. */
export type HookCall = AuthorityHookCall;

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
              ...(call.reason !== undefined && { FAILOVER_REASON: call.reason }),
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
