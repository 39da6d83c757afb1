/**
 * All proxies of one server, and the proxy-level API operations (spec §4.2 E3–E7, E13):
 * create, populate (create-or-replace, atomic validation), update, delete, reset.
 */
import { resolveListen } from './address.ts';
import * as errors from './api-error.ts';
import { ApiError } from './api-error.ts';
import { GoJsonError, type JsonValue, optBool, optString, pickFields, valueTypeError } from './gojson.ts';
import { FaultProxy, type ProxyEnv, type ProxyProtocol } from './proxy.ts';

/** One proxy as /populate, POST /proxies and the --config file describe it. */
export interface ProxyConfig {
  name: string;
  /** Default "" (any port on all interfaces), as in Go. */
  listen?: string;
  upstream: string;
  /** Default true. */
  enabled?: boolean;
  /**
   * Our extension: `udp` relays datagrams (docs/toxiproxy.md). Default `tcp`. Toxiproxy
   * ignores the key, so a real server would make a TCP proxy of it.
   */
  protocol?: ProxyProtocol;
}

const PROXY_STRUCT = 'toxiproxy.Proxy';

/** Decode a proxy object body; absent fields stay undefined (null counts as absent, as in Go). */
export function decodeProxyFields(body: JsonValue): Partial<ProxyConfig> {
  if (body.kind === 'null') return {};
  if (body.kind !== 'object') throw valueTypeError(body, PROXY_STRUCT);
  const fields = pickFields(body, ['name', 'listen', 'upstream', 'enabled', 'protocol']);
  const ref = (field: string) => ({ struct: 'Proxy', field });
  const out: Partial<ProxyConfig> = {};
  const name = optString(fields.get('name'), ref('name'));
  const listen = optString(fields.get('listen'), ref('listen'));
  const upstream = optString(fields.get('upstream'), ref('upstream'));
  const enabled = optBool(fields.get('enabled'), ref('enabled'));
  const protocol = optString(fields.get('protocol'), ref('protocol'));
  if (protocol !== undefined) out.protocol = parseProtocol(protocol);
  if (name !== undefined) out.name = name;
  if (listen !== undefined) out.listen = listen;
  if (upstream !== undefined) out.upstream = upstream;
  if (enabled !== undefined) out.enabled = enabled;
  return out;
}

function parseProtocol(text: string): ProxyProtocol {
  const lower = text.toLowerCase();
  if (lower === 'tcp' || lower === 'udp') return lower;
  throw errors.invalidProtocol(`protocol was invalid, can be either tcp or udp`);
}

/** Decode a /populate body: an array of proxy objects. */
export function decodePopulateBody(body: JsonValue): Array<Partial<ProxyConfig>> {
  if (body.kind === 'null') return [];
  if (body.kind !== 'array') throw valueTypeError(body, `[]${PROXY_STRUCT}`);
  return body.items.map(decodeProxyFields);
}

export function bodyError(err: unknown): never {
  if (err instanceof GoJsonError) throw errors.badRequestBody(err.message);
  throw err;
}

/** Sorted bytewise by UTF-8, as Go orders map keys in JSON. */
function byName(a: FaultProxy, b: FaultProxy): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

export interface PopulateResult {
  proxies: FaultProxy[];
  error?: ApiError;
}

export class ProxyCollection {
  private readonly proxies = new Map<string, FaultProxy>();

  constructor(private readonly env: ProxyEnv) {}

  list(): FaultProxy[] {
    return [...this.proxies.values()].sort(byName);
  }

  get(name: string): FaultProxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw errors.proxyNotFound();
    return proxy;
  }

  /** Name then upstream must be non-empty (checked in that order). `suffix` is " at proxy N". */
  private static requireFields(item: Partial<ProxyConfig>, suffix = ''): ProxyConfig {
    if (!item.name) throw errors.missingField(`name${suffix}`);
    if (!item.upstream) throw errors.missingField(`upstream${suffix}`);
    return {
      name: item.name,
      listen: item.listen ?? '',
      upstream: item.upstream,
      enabled: item.enabled ?? true,
      protocol: item.protocol ?? 'tcp',
    };
  }

  /** POST /proxies: a duplicate name is refused before any bind; a failed bind stores nothing. */
  async create(fields: Partial<ProxyConfig>): Promise<FaultProxy> {
    const config = ProxyCollection.requireFields(fields);
    if (this.proxies.has(config.name)) throw errors.proxyAlreadyExists();
    const proxy = new FaultProxy(
      config.name,
      config.listen ?? '',
      config.upstream,
      this.env,
      config.protocol,
    );
    if (config.enabled) await proxy.start();
    this.proxies.set(proxy.name, proxy);
    return proxy;
  }

  /**
   * POST /populate. Every item is validated before anything changes. Then, in order: a new
   * name is created; an existing proxy whose resolved listen and upstream are unchanged is
   * kept as it is (toxics, enabled state and connections); otherwise it is replaced, losing
   * its toxics. The first failure stops the run and is returned with the proxies done so far.
   */
  async populate(items: ReadonlyArray<Partial<ProxyConfig>>): Promise<PopulateResult> {
    const configs = items.map((item, i) => ProxyCollection.requireFields(item, ` at proxy ${i + 1}`));
    const done: FaultProxy[] = [];
    for (const config of configs) {
      try {
        const existing = this.proxies.get(config.name);
        if (existing) {
          const resolved = await resolveListen(config.listen ?? '');
          if ('error' in resolved) throw errors.internalError(resolved.error);
          if (
            resolved.canonical === existing.listen &&
            config.upstream === existing.upstream &&
            config.protocol === existing.protocol
          ) {
            done.push(existing);
            continue;
          }
          await existing.stop();
          this.proxies.delete(config.name);
        }
        const proxy = new FaultProxy(
          config.name,
          config.listen ?? '',
          config.upstream,
          this.env,
          config.protocol,
        );
        if (config.enabled) await proxy.start();
        this.proxies.set(proxy.name, proxy);
        done.push(proxy);
      } catch (err) {
        const error = err instanceof ApiError ? err : errors.internalError((err as Error).message);
        return { proxies: done, error };
      }
    }
    return { proxies: done };
  }

  /**
   * POST/PATCH /proxies/{p}. Left-out fields keep their current values; `name` is ignored.
   * A changed (resolved) listen or upstream restarts the proxy, dropping its connections;
   * a listen naming the same address by hostname is no change (v2.12.0).
   */
  async update(proxy: FaultProxy, fields: Partial<ProxyConfig>): Promise<FaultProxy> {
    // A proxy's toxics were chosen for its protocol: changing it means delete and create.
    if (fields.protocol !== undefined && fields.protocol !== proxy.protocol) {
      throw errors.invalidProtocol(`protocol cannot be changed (${proxy.protocol} → ${fields.protocol})`);
    }
    const listen = fields.listen ?? proxy.listen;
    const upstream = fields.upstream ?? proxy.upstream;
    const enabled = fields.enabled ?? proxy.enabled;
    const resolved = await resolveListen(listen);
    if ('error' in resolved) throw errors.internalError(resolved.error);
    if (resolved.canonical !== proxy.listen || upstream !== proxy.upstream) {
      await proxy.stop();
      proxy.listen = listen;
      proxy.upstream = upstream;
    }
    if (enabled && !proxy.enabled) await proxy.start();
    else if (!enabled && proxy.enabled) await proxy.stop();
    return proxy;
  }

  async remove(proxy: FaultProxy): Promise<void> {
    await proxy.stop();
    if (this.proxies.get(proxy.name) === proxy) this.proxies.delete(proxy.name);
  }

  /** POST /reset: start every disabled proxy, then remove all toxics. Connections stay. */
  async reset(): Promise<void> {
    for (const proxy of this.list()) {
      if (!proxy.enabled) await proxy.start();
      proxy.toxics.removeAll();
    }
  }

  /** Server shutdown: stop every proxy (listeners and sockets). */
  async closeAll(): Promise<void> {
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all(all.map((p) => p.stop()));
  }
}
