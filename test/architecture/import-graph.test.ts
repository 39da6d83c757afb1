/**
 * Folder layering of src/ and simulator/ (issue #19, docs/architecture.md "Layers"):
 * imports point down. Each folder has a rank; an import from a folder to a folder of a
 * higher rank is an upward arrow. At most two upward arrows are allowed, each named below
 * with its reason, and the graph has no circles, neither between files nor between folders.
 * Failures list the offending imports (file → file), so the fix is where they point.
 */
import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, sourceFiles } from './sources.ts';

/**
 * Bottom (0) to top. A file belongs to the longest folder (or file) named here that
 * contains it. Folders of one rank may import each other, as long as no circle forms.
 */
const LAYERS: ReadonlyArray<{ rank: number; folders: readonly string[]; holds: string }> = [
  {
    rank: 0,
    folders: ['src', 'src/contracts'],
    holds:
      'shared contracts: exit codes and errors, history events and the design spec; timers, package root',
  },
  { rank: 1, folders: ['src/controller', 'src/dns'], holds: 'pure decision core; one DNS wire client' },
  { rank: 2, folders: ['src/scenario'], holds: 'scenario model and the topology description' },
  { rank: 3, folders: ['src/check'], holds: 'the checker: invariants, expectations, verdict' },
  { rank: 4, folders: ['src/report', 'src/toxiproxy', 'src/worker'], holds: 'renderers; leaf servers' },
  { rank: 5, folders: ['src/agent'], holds: 'production controller shell' },
  { rank: 6, folders: ['src/topology', 'src/faults'], holds: 'local processes, links, fault appliers' },
  {
    rank: 7,
    folders: ['src/topology/docker', 'src/gameday', 'src/runner', 'simulator', 'src/fidelity'],
    holds: 'executors: Docker driver, game days, real runner, simulator; sim↔real fidelity',
  },
  { rank: 8, folders: ['src/cli'], holds: 'the one CLI' },
  { rank: 9, folders: ['src/index.ts'], holds: 'public package API (re-exports)' },
];

/**
 * The upward arrows we keep, at most two, each with why the lower folder needs the higher.
 */
const ALLOWED_UPWARD: ReadonlyArray<{ from: string; to: string; why: string }> = [];

const MAX_UPWARD_ARROWS = 2;

const FOLDER_RANK = new Map<string, number>();
for (const layer of LAYERS) for (const f of layer.folders) FOLDER_RANK.set(f, layer.rank);

/** The layer folder of a file: the longest entry of LAYERS that contains it. */
function folderOf(file: string): string | null {
  let best: string | null = null;
  for (const f of FOLDER_RANK.keys()) {
    if ((file === f || file.startsWith(`${f}/`)) && (best === null || f.length > best.length)) best = f;
  }
  return best;
}

interface Edge {
  from: string;
  to: string;
}

/** Relative imports (static, re-exports, dynamic import()) resolved to repo-relative .ts paths. */
function importEdges(): { files: string[]; edges: Edge[] } {
  const sources = sourceFiles();
  const edges: Edge[] = [];
  for (const s of sources) {
    const info = ts.preProcessFile(s.text, true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const target = resolveImport(s.path, ref.fileName);
      if (target) edges.push({ from: s.path, to: target });
    }
  }
  return { files: sources.map((s) => s.path), edges };
}

function resolveImport(from: string, spec: string): string | null {
  const base = posix.normalize(posix.join(posix.dirname(from), spec));
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`];
  for (const c of candidates) {
    if (!c.endsWith('.ts')) continue;
    if (!c.startsWith('src/') && !c.startsWith('simulator/')) return null;
    if (existsSync(join(REPO_ROOT, c))) return c;
  }
  return null;
}

/** Strongly connected components with more than one node (Tarjan), each sorted. */
function circles(nodes: readonly string[], next: (n: string) => readonly string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return out;
}

const graph = importEdges();

describe('import graph of src/ and simulator/', () => {
  it('every source file belongs to a layer folder', () => {
    const unplaced = graph.files.filter((f) => folderOf(f) === null);
    expect(unplaced, 'add these folders to LAYERS').toEqual([]);
  });

  it(`has at most ${MAX_UPWARD_ARROWS} upward arrows, each one named with its reason`, () => {
    expect(ALLOWED_UPWARD.length).toBeLessThanOrEqual(MAX_UPWARD_ARROWS);
    const offenders: string[] = [];
    for (const e of graph.edges) {
      const from = folderOf(e.from)!;
      const to = folderOf(e.to)!;
      if (FOLDER_RANK.get(to)! <= FOLDER_RANK.get(from)!) continue;
      if (ALLOWED_UPWARD.some((a) => a.from === from && a.to === to)) continue;
      offenders.push(`${from} → ${to}: ${e.from} imports ${e.to}`);
    }
    expect(offenders, 'imports from a lower layer up to a higher one').toEqual([]);
  });

  it('every allowed upward arrow is still used (no stale exceptions)', () => {
    const used = (a: { from: string; to: string }) =>
      graph.edges.some((e) => folderOf(e.from) === a.from && folderOf(e.to) === a.to);
    expect(ALLOWED_UPWARD.filter((a) => !used(a)).map((a) => `${a.from} → ${a.to}`)).toEqual([]);
  });

  it('has no import circle between files', () => {
    const next = new Map<string, string[]>();
    for (const e of graph.edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const found = circles(graph.files, (n) => next.get(n) ?? []);
    expect(found, 'files that import each other (directly or round a loop)').toEqual([]);
  });

  it('has no import circle between folders', () => {
    const next = new Map<string, Set<string>>();
    const witness = new Map<string, string>();
    for (const e of graph.edges) {
      const from = folderOf(e.from)!;
      const to = folderOf(e.to)!;
      if (from === to) continue;
      if (!next.has(from)) next.set(from, new Set());
      next.get(from)!.add(to);
      if (!witness.has(`${from}>${to}`)) witness.set(`${from}>${to}`, `${e.from} imports ${e.to}`);
    }
    const found = circles([...FOLDER_RANK.keys()], (n) => [...(next.get(n) ?? [])]);
    // name the arrows that close each circle: those not pointing to a lower rank
    const described = found.map((comp) =>
      [...witness.entries()]
        .map(([k, v]) => ({ from: k.split('>')[0]!, to: k.split('>')[1]!, v }))
        .filter((a) => comp.includes(a.from) && comp.includes(a.to))
        .filter((a) => FOLDER_RANK.get(a.to)! >= FOLDER_RANK.get(a.from)!)
        .map((a) => `${a.from} → ${a.to} (${a.v})`),
    );
    expect(described, 'folders that import each other: the arrows that close each circle').toEqual([]);
  });

  it('the layer table names only folders that exist', () => {
    const missing = [...FOLDER_RANK.keys()].filter((f) => !existsSync(join(REPO_ROOT, f)));
    expect(missing).toEqual([]);
  });
});
