/**
 * operator-approval's refused-request rules on the real topology (issue #14 follow-up): the
 * runner records each approval request as the operator saw it on the controller's metrics
 * page (src/runner/approval-observer.ts), so a reject's hold-down and an approval answering a
 * refused request are judged there as in the simulator. A short cut of
 * semi-automatic-reject-then-approve (9.5 s at the default time scale).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { approvalRequestOf } from '../../src/contracts/approval-request.ts';
import type { HistoryEvent } from '../../src/contracts/history.ts';
import { runCli } from './cli.ts';

const out = mkdtempSync(join(tmpdir(), 'fl-runner-approval-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('operator-approval on the real topology', () => {
  it("judges a reject's hold-down and a void approval on the requests the operator saw", async () => {
    const file = join(out, 'reject-then-approve-early.yaml');
    // a crashed; b asks, the operator rejects at 50 s; the approval at 65 s comes before b asks
    // again (after the 30 s hold-down), so it answers the refused request: void, nothing happens
    writeFileSync(
      file,
      [
        'name: reject-then-approve-early',
        'duration: 95s',
        'topology:',
        '  controller:',
        '    mode: semi-automatic',
        'steps:',
        '  - { at: 20s, fault: crash, target: a }',
        '  - { at: 50s, fault: operator, target: ctl-b, params: { command: reject } }',
        '  - { at: 65s, fault: operator, target: ctl-b, params: { command: approve } }',
        '',
      ].join('\n'),
    );
    const dir = join(out, 'run');
    const res = await runCli(['run', file, '--json', '--out', dir, '--no-report']);
    expect(res.code, res.stderr).toBe(0);
    const json = JSON.parse(res.stdout) as {
      outcomes: Array<{ name: string; ok: boolean; detail: string; evaluated?: boolean }>;
    };
    const history = readFileSync(join(dir, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryEvent);
    // b asked before the reject and again after its hold-down, each seen between two scrapes
    const requests = history.map(approvalRequestOf).filter((r) => r !== null);
    expect(requests.map((r) => r.region)).toEqual(['b', 'b']);
    for (const r of requests) expect(r.sinceT).toBeLessThanOrEqual(r.t);
    const o = json.outcomes.find((x) => x.name === 'operator-approval')!;
    expect(o.ok, o.detail).toBe(true);
    expect(o.evaluated).not.toBe(false);
    expect(o.detail).toContain(
      'refused requests judged on 2 approval request(s) the operator saw: 1 refusal(s) against the promotion hold-down, 1 approval(s) void',
    );
  });
});
