/**
 * The real runner's `operator` step (src/faults/operator.ts): the operator's note as the command
 * is typed, then exactly the admin API's POST /<command> to each target controller, and the
 * API's answer (or the connection error) as the runner's note.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorStep } from '../../src/faults/operator.ts';
import type { FaultStep } from '../../src/scenario/schema.ts';

const seen: Array<{ method: string; url: string }> = [];
let server: http.Server;
let port = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    req.resume();
    res.writeHead(req.url === '/demote' ? 503 : 202).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const step = (command: string, target: string | string[]): FaultStep => ({
  at: 1000,
  fault: 'operator',
  target,
  params: { command },
});

describe('the operator step on the real topology', () => {
  it('notes the command as the operator, POSTs it to each target admin API, notes the answer', async () => {
    const notes: Array<[string, string, Record<string, unknown>]> = [];
    await operatorStep(
      step('approve', ['ctl-a', 'ctl-b']),
      'f2',
      (r) =>
        r === 'a' ? { host: '127.0.0.1', port } : r === 'b' ? { host: '127.0.0.1', port: 1 } : undefined,
      {
        operatorNote: (m, d) => notes.push(['operator', m, d]),
        runnerNote: (m, d) => notes.push(['runner', m, d]),
      },
    );
    expect(seen).toEqual([{ method: 'POST', url: '/approve' }]);
    const op = notes.filter(([s]) => s === 'operator').map(([, , d]) => d);
    expect(op).toEqual([
      { region: 'a', command: 'approve', step: 'f2' },
      { region: 'b', command: 'approve', step: 'f2' },
    ]);
    const runner = notes.filter(([s]) => s === 'runner').map(([, m]) => m);
    expect(runner).toContain('f2: POST /approve to ctl-a answered 202');
    expect(runner.find((m) => m.includes('ctl-b'))).toMatch(
      /^f2: POST \/approve to ctl-b failed: .*ECONNREFUSED/,
    );
  });

  it("records what the API answered, a refusal included (a stopping controller's 503)", async () => {
    const runner: string[] = [];
    await operatorStep(step('demote', 'ctl-a'), 'f1', () => ({ host: '127.0.0.1', port }), {
      operatorNote: () => undefined,
      runnerNote: (m) => runner.push(m),
    });
    expect(runner).toEqual(['f1: POST /demote to ctl-a answered 503']);
  });
});
