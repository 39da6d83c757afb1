/**
 * Absolute paths of the Debian binaries the local topology runs, and the package that
 * provides each. Children are spawned by absolute path (never through a shell or a PATH
 * shim) so the PID we track is the PID of the daemon itself.
 */
import { accessSync, constants } from 'node:fs';
import { InfraError } from '../errors.ts';

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
      `${spec.path} not found: install the Debian package "${spec.debianPackage}" (apt-get install ${spec.debianPackage}, or npm run setup)`,
      'topology',
    );
  }
  return spec.path;
}

/** Checks everything the local topology needs before anything is started. */
export function requireTopologyBinaries(opts: { faketime: boolean }): void {
  for (const name of ['pdnsServer', 'gsqlite3Backend', 'pdnsSqliteSchema', 'unbound', 'sqlite3'] as const) {
    requireBinary(name);
  }
  if (opts.faketime) requireBinary('libfaketime');
}
