/**
 * The `operator` step on the real topology: the command a person would type, POSTed to each
 * target controller's admin API (src/agent/admin.ts: POST /approve | /reject | /promote |
 * /demote, 202 when taken). Not a fault: nothing to verify or revert. The operator's record of
 * the command is a `note` from source `operator` written as the request leaves — the same
 * observation the simulator writes (simulator/faults.ts operatorCommand), which the checker
 * judges the command's consequences by; what the API answered is the runner's own note.
 */
import { request } from 'node:http';
import type { FaultStep, OperatorStepCommand } from '../scenario/schema.ts';
import { stepParams } from '../scenario/validate.ts';
import type { Endpoint } from '../topology/configs.ts';

/**
 * How long the runner waits for the admin API's answer. A paused controller answers when it is
 * continued (the request waits in its socket, as in the simulator); the step waits with it.
 */
const ANSWER_TIMEOUT_MS = 60_000;

export interface OperatorSink {
  /** the operator's record of a command, written as it is sent */
  operatorNote(message: string, data: Record<string, unknown>): void;
  /** what the admin API answered (or why it did not) */
  runnerNote(message: string, data: Record<string, unknown>): void;
}

/** POST /<command> to one admin API: the HTTP status, or the error. */
export function postCommand(
  admin: Endpoint,
  command: OperatorStepCommand,
  timeoutMs = ANSWER_TIMEOUT_MS,
): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: admin.host, port: admin.port, path: `/${command}`, method: 'POST', agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', (err) => resolve({ error: err.message }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ error: err.message }));
    req.end();
  });
}

/** Sends the step's command to every target controller (`ctl-<region>`) at once. */
export async function operatorStep(
  step: FaultStep,
  id: string,
  adminOf: (region: string) => Endpoint | undefined,
  sink: OperatorSink,
): Promise<void> {
  const command = stepParams(step).command;
  if (command === undefined) return; // validated: never
  const targets = Array.isArray(step.target) ? step.target : [step.target];
  await Promise.all(
    targets.map(async (t) => {
      const region = t.replace(/^ctl-/, '');
      const admin = adminOf(region);
      sink.operatorNote(`${command} ${t} (step ${id})`, { region, command, step: id });
      if (admin === undefined) {
        sink.runnerNote(`${id}: ${t} has no admin API`, { region, command });
        return;
      }
      const r = await postCommand(admin, command);
      sink.runnerNote(
        'status' in r
          ? `${id}: POST /${command} to ${t} answered ${r.status}`
          : `${id}: POST /${command} to ${t} failed: ${r.error}`,
        { region, command, ...r },
      );
    }),
  );
}
