/**
 * One named proxy: a TCP listener on `listen` that forwards each accepted connection to
 * `upstream` through the proxy's toxics (spec §5.1). Disabling, deleting or changing
 * listen/upstream closes the listener and every socket of the proxy at once.
 */

import type { Socket as DgramSocket } from 'node:dgram';
import { createServer, connect as dial, type Server, type Socket } from 'node:net';
import { bindListen, resolveListen, splitHostPort } from './address.ts';
import { internalError } from './api-error.ts';
import { Connection } from './connection.ts';
import type { Link } from './link.ts';
import { type Direction, ToxicCollection, type ToxicTarget } from './toxic-collection.ts';
import { UdpRelay } from './udp/relay.ts';

/** `tcp` is Toxiproxy's only kind; `udp` is our extension (docs/toxiproxy.md). */
export type ProxyProtocol = 'tcp' | 'udp';

/** Go enables TCP keep-alive on proxied sockets with a 15 s period. */
const KEEPALIVE_DELAY_MS = 15_000;

/** What every proxy of a server shares: the RNG and the server-wide resource registers. */
export interface ProxyEnv {
  random(): number;
  /** Every proxy socket (accepted client, dial in progress, upstream, UDP session) until it closes. */
  readonly openSockets: Set<Socket | DgramSocket>;
  /** Every proxy listener (TCP server or UDP listen socket) from bind until its close completes. */
  readonly openListeners: Set<Server | DgramSocket>;
  /** A UDP session with no datagram either way for this long is forgotten. */
  readonly udpIdleMs: number;
}

export class FaultProxy {
  enabled = false;
  readonly toxics: ToxicCollection;
  private server: Server | undefined;
  private relay: UdpRelay | undefined;
  private readonly connections = new Set<Connection>();
  /** Every socket this proxy opened or accepted, until it emits 'close'. */
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly name: string,
    public listen: string,
    public upstream: string,
    private readonly env: ProxyEnv,
    readonly protocol: ProxyProtocol = 'tcp',
  ) {
    const connections = this.connections;
    const relayOf = (): UdpRelay | undefined => this.relay;
    this.toxics = new ToxicCollection(
      {
        *links(direction: Direction): Iterable<Link | ToxicTarget> {
          for (const connection of connections) yield connection.linkFor(direction);
          const relay = relayOf();
          if (relay) yield* relay.links(direction);
        },
      },
      protocol,
    );
  }

  /** UDP: bind the datagram socket; sessions start with the clients' first datagrams. */
  private async startUdp(): Promise<void> {
    const resolved = await resolveListen(this.listen);
    if ('error' in resolved) throw internalError(resolved.error.replace(/^listen tcp/, 'listen udp'));
    const target = splitHostPort(this.upstream);
    const relay = new UdpRelay({
      upstream: 'error' in target ? undefined : target,
      toxics: (direction) => this.toxics.chain(direction),
      random: () => this.env.random(),
      idleMs: this.env.udpIdleMs,
      openListeners: this.env.openListeners,
      openSockets: this.env.openSockets,
    });
    try {
      this.listen = await relay.bind(resolved);
    } catch (err) {
      throw internalError((err as Error).message);
    }
    this.relay = relay;
    this.enabled = true;
  }

  /** Bind `listen`; on success `listen` becomes the bound address. Throws an ApiError 500. */
  async start(): Promise<void> {
    if (this.enabled) return;
    if (this.protocol === 'udp') return this.startUdp();
    const resolved = await resolveListen(this.listen);
    if ('error' in resolved) throw internalError(resolved.error);
    const server = createServer({
      pauseOnConnect: true, // nothing is read from the client before the upstream is dialled
      allowHalfOpen: true, // we close both directions ourselves, after the chains flush
      noDelay: true, // Go sets TCP_NODELAY; toxics would be blurred by Nagle otherwise
      keepAlive: true,
      keepAliveInitialDelay: KEEPALIVE_DELAY_MS,
    });
    server.on('connection', (client) => this.accept(client));
    try {
      this.listen = await bindListen(server, resolved);
    } catch (err) {
      throw internalError((err as Error).message);
    }
    // After the bind, listener errors (e.g. EMFILE on accept) are transient: keep serving
    // rather than let an unhandled 'error' take the whole server down.
    server.on('error', () => {});
    this.server = server;
    this.env.openListeners.add(server);
    this.enabled = true;
  }

  /** Close the listener and every socket of the proxy; resolves once the listener is closed. */
  async stop(): Promise<void> {
    this.enabled = false;
    const relay = this.relay;
    this.relay = undefined;
    if (relay) await relay.close();
    const server = this.server;
    this.server = undefined;
    const closed = server
      ? new Promise<void>((resolve) =>
          server.close(() => {
            this.env.openListeners.delete(server);
            resolve();
          }),
        )
      : Promise.resolve();
    // Wait for every socket's 'close' too, so that "stopped" means nothing of ours is open.
    const socketsClosed = [...this.sockets].map(
      (socket) =>
        new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve()))),
    );
    for (const connection of this.connections) connection.abort();
    this.connections.clear();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([closed, ...socketsClosed]);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    this.env.openSockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.env.openSockets.delete(socket);
    });
  }

  private accept(client: Socket): void {
    this.track(client);
    client.on('error', () => {}); // errors end the link via Connection; until then, ignore
    const target = splitHostPort(this.upstream);
    if ('error' in target || !this.enabled) {
      closeQuietly(client);
      return;
    }
    // Go dials inside its accept loop with no timeout; we dial concurrently (no head-of-line
    // blocking of later accepts) and also without a timeout.
    const upstream = dial({
      host: target.host === '' ? 'localhost' : target.host,
      port: target.port,
      allowHalfOpen: true,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: KEEPALIVE_DELAY_MS,
    });
    this.track(upstream);
    const abandon = (): void => {
      upstream.destroy();
    };
    client.once('close', abandon);
    upstream.once('error', () => {
      // The dial failed: the client reads EOF with no data ("Empty reply from server").
      client.off('close', abandon);
      closeQuietly(client);
    });
    upstream.once('connect', () => {
      client.off('close', abandon);
      upstream.removeAllListeners('error');
      if (client.destroyed || !this.enabled) {
        upstream.destroy();
        client.destroy();
        return;
      }
      const connection = new Connection({
        client,
        upstream,
        upstreamToxics: this.toxics.chain('upstream'),
        downstreamToxics: this.toxics.chain('downstream'),
        resetOnClose: this.toxics.hasResetPeer(),
        random: () => this.env.random(),
        onClosed: (c) => this.connections.delete(c),
      });
      this.connections.add(connection);
      connection.start();
    });
  }
}

/** FIN the client (after nothing was written) and drop it. */
function closeQuietly(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end(() => socket.destroy());
}
