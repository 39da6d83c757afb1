/**
 * The few Cloudflare Workers runtime types the lease Worker uses, declared here so the
 * Worker type-checks under the project's tsconfig (types: node) without pulling in
 * @cloudflare/workers-types (which would also clash with Node's globals). Only the members
 * we call are declared; the shapes follow the Workers runtime API. Types only: this module
 * emits no code, so it is safe to import from both workerd and Node.
 *
 * Request, Response, Headers, URL and crypto come from the global fetch/WebCrypto
 * declarations that @types/node provides; workerd implements the same standard shapes.
 */

export interface DurableObjectId {
  toString(): string;
}

/** A stub to one Durable Object instance; we talk to it with plain fetch (no RPC). */
export interface DurableObjectStub {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

export interface DurableObjectNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub;
}

export interface DurableObjectListOptions {
  prefix?: string;
  start?: string;
  end?: string;
  limit?: number;
}

/**
 * Transactional storage of one Durable Object. Calls made without an intervening await on
 * non-storage I/O are protected by the input gate, and writes issued without an await in
 * between are coalesced into one atomic transaction.
 */
export interface DurableObjectStorage {
  get<T = unknown>(keys: string[]): Promise<Map<string, T>>;
  put(entries: Record<string, unknown>): Promise<void>;
  delete(keys: string[]): Promise<number>;
  list<T = unknown>(options?: DurableObjectListOptions): Promise<Map<string, T>>;
}

export interface DurableObjectState {
  readonly id: DurableObjectId;
  readonly storage: DurableObjectStorage;
  waitUntil(promise: Promise<unknown>): void;
}

export interface KVNamespaceGetWithMetadataResult<M> {
  value: string | null;
  metadata: M | null;
}

export interface KVNamespacePutOptions {
  /** seconds from now; Cloudflare rejects values below 60 */
  expirationTtl?: number;
  metadata?: unknown;
}

export interface KVNamespace {
  get(key: string): Promise<string | null>;
  getWithMetadata<M = unknown>(key: string): Promise<KVNamespaceGetWithMetadataResult<M>>;
  put(key: string, value: string, options?: KVNamespacePutOptions): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}
