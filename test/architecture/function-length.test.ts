/**
 * No function in src/ or simulator/ is longer than 150 lines (issue #19; TigerBeetle keeps
 * to 70). Long orchestration reads as a list of named phases, each its own function. A
 * function's length is its whole span, first line to last, nested closures included: a
 * 200-line function made of closures is still 200 lines to read. Offenders are listed as
 * file:line name (lines).
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from './sources.ts';

const MAX_FUNCTION_LINES = 150;

/**
 * Functions still over the limit while issue #19's splits land, with their length when
 * listed: each may only shrink, and must leave this list once it is within the limit.
 * Keyed "file name".
 */
const NOT_YET_SPLIT: Record<string, number> = {};

interface FunctionSpan {
  file: string;
  line: number;
  name: string;
  lines: number;
}

function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isAccessor(node)) && node.name) {
    return node.name.getText(sf);
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(sf);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(sf);
  if (parent && ts.isPropertyDeclaration(parent)) return parent.name.getText(sf);
  return '(anonymous)';
}

function functionSpans(file: string, text: string): FunctionSpan[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: FunctionSpan[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ file, line: start + 1, name: nameOf(node, sf), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe('function length', () => {
  it('the measure counts a function from its first to its last line', () => {
    const spans = functionSpans('x.ts', 'function f() {\n  const g = () => {\n    return 1;\n  };\n}\n');
    expect(spans.map((s) => [s.name, s.lines])).toEqual([
      ['f', 5],
      ['g', 3],
    ]);
  });

  const spans = sourceFiles().flatMap((s) => functionSpans(s.path, s.text));

  it(`no function in src/ or simulator/ exceeds ${MAX_FUNCTION_LINES} lines`, () => {
    const offenders = spans
      .filter((f) => f.lines > MAX_FUNCTION_LINES)
      .filter((f) => {
        const listed = NOT_YET_SPLIT[`${f.file} ${f.name}`];
        return listed === undefined || f.lines > listed;
      })
      .sort((a, b) => b.lines - a.lines)
      .map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lines)`);
    expect(offenders, 'split these into named phases, one job each').toEqual([]);
  });

  it('the not-yet-split list holds only functions still over the limit', () => {
    const over = new Set(spans.filter((f) => f.lines > MAX_FUNCTION_LINES).map((f) => `${f.file} ${f.name}`));
    expect(Object.keys(NOT_YET_SPLIT).filter((k) => !over.has(k))).toEqual([]);
  });
});
