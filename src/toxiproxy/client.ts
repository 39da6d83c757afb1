/**
 * Which Toxiproxy the harness talks to: a real toxiproxy-server when `TOXIPROXY_URL` is set
 * (e.g. `TOXIPROXY_URL=http://127.0.0.1:8474`), otherwise the built-in server whose URL the
 * caller passes (from startToxiproxyServer). Both speak the same API, so callers never
 * branch on which one it is.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import { BadInputError } from '../errors.ts';

/** The API base URL to use: TOXIPROXY_URL if set and non-empty, else `builtInUrl`. */
export function toxiproxyUrl(builtInUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['TOXIPROXY_URL']?.trim();
  if (!fromEnv) return builtInUrl.replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(fromEnv);
  } catch {
    throw new BadInputError(
      `not a URL: "${fromEnv}" (expected e.g. http://127.0.0.1:8474)`,
      'env TOXIPROXY_URL',
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BadInputError(`must be an http(s) URL, got "${fromEnv}"`, 'env TOXIPROXY_URL');
  }
  // toxiproxy-node-client appends "/proxies" etc., so no trailing slash.
  return fromEnv.replace(/\/+$/, '');
}

/** A toxiproxy-node-client for TOXIPROXY_URL if set, else for the built-in server at `builtInUrl`. */
export function toxiproxyClient(builtInUrl: string, env: NodeJS.ProcessEnv = process.env): Toxiproxy {
  return new Toxiproxy(toxiproxyUrl(builtInUrl, env));
}

/** True when a real server was asked for (the harness then need not start the built-in one). */
export function usesExternalToxiproxy(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env['TOXIPROXY_URL']?.trim());
}
