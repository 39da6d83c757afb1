/**
 * One proxied connection: the accepted client socket, the dialled upstream socket and the
 * two links between them. Owns teardown (spec §5.2): when a link's EOF comes out of its
 * chain, its destination is closed *fully* (flush, FIN, then destroy — never half-open),
 * and the other link sees that as its own source ending, so it flushes and closes too.
 * If a reset_peer toxic existed at connect time, closing is an RST on both sockets instead.
 */
import type { Socket } from 'node:net';
import { Link, type ToxicSpec } from './link.ts';

/**
 * How long a fully-closing socket may take to flush what we already wrote before it is
 * destroyed anyway (a peer that never reads must not pin the socket forever).
 */
const FLUSH_BEFORE_DESTROY_MS = 10_000;

export interface ConnectionOptions {
  client: Socket;
  upstream: Socket;
  upstreamToxics: readonly ToxicSpec[];
  downstreamToxics: readonly ToxicSpec[];
  /** A reset_peer toxic existed at connect time: close with RST (SO_LINGER 0 in Go). */
  resetOnClose: boolean;
  random(): number;
  /** Both sockets are closed; the proxy forgets the connection. */
  onClosed(connection: Connection): void;
}

function closeAfterFlush(socket: Socket): void {
  if (socket.destroyed) return;
  if (!socket.writableEnded) socket.end();
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  const fallback = setTimeout(() => socket.destroy(), FLUSH_BEFORE_DESTROY_MS);
  fallback.unref();
  socket.once('finish', () => {
    clearTimeout(fallback);
    socket.destroy();
  });
  socket.once('close', () => clearTimeout(fallback));
}

function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export class Connection {
  readonly upstreamLink: Link;
  readonly downstreamLink: Link;
  private openSockets = 2;
  private closed = false;

  constructor(private readonly opts: ConnectionOptions) {
    const hooks = {
      random: opts.random,
      onOutputClosed: (link: Link) => this.onOutputClosed(link),
    };
    this.upstreamLink = new Link('upstream', opts.client, opts.upstream, opts.upstreamToxics, hooks);
    this.downstreamLink = new Link('downstream', opts.upstream, opts.client, opts.downstreamToxics, hooks);
    this.watch(opts.client, this.upstreamLink);
    this.watch(opts.upstream, this.downstreamLink);
  }

  /** A socket ending (FIN, error, close) ends the link it feeds. */
  private watch(socket: Socket, fed: Link): void {
    const end = (): void => fed.endSource();
    socket.on('end', end);
    socket.on('error', end);
    socket.once('close', () => {
      end();
      this.openSockets--;
      if (this.openSockets === 0) this.finished();
    });
  }

  start(): void {
    this.upstreamLink.start();
    this.downstreamLink.start();
  }

  linkFor(direction: 'upstream' | 'downstream'): Link {
    return direction === 'upstream' ? this.upstreamLink : this.downstreamLink;
  }

  private onOutputClosed(link: Link): void {
    if (this.opts.resetOnClose) {
      this.abort(true);
      return;
    }
    closeAfterFlush(link.destination);
    const other = link === this.upstreamLink ? this.downstreamLink : this.upstreamLink;
    other.endSource();
  }

  /** Close both sockets now (proxy stop/delete/disable, or an RST teardown). */
  abort(reset = false): void {
    this.upstreamLink.dispose();
    this.downstreamLink.dispose();
    if (reset) {
      resetSocket(this.opts.client);
      resetSocket(this.opts.upstream);
    } else {
      this.opts.client.destroy();
      this.opts.upstream.destroy();
    }
  }

  private finished(): void {
    if (this.closed) return;
    this.closed = true;
    this.upstreamLink.dispose();
    this.downstreamLink.dispose();
    this.opts.onClosed(this);
  }
}
