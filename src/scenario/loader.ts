/**
 * Scenario files: YAML → validated Scenario, and Scenario → YAML (for counterexamples).
 *
 * Every problem is a BadInputError whose `where` is `file:line:col` of the offending node:
 * the value that is wrong, the key that is unknown, or — for a missing key — the mapping
 * that should contain it. YAML syntax errors point at the character the parser stopped at.
 * When a file has several problems, the one earliest in the file is reported (with a count
 * of the rest), so fixing top-down converges.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, stringify } from 'yaml';
import type { z } from 'zod';
import { BadInputError } from '../errors.ts';
import { Scenario } from './schema.ts';
import { describeTopology } from './topology-description.ts';
import { type PathSeg, type Problem, validateScenario } from './validate.ts';

export type { Scenario };

export async function loadScenarioFile(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new BadInputError(`cannot read scenario file: ${why}`, path);
  }
  return parseScenario(text, path);
}

interface Located {
  offset: number;
  message: string;
}

export function parseScenario(text: string, fileName: string): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number): string => {
    const { line, col } = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return `${fileName}:${line}:${col}`;
  };
  const fail = (problems: Located[]): never => {
    const sorted = [...problems].sort((a, b) => a.offset - b.offset);
    const first = sorted[0]!;
    const more =
      sorted.length > 1 ? ` (and ${sorted.length - 1} more problem${sorted.length > 2 ? 's' : ''})` : '';
    throw new BadInputError(`${first.message}${more}`, where(first.offset));
  };

  if (doc.errors.length > 0) {
    fail(doc.errors.map((e) => ({ offset: e.pos[0], message: `YAML syntax error: ${e.message}` })));
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    fail([
      { offset: 0, message: 'empty scenario file (expected a mapping with name, duration, steps, expect)' },
    ]);
  }
  if (!isMap(doc.contents)) {
    fail([
      {
        offset: doc.contents?.range?.[0] ?? 0,
        message: 'a scenario must be a YAML mapping (name:, duration:, steps:, expect:)',
      },
    ]);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    fail([{ offset: 0, message: `cannot read YAML: ${(err as Error).message}` }]);
  }

  const parsed = Scenario.safeParse(raw);
  if (!parsed.success) {
    fail(parsed.error.issues.map((issue) => locateIssue(doc.contents as Node, issue)));
  }
  const scenario = parsed.data!;
  const problems = validateScenario(scenario, describeTopology());
  if (problems.length > 0) fail(problems.map((p) => locateProblem(doc.contents as Node, p)));
  return scenario;
}

// ---------------------------------------------------------------- locating nodes

interface Found {
  /** deepest node reached */
  node: Node;
  /** key node of the last pair walked through, if any */
  keyNode: Node | null;
  /** first path segment that does not exist in the document, if any */
  missing: PathSeg | null;
  /** index of `missing` in the path */
  depth: number;
}

function walk(root: Node, path: PathSeg[]): Found {
  let node: Node = root;
  let keyNode: Node | null = null;
  for (let depth = 0; depth < path.length; depth++) {
    const seg = path[depth]!;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
      );
      if (!pair) return { node, keyNode, missing: seg, depth };
      keyNode = pair.key as Node;
      // `key:` with no value: point at the key
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return { node, keyNode, missing: seg, depth };
      keyNode = null;
      node = item;
    } else {
      return { node, keyNode, missing: seg, depth };
    }
  }
  return { node, keyNode, missing: null, depth: path.length };
}

function offsetOf(node: Node | null | undefined): number {
  return node?.range?.[0] ?? 0;
}

function dotted(path: PathSeg[]): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  return s;
}

const EXPECTATION_KINDS = [
  'failover-within',
  'no-failover',
  'demoted-within',
  'primary-at-end',
  'authoritatives-disagree',
  'violation-detected',
];

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue, path: PathSeg[]): string {
  const at = dotted(path);
  const prefix = at ? `${at}: ` : '';
  switch (issue.code) {
    case 'invalid_value':
      return `${prefix}must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return `${prefix}expected ${issue.expected}`;
    case 'invalid_union': {
      // A union whose branches all failed on type: report the most specific branch message.
      const specific = issue.errors
        .flat()
        .find((e) => e.code !== 'invalid_type' && e.code !== 'unrecognized_keys');
      if (specific && specific.path.length === 0) return `${prefix}${specific.message}`;
      return `${prefix}${issue.message}`;
    }
    default:
      return `${prefix}${issue.message}`;
  }
}

function locateIssue(root: Node, issue: Issue): Located {
  const path = issue.path as PathSeg[];
  if (issue.code === 'unrecognized_keys') {
    const found = walk(root, path);
    const key = issue.keys[0]!;
    const inner = walk(found.node, [key]);
    const allowed = allowedKeys(path);
    return {
      offset: offsetOf(inner.keyNode ?? found.node),
      message: `${dotted([...path, key])}: unknown key "${key}"${allowed ? ` (expected: ${allowed})` : ''}`,
    };
  }
  // An expectation item that matches no branch: name the unknown kind at its key.
  if (issue.code === 'invalid_union' && path.length === 2 && path[0] === 'expect') {
    const found = walk(root, path);
    if (isMap(found.node)) {
      const firstKey = found.node.items[0];
      const keyName = firstKey && isScalar(firstKey.key) ? String(firstKey.key.value) : '';
      if (!EXPECTATION_KINDS.includes(keyName)) {
        return {
          offset: offsetOf((firstKey?.key as Node | undefined) ?? found.node),
          message: `${dotted(path)}: unknown expectation "${keyName}" (expected one of: ${EXPECTATION_KINDS.join(', ')})`,
        };
      }
    }
    return {
      offset: offsetOf(found.node),
      message: `${dotted(path)}: expected one of: ${EXPECTATION_KINDS.map((k) => `{${k}: ...}`).join(', ')}`,
    };
  }
  const found = walk(root, path);
  if (found.missing !== null) {
    // The value is absent: point at the mapping that should hold it.
    const parent = path.slice(0, found.depth);
    return {
      offset: offsetOf(found.node),
      message: `${parent.length > 0 ? `${dotted(parent)}: ` : ''}missing required key "${String(found.missing)}"`,
    };
  }
  return { offset: offsetOf(found.node), message: describeIssue(issue, path) };
}

function allowedKeys(path: PathSeg[]): string | null {
  const shapeKeys = (schema: unknown): string[] | null => {
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    return shape ? Object.keys(shape) : null;
  };
  if (path.length === 0) return shapeKeys(Scenario)?.join(', ') ?? null;
  if (path.length === 1 && path[0] === 'topology')
    return 'leaseBackend, timeScale, initialPrimary, controller';
  if (path.length === 2 && path[0] === 'topology' && path[1] === 'controller') {
    return 'leaseTtlMs, heartbeatMs, maxClockDriftRate, maxPauseMs, maxDelayMs, peerCheckIntervalMs, peerFailureThreshold, witnessQuorum, unknownWitnessPolicy, mode';
  }
  if (path.length === 1 && path[0] === 'workload') return 'clients, writeInterval';
  if (path.length === 2 && path[0] === 'steps') return 'at, for, fault, target, params';
  if (path.length === 2 && path[0] === 'boot') return 'fault, target, params';
  return null;
}

function locateProblem(root: Node, p: Problem): Located {
  const found = walk(root, p.path);
  const node = p.atKey && found.missing === null ? (found.keyNode ?? found.node) : found.node;
  return { offset: offsetOf(node), message: `${dotted(p.path)}: ${p.message}` };
}

// ---------------------------------------------------------------- writing

/** ms → the shortest exact duration string ("90s", "2m", "250ms"). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`not a duration: ${ms}`);
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs > 0 && Number.isInteger(abs)) {
    if (abs % 3_600_000 === 0) return `${sign}${abs / 3_600_000}h`;
    if (abs % 60_000 === 0) return `${sign}${abs / 60_000}m`;
    if (abs % 1000 === 0) return `${sign}${abs / 1000}s`;
  }
  return `${sign}${abs}ms`;
}

/**
 * A Scenario as YAML that parseScenario reads back to an equal Scenario. Durations are
 * written as strings ("30s"); step params are written as given.
 */
export function scenarioToYaml(s: Scenario, opts: { header?: string } = {}): string {
  const plain = {
    name: s.name,
    description: s.description,
    duration: formatDuration(s.duration),
    topology: {
      leaseBackend: s.topology.leaseBackend,
      timeScale: s.topology.timeScale,
      initialPrimary: s.topology.initialPrimary,
      controller: s.topology.controller,
    },
    workload: { clients: s.workload.clients, writeInterval: formatDuration(s.workload.writeInterval) },
    steps: s.steps.map((st) => ({
      at: formatDuration(st.at),
      ...(st.anchor
        ? {
            anchor: {
              on: st.anchor.on,
              ...(st.anchor.region !== undefined ? { region: st.anchor.region } : {}),
              offset: `${st.anchor.offset}ms`,
            },
          }
        : {}),
      ...(st.for !== undefined ? { for: formatDuration(st.for) } : {}),
      fault: st.fault,
      target: st.target,
      ...(Object.keys(st.params).length > 0 ? { params: st.params } : {}),
    })),
    ...(s.boot && s.boot.length > 0 ? { boot: s.boot } : {}),
    expect: s.expect.map((e) => {
      if ('failover-within' in e) return { 'failover-within': formatDuration(e['failover-within']) };
      if ('demoted-within' in e) {
        return {
          'demoted-within': {
            region: e['demoted-within'].region,
            within: formatDuration(e['demoted-within'].within),
          },
        };
      }
      return e;
    }),
  };
  const header = opts.header
    ? `${opts.header
        .split('\n')
        .map((l) => `# ${l}`.trimEnd())
        .join('\n')}\n`
    : '';
  return header + stringify(plain, { lineWidth: 0 });
}
