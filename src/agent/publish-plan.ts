/**
 * What a publish sends, decided once (no I/O): which of the two app addresses goes first for
 * an active region, and the PATCH each PowerDNS API gets. The agent (adapters.ts
 * publishActive) sends these over HTTP; the simulator's controller shell sends the same
 * requests to its authoritative models, which read the order back out of the LUA record as
 * PowerDNS would — so a mistake here is seen by both executors (issue: one shell).
 */
import { orderedExtupLua, orderedUrlupLua } from './lua.ts';

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

/** This controller's side of the service record: its region, its peer's, and their apps' addresses. */
export interface PublishSides {
  region: string;
  peerRegion: string;
  selfAppAddress: string;
  peerAppAddress: string;
}

/** The two addresses in the order a publish of `activeRegion` puts them, and their regions. */
export function publishOrder(
  s: PublishSides,
  activeRegion: string,
): { active: string; other: string; regions: PublishRegions } {
  const selfActive = activeRegion === s.region;
  return {
    active: selfActive ? s.selfAppAddress : s.peerAppAddress,
    other: selfActive ? s.peerAppAddress : s.selfAppAddress,
    regions: { active: activeRegion, other: selfActive ? s.peerRegion : s.region },
  };
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

export const apiBase = (base: string) => base.replace(/\/$/, '');

/** One PowerDNS API request of a publish, or why it could not be built. */
export type PublishPatch =
  | { apiBase: string; url: string; method: 'PATCH'; headers: Record<string, string>; body: string }
  | { apiBase: string; error: string };

/**
 * The PATCH for every configured authoritative: with `checkUrls` each gets its own
 * ifurlextup body (`regions` names the two addresses' regions); otherwise every one gets the
 * same ifurlup body.
 */
export function publishPatches(
  o: PublishOptions,
  activeAddress: string,
  otherAddress: string,
  regions?: PublishRegions,
): PublishPatch[] {
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
  return o.apiUrls.map((base): PublishPatch => {
    const url = `${apiBase(base)}/api/v1/servers/${encodeURIComponent(o.serverId)}/zones/${encodeURIComponent(`${o.zone}.`)}`;
    try {
      const body = bodyFor(base);
      const headers = { 'X-API-Key': o.apiKey, 'content-type': 'application/json' };
      return { apiBase: base, url, method: 'PATCH', headers, body };
    } catch (err) {
      return { apiBase: base, error: err instanceof Error ? err.message : String(err) };
    }
  });
}
