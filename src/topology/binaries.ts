/**
 * Absolute paths of the Debian binaries the local topology runs, and the package that
 * provides each. Children are spawned by absolute path (never through a shell or a PATH
 * shim) so the PID we track is the PID of the daemon itself.
 */
import { accessSync, constants } from 'node:fs';
import { isAbsolute } from 'node:path';
import { BadInputError, InfraError } from '../errors.ts';

export interface BinarySpec {
  path: string;
  debianPackage: string;
}

export const BINARIES = {
  pdnsServer: { path: '/usr/sbin/pdns_server', debianPackage: 'pdns-server' },
  // gsqlite3 is a loadable module, not a binary; its presence is checked as a file.
  gsqlite3Backend: {
    path: '/usr/lib/x86_64-linux-gnu/pdns/libgsqlite3backend.so',
    debianPackage: 'pdns-backend-sqlite3',
  },
  pdnsSqliteSchema: {
    path: '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql',
    debianPackage: 'pdns-backend-sqlite3',
  },
  unbound: { path: '/usr/sbin/unbound', debianPackage: 'unbound' },
  sqlite3: { path: '/usr/bin/sqlite3', debianPackage: 'sqlite3' },
  // children run under `setpriv --pdeathsig SIGKILL` so they die with the harness (supervisor.ts)
  setpriv: { path: '/usr/bin/setpriv', debianPackage: 'util-linux' },
  // a preloaded library, not an executable; scripts/setup.sh installs it through package faketime
  libfaketime: { path: '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', debianPackage: 'faketime' },
} as const satisfies Record<string, BinarySpec>;

export type BinaryName = keyof typeof BINARIES;

/** Throws an InfraError naming the Debian package when a required file is missing. */
export function requireBinary(name: BinaryName): string {
  const spec: BinarySpec = BINARIES[name];
  try {
    const readOnly = name === 'gsqlite3Backend' || name === 'pdnsSqliteSchema' || name === 'libfaketime';
    accessSync(spec.path, readOnly ? constants.R_OK : constants.X_OK);
  } catch {
    throw new InfraError(
      `${spec.path} not found: install the Debian package "${spec.debianPackage}" (apt-get install ${spec.debianPackage}; in a checkout, npm run setup installs them all)`,
      'topology',
    );
  }
  return spec.path;
}

/**
 * Another PowerDNS Authoritative to run instead of Debian's (docs/topology.md "PowerDNS
 * versions"): an absolute path to a pdns_server binary. Its own build decides where its
 * backend modules are (set `module-dir` through PDNS_CONF_ENV when it is not the Debian one).
 */
export const PDNS_SERVER_ENV = 'FAILOVER_LAB_PDNS_SERVER';
/**
 * Extra pdns.conf settings, `key=value` separated by `;` or newlines, appended after the
 * generated ones (e.g. `enable-lua-record-updates=yes` for 5.1+).
 */
export const PDNS_CONF_ENV = 'FAILOVER_LAB_PDNS_CONF';

/** The pdns_server the local topology runs; a bad override is exit 2 naming the variable. */
export function pdnsServerPath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[PDNS_SERVER_ENV];
  if (override === undefined || override === '') return BINARIES.pdnsServer.path;
  if (!isAbsolute(override)) {
    throw new BadInputError(
      `must be an absolute path to pdns_server, got "${override}"`,
      `env ${PDNS_SERVER_ENV}`,
    );
  }
  try {
    accessSync(override, constants.X_OK);
  } catch {
    throw new BadInputError(`${override} is not an executable file`, `env ${PDNS_SERVER_ENV}`);
  }
  return override;
}

/** The extra pdns.conf lines of PDNS_CONF_ENV, each checked to be one `key=value` setting. */
export function pdnsExtraConf(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env[PDNS_CONF_ENV] ?? '';
  const lines = raw
    .split(/[;\n]/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  for (const l of lines) {
    if (!/^[a-z0-9-]+=[^\n]*$/.test(l)) {
      throw new BadInputError(
        `"${l}" is not a pdns.conf setting (expected key=value)`,
        `env ${PDNS_CONF_ENV}`,
      );
    }
  }
  return lines;
}

/** Checks everything the local topology needs before anything is started. */
export function requireTopologyBinaries(opts: { faketime: boolean }): void {
  // an overridden pdns_server brings its own modules; the schema file is still Debian's
  const pdnsOverridden = (process.env[PDNS_SERVER_ENV] ?? '') !== '';
  if (pdnsOverridden) pdnsServerPath();
  const names = pdnsOverridden
    ? (['pdnsSqliteSchema', 'unbound', 'sqlite3'] as const)
    : (['pdnsServer', 'gsqlite3Backend', 'pdnsSqliteSchema', 'unbound', 'sqlite3'] as const);
  for (const name of names) requireBinary(name);
  pdnsExtraConf();
  if (opts.faketime) requireBinary('libfaketime');
}
