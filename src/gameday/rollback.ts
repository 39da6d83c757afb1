/**
 * The rollback ledger: every fault unit is registered before it is applied and leaves the
 * ledger only when its revert has been *verified*. Reverting is idempotent and shared: the
 * experiment's own finally, the game day's final sweep and a signal handler may all ask, and
 * each unit is reverted once.
 *
 * A revert is retried with backoff; if it still cannot be verified, the unit's last resort
 * (POST /reset on its Toxiproxy server) is tried and verified again. Anything still not
 * verified is reported as left behind, with the exact manual step to undo it.
 */
import type { FaultUnit } from './faults.ts';
import { errorText, sleep } from './util.ts';

export interface RevertReport {
  label: string;
  verified: boolean;
  detail: string;
  attempts: number;
  usedLastResort: boolean;
}

/** Backoff between revert attempts; the sum bounds how long one stuck unit delays the rest. */
const RETRY_DELAYS_MS = [200, 500, 1000];

interface Entry {
  unit: FaultUnit;
  revert?: Promise<RevertReport>;
}

export class RollbackLedger {
  private readonly entries: Entry[] = [];

  register(unit: FaultUnit): void {
    if (!this.entries.some((e) => e.unit === unit)) this.entries.push({ unit });
  }

  /** Units registered and not (yet) reverted. */
  pending(): FaultUnit[] {
    return this.entries.filter((e) => !e.revert).map((e) => e.unit);
  }

  /** Reverts `units` (default: every registered unit), each at most once; reports in registration order. */
  async revert(units?: FaultUnit[]): Promise<RevertReport[]> {
    const chosen = this.entries.filter((e) => !units || units.includes(e.unit));
    // Reverse order: undo the last fault first, as a stack of changes would be.
    for (const e of [...chosen].reverse()) e.revert ??= revertUnit(e.unit);
    return Promise.all(chosen.map((e) => e.revert!));
  }

  /** Reports of every unit whose revert finished unverified. */
  async leftovers(): Promise<RevertReport[]> {
    const reports = await Promise.all(this.entries.filter((e) => e.revert).map((e) => e.revert!));
    return reports.filter((r) => !r.verified);
  }
}

async function revertUnit(unit: FaultUnit): Promise<RevertReport> {
  let detail = '';
  let attempts = 0;
  for (let i = 0; i <= RETRY_DELAYS_MS.length; i++) {
    attempts++;
    try {
      await unit.revert();
      const check = await unit.verifyReverted();
      detail = check.detail;
      if (check.ok) return { label: unit.label, verified: true, detail, attempts, usedLastResort: false };
    } catch (err) {
      detail = errorText(err);
    }
    if (i < RETRY_DELAYS_MS.length) await sleep(RETRY_DELAYS_MS[i]!);
  }
  if (unit.lastResort) {
    try {
      await unit.lastResort.run();
      const check = await unit.verifyReverted();
      return {
        label: unit.label,
        verified: check.ok,
        detail: `${check.detail} (after ${unit.lastResort.label})`,
        attempts,
        usedLastResort: true,
      };
    } catch (err) {
      detail = `${detail}; ${unit.lastResort.label} failed: ${errorText(err)}`;
    }
  }
  return { label: unit.label, verified: false, detail, attempts, usedLastResort: !!unit.lastResort };
}
