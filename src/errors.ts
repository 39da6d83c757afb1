/**
 * Exit-code contract of every failover-lab command:
 * 0 ok, 1 invariant violated, 2 bad input, 3 infrastructure failure.
 * Throw one of these; src/cli/main.ts prints exactly one line and exits with the code.
 * A shared contract at the bottom of the import graph: every layer may throw these, so
 * they cannot live in the CLI (which sits at the top).
 */
export const EXIT_OK = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_INFRA = 3;

/** Bad scenario files, env vars, API bodies or CLI flags. `where` is e.g. "file.yaml:3:7" or "env REGION". */
export class BadInputError extends Error {
  readonly exitCode = EXIT_BAD_INPUT;
  constructor(
    message: string,
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'BadInputError';
  }
}

/** A component we depend on failed (missing binary, child exited, port in use...). */
export class InfraError extends Error {
  readonly exitCode = EXIT_INFRA;
  constructor(
    message: string,
    readonly component?: string,
    readonly detail?: string,
  ) {
    super(component ? `${component}: ${message}` : message);
    this.name = 'InfraError';
  }
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof BadInputError) return EXIT_BAD_INPUT;
  if (err instanceof InfraError) return EXIT_INFRA;
  return EXIT_INFRA;
}
