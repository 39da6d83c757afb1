/**
 * Coverage counters: which fault kinds the schedules used, which role transitions and
 * promotion bases the controllers went through, what witnesses answered. Aggregated across
 * runs so a search can show it explored more than the happy path.
 */
export interface Coverage {
  faultKinds: Record<string, number>;
  roleTransitions: Record<string, number>;
  promotionBases: Record<string, number>;
  witnessVerdicts: Record<string, number>;
  /** runs whose schedule was outside the documented assumptions */
  outsideAssumptionRuns: number;
  /** runs that stopped early at a detected overlap */
  earlyStops: number;
  messagesSent: number;
  messagesDropped: number;
}

export function newCoverage(): Coverage {
  return {
    faultKinds: {},
    roleTransitions: {},
    promotionBases: {},
    witnessVerdicts: {},
    outsideAssumptionRuns: 0,
    earlyStops: 0,
    messagesSent: 0,
    messagesDropped: 0,
  };
}

export function bump(counter: Record<string, number>, key: string, by = 1): void {
  counter[key] = (counter[key] ?? 0) + by;
}

export function mergeCoverage(into: Coverage, from: Coverage): void {
  for (const k of ['faultKinds', 'roleTransitions', 'promotionBases', 'witnessVerdicts'] as const) {
    for (const [key, n] of Object.entries(from[k])) bump(into[k], key, n);
  }
  into.outsideAssumptionRuns += from.outsideAssumptionRuns;
  into.earlyStops += from.earlyStops;
  into.messagesSent += from.messagesSent;
  into.messagesDropped += from.messagesDropped;
}
