/**
 * Response bodies byte for byte as Toxiproxy v2.12.0 writes them (spec §3): compact JSON,
 * fixed key order, `"Logger":{}` in every proxy, toxicity as the shortest float32 text.
 */
import { formatFloat32 } from './gojson.ts';
import type { FaultProxy } from './proxy.ts';
import type { Toxic } from './toxic-collection.ts';

/** Go's encoder escapes <, > and & (and U+2028/9) in strings, to be HTML-safe. */
export function goString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function toxicJson(toxic: Toxic): string {
  const attributes = toxic.kind.attributes
    .map((a) => `${goString(a.name)}:${String(toxic.attributes[a.name] ?? 0)}`)
    .join(',');
  return (
    `{"attributes":{${attributes}},"name":${goString(toxic.name)},"type":${goString(toxic.kind.type)},` +
    `"stream":${goString(toxic.streamText)},"toxicity":${formatFloat32(toxic.toxicity)}}`
  );
}

export function toxicsJson(toxics: readonly Toxic[]): string {
  return `[${toxics.map(toxicJson).join(',')}]`;
}

export function proxyJson(proxy: FaultProxy): string {
  return (
    `{"name":${goString(proxy.name)},"listen":${goString(proxy.listen)},"upstream":${goString(proxy.upstream)},` +
    `"enabled":${proxy.enabled},"Logger":{},"toxics":${toxicsJson(proxy.toxics.list())}` +
    // Our extension; TCP proxies stay byte-identical to Toxiproxy's.
    `${proxy.protocol === 'udp' ? ',"protocol":"udp"' : ''}}`
  );
}

/** GET /proxies: an object keyed by name, keys sorted bytewise as Go sorts map keys. */
export function proxyMapJson(proxies: readonly FaultProxy[]): string {
  return `{${proxies.map((p) => `${goString(p.name)}:${proxyJson(p)}`).join(',')}}`;
}

/** Populate results; Go writes a nil slice (nothing processed) as null. */
export function proxyListJson(proxies: readonly FaultProxy[]): string {
  return proxies.length === 0 ? 'null' : `[${proxies.map(proxyJson).join(',')}]`;
}
