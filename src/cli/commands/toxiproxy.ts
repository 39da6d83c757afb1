/**
 * `failover-lab toxiproxy [--host 127.0.0.1] [--port 8474] [--config proxies.json]`:
 * run the built-in Toxiproxy-compatible server standalone until SIGINT/SIGTERM.
 * Bad flags or config → exit 2; API port in use (or a config proxy cannot bind) → exit 3.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { BadInputError, EXIT_OK } from '../../errors.ts';
import { loadProxyConfigFile } from '../../toxiproxy/config.ts';
import { startToxiproxyServer, TOXIPROXY_VERSION } from '../../toxiproxy/server.ts';
import type { ExitSetter } from '../command-module.ts';

interface ToxiproxyFlags {
  host: string;
  port: string;
  config?: string;
  allowNonLoopback?: boolean;
}

/** 127.0.0.0/8 or ::1: the only addresses the lab serves on unless told otherwise. */
export function isLoopbackAddress(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  if (isIP(address) === 6) return address === '::1' || /^::ffff:127\./i.test(address);
  return false;
}

function parsePort(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    throw new BadInputError(`must be an integer from 0 to 65535, got "${text}"`, '--port');
  }
  return Number(text);
}

async function checkHost(host: string, allowNonLoopback: boolean): Promise<void> {
  if (host === '') throw new BadInputError('must not be empty', '--host');
  let address = host;
  if (!isIP(host)) {
    try {
      address = (await lookup(host)).address;
    } catch {
      throw new BadInputError(`cannot resolve host "${host}"`, '--host');
    }
  }
  // A fault proxy forwards to anything it is told to: never serve it beyond loopback by accident.
  if (!allowNonLoopback && !isLoopbackAddress(address)) {
    throw new BadInputError(
      `"${host}" is not a loopback address (127.0.0.0/8, ::1); pass --allow-non-loopback to listen there (e.g. inside a container)`,
      '--host',
    );
  }
}

/** The config's proxies listen on loopback only, too (same flag allows more). */
function refuseNonLoopbackListens(config: Array<{ name: string; listen?: string }>, file: string): void {
  for (const [i, proxy] of config.entries()) {
    const host = (proxy.listen ?? '').replace(/:\d*$/, '').replace(/^\[|\]$/g, '');
    // an empty host (":8080") listens on every interface, like Toxiproxy
    if (host.toLowerCase() === 'localhost' || isLoopbackAddress(host)) continue;
    throw new BadInputError(
      `proxy ${i + 1} (${proxy.name}): listen "${proxy.listen}" is not a loopback address; pass --allow-non-loopback to allow it`,
      file,
    );
  }
}

/** `received` resolves on the first SIGINT or SIGTERM; `dispose` stops listening. */
function watchStopSignals(): { received: Promise<NodeJS.Signals>; dispose(): void } {
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const dispose = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const received = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (signal) => {
      dispose();
      resolve(signal);
    };
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { received, dispose };
}

export function register(program: Command, setExit: ExitSetter): void {
  program
    .command('toxiproxy')
    .description(
      `run the built-in Toxiproxy-compatible fault proxy (HTTP API of Toxiproxy ${TOXIPROXY_VERSION})`,
    )
    .option('--host <address>', 'API bind address', '127.0.0.1')
    .option('--port <port>', 'API port (0 = pick a free port)', '8474')
    .option('--config <file>', 'JSON array of proxies (POST /populate format) to create at startup')
    .option('--allow-non-loopback', 'allow an API address outside 127.0.0.0/8 and ::1 (inside a container)')
    .action(async (flags: ToxiproxyFlags) => {
      const port = parsePort(flags.port);
      await checkHost(flags.host, flags.allowNonLoopback === true);
      const config = flags.config === undefined ? [] : await loadProxyConfigFile(flags.config);
      if (!flags.allowNonLoopback) refuseNonLoopbackListens(config, flags.config ?? '--config');
      // Listen for signals before starting, so an early Ctrl-C still stops cleanly.
      const signals = watchStopSignals();
      let server: Awaited<ReturnType<typeof startToxiproxyServer>>;
      try {
        server = await startToxiproxyServer({ host: flags.host, port, config });
      } catch (err) {
        signals.dispose();
        throw err; // startToxiproxyServer has already closed whatever it opened
      }
      process.stdout.write(
        `toxiproxy ${TOXIPROXY_VERSION}-compatible API on ${server.url} (${config.length} proxies from config)\n`,
      );
      const signal = await signals.received;
      await server.close();
      process.stdout.write(`toxiproxy stopped (${signal})\n`);
      setExit(EXIT_OK);
    });
}
