/**
 * YAML with source positions: parse a file, keep the document so that any path into the
 * parsed value (e.g. a zod issue path) can be turned into "file:line:col". Bad input must
 * name the exact spot, so plan and export errors never say just "invalid file".
 */
import { readFileSync, statSync } from 'node:fs';
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { BadInputError } from '../errors.ts';

export type YamlPath = ReadonlyArray<string | number | symbol>;

export interface LoadedYaml {
  file: string;
  data: unknown;
  /** "file:line:col" of the node at `path` (or of its deepest existing ancestor) */
  where(path: YamlPath, opts?: { key?: boolean }): string;
}

/** Documented maxima (docs/gameday.md): a plan is a page of YAML, not a data set. */
export const MAX_YAML_FILE_BYTES = 1_048_576;
/** Alias expansions per document: enough for shared probe blocks, far below an alias bomb. */
export const MAX_YAML_ALIAS_COUNT = 100;

export function loadYamlFile(file: string): LoadedYaml {
  let text: string;
  try {
    const bytes = statSync(file).size;
    if (bytes > MAX_YAML_FILE_BYTES) {
      throw new BadInputError(`file is ${bytes} bytes; the maximum is ${MAX_YAML_FILE_BYTES} (1 MiB)`, file);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof BadInputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new BadInputError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? err})`, file);
  }
  return parseYamlText(text, file);
}

export function parseYamlText(text: string, file: string): LoadedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    // Errors at the end of input carry an offset but no line/col.
    const pos = first.linePos?.[0] ?? lines.linePos(first.pos[0]);
    // The yaml library appends its own " at line N, column M:" plus a snippet; we give the position once.
    const msg = first.message.split(/ at line \d+, column \d+/)[0]!.trim();
    throw new BadInputError(`YAML: ${msg}`, pos ? `${file}:${pos.line}:${pos.col}` : file);
  }
  const data = toJsChecked(doc, lines, file);
  const where = (path: YamlPath, opts: { key?: boolean } = {}): string => {
    let node: unknown = doc.contents;
    let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyNode = pair.key as Node;
        if (last && opts.key) {
          offset = keyNode.range?.[0] ?? offset;
          node = keyNode;
          break;
        }
        const valueNode = pair.value as Node | null;
        // A key with an empty value has no value node: point at the key instead.
        offset = valueNode?.range?.[0] ?? keyNode.range?.[0] ?? offset;
        node = valueNode;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
    }
    const pos = lines.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  return { file, data, where };
}

/**
 * doc.toJS, with the yaml library's ReferenceErrors (an alias to an anchor not defined before
 * it; an alias bomb) turned into bad input at the alias's file:line:col.
 */
function toJsChecked(doc: Document, lines: LineCounter, file: string): unknown {
  const at = (offset: number | undefined) => {
    const pos = lines.linePos(offset ?? 0);
    return `${file}:${pos.line}:${pos.col}`;
  };
  let firstAlias: { offset: number | undefined; name: string } | null = null;
  let unresolved: { offset: number | undefined; name: string } | null = null;
  visit(doc, {
    Alias(_key, node) {
      firstAlias ??= { offset: node.range?.[0], name: node.source };
      if (!unresolved && node.resolve(doc) === undefined) {
        unresolved = { offset: node.range?.[0], name: node.source };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  const bad = unresolved as { offset: number | undefined; name: string } | null;
  if (bad) {
    throw new BadInputError(
      `YAML: alias *${bad.name} has no anchor &${bad.name} defined before it`,
      at(bad.offset),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT }) as unknown;
  } catch (err) {
    const first = firstAlias as { offset: number | undefined; name: string } | null;
    const where = first ? at(first.offset) : file;
    if (/alias count|resource exhaustion/i.test((err as Error).message)) {
      throw new BadInputError(
        `YAML: aliases expand to more than ${MAX_YAML_ALIAS_COUNT} nodes (an alias bomb?); write the values out instead`,
        where,
      );
    }
    throw new BadInputError(`YAML: ${(err as Error).message.split('\n')[0]}`, where);
  }
}

/** Parses `loaded.data` with `schema`; the first problem becomes a BadInputError at its file:line:col. */
export function parseWithSchema<S extends z.ZodType>(loaded: LoadedYaml, schema: S): z.output<S> {
  const r = schema.safeParse(loaded.data);
  if (r.success) return r.data;
  const issue = pickIssue(r.error.issues);
  throw issueToError(loaded, issue);
}

type Issue = z.core.$ZodIssue;

/** Among several issues (or union branches), report the most specific one: deepest path first. */
function pickIssue(issues: readonly Issue[]): Issue {
  const flat: Issue[] = [];
  for (const i of issues) {
    if (i.code === 'invalid_union' && i.errors.length > 0) {
      for (const branch of i.errors) {
        // Branch issue paths are relative to the union's position.
        for (const sub of branch) flat.push({ ...sub, path: [...i.path, ...sub.path] } as Issue);
      }
    } else flat.push(i);
  }
  flat.sort((a, b) => {
    const byDepth = b.path.length - a.path.length;
    if (byDepth !== 0) return byDepth;
    // A type mismatch in one union branch is less telling than a real constraint.
    return Number(a.code === 'invalid_type') - Number(b.code === 'invalid_type');
  });
  return flat[0] ?? issues[0]!;
}

export function issueToError(loaded: LoadedYaml, issue: Issue): BadInputError {
  const path = issue.path as YamlPath;
  const dotted = path.length > 0 ? formatPath(path) : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return new BadInputError(
      `unknown field "${key}" in ${dotted}`,
      loaded.where([...path, key], { key: true }),
    );
  }
  return new BadInputError(`${dotted}: ${issue.message}`, loaded.where(path));
}

/** experiments[0].params.latency */
export function formatPath(path: YamlPath): string {
  return path
    .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : `${i > 0 ? '.' : ''}${String(seg)}`))
    .join('');
}
