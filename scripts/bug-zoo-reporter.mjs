// Vitest reporter for scripts/bug-zoo.mjs: writes the first failing test of the kill test with
// its error's full `actual` (the built-in JSON reporter keeps only chai's message, which
// truncates the failing runs to "[ Array(1) ]"), and any error that kept the file from running.
// Output file: $BUGZOO_RESULT.
import { writeFileSync } from 'node:fs';

export default class BugZooReporter {
  failed = null;
  passed = 0;

  onTestCaseResult(testCase) {
    const r = testCase.result();
    if (r.state === 'passed') this.passed++;
    if (r.state !== 'failed' || this.failed !== null) return;
    const e = r.errors?.[0] ?? {};
    this.failed = { name: testCase.name, message: e.message ?? '', actual: e.actual ?? null };
  }

  onTestRunEnd(testModules, unhandledErrors) {
    const moduleErrors = testModules.flatMap((m) => m.errors().map((e) => e.message ?? String(e)));
    const errors = [...moduleErrors, ...unhandledErrors.map((e) => e.message ?? String(e))];
    writeFileSync(
      process.env.BUGZOO_RESULT,
      JSON.stringify({ failed: this.failed, passed: this.passed, errors }),
    );
  }
}
