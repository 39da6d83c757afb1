/**
 * How the simulated PowerDNS reads a LUA record's content (`A "ifurlextup(...)"` or
 * `A "ifurlup(...)"`): the answers, grouped in ordered units, and the URL each answer's
 * health is checked at. Only the two forms this project publishes and loads (src/agent/lua.ts)
 * are understood; anything else is what PowerDNS would fail to evaluate at query time
 * (SERVFAIL), so a record the agent or the harness built wrongly shows in the answers the
 * simulated resolvers and the DNS observer record, as it would on the real topology.
 *
 * Read per PowerDNS 4.7 (reference §4.2): ifurlextup({{['addr']='url', ...}, ...}, opts) —
 * each address checked at its own URL; ifurlup('url', {{'addr', ...}, ...}, opts) — every
 * address checked at the URL with the address as its host. `stringmatch` is the body text a
 * check must find; without it any 2xx answer is up.
 */

export interface LuaAnswer {
  answer: string;
  checkUrl: string;
}

export interface LuaRecord {
  units: LuaAnswer[][];
  stringmatch: string | null;
}

type Token = { kind: 'str' | 'name' | 'punct'; text: string };

function tokenize(src: string): Token[] | string {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ') i++;
    else if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) return 'unterminated string';
      out.push({ kind: 'str', text: src.slice(i + 1, end) });
      i = end + 1;
    } else if ('{}[](),='.includes(c)) {
      out.push({ kind: 'punct', text: c });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      out.push({ kind: 'name', text: src.slice(i, j) });
      i = j;
    } else return `unexpected ${JSON.stringify(c)}`;
  }
  return out;
}

/** A recursive-descent reader over the tokens of one call; throws a message on bad syntax. */
class Reader {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  done(): boolean {
    return this.i === this.tokens.length;
  }

  punct(text: string): void {
    const t = this.tokens[this.i++];
    if (t?.kind !== 'punct' || t.text !== text) throw new Error(`expected '${text}'`);
  }

  peek(text: string): boolean {
    const t = this.tokens[this.i];
    return t?.kind === 'punct' && t.text === text;
  }

  str(): string {
    const t = this.tokens[this.i++];
    if (t?.kind !== 'str') throw new Error('expected a string');
    return t.text;
  }

  name(): string {
    const t = this.tokens[this.i++];
    if (t?.kind !== 'name') throw new Error('expected a name');
    return t.text;
  }

  /** `{ item, item, ... }` */
  list<T>(item: () => T): T[] {
    this.punct('{');
    const out: T[] = [];
    while (!this.peek('}')) {
      out.push(item());
      if (!this.peek('}')) this.punct(',');
    }
    this.punct('}');
    return out;
  }

  /** the options table `{key='value', ...}` */
  options(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of this.list(() => {
      const key = this.name();
      this.punct('=');
      return [key, this.str()] as const;
    }))
      out.set(k, v);
    return out;
  }
}

/** `ifurlup`'s check URL for one address: the configured URL with the address as its host. */
function urlAt(url: string, address: string): string {
  const m = /^([a-z]+:\/\/)([^/:]+)(.*)$/.exec(url);
  return m ? `${m[1]}${address}${m[3]}` : url;
}

function readCall(r: Reader): LuaRecord {
  const fn = r.name();
  r.punct('(');
  let units: LuaAnswer[][];
  if (fn === 'ifurlextup') {
    units = r.list(() =>
      r.list(() => {
        r.punct('[');
        const answer = r.str();
        r.punct(']');
        r.punct('=');
        return { answer, checkUrl: r.str() };
      }),
    );
  } else if (fn === 'ifurlup') {
    const url = r.str();
    r.punct(',');
    units = r
      .list(() => r.list(() => r.str()))
      .map((u) => u.map((a) => ({ answer: a, checkUrl: urlAt(url, a) })));
  } else throw new Error(`unknown function ${fn}`);
  let options = new Map<string, string>();
  if (r.peek(',')) {
    r.punct(',');
    options = r.options();
  }
  r.punct(')');
  if (!r.done()) throw new Error('trailing text');
  if (units.length === 0 || units.some((u) => u.length === 0)) throw new Error('an empty unit list');
  return { units, stringmatch: options.get('stringmatch') ?? null };
}

/** A LUA record's content (`A "<lua>"`) for an A query → its units, or why PowerDNS could not evaluate it. */
export function readLuaRecord(content: string): LuaRecord | { error: string } {
  const m = /^A "(.*)"$/s.exec(content);
  if (!m) return { error: `not an A-typed LUA record: ${content.slice(0, 60)}` };
  const tokens = tokenize(m[1]!);
  if (typeof tokens === 'string') return { error: tokens };
  try {
    return readCall(new Reader(tokens));
  } catch (err) {
    return { error: (err as Error).message };
  }
}
