/**
 * The simulated PowerDNS reads the LUA records the agent publishes and the harness loads
 * (src/agent/lua.ts) back into ordered units and check URLs; anything else is SERVFAIL.
 */
import { describe, expect, it } from 'vitest';
import { readLuaRecord } from '../../simulator/models/lua-record.ts';
import { orderedExtupLua, orderedUrlupLua } from '../../src/agent/lua.ts';

describe('readLuaRecord', () => {
  it('reads an ifurlextup record: answers in unit order, each with its own check URL', () => {
    const lua = orderedExtupLua([
      { answer: '127.0.2.10', checkUrl: 'http://127.0.0.5:7002/health' },
      { answer: '127.0.1.10', checkUrl: 'http://127.0.0.5:7001/health' },
    ]);
    expect(readLuaRecord(`A "${lua}"`)).toEqual({
      units: [
        [{ answer: '127.0.2.10', checkUrl: 'http://127.0.0.5:7002/health' }],
        [{ answer: '127.0.1.10', checkUrl: 'http://127.0.0.5:7001/health' }],
      ],
      stringmatch: 'OK',
    });
  });

  it('reads an ifurlup record: every address checked at the URL with the address as host', () => {
    const lua = orderedUrlupLua('http://127.0.1.10:8080/health', ['127.0.1.10', '127.0.2.10']);
    expect(readLuaRecord(`A "${lua}"`)).toEqual({
      units: [
        [{ answer: '127.0.1.10', checkUrl: 'http://127.0.1.10:8080/health' }],
        [{ answer: '127.0.2.10', checkUrl: 'http://127.0.2.10:8080/health' }],
      ],
      stringmatch: 'OK',
    });
  });

  it('several addresses in a unit, and no option table (no stringmatch)', () => {
    expect(readLuaRecord(`A "ifurlextup({{['x']='u1', ['y']='u2'}})"`)).toEqual({
      units: [
        [
          { answer: 'x', checkUrl: 'u1' },
          { answer: 'y', checkUrl: 'u2' },
        ],
      ],
      stringmatch: null,
    });
  });

  it('what PowerDNS could not evaluate is an error naming why', () => {
    const bad: Array<[string, RegExp]> = [
      [`AAAA "ifurlextup({{['x']='u'}})"`, /not an A-typed/],
      [`A "ifurlextup({{['x']='u'}}"`, /expected '\)'/],
      [`A "ifurlextup({{['x]='u'}})"`, /unterminated string|expected/],
      [`A "pickrandom({'x'})"`, /unknown function pickrandom/],
      [`A "ifurlextup({})"`, /empty unit list/],
      [`A "ifurlextup({{}})"`, /empty unit list/],
      [`A "ifurlextup({{['x']='u'}}) x"`, /trailing text/],
    ];
    for (const [content, why] of bad) {
      const r = readLuaRecord(content);
      expect('error' in r ? r.error : 'read', content).toMatch(why);
    }
  });
});
