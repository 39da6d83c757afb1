/**
 * A proxy's toxics: two ordered chains (upstream, downstream) in creation order, the API's
 * create/update/delete rules (spec §4.2 E9–E12) and the fan-out of every change to the live
 * links of the proxy, done before the API answers so that a response means "in effect".
 */
import * as errors from './api-error.ts';
import {
  GoJsonError,
  type JsonValue,
  optFloat32,
  optFloat64,
  optInt,
  optString,
  pickFields,
  valueTypeError,
} from './gojson.ts';
import type { ToxicSpec } from './link.ts';
import { toxicTypeNamed } from './toxics/registry.ts';
import type { Attributes, ToxicType } from './toxics/types.ts';

export type Direction = 'upstream' | 'downstream';

export interface Toxic extends ToxicSpec {
  readonly name: string;
  readonly kind: ToxicType;
  /** The stream text as the client sent it (echoed back verbatim, e.g. "UPSTREAM"). */
  readonly streamText: string;
  readonly direction: Direction;
}

/** What a live link (a TCP link or one direction of a UDP session) does when the chain changes. */
export interface ToxicTarget {
  addToxic(spec: ToxicSpec): void;
  updateToxic(spec: ToxicSpec): void;
  removeToxic(spec: ToxicSpec, closeConnection: boolean): void;
}

export interface LiveLinks {
  /** Every live link of the proxy in the given direction. */
  links(direction: Direction): Iterable<ToxicTarget>;
}

const WRAPPER = 'toxics.ToxicWrapper';

function parseDirection(stream: string): Direction | undefined {
  const lower = stream.toLowerCase();
  return lower === 'upstream' || lower === 'downstream' ? lower : undefined;
}

/** Decode `attributes` for a type: an object (or null/absent) of integer fields. */
function decodeAttributes(kind: ToxicType, raw: JsonValue | undefined, base: Attributes): Attributes {
  const attrs: Attributes = { ...base };
  if (raw === undefined || raw.kind === 'null') return attrs;
  if (raw.kind !== 'object') throw valueTypeError(raw, `toxics.${kind.goStruct}`);
  const fields = pickFields(
    raw,
    kind.attributes.map((a) => a.name),
  );
  for (const spec of kind.attributes) {
    const ref = { struct: kind.goStruct, field: spec.name };
    const raw = fields.get(spec.name);
    const value = spec.goType === 'float64' ? optFloat64(raw, ref) : optInt(raw, ref, spec.goType);
    if (value !== undefined) attrs[spec.name] = value;
  }
  return attrs;
}

function zeroAttributes(kind: ToxicType): Attributes {
  const attrs: Attributes = {};
  for (const spec of kind.attributes) attrs[spec.name] = 0;
  return attrs;
}

function checkSafe(kind: ToxicType, attrs: Attributes): void {
  const problem = kind.validate?.(attrs);
  if (problem !== undefined) throw errors.badRequestBody(problem);
}

function asBodyError(err: unknown): never {
  if (err instanceof GoJsonError) throw errors.badRequestBody(err.message);
  throw err;
}

export class ToxicCollection {
  private readonly chains: Record<Direction, Toxic[]> = { upstream: [], downstream: [] };

  constructor(
    private readonly live: LiveLinks,
    /** A UDP proxy takes only the toxic types with a datagram behaviour. */
    private readonly protocol: 'tcp' | 'udp' = 'tcp',
  ) {}

  /** All upstream toxics in creation order, then all downstream ones (spec §3.1). */
  list(): Toxic[] {
    return [...this.chains.upstream, ...this.chains.downstream];
  }

  chain(direction: Direction): readonly Toxic[] {
    return this.chains[direction];
  }

  find(name: string): Toxic | undefined {
    return (
      this.chains.upstream.find((t) => t.name === name) ?? this.chains.downstream.find((t) => t.name === name)
    );
  }

  hasResetPeer(): boolean {
    return this.list().some((t) => t.kind.resetsPeer === true);
  }

  /** POST /proxies/{p}/toxics, with Go's check order (stream, name, type, conflict, attributes). */
  add(body: JsonValue): Toxic {
    try {
      if (body.kind !== 'object' && body.kind !== 'null') throw valueTypeError(body, WRAPPER);
      const fields =
        body.kind === 'object'
          ? pickFields(body, ['name', 'type', 'stream', 'toxicity', 'attributes'])
          : new Map<string, JsonValue>();
      const ref = (field: string) => ({ struct: 'ToxicWrapper', field });
      let name = optString(fields.get('name'), ref('name')) ?? '';
      const typeName = optString(fields.get('type'), ref('type')) ?? '';
      const streamText = optString(fields.get('stream'), ref('stream')) ?? 'downstream';
      const toxicity = optFloat32(fields.get('toxicity'), ref('toxicity')) ?? 1;
      const attributesRaw = fields.get('attributes');

      const direction = parseDirection(streamText);
      if (direction === undefined) throw errors.invalidStream();
      if (name === '') name = `${typeName}_${streamText}`;
      const kind = toxicTypeNamed(typeName);
      if (kind === undefined) throw errors.invalidToxicType();
      if (this.protocol === 'udp' && kind.datagram === undefined) throw errors.toxicTypeNotForUdp(typeName);
      if (this.find(name) !== undefined) throw errors.toxicAlreadyExists();
      const attributes = decodeAttributes(kind, attributesRaw, zeroAttributes(kind));
      checkSafe(kind, attributes);

      const toxic: Toxic = { name, kind, streamText, direction, toxicity, attributes };
      this.chains[direction].push(toxic);
      for (const link of this.live.links(direction)) link.addToxic(toxic);
      return toxic;
    } catch (err) {
      return asBodyError(err);
    }
  }

  /**
   * POST/PATCH /proxies/{p}/toxics/{t}: only attributes (merged field by field) and toxicity
   * change; name/type/stream in the body are ignored. Every live link restarts the toxic.
   * Unlike Go, a body that fails to decode changes nothing (Go may apply part of it).
   */
  update(toxic: Toxic, body: JsonValue): Toxic {
    try {
      if (body.kind !== 'object' && body.kind !== 'null') throw valueTypeError(body, WRAPPER);
      const fields = body.kind === 'object' ? pickFields(body, ['toxicity', 'attributes']) : new Map();
      const toxicity = optFloat32(fields.get('toxicity'), { struct: 'ToxicWrapper', field: 'toxicity' });
      const attributes = decodeAttributes(toxic.kind, fields.get('attributes'), toxic.attributes);
      checkSafe(toxic.kind, attributes);
      toxic.attributes = attributes;
      if (toxicity !== undefined) toxic.toxicity = toxicity;
      for (const link of this.live.links(toxic.direction)) link.updateToxic(toxic);
      return toxic;
    } catch (err) {
      return asBodyError(err);
    }
  }

  remove(toxic: Toxic): void {
    const chain = this.chains[toxic.direction];
    const index = chain.indexOf(toxic);
    if (index < 0) return;
    chain.splice(index, 1);
    const closes = toxic.kind.closesConnectionOnRemove === true;
    for (const link of this.live.links(toxic.direction)) link.removeToxic(toxic, closes);
  }

  removeAll(): void {
    for (const toxic of this.list()) this.remove(toxic);
  }
}
