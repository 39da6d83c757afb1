/**
 * Link faults, all through the Toxiproxy HTTP API (toxiproxy-node-client), so they work the
 * same against the built-in proxy and a real Toxiproxy (TOXIPROXY_URL).
 *
 * Semantics (docs/topology.md, "Faults"):
 * - cut (partition, isolate, flap): the proxy is disabled — new connections are refused and
 *   open ones are closed (Toxiproxy closes every connection of a disabled proxy).
 * - one-way cut (partition with oneway: true): a `timeout` toxic (timeout 0) on the
 *   *upstream* stream: the initiator's requests are silently dropped, its connections hang
 *   and it sees timeouts; traffic the other side initiates (the reverse link) is untouched.
 * - latency: a `latency` toxic on the upstream stream (requests arrive late; the round trip
 *   grows by latency ± jitter once).
 * - loss: a `timeout` toxic with toxicity p — Toxiproxy rolls the dice per *connection*, not
 *   per packet or request, so a kept-alive connection is either all lost or all fine.
 */
import { type Toxiproxy, Toxiproxy as ToxiproxyClient } from 'toxiproxy-node-client';
import type { LinkProxy } from '../topology/proxies.ts';
import { linkRoundTrip, tcpConnect } from './probe.ts';

export interface Verification {
  verified: boolean | null;
  detail: string;
}

export class LinkFaults {
  readonly tp: Toxiproxy;
  constructor(
    url: string,
    private readonly proxies: Map<string, LinkProxy>,
  ) {
    this.tp = new ToxiproxyClient(url);
  }

  proxy(linkId: string): LinkProxy {
    const p = this.proxies.get(linkId);
    if (!p) throw new Error(`no proxy for link ${linkId}`);
    return p;
  }

  async setEnabled(linkId: string, enabled: boolean): Promise<void> {
    const p = this.proxy(linkId);
    const px = await this.tp.get(p.name);
    await px.update({ enabled, listen: px.listen, upstream: px.upstream });
  }

  async addToxic(
    linkId: string,
    name: string,
    type: 'timeout' | 'latency',
    attributes: Record<string, number>,
    toxicity = 1,
    stream: 'upstream' | 'downstream' = 'upstream',
  ): Promise<void> {
    const px = await this.tp.get(this.proxy(linkId).name);
    await px.addToxic({ name, type, stream, toxicity, attributes } as never);
  }

  async removeToxic(linkId: string, name: string): Promise<void> {
    const px = await this.tp.get(this.proxy(linkId).name);
    const toxic = await px.getToxic(name);
    await toxic.remove();
  }

  async state(linkId: string): Promise<{ enabled: boolean; toxics: string[] }> {
    // getAll() keeps the raw JSON including toxics; Proxy objects drop them.
    const res = await fetch(`${this.tp.host}/proxies/${encodeURIComponent(this.proxy(linkId).name)}`);
    const body = (await res.json()) as { enabled: boolean; toxics?: Array<{ name: string }> };
    return { enabled: body.enabled, toxics: (body.toxics ?? []).map((t) => t.name) };
  }

  /** A disabled proxy refuses connections (checked on the wire and in the API). */
  async verifyCut(linkId: string): Promise<Verification> {
    const p = this.proxy(linkId);
    const [conn, st] = await Promise.all([tcpConnect(p.listen.host, p.listen.port), this.state(linkId)]);
    const ok = conn === 'refused' && !st.enabled;
    return { verified: ok, detail: `${linkId}: connect ${conn}, proxy enabled=${st.enabled}` };
  }

  /** Healed: the proxy listens again and carries no toxics. */
  async verifyHealed(linkId: string): Promise<Verification> {
    const p = this.proxy(linkId);
    const [conn, st] = await Promise.all([tcpConnect(p.listen.host, p.listen.port), this.state(linkId)]);
    const ok = conn === 'connected' && st.enabled && st.toxics.length === 0;
    return {
      verified: ok,
      detail: `${linkId}: connect ${conn}, enabled=${st.enabled}, toxics=[${st.toxics.join(',')}]`,
    };
  }

  /** A black-holed link: connections open, but no reply comes back. */
  async verifyBlackhole(linkId: string, timeoutMs = 400): Promise<Verification> {
    const rt = await linkRoundTrip(this.proxy(linkId), timeoutMs);
    return {
      verified: !rt.ok,
      detail: `${linkId}: round trip ${rt.ok ? 'succeeded' : 'failed'} (${rt.detail})`,
    };
  }

  /** Added latency: a round trip takes at least ~latency. */
  async verifyLatency(linkId: string, latencyMs: number, jitterMs: number): Promise<Verification> {
    const rt = await linkRoundTrip(this.proxy(linkId), latencyMs + jitterMs + 1500);
    const min = Math.max(0, latencyMs - jitterMs) * 0.8;
    return {
      verified: rt.ok ? rt.elapsedMs >= min : null,
      detail: `${linkId}: round trip ${rt.elapsedMs.toFixed(0)} ms (expected ≥ ${min.toFixed(0)} ms; ${rt.detail})`,
    };
  }
}
