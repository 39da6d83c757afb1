/**
 * The data plane of a UDP proxy (our extension): one datagram socket bound to `listen`, and
 * one *session* per client 5-tuple (client address and port → this listen address). A
 * session owns a datagram socket connected to `upstream`, so the upstream sees one stable
 * source per client and only the upstream's replies come back; they are sent to the client
 * from the listen socket. A session is forgotten after `idleMs` without a datagram either
 * way, like a NAT or conntrack entry; the client's next datagram opens a new one.
 *
 * Each session has two DatagramLinks (upstream = client→server, downstream = server→client)
 * running the proxy's toxics, exactly like a TCP connection's two links.
 */
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { type HostPort, joinHostPort, type ResolvedListen } from '../address.ts';
import type { ToxicSpec } from '../link.ts';
import type { Direction, ToxicTarget } from '../toxic-collection.ts';
import { DatagramLink } from './datagram-link.ts';

interface SocketRegister {
  add(socket: DgramSocket): unknown;
  delete(socket: DgramSocket): unknown;
}

export interface UdpRelayOptions {
  /** undefined when `upstream` does not parse: datagrams are then dropped (TCP: EOF). */
  upstream: HostPort | undefined;
  toxics(direction: Direction): readonly ToxicSpec[];
  random(): number;
  idleMs: number;
  /** Server-wide registers, for leak checks (counts()). */
  openListeners: SocketRegister;
  openSockets: SocketRegister;
}

const BIND_ERROR_TEXT: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'cannot assign requested address',
};

/** Datagrams kept while a session's upstream socket connects (a name lookup may be slow). */
const MAX_PENDING_DATAGRAMS = 1024;

class UdpSession {
  readonly upstreamLink: DatagramLink;
  readonly downstreamLink: DatagramLink;
  private readonly socket: DgramSocket;
  private connected = false;
  private closed = false;
  /** Datagrams that left the upstream chain before the upstream socket was connected. */
  private pending: Buffer[] = [];
  private readonly idleTimer: NodeJS.Timeout;
  private socketClosing = false;
  private markSocketClosed: () => void = () => {};
  private readonly socketClosed = new Promise<void>((resolve) => {
    this.markSocketClosed = resolve;
  });

  constructor(
    private readonly relay: UdpRelay,
    readonly key: string,
    private readonly client: HostPort,
  ) {
    const opts = relay.opts;
    const upstream = opts.upstream!;
    const host = upstream.host === '' ? 'localhost' : upstream.host;
    this.socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    opts.openSockets.add(this.socket);
    this.socket.once('close', () => opts.openSockets.delete(this.socket));
    // ICMP unreachable from a dead upstream surfaces here: for UDP that is silence, not a close.
    // A failed connect (name lookup) ends up here too; then the socket is of no use.
    this.socket.on('error', () => {
      if (!this.connected) this.closeSocket();
    });
    this.socket.on('message', (data) => {
      this.touch();
      this.downstreamLink.push(data);
    });
    this.socket.connect(upstream.port, host, () => {
      this.connected = true;
      // What left the chain before the connect goes out even if the session ended meanwhile
      // (limit_data reached on the session's first datagram).
      for (const data of this.pending) this.socket.send(data, () => {});
      this.pending = [];
      if (this.closed) this.closeSocket();
    });
    const hooks = (send: (data: Buffer) => void) => ({
      random: () => opts.random(),
      send,
      closeSession: () => this.close(),
    });
    this.upstreamLink = new DatagramLink(
      'upstream',
      opts.toxics('upstream'),
      hooks((data) => this.sendUpstream(data)),
    );
    this.downstreamLink = new DatagramLink(
      'downstream',
      opts.toxics('downstream'),
      hooks((data) => this.relay.sendToClient(data, this.client)),
    );
    this.idleTimer = setTimeout(() => this.close(), opts.idleMs);
    this.idleTimer.unref();
  }

  touch(): void {
    if (!this.closed) this.idleTimer.refresh();
  }

  private closeSocket(): void {
    if (this.socketClosing) return;
    this.socketClosing = true;
    this.socket.close(() => this.markSocketClosed());
  }

  private sendUpstream(data: Buffer): void {
    if (this.closed) return;
    if (!this.connected) {
      if (this.pending.length < MAX_PENDING_DATAGRAMS) this.pending.push(data);
      return;
    }
    this.socket.send(data, () => {});
  }

  link(direction: Direction): DatagramLink {
    return direction === 'upstream' ? this.upstreamLink : this.downstreamLink;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.upstreamLink.dispose();
    this.downstreamLink.dispose();
    this.relay.forget(this);
    // Not yet connected: the connect callback (or its error) closes the socket.
    if (this.connected || this.pending.length === 0) this.closeSocket();
    return this.socketClosed;
  }
}

export class UdpRelay {
  private socket: DgramSocket | undefined;
  private readonly sessions = new Map<string, UdpSession>();

  constructor(readonly opts: UdpRelayOptions) {}

  /** Bind the listen socket; returns the address to report (the real port for port 0). */
  async bind(addr: ResolvedListen): Promise<string> {
    const ip = addr.ip === '' ? '0.0.0.0' : addr.ip;
    const socket = createSocket({ type: isIPv6(ip) ? 'udp6' : 'udp4', reuseAddr: false });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: ip, port: addr.port, exclusive: true }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      const code = (err as NodeJS.ErrnoException).code ?? '';
      throw new Error(
        `listen udp ${addr.canonical}: bind: ${BIND_ERROR_TEXT[code] ?? (err as Error).message}`,
      );
    }
    socket.on('error', () => {}); // after the bind, errors (ICMP from clients) are transient
    socket.on('message', (data, rinfo) => this.fromClient(data, { host: rinfo.address, port: rinfo.port }));
    this.socket = socket;
    this.opts.openListeners.add(socket);
    const bound = socket.address();
    return joinHostPort(bound.address, bound.port);
  }

  private fromClient(data: Buffer, client: HostPort): void {
    if (this.opts.upstream === undefined) return;
    const key = joinHostPort(client.host, client.port);
    let session = this.sessions.get(key);
    if (session === undefined) {
      session = new UdpSession(this, key, client);
      this.sessions.set(key, session);
    }
    session.touch();
    session.upstreamLink.push(data);
  }

  sendToClient(data: Buffer, client: HostPort): void {
    this.socket?.send(data, client.port, client.host, () => {});
  }

  forget(session: UdpSession): void {
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
  }

  *links(direction: Direction): Iterable<ToxicTarget> {
    for (const session of this.sessions.values()) yield session.link(direction);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Close the listen socket and every session; resolves when all sockets are closed. */
  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    const closing = [...this.sessions.values()].map((s) => s.close());
    if (socket) {
      closing.push(
        new Promise<void>((resolve) =>
          socket.close(() => {
            this.opts.openListeners.delete(socket);
            resolve();
          }),
        ),
      );
    }
    await Promise.all(closing);
  }
}
