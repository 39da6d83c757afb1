/**
 * Request-body decoding with the rules Go's encoding/json applies in Toxiproxy (spec §2.5):
 * only the first JSON value counts (trailing bytes are ignored), object keys match struct
 * fields case-insensitively (exact match preferred), unknown keys are ignored, `null` keeps
 * the default, and integer fields reject fractions and exponents.
 *
 * JSON.parse cannot do this: it loses the lexical form of numbers (so `100.0` would pass as
 * an integer) and rejects trailing data, so this file carries a small parser of its own.
 * Error texts follow Go's wording because clients show them to users (`bad request body: …`).
 */

export type JsonValue = (
  | { kind: 'null' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'number'; raw: string }
  | { kind: 'string'; value: string }
  | { kind: 'array'; items: JsonValue[] }
  | { kind: 'object'; entries: Array<[string, JsonValue]> }
) & {
  /** Offset of the value in the input (for file:line:col in config errors). */
  at?: number;
};

/** A decode failure; `message` is Go's text, e.g. `unexpected EOF`. */
export class GoJsonError extends Error {
  override name = 'GoJsonError';
  constructor(
    message: string,
    /** Character offset of the problem in the input, when known (for file:line:col). */
    readonly offset?: number,
  ) {
    super(message);
  }
}

/** Go's quoteChar: how a byte is shown in syntax errors. */
function quoteChar(ch: string): string {
  if (ch === "'") return "'\\''";
  if (ch === '"') return "'\"'";
  const quoted = JSON.stringify(ch);
  return `'${quoted.slice(1, -1)}'`;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  skipWs(): void {
    while (this.pos < this.text.length && WHITESPACE.has(this.text[this.pos]!)) this.pos++;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  get offset(): number {
    return this.pos;
  }

  private eof(): never {
    throw new GoJsonError('unexpected EOF', this.pos);
  }

  private fail(context: string): never {
    if (this.atEnd()) this.eof();
    throw new GoJsonError(`invalid character ${quoteChar(this.text[this.pos]!)} ${context}`, this.pos);
  }

  value(): JsonValue {
    this.skipWs();
    const at = this.pos;
    const value = this.bareValue();
    value.at = at;
    return value;
  }

  private bareValue(): JsonValue {
    const ch = this.text[this.pos];
    if (ch === '{') return this.object();
    if (ch === '[') return this.array();
    if (ch === '"') return { kind: 'string', value: this.string() };
    if (ch === 't') return this.literal('true', { kind: 'bool', value: true });
    if (ch === 'f') return this.literal('false', { kind: 'bool', value: false });
    if (ch === 'n') return this.literal('null', { kind: 'null' });
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.number();
    return this.fail('looking for beginning of value');
  }

  private literal(word: string, result: JsonValue): JsonValue {
    for (let i = 0; i < word.length; i++) {
      if (this.atEnd()) this.eof();
      if (this.text[this.pos] !== word[i]) {
        this.fail(`in literal ${word} (expecting ${quoteChar(word[i]!)})`);
      }
      this.pos++;
    }
    return result;
  }

  private digits(): number {
    const start = this.pos;
    while (this.pos < this.text.length && this.text[this.pos]! >= '0' && this.text[this.pos]! <= '9')
      this.pos++;
    return this.pos - start;
  }

  private number(): JsonValue {
    const start = this.pos;
    if (this.text[this.pos] === '-') this.pos++;
    if (this.text[this.pos] === '0') this.pos++;
    else if (this.digits() === 0) this.fail('in numeric literal');
    if (this.text[this.pos] === '.') {
      this.pos++;
      if (this.digits() === 0) this.fail('after decimal point in numeric literal');
    }
    if (this.text[this.pos] === 'e' || this.text[this.pos] === 'E') {
      this.pos++;
      if (this.text[this.pos] === '+' || this.text[this.pos] === '-') this.pos++;
      if (this.digits() === 0) this.fail('in exponent of numeric literal');
    }
    return { kind: 'number', raw: this.text.slice(start, this.pos) };
  }

  private string(): string {
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      if (this.atEnd()) this.eof();
      const ch = this.text[this.pos]!;
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch < ' ') this.fail('in string literal');
      if (ch !== '\\') {
        out += ch;
        this.pos++;
        continue;
      }
      this.pos++;
      if (this.atEnd()) this.eof();
      const esc = this.text[this.pos]!;
      const simple: Record<string, string> = {
        '"': '"',
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      };
      if (esc in simple) {
        out += simple[esc];
        this.pos++;
      } else if (esc === 'u') {
        this.pos++;
        let code = 0;
        for (let i = 0; i < 4; i++) {
          if (this.atEnd()) this.eof();
          const hex = this.text[this.pos]!;
          if (!/[0-9a-fA-F]/.test(hex)) this.fail('in \\u hexadecimal character escape');
          code = code * 16 + Number.parseInt(hex, 16);
          this.pos++;
        }
        out += String.fromCharCode(code);
      } else {
        this.fail('in string escape code');
      }
    }
  }

  private object(): JsonValue {
    this.pos++;
    const entries: Array<[string, JsonValue]> = [];
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { kind: 'object', entries };
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== '"') this.fail('looking for beginning of object key string');
      const key = this.string();
      this.skipWs();
      if (this.text[this.pos] !== ':') this.fail('after object key');
      this.pos++;
      entries.push([key, this.value()]);
      this.skipWs();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      if (this.text[this.pos] === '}') {
        this.pos++;
        return { kind: 'object', entries };
      }
      this.fail('after object key:value pair');
    }
  }

  private array(): JsonValue {
    this.pos++;
    const items: JsonValue[] = [];
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(this.value());
      this.skipWs();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      if (this.text[this.pos] === ']') {
        this.pos++;
        return { kind: 'array', items };
      }
      this.fail('after array element');
    }
  }
}

/**
 * Decode the first JSON value of `text`, as Go's json.Decoder.Decode does: an empty or
 * all-whitespace body is `EOF`, whatever follows the first value is ignored.
 */
export function decodeFirstValue(text: string): JsonValue {
  const parser = new Parser(text);
  parser.skipWs();
  if (parser.atEnd()) throw new GoJsonError('EOF');
  return parser.value();
}

/**
 * Decode a whole document that must hold exactly one value (config files): like
 * decodeFirstValue, but anything after the value is an error too.
 */
export function decodeDocument(text: string): JsonValue {
  const parser = new Parser(text);
  parser.skipWs();
  if (parser.atEnd()) throw new GoJsonError('empty document', 0);
  const value = parser.value();
  parser.skipWs();
  if (!parser.atEnd()) throw new GoJsonError('unexpected data after the JSON value', parser.offset);
  return value;
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

/** Go's name for a JSON value kind in "cannot unmarshal X into …" messages. */
function kindName(v: JsonValue): string {
  return v.kind === 'bool' ? 'bool' : v.kind;
}

export type GoType = 'string' | 'bool' | 'int64' | 'int' | 'float32' | 'float64';

/** Where a field lives, for error messages: Go struct name and JSON field name. */
export interface FieldRef {
  struct: string;
  field: string;
}

function typeError(v: JsonValue, ref: FieldRef, goType: GoType): GoJsonError {
  const what = v.kind === 'number' ? `number ${v.raw}` : kindName(v);
  return new GoJsonError(
    `json: cannot unmarshal ${what} into Go struct field ${ref.struct}.${ref.field} of type ${goType}`,
  );
}

/** A top-level body of the wrong shape (e.g. an array where an object is expected). */
export function valueTypeError(v: JsonValue, goTypeName: string): GoJsonError {
  return new GoJsonError(`json: cannot unmarshal ${kindName(v)} into Go value of type ${goTypeName}`);
}

/**
 * Pick the values of the named fields from an object, matching keys the way Go does:
 * an exact key wins, otherwise a case-insensitive one; keys that match no field are ignored.
 */
export function pickFields(
  obj: Extract<JsonValue, { kind: 'object' }>,
  fieldNames: readonly string[],
): Map<string, JsonValue> {
  const picked = new Map<string, JsonValue>();
  const exact = new Set<string>();
  for (const [key, value] of obj.entries) {
    if (fieldNames.includes(key)) {
      picked.set(key, value);
      exact.add(key);
      continue;
    }
    const folded = key.toLowerCase();
    const field = fieldNames.find((name) => name.toLowerCase() === folded);
    if (field !== undefined && !exact.has(field)) picked.set(field, value);
  }
  return picked;
}

/** `null` and absence both mean "keep the default", as in Go. */
export function optString(v: JsonValue | undefined, ref: FieldRef): string | undefined {
  if (v === undefined || v.kind === 'null') return undefined;
  if (v.kind !== 'string') throw typeError(v, ref, 'string');
  return v.value;
}

export function optBool(v: JsonValue | undefined, ref: FieldRef): boolean | undefined {
  if (v === undefined || v.kind === 'null') return undefined;
  if (v.kind !== 'bool') throw typeError(v, ref, 'bool');
  return v.value;
}

/**
 * Integer fields take only plain integer literals (`100.0` and `1e3` fail, as in Go).
 * Go accepts the whole int64 range; we stop at ±(2^53−1) so that every stored value is an
 * exact JS number (a documented deviation; no sane latency or byte count gets near it).
 */
export function optInt(
  v: JsonValue | undefined,
  ref: FieldRef,
  goType: 'int64' | 'int' = 'int64',
): number | undefined {
  if (v === undefined || v.kind === 'null') return undefined;
  if (v.kind !== 'number' || !/^-?\d+$/.test(v.raw)) throw typeError(v, ref, goType);
  const n = Number(v.raw);
  if (!Number.isSafeInteger(n)) throw typeError(v, ref, goType);
  return n;
}

/** float64 fields (only our `loss` probability): any finite JSON number. */
export function optFloat64(v: JsonValue | undefined, ref: FieldRef): number | undefined {
  if (v === undefined || v.kind === 'null') return undefined;
  if (v.kind !== 'number') throw typeError(v, ref, 'float64');
  const n = Number(v.raw);
  if (!Number.isFinite(n)) throw typeError(v, ref, 'float64');
  return n;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** float32 fields (toxicity): any JSON number in float32 range, rounded to float32. */
export function optFloat32(v: JsonValue | undefined, ref: FieldRef): number | undefined {
  if (v === undefined || v.kind === 'null') return undefined;
  if (v.kind !== 'number') throw typeError(v, ref, 'float32');
  const n = Number(v.raw);
  if (!Number.isFinite(n) || Math.abs(n) > FLOAT32_MAX) throw typeError(v, ref, 'float32');
  return Math.fround(n);
}

/**
 * Go writes a float32 with the fewest digits that read back as the same float32
 * (`0.5`, `0.2`, `1`), where JS would print the float64 expansion (0.20000000298023224).
 */
export function formatFloat32(f: number): string {
  if (Number.isInteger(f) && Math.abs(f) < 1e21) return String(f);
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(f.toPrecision(precision));
    if (Math.fround(candidate) === f) return String(candidate);
  }
  return String(f);
}
