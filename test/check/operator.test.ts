/**
 * `operator-approval` judges semi-automatic promotions on the apps' promote grants against the
 * operator's own record of approvals (src/check/invariants/operator.ts).
 */
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/contracts/history.ts';
import { designInput, designSpec } from '../../src/contracts/spec.ts';
import { outcomeOf, appGrant as promote } from './helpers/history.ts';

const approve = (t: number, region: string): NewEvent => ({
  kind: 'note',
  t,
  source: 'operator',
  message: `approve ctl-${region}`,
  data: { region, command: 'approve' },
});
const specIn = (mode: 'automatic' | 'semi-automatic') =>
  designSpec(designInput({ witnessCount: 3, leaseTtlMs: 30_000, controllerMode: mode }), 'test');
const judge = (mode: 'automatic' | 'semi-automatic', events: NewEvent[]) =>
  outcomeOf('operator-approval', events, specIn(mode));

describe('operator-approval', () => {
  it('passes the preferred bootstrap and a failover the operator approved', () => {
    const o = judge('semi-automatic', [
      promote(4_000, 'a', 1),
      approve(60_000, 'b'),
      promote(61_000, 'b', 2),
    ]);
    expect(o).toMatchObject({ ok: true, evaluated: true });
  });

  it('fails a promotion without an approval since the region last took over', () => {
    const o = judge('semi-automatic', [
      promote(4_000, 'a', 1),
      approve(60_000, 'b'),
      promote(61_000, 'b', 2),
      promote(150_000, 'a', 3),
    ]);
    expect(o.ok).toBe(false);
    expect(o.violations[0]).toMatchObject({ invariant: 'operator-approval', at: 150_000 });
    // one approval covers one promotion
    const twice = judge('semi-automatic', [
      promote(4_000, 'a', 1),
      approve(60_000, 'b'),
      promote(61_000, 'b', 2),
      promote(200_000, 'b', 4),
    ]);
    expect(twice.ok).toBe(false);
  });

  it('is not evaluated outside semi-automatic mode', () => {
    expect(judge('automatic', [promote(4_000, 'a', 1), promote(61_000, 'b', 2)])).toMatchObject({
      ok: true,
      evaluated: false,
    });
  });
});
