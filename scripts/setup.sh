#!/usr/bin/env bash
# Idempotent setup run before `npm test` and `npm run demo`.
# Installs what a fresh Debian/Ubuntu machine lacks: the Debian packages the real
# topology and the report tests need, and node_modules (npm ci) when missing or stale.
# A rerun with nothing to do must stay well under one second: one dpkg-query, two stats.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages, by the binary each one provides (checked with dpkg-query, not PATH,
# so a same-named binary from elsewhere does not mask a missing package).
DEB_PACKAGES=(
  pdns-server          # pdns_server 4.7 authoritative with LUA records
  pdns-backend-sqlite3 # gsqlite3 backend (the HTTP API needs an editable backend)
  pdns-tools           # sdig, for debugging
  unbound              # DNS witnesses
  dnsutils             # dig, used by docs and game-day dns probes
  sqlite3              # loads the pdns schema
  faketime             # libfaketime: clock offset/drift/jumps on controller processes
  chromium             # headless browser for the timeline.html test
  iproute2             # ss: the leak checks look for listening sockets
  procps               # ps/pkill used by the leak checks
)

missing=()
status=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${DEB_PACKAGES[@]%% *}" 2>/dev/null || true)
for pkg in "${DEB_PACKAGES[@]}"; do
  pkg=${pkg%% *}
  if ! grep -q "^${pkg} installed$" <<<"$status"; then missing+=("$pkg"); fi
done

if ((${#missing[@]} > 0)); then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root:  $cmd" >&2
    exit 2
  fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  # Keep package postinst scripts from starting system daemons (unbound would take
  # 127.0.0.1:53 and recurse to the Internet): deny service starts during the install.
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  set +e
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") >&2
  rc=$?
  set -e
  if ((created_policy)); then rm -f /usr/sbin/policy-rc.d; fi
  if ((rc != 0)); then
    echo "setup: apt-get failed (exit $rc); try:  $cmd" >&2
    exit 3
  fi
fi

# node_modules: npm ci when missing or older than the lockfile.
marker=node_modules/.package-lock.json
if [[ ! -f $marker || package-lock.json -nt $marker ]]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >&2
  touch "$marker"
fi

# dist/: the compiled CLI that bin/failover-lab.mjs runs (scripts/build.mjs). Rebuilt only when
# a source file is newer than the last build (an mtime walk of src/ and simulator/, ~10 ms).
node scripts/build.mjs --if-stale --js-only --quiet
