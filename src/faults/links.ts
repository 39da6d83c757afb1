/**
 * Link faults, all through the Toxiproxy HTTP API (src/toxiproxy/client.ts, every call with a
 * timeout), so they work the same against the built-in proxy and a real Toxiproxy (TOXIPROXY_URL).
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
import type { CutMode } from '../scenario/validate.ts';
import type { LinkProxy } from '../topology/proxies.ts';
import { ToxiproxyClient } from '../toxiproxy/client.ts';
import { type ConnectOutcome, linkRoundTrip, reachProxy } from './probe.ts';

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
  readonly tp: ToxiproxyClient;
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
    await this.tp.setEnabled(this.proxy(linkId).name, enabled);
  }

  async addToxic(
    linkId: string,
    name: string,
    type: 'timeout' | 'latency' | 'reset_peer',
    attributes: Record<string, number>,
    toxicity = 1,
    stream: 'upstream' | 'downstream' = 'upstream',
  ): Promise<void> {
    await this.tp.addToxic(this.proxy(linkId).name, { name, type, stream, toxicity, attributes });
  }

  /** Removes one of our toxics; one that is not there is an error (the cut was never made). */
  async removeToxic(linkId: string, name: string): Promise<void> {
    await this.tp.removeToxic(this.proxy(linkId).name, name);
  }

  async state(linkId: string): Promise<{ enabled: boolean; toxics: string[] }> {
    const p = await this.tp.proxy(this.proxy(linkId).name);
    return { enabled: p.enabled, toxics: (p.toxics ?? []).map((t) => t.name) };
  }

  /** The proxy reached in its protocol: a TCP connect, or one DNS query through a UDP proxy. */
  private wireCheck(p: LinkProxy): Promise<ConnectOutcome> {
    return reachProxy(p.listen, p.link.protocol, 500);
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
