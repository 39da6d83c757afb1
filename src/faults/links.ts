/**
 * Link faults, all through the Toxiproxy HTTP API (toxiproxy-node-client), so they work the
 * same against the built-in proxy and a real Toxiproxy (TOXIPROXY_URL).
 *
 * Semantics (the one definition: docs/scenarios.md "Fault vocabulary"): a cut (partition,
 * isolate, flap's cut phases) acts on exactly the named links, never on a reverse link.
 * - `refuse`, both ways: the proxy is disabled — new connections are refused and open ones
 *   closed (counted, so overlapping cuts of one link heal only when the last one ends).
 * - `refuse`, one-way: a `reset_peer` toxic (timeout 0) on the upstream stream: a request is
 *   not forwarded and its connection is closed at once; replies already on their way pass.
 * - `drop`, both ways: `timeout` toxics (timeout 0) on the upstream and downstream streams:
 *   requests and replies vanish, the caller waits for its own timeout.
 * - `drop`, one-way: the upstream `timeout` toxic only: requests vanish, replies pass.
 * - latency: a `latency` toxic on the upstream stream (requests arrive late; the round trip
 *   grows by latency ± jitter once).
 * - loss: a `timeout` toxic with toxicity p — Toxiproxy rolls the dice per *connection*, not
 *   per packet or request, so a kept-alive connection is either all lost or all fine.
 */
import { type Toxiproxy, Toxiproxy as ToxiproxyClient } from 'toxiproxy-node-client';
import type { CutMode } from '../scenario/validate.ts';
import type { LinkProxy } from '../topology/proxies.ts';
import { type ConnectOutcome, linkRoundTrip, tcpConnect } from './probe.ts';

/** How a cut fails: the step's `mode` and `oneway` (src/scenario/validate.ts stepParams). */
export interface CutHow {
  mode: CutMode;
  oneway: boolean;
}

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

  /** refusing two-way cuts in force per link: the proxy is enabled again when the last ends */
  private readonly disabledBy = new Map<string, number>();

  /**
   * A UDP proxy has no reset_peer toxic (a datagram has no connection to reset): a one-way
   * refusal there disables the proxy too, so an answer already on its way is lost as well.
   */
  private disables(linkId: string, how: CutHow): boolean {
    return how.mode === 'refuse' && (!how.oneway || this.proxy(linkId).link.protocol === 'udp');
  }

  /** Applies one cut to a link; `name` keys its toxics (unique per fault step). */
  async cut(linkId: string, name: string, how: CutHow): Promise<void> {
    if (this.disables(linkId, how)) {
      const n = this.disabledBy.get(linkId) ?? 0;
      this.disabledBy.set(linkId, n + 1);
      if (n === 0) await this.setEnabled(linkId, false);
      return;
    }
    if (how.mode === 'refuse') {
      await this.addToxic(linkId, `${name}-refuse`, 'reset_peer', { timeout: 0 });
      return;
    }
    await this.addToxic(linkId, `${name}-drop-up`, 'timeout', { timeout: 0 });
    if (!how.oneway)
      await this.addToxic(linkId, `${name}-drop-down`, 'timeout', { timeout: 0 }, 1, 'downstream');
  }

  /** Undoes `cut(linkId, name, how)`. */
  async heal(linkId: string, name: string, how: CutHow): Promise<void> {
    if (this.disables(linkId, how)) {
      const n = (this.disabledBy.get(linkId) ?? 1) - 1;
      this.disabledBy.set(linkId, Math.max(0, n));
      if (n <= 0) await this.setEnabled(linkId, true);
      return;
    }
    if (how.mode === 'refuse') {
      await this.removeToxic(linkId, `${name}-refuse`);
      return;
    }
    await this.removeToxic(linkId, `${name}-drop-up`);
    if (!how.oneway) await this.removeToxic(linkId, `${name}-drop-down`);
  }

  /** Checks a cut took effect the way it was asked for. */
  async verifyCutAs(linkId: string, how: CutHow): Promise<Verification> {
    if (how.mode === 'drop') return this.verifyBlackhole(linkId);
    if (this.disables(linkId, how)) return this.verifyCut(linkId);
    return this.verifyRefused(linkId);
  }

  /** A one-way refusing cut: a round trip fails, and fails at once (not by our timeout). */
  async verifyRefused(linkId: string, timeoutMs = 1000): Promise<Verification> {
    const rt = await linkRoundTrip(this.proxy(linkId), timeoutMs);
    const fast = rt.elapsedMs < timeoutMs * 0.9;
    return {
      verified: !rt.ok && fast,
      detail: `${linkId}: round trip ${rt.ok ? 'succeeded' : 'failed'} after ${rt.elapsedMs.toFixed(0)} ms (${rt.detail})`,
    };
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
    type: 'timeout' | 'latency' | 'reset_peer',
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

  /**
   * TCP: a connect. UDP has no connect, so a DNS round trip through the proxy stands in:
   * an answer counts as connected, silence as refused.
   */
  private wireCheck(p: LinkProxy): Promise<ConnectOutcome> {
    if (p.link.protocol !== 'udp') return tcpConnect(p.listen.host, p.listen.port);
    return linkRoundTrip(p, 500).then((rt) => (rt.ok ? 'connected' : 'refused'));
  }

  /** A disabled proxy refuses connections (checked on the wire and in the API). */
  async verifyCut(linkId: string): Promise<Verification> {
    const p = this.proxy(linkId);
    const [conn, st] = await Promise.all([this.wireCheck(p), this.state(linkId)]);
    const ok = conn === 'refused' && !st.enabled;
    return { verified: ok, detail: `${linkId}: connect ${conn}, proxy enabled=${st.enabled}` };
  }

  /** Healed: the proxy listens again and carries no toxics. */
  async verifyHealed(linkId: string): Promise<Verification> {
    const p = this.proxy(linkId);
    const [conn, st] = await Promise.all([this.wireCheck(p), this.state(linkId)]);
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
