/**
 * Agent configuration from environment variables, validated with zod. Any bad value becomes
 * one BadInputError naming the variable and what was expected (`env QUORUM: ...`), which the
 * CLI prints as a single line and exits 2.
 *
 * zod/mini, not the full zod: the same checks and messages, and the controller program bundles
 * only the parts used (~30 KB instead of ~300 KB), which cost each controller process ~3 MB of
 * resident memory at start (measured; issue #18).
 */
import * as z from 'zod/mini';
import { defaultControllerConfig, validateControllerConfig } from '../controller/core.ts';
import type { ControllerConfig } from '../controller/types.ts';
import { BadInputError } from '../errors.ts';

export interface HostPort {
  host: string;
  port: number;
}

export interface AgentConfig {
  controller: ControllerConfig;
  initialRole: 'standby' | 'primary';
  lease: { workerUrl: string; leaseName: string; secret: string; requestTimeoutMs: number };
  witnesses: {
    /** ids in the controller config are the "host:port" strings */
    endpoints: (HostPort & { id: string })[];
    zone: string;
    transport: 'udp' | 'tcp';
    queryTimeoutMs: number;
    peerAppAddress: string;
    tombstoneAddress: string;
  };
  peerProbe: { url: string; timeoutMs: number };
  publish: {
    apiUrls: string[];
    apiKey: string | null;
    serverId: string;
    zone: string;
    serviceName: string;
    healthUrl: string | null;
    /** SVC_CHECK_URLS: per API base URL (no trailing slash), region → check URL (ifurlextup form) */
    checkUrls: Record<string, Record<string, string>> | null;
    selfAppAddress: string | null;
    peerAppAddress: string;
    ttlSeconds: number;
    timeoutMs: number;
  };
  hooks: { webhookUrl: string | null; command: string | null; timeoutMs: number };
  admin: HostPort;
  eventsFile: string | null;
  logLevel: string;
}

/**
 * Upper bounds (docs/controller.md §11): a timing beyond a day is a typo (an extra zero, a
 * value in µs), and beyond 2^31 ms Node's timers fire at once instead of late.
 */
export const MAX_TIMING_MS = 86_400_000;
export const MAX_COUNT = 1000;
export const MAX_TTL_SECONDS = 86_400;
/** HMAC-SHA256 key: 16 characters at the very least (the topology uses 32 hex characters). */
export const MIN_LEASE_SECRET_CHARS = 16;
const SECRET_VARIABLES = new Set(['LEASE_SECRET', 'PDNS_API_KEY']);

// zod/mini leaves the messages to a locale; the few checks without a message of their own
// (the enums) say in English what was expected, as the full zod does
z.config(z.locales.en());

/**
 * A string turned into a value by `parse`, which may instead refuse it with a message
 * (`return fail(...)`): that message is the issue the variable is named with.
 */
function stringThen<T>(parse: (s: string, fail: (message: string) => never) => T) {
  return z.pipe(
    z.string(),
    z.transform((s: string, ctx) =>
      parse(s, (message) => {
        ctx.issues.push({ code: 'custom', message, input: s });
        return z.NEVER;
      }),
    ),
  );
}

/** a number in digits, then checked (parsed from the env string) */
const digitsThen = (pattern: RegExp, message: string, ok: (n: number) => boolean, refused: string) =>
  z.pipe(z.string().check(z.regex(pattern, message)), z.transform(Number)).check(z.refine(ok, refused));

const intMs = (what = 'an integer number of milliseconds', max = MAX_TIMING_MS) =>
  digitsThen(
    /^\d+$/,
    `expected ${what} from 1 to ${max}`,
    (n) => Number.isSafeInteger(n) && n >= 1 && n <= max,
    `expected ${what} from 1 to ${max}`,
  );
const count = (what: string) => intMs(what, MAX_COUNT);
const nonNegMs = digitsThen(
  /^\d+$/,
  `expected an integer number of milliseconds from 0 to ${MAX_TIMING_MS}`,
  (n) => n <= MAX_TIMING_MS,
  `expected an integer number of milliseconds from 0 to ${MAX_TIMING_MS}`,
);
const fraction = digitsThen(
  /^\d*\.?\d+(e-?\d+)?$/i,
  'expected a number such as 0.001',
  (n) => n >= 0 && n < 0.5,
  'expected a number in [0, 0.5)',
);
const httpUrl = z
  .url({ error: 'expected an http(s) URL' })
  .check(z.refine((u) => /^https?:\/\//.test(u), 'expected an http(s) URL'));
/**
 * A health-check URL PowerDNS's ifurlextup dials: http(s) with an IPv4-literal host, because
 * ifurlextup resolves host names through the system resolver (not the zone); no quote or
 * backslash, since it is spliced into a Lua string.
 */
const IP_CHECK_URL = /^https?:\/\/(\d{1,3}\.){3}\d{1,3}(:\d{1,5})?(\/[^'"\\\s]*)?$/;

/** SVC_CHECK_URLS: JSON `{"<PowerDNS API URL>": {"<region>": "<check URL>", ...}, ...}`. */
const svcCheckUrls = stringThen((s, fail) => {
  const shape =
    'expected JSON {"<PowerDNS API URL>": {"<region>": "<check URL>", ...}, ...} with IP-literal http(s) check URLs';
  let raw: unknown;
  try {
    raw = JSON.parse(s);
  } catch {
    return fail(`${shape}; not valid JSON`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length === 0) {
    return fail(shape);
  }
  const out: Record<string, Record<string, string>> = {};
  for (const [api, perRegion] of Object.entries(raw)) {
    if (!httpUrl.safeParse(api).success)
      return fail(`${shape}; key ${JSON.stringify(api)} is not an http(s) URL`);
    if (typeof perRegion !== 'object' || perRegion === null || Array.isArray(perRegion)) {
      return fail(`${shape}; the value of ${JSON.stringify(api)} is not an object`);
    }
    const urls: Record<string, string> = {};
    for (const [region, url] of Object.entries(perRegion)) {
      if (typeof url !== 'string' || !IP_CHECK_URL.test(url)) {
        return fail(
          `${shape}; ${JSON.stringify(api)} → ${JSON.stringify(region)}: ${JSON.stringify(url)} is not an http(s) URL with an IPv4 host`,
        );
      }
      urls[region] = url;
    }
    out[api.replace(/\/$/, '')] = urls;
  }
  return out;
});

const regionId = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/i, 'expected a region id like "a" or "eu-1"'));
/** Dotted quad with every octet 0–255 (no leading zeros: 010 would read as octal elsewhere). */
export function isIpv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}
const ipv4 = z.string().check(z.refine(isIpv4, 'expected an IPv4 address like 10.0.0.7 (octets 0-255)'));

function hostPortList(defaultPort: number) {
  return stringThen((s, fail) => {
    const out: (HostPort & { id: string })[] = [];
    for (const raw of s.split(',').map((x) => x.trim())) {
      if (!raw) continue;
      const hp = parseHostPort(raw, defaultPort);
      if (!hp || hp.port === 0)
        return fail(`expected host:port entries with a port from 1 to 65535, got "${raw}"`);
      const id = `${hp.host}:${hp.port}`;
      if (out.some((w) => w.id === id)) {
        // the same witness twice would count one resolver's answer twice toward the quorum
        return fail(`${id} is listed twice; each witness must be a distinct resolver`);
      }
      out.push({ ...hp, id });
    }
    if (out.length === 0) return fail('expected a comma-separated list of host:port');
    return out;
  });
}

export function parseHostPort(raw: string, defaultPort?: number): HostPort | null {
  const m = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(raw.trim());
  if (!m) return null;
  // all digits and dots: it is meant as an IPv4 address, so it must be one (999.1.1.1 is not)
  if (/^[\d.]+$/.test(m[1]!) && !isIpv4(m[1]!)) return null;
  if (m[1]!.startsWith('-') || m[1]!.startsWith('.') || m[1]!.includes('..')) return null;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port === undefined || !Number.isInteger(port) || port < 0 || port > 65_535) return null;
  return { host: m[1]!, port };
}

/** Every variable the agent reads. Optional ones fall back to the core's derived defaults. */
const envSchema = z.object({
  REGION: regionId,
  PEER_REGION: regionId,
  CLOUDFLARE_WORKER_URL: httpUrl,
  LEASE_SECRET: z
    .string()
    .check(
      z.minLength(
        MIN_LEASE_SECRET_CHARS,
        `expected a shared secret of at least ${MIN_LEASE_SECRET_CHARS} characters`,
      ),
      z.maxLength(4096, 'expected a shared secret of at most 4096 characters'),
    ),
  LEASE_NAME: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a lease name of letters, digits, . _ -')),
    'primary',
  ),
  DNS_WITNESSES: hostPortList(53),
  QUORUM: z.optional(count('an integer')),
  UNKNOWN_WITNESS_POLICY: z.optional(z.enum(['abstain', 'count-unreachable'])),
  MODE: z.optional(z.enum(['automatic', 'semi-automatic', 'manual'])),
  INITIAL_ROLE: z._default(z.enum(['standby', 'primary']), 'standby'),
  LEASE_TTL_MS: z.optional(intMs()),
  HEARTBEAT_MS: z.optional(intMs()),
  MAX_CLOCK_DRIFT_RATE: z.optional(fraction),
  MAX_PAUSE_MS: z.optional(nonNegMs),
  MAX_DELAY_MS: z.optional(nonNegMs),
  PEER_CHECK_INTERVAL_MS: z.optional(intMs()),
  PEER_FAILURE_THRESHOLD: z.optional(count('an integer')),
  LEASE_STATUS_POLL_MS: z.optional(intMs()),
  WITNESS_ROUND_TIMEOUT_MS: z.optional(intMs()),
  PROMOTION_HOLD_DOWN_MS: z.optional(nonNegMs),
  ACQUIRE_RETRY_MS: z.optional(intMs()),
  LEASE_REQUEST_TIMEOUT_MS: z.optional(intMs()),
  CANDIDATE_TIMEOUT_MS: z.optional(intMs()),
  PEER_HEALTH_URL: httpUrl,
  PEER_PROBE_TIMEOUT_MS: z.optional(intMs()),
  ZONE: z._default(
    z.string().check(z.regex(/^([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+\.?$/, 'expected a DNS zone like app.example')),
    'app.example',
  ),
  DNS_TRANSPORT: z._default(z.enum(['udp', 'tcp']), 'udp'),
  DNS_QUERY_TIMEOUT_MS: z.optional(intMs()),
  APP_ADDR: z.optional(ipv4),
  PEER_APP_ADDR: ipv4,
  TOMBSTONE_ADDR: ipv4,
  PDNS_API_URLS: z.optional(z.string()),
  PDNS_API_KEY: z.optional(z.string().check(z.minLength(1))),
  PDNS_SERVER_ID: z._default(z.string(), 'localhost'),
  SVC_NAME: z._default(z.string().check(z.regex(/^[A-Za-z0-9-]+$/, 'expected a single DNS label')), 'svc'),
  SVC_HEALTH_URL: z.optional(httpUrl),
  SVC_CHECK_URLS: z.optional(svcCheckUrls),
  SVC_TTL_SECONDS: z._default(intMs('an integer number of seconds', MAX_TTL_SECONDS), 5),
  PDNS_TIMEOUT_MS: z.optional(intMs()),
  PROMOTE_WEBHOOK_URL: z.optional(httpUrl),
  PROMOTE_COMMAND: z.optional(z.string().check(z.minLength(1))),
  HOOK_TIMEOUT_MS: z.optional(intMs()),
  ADMIN_ADDR: z._default(
    z
      .string()
      .check(
        z.refine(
          (s) => parseHostPort(s) !== null,
          'expected host:port, e.g. 127.0.0.1:9090 (port 0 = any free port)',
        ),
      ),
    '127.0.0.1:0',
  ),
  EVENTS_FILE: z.optional(z.string().check(z.minLength(1))),
  LOG_LEVEL: z._default(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), 'info'),
});

/** Which env variable feeds which controller field, to name the variable in config problems. */
const FIELD_ENV: [keyof ControllerConfig, string][] = [
  ['witnessQuorum', 'QUORUM'],
  ['leaseTtlMs', 'LEASE_TTL_MS'],
  ['heartbeatMs', 'HEARTBEAT_MS'],
  ['maxClockDriftRate', 'MAX_CLOCK_DRIFT_RATE'],
  ['maxPauseMs', 'MAX_PAUSE_MS'],
  ['maxDelayMs', 'MAX_DELAY_MS'],
  ['peerCheckIntervalMs', 'PEER_CHECK_INTERVAL_MS'],
  ['peerFailureThreshold', 'PEER_FAILURE_THRESHOLD'],
  ['leaseStatusPollMs', 'LEASE_STATUS_POLL_MS'],
  ['witnessRoundTimeoutMs', 'WITNESS_ROUND_TIMEOUT_MS'],
  ['promotionHoldDownMs', 'PROMOTION_HOLD_DOWN_MS'],
  ['acquireRetryMs', 'ACQUIRE_RETRY_MS'],
  ['leaseRequestTimeoutMs', 'LEASE_REQUEST_TIMEOUT_MS'],
  ['candidateTimeoutMs', 'CANDIDATE_TIMEOUT_MS'],
  ['peerRegion', 'PEER_REGION'],
  ['region', 'REGION'],
];

function envNameFor(problem: string): string {
  if (/safe window L|heartbeatMs \+/.test(problem))
    return 'LEASE_TTL_MS/HEARTBEAT_MS/MAX_PAUSE_MS/MAX_DELAY_MS';
  for (const [field, env] of FIELD_ENV) if (problem.includes(field)) return env;
  if (/witness/i.test(problem)) return 'DNS_WITNESSES';
  return 'controller config';
}

/**
 * SVC_CHECK_URLS against the rest: exactly one entry per PowerDNS API URL, each naming a check
 * URL for this region and the peer region (and nothing else), and no SVC_HEALTH_URL beside it
 * (two record forms at once would leave it unclear which one is published).
 */
function checkSvcCheckUrls(
  checkUrls: Record<string, Record<string, string>>,
  e: { REGION: string; PEER_REGION: string; SVC_HEALTH_URL?: string | undefined },
  apiUrls: string[],
): void {
  // annotated so a call narrows like a throw statement
  const fail: (message: string) => never = (message) => {
    throw new BadInputError(message, 'env SVC_CHECK_URLS');
  };
  if (e.SVC_HEALTH_URL !== undefined) {
    fail('set either SVC_CHECK_URLS (ifurlextup) or SVC_HEALTH_URL (ifurlup), not both');
  }
  if (apiUrls.length === 0) fail('needs PDNS_API_URLS (its keys are those URLs)');
  const bases = apiUrls.map((u) => u.replace(/\/$/, ''));
  for (const key of Object.keys(checkUrls)) {
    if (!bases.includes(key)) fail(`key ${JSON.stringify(key)} is not one of PDNS_API_URLS`);
  }
  const regions = [e.REGION, e.PEER_REGION];
  for (const base of bases) {
    const urls = checkUrls[base];
    if (!urls) fail(`no entry for PowerDNS API ${JSON.stringify(base)} (one per PDNS_API_URLS entry)`);
    for (const r of regions) {
      if (urls[r] === undefined)
        fail(`${JSON.stringify(base)}: no check URL for region ${JSON.stringify(r)}`);
    }
    for (const r of Object.keys(urls)) {
      if (!regions.includes(r)) {
        fail(`${JSON.stringify(base)}: region ${JSON.stringify(r)} is neither REGION nor PEER_REGION`);
      }
    }
  }
}

/**
 * The witness verdict tells the peer's app address from the tombstone's: if they were the same,
 * every witness answer would read "reachable" and failover could never happen. Likewise this
 * region's app address must be neither.
 */
function checkAddressesDistinct(e: {
  PEER_APP_ADDR: string;
  TOMBSTONE_ADDR: string;
  APP_ADDR?: string | undefined;
}): void {
  if (e.PEER_APP_ADDR === e.TOMBSTONE_ADDR) {
    throw new BadInputError(
      `equals TOMBSTONE_ADDR (${e.TOMBSTONE_ADDR}): witnesses could then never tell the peer's app from the tombstone`,
      'env PEER_APP_ADDR',
    );
  }
  if (e.APP_ADDR !== undefined && (e.APP_ADDR === e.PEER_APP_ADDR || e.APP_ADDR === e.TOMBSTONE_ADDR)) {
    throw new BadInputError(
      `equals ${e.APP_ADDR === e.PEER_APP_ADDR ? 'PEER_APP_ADDR' : 'TOMBSTONE_ADDR'} (${e.APP_ADDR}): each region's app needs its own address`,
      'env APP_ADDR',
    );
  }
}

export function loadAgentConfig(env: Record<string, string | undefined>): AgentConfig {
  // Empty strings count as unset, as shells and compose files often produce them.
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got = cleaned[name];
    // a secret's value never reaches a log line, even a wrong one
    const shown =
      SECRET_VARIABLES.has(name) && got !== undefined
        ? `a value of length ${got.length}`
        : JSON.stringify(got);
    const message = got === undefined ? 'required but not set' : `${issue.message} (got ${shown})`;
    throw new BadInputError(message, `env ${name}`);
  }
  const e = parsed.data;
  checkAddressesDistinct(e);
  const witnessIds = e.DNS_WITNESSES.map((w) => w.id);
  const controller = defaultControllerConfig({
    region: e.REGION,
    peerRegion: e.PEER_REGION,
    witnesses: witnessIds,
    ...(e.QUORUM !== undefined && { witnessQuorum: e.QUORUM }),
    ...(e.UNKNOWN_WITNESS_POLICY !== undefined && { unknownWitnessPolicy: e.UNKNOWN_WITNESS_POLICY }),
    ...(e.MODE !== undefined && { mode: e.MODE }),
    ...(e.LEASE_TTL_MS !== undefined && { leaseTtlMs: e.LEASE_TTL_MS }),
    ...(e.HEARTBEAT_MS !== undefined && { heartbeatMs: e.HEARTBEAT_MS }),
    ...(e.MAX_CLOCK_DRIFT_RATE !== undefined && { maxClockDriftRate: e.MAX_CLOCK_DRIFT_RATE }),
    ...(e.MAX_PAUSE_MS !== undefined && { maxPauseMs: e.MAX_PAUSE_MS }),
    ...(e.MAX_DELAY_MS !== undefined && { maxDelayMs: e.MAX_DELAY_MS }),
    ...(e.PEER_CHECK_INTERVAL_MS !== undefined && { peerCheckIntervalMs: e.PEER_CHECK_INTERVAL_MS }),
    ...(e.PEER_FAILURE_THRESHOLD !== undefined && { peerFailureThreshold: e.PEER_FAILURE_THRESHOLD }),
    ...(e.LEASE_STATUS_POLL_MS !== undefined && { leaseStatusPollMs: e.LEASE_STATUS_POLL_MS }),
    ...(e.WITNESS_ROUND_TIMEOUT_MS !== undefined && { witnessRoundTimeoutMs: e.WITNESS_ROUND_TIMEOUT_MS }),
    ...(e.PROMOTION_HOLD_DOWN_MS !== undefined && { promotionHoldDownMs: e.PROMOTION_HOLD_DOWN_MS }),
    ...(e.ACQUIRE_RETRY_MS !== undefined && { acquireRetryMs: e.ACQUIRE_RETRY_MS }),
    ...(e.LEASE_REQUEST_TIMEOUT_MS !== undefined && { leaseRequestTimeoutMs: e.LEASE_REQUEST_TIMEOUT_MS }),
    ...(e.CANDIDATE_TIMEOUT_MS !== undefined && { candidateTimeoutMs: e.CANDIDATE_TIMEOUT_MS }),
  });
  const problems = validateControllerConfig(controller);
  if (problems.length > 0) throw new BadInputError(problems[0]!, `env ${envNameFor(problems[0]!)}`);

  const apiUrls = (e.PDNS_API_URLS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const u of apiUrls) {
    if (!httpUrl.safeParse(u).success) {
      throw new BadInputError(
        `expected a comma-separated list of http(s) URLs (got ${JSON.stringify(u)})`,
        'env PDNS_API_URLS',
      );
    }
  }
  if (apiUrls.length > 0) {
    for (const [name, v] of [
      ['PDNS_API_KEY', e.PDNS_API_KEY],
      ['APP_ADDR', e.APP_ADDR],
    ] as const) {
      if (v === undefined) throw new BadInputError('required when PDNS_API_URLS is set', `env ${name}`);
    }
    if (e.SVC_HEALTH_URL === undefined && e.SVC_CHECK_URLS === undefined) {
      throw new BadInputError(
        'required when PDNS_API_URLS is set (or SVC_CHECK_URLS for per-authoritative checks)',
        'env SVC_HEALTH_URL',
      );
    }
  }
  if (e.SVC_CHECK_URLS !== undefined) checkSvcCheckUrls(e.SVC_CHECK_URLS, e, apiUrls);
  const zone = e.ZONE.replace(/\.$/, '');
  const leaseRequestTimeoutMs = controller.leaseRequestTimeoutMs!;
  return {
    controller,
    initialRole: e.INITIAL_ROLE,
    lease: {
      workerUrl: e.CLOUDFLARE_WORKER_URL.replace(/\/$/, ''),
      leaseName: e.LEASE_NAME,
      secret: e.LEASE_SECRET,
      requestTimeoutMs: leaseRequestTimeoutMs,
    },
    witnesses: {
      endpoints: e.DNS_WITNESSES,
      zone,
      transport: e.DNS_TRANSPORT,
      // a query must answer inside the core's witness round, or it is counted unknown anyway
      queryTimeoutMs: e.DNS_QUERY_TIMEOUT_MS ?? controller.witnessRoundTimeoutMs,
      peerAppAddress: e.PEER_APP_ADDR,
      tombstoneAddress: e.TOMBSTONE_ADDR,
    },
    peerProbe: {
      url: e.PEER_HEALTH_URL,
      timeoutMs: e.PEER_PROBE_TIMEOUT_MS ?? controller.peerCheckIntervalMs,
    },
    publish: {
      apiUrls,
      apiKey: e.PDNS_API_KEY ?? null,
      serverId: e.PDNS_SERVER_ID,
      zone,
      serviceName: e.SVC_NAME,
      healthUrl: e.SVC_CHECK_URLS === undefined ? (e.SVC_HEALTH_URL ?? null) : null,
      checkUrls: e.SVC_CHECK_URLS ?? null,
      selfAppAddress: e.APP_ADDR ?? null,
      peerAppAddress: e.PEER_APP_ADDR,
      ttlSeconds: e.SVC_TTL_SECONDS,
      timeoutMs: e.PDNS_TIMEOUT_MS ?? Math.max(1, controller.heartbeatMs),
    },
    hooks: {
      webhookUrl: e.PROMOTE_WEBHOOK_URL ?? null,
      command: e.PROMOTE_COMMAND ?? null,
      timeoutMs: e.HOOK_TIMEOUT_MS ?? Math.max(1, Math.round(controller.heartbeatMs / 2)),
    },
    admin: parseHostPort(e.ADMIN_ADDR)!,
    eventsFile: e.EVENTS_FILE ?? null,
    logLevel: e.LOG_LEVEL,
  };
}
