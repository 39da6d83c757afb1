/** Pure pieces of the built-in server: Go-style JSON decoding, addresses, slicer splits, client choice. */
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/errors.ts';
import { resolveListen, splitHostPort } from '../../src/toxiproxy/address.ts';
import { toxiproxyClient, toxiproxyUrl, usesExternalToxiproxy } from '../../src/toxiproxy/client.ts';
import {
  decodeDocument,
  decodeFirstValue,
  formatFloat32,
  GoJsonError,
  optFloat32,
  optInt,
  pickFields,
} from '../../src/toxiproxy/gojson.ts';
import { slicePieceEnds } from '../../src/toxiproxy/toxics/slicer.ts';

const goError = (text: string): string => {
  try {
    decodeFirstValue(text);
  } catch (err) {
    if (err instanceof GoJsonError) return err.message;
    throw err;
  }
  return 'no error';
};

describe('Go-compatible JSON decoding', () => {
  it('reads only the first value and ignores what follows', () => {
    expect(decodeFirstValue('{"a":1} trailing garbage')).toMatchObject({ kind: 'object' });
    expect(decodeFirstValue('  null')).toMatchObject({ kind: 'null' });
  });

  it("uses Go's error texts", () => {
    expect(goError('')).toBe('EOF');
    expect(goError('   \n')).toBe('EOF');
    expect(goError('{"name":')).toBe('unexpected EOF');
    expect(goError('{bad')).toBe("invalid character 'b' looking for beginning of object key string");
    expect(goError('{"a" 1}')).toBe("invalid character '1' after object key");
    expect(goError('{"a":1 "b":2}')).toBe("invalid character '\"' after object key:value pair");
    expect(goError('[1 2]')).toBe("invalid character '2' after array element");
    expect(goError('x')).toBe("invalid character 'x' looking for beginning of value");
    expect(goError('trux')).toBe("invalid character 'x' in literal true (expecting 'e')");
    expect(goError('"a\nb"')).toBe("invalid character '\\n' in string literal");
  });

  it('matches keys case-insensitively, preferring an exact match', () => {
    const obj = decodeFirstValue('{"NAME":"upper","name":"exact","Other":1}');
    if (obj.kind !== 'object') throw new Error('object expected');
    const fields = pickFields(obj, ['name', 'other']);
    expect(fields.get('name')).toMatchObject({ kind: 'string', value: 'exact' });
    expect(fields.get('other')?.kind).toBe('number');
  });

  it('integers reject fractions, exponents and values beyond 2^53', () => {
    const ref = { struct: 'LatencyToxic', field: 'latency' };
    expect(optInt(decodeFirstValue('100'), ref)).toBe(100);
    expect(optInt(decodeFirstValue('-5'), ref)).toBe(-5);
    expect(optInt(decodeFirstValue('null'), ref)).toBeUndefined();
    expect(() => optInt(decodeFirstValue('100.0'), ref)).toThrow(
      'json: cannot unmarshal number 100.0 into Go struct field LatencyToxic.latency of type int64',
    );
    expect(() => optInt(decodeFirstValue('1e3'), ref)).toThrow(GoJsonError);
    expect(() => optInt(decodeFirstValue('"5"'), ref)).toThrow('cannot unmarshal string');
    expect(() => optInt(decodeFirstValue('9223372036854775807'), ref)).toThrow(GoJsonError);
  });

  it('toxicity is a float32 written with the fewest digits, as Go does', () => {
    const ref = { struct: 'ToxicWrapper', field: 'toxicity' };
    const f = optFloat32(decodeFirstValue('0.2'), ref)!;
    expect(f).not.toBe(0.2); // really rounded to float32
    expect(formatFloat32(f)).toBe('0.2');
    expect(formatFloat32(Math.fround(1))).toBe('1');
    expect(formatFloat32(Math.fround(2.5))).toBe('2.5');
    expect(formatFloat32(Math.fround(-1))).toBe('-1');
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(() => optFloat32(decodeFirstValue('1e39'), ref)).toThrow(GoJsonError);
  });

  it('whole documents (config files) reject trailing data and report the offset', () => {
    expect(() => decodeDocument('[] x')).toThrow('unexpected data after the JSON value');
    try {
      decodeDocument('[\n {"a":}');
    } catch (err) {
      expect((err as GoJsonError).offset).toBe(8);
    }
  });
});

describe('addresses', () => {
  it("splits host:port with Go's errors", () => {
    expect(splitHostPort('127.0.0.1:80')).toEqual({ host: '127.0.0.1', port: 80 });
    expect(splitHostPort('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(splitHostPort(':8474')).toEqual({ host: '', port: 8474 });
    expect(splitHostPort('127.0.0.1')).toEqual({ error: 'address 127.0.0.1: missing port in address' });
    expect(splitHostPort('127.0.0.1:70000')).toEqual({ error: 'address 70000: invalid port' });
    expect(splitHostPort('a:b:1')).toEqual({ error: 'address a:b:1: too many colons in address' });
  });

  it('resolves listen strings like ResolveTCPAddr (localhost → IPv4; wildcard kept)', async () => {
    expect(await resolveListen('localhost:5')).toEqual({
      ip: '127.0.0.1',
      port: 5,
      canonical: '127.0.0.1:5',
    });
    expect(await resolveListen('0.0.0.0:7')).toEqual({ ip: '', port: 7, canonical: '0.0.0.0:7' });
    expect(await resolveListen('')).toEqual({ error: 'listen tcp: address : missing port in address' });
    expect(await resolveListen(':9')).toEqual({ ip: '', port: 9, canonical: ':9' });
  });
});

describe('slicer splitting', () => {
  it('100 bytes, average 10, variation 0 → 16 pieces of 6–7 bytes (recursive halving)', () => {
    const ends = slicePieceEnds(100, 10, 0, () => 0.5);
    expect(ends).toHaveLength(16);
    expect(ends.at(-1)).toBe(100);
    const sizes = ends.map((end, i) => end - (i === 0 ? 0 : ends[i - 1]!));
    expect(sizes.every((s) => s === 6 || s === 7)).toBe(true);
  });

  it('24 bytes with average 1 → 24 one-byte pieces', () => {
    expect(slicePieceEnds(24, 1, 0, Math.random)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
  });

  it('negative variation splits down to average + variation; variation = average stays in bounds', () => {
    const negative = slicePieceEnds(100, 10, -3, Math.random);
    const sizesOf = (ends: number[]) => ends.map((end, k) => end - (k === 0 ? 0 : ends[k - 1]!));
    expect(negative.at(-1)).toBe(100);
    expect(Math.max(...sizesOf(negative))).toBeLessThanOrEqual(7);
    for (const roll of [0, 0.999]) {
      const ends = slicePieceEnds(21, 10, 10, () => roll);
      expect(ends.at(-1)).toBe(21);
      expect(Math.min(...sizesOf(ends))).toBeGreaterThan(0);
    }
  });

  it('with variation, pieces stay within average + variation and never empty', () => {
    const rolls = [0, 0.99, 0.5, 0.01, 0.75];
    let i = 0;
    const ends = slicePieceEnds(4096, 64, 32, () => rolls[i++ % rolls.length]!);
    const sizes = ends.map((end, k) => end - (k === 0 ? 0 : ends[k - 1]!));
    expect(ends.at(-1)).toBe(4096);
    expect(Math.min(...sizes)).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(96);
  });
});

describe('client selection (TOXIPROXY_URL)', () => {
  it('uses the built-in URL when TOXIPROXY_URL is unset or empty', () => {
    expect(toxiproxyUrl('http://127.0.30.1:1234/', {})).toBe('http://127.0.30.1:1234');
    expect(toxiproxyUrl('http://127.0.30.1:1234', { TOXIPROXY_URL: ' ' })).toBe('http://127.0.30.1:1234');
    expect(usesExternalToxiproxy({})).toBe(false);
  });

  it('prefers TOXIPROXY_URL, without a trailing slash', () => {
    const env = { TOXIPROXY_URL: 'http://127.0.0.1:8474/' };
    expect(toxiproxyUrl('http://127.0.30.1:1234', env)).toBe('http://127.0.0.1:8474');
    expect(toxiproxyClient('http://127.0.30.1:1234', env).url).toBe('http://127.0.0.1:8474');
    expect(usesExternalToxiproxy(env)).toBe(true);
  });

  it('rejects a malformed TOXIPROXY_URL as bad input naming the variable', () => {
    expect(() => toxiproxyUrl('http://x', { TOXIPROXY_URL: 'not a url' })).toThrow(BadInputError);
    expect(() => toxiproxyUrl('http://x', { TOXIPROXY_URL: 'ftp://h:1' })).toThrow('env TOXIPROXY_URL');
  });
});
