#!/usr/bin/env bash
# Docker-mode CI job, run by .ci/run after `npm test` (docs/docker.md):
#   1. scripts/container-engine.sh: a Docker engine (podman from Debian where none is installed;
#      the Debian base image from debootstrap, cached in the engine's storage and in
#      /var/cache/failover-lab)
#   2. the project images (Dockerfile targets lab, controller)
#   3. a Docker-mode subset of the catalog: demo --driver docker
#   4. the Docker tests (test/docker, FL_DOCKER_TESTS=1: an engine test may not skip), among them
#      the checked-in docker-compose.yml up with docker-compose on the engine's socket and the
#      SIGINT test (nothing of the run left behind)
# Prints one timing line per step and a summary; stops the engine's API service it started.
# Exit codes as everywhere: 0 ok, 1 a scenario or test failed, 3 infrastructure.
# Heavy steps take /tmp/fl-heavy.lock one at a time; run under `flock` on that lock, they do not
# take it again (that would wait for ever).
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIOS=${FL_DOCKER_SCENARIOS:-primary-region-crash,primary-region-isolated,kv-split-brain}
HEAVY_LOCK=${FL_HEAVY_LOCK:-/tmp/fl-heavy.lock}
export FL_HEAVY_LOCK=$HEAVY_LOCK

now() { date +%s; }
job_start=$(now)
step_start=$job_start
summary=()
timing() {
  local t line
  t=$(now)
  line=$(printf '%-44s %5d s' "$1" "$((t - step_start))")
  printf 'ci-docker: %s\n' "$line"
  summary+=("$line")
  step_start=$t
}

# Is the heavy lock held by a process above this one (`flock /tmp/fl-heavy.lock .ci/run`)? Then
# every step runs inside it already; the engine script learns it through FL_HEAVY_LOCK_HELD.
lock_held_above() {
  [[ -e $HEAVY_LOCK ]] || return 1
  local inode holders pid=$$
  inode=$(stat -c %i "$HEAVY_LOCK")
  holders=" $(awk -v i=":$inode" '$2=="FLOCK" && substr($6, length($6)-length(i)+1)==i {printf "%s ", $5}' /proc/locks) "
  while [[ -n $pid && $pid -gt 1 ]]; do
    [[ $holders == *" $pid "* ]] && return 0
    pid=$(awk '/^PPid:/{print $2}' "/proc/$pid/status" 2>/dev/null)
  done
  return 1
}
if [[ ${FL_HEAVY_LOCK_HELD:-} == 1 ]] || lock_held_above; then export FL_HEAVY_LOCK_HELD=1; fi
# Who holds the heavy lock (pids and commands), for the waiting message.
lock_holders() {
  local inode pid
  inode=$(stat -c %i "$HEAVY_LOCK" 2>/dev/null) || return 0
  for pid in $(awk -v i=":$inode" '$2=="FLOCK" && substr($6, length($6)-length(i)+1)==i {print $5}' /proc/locks | sort -u); do
    printf '%s (%s) ' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)"
  done
}
heavy() {
  if [[ ${FL_HEAVY_LOCK_HELD:-} == 1 ]]; then
    "$@"
    return
  fi
  # say so before blocking: a held lock otherwise looks like a hung job
  if ! flock -n "$HEAVY_LOCK" true; then
    printf 'ci-docker: waiting for %s, held by %s(another heavy job: it waits its turn; FL_HEAVY_LOCK names another lock file)\n' \
      "$HEAVY_LOCK" "$(lock_holders)"
  fi
  flock "$HEAVY_LOCK" "$@"
}

echo "ci-docker: Docker-mode job: engine, images, demo --driver docker ($SCENARIOS), FL_DOCKER_TESTS=1 vitest run test/docker"
engine_out=$(bash scripts/container-engine.sh start) || {
  rc=$?
  echo "ci-docker: FAIL: no container engine (container-engine.sh exit $rc)"
  exit "$rc"
}
export "${engine_out##*$'\n'}" # DOCKER_HOST=unix://...
export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
trap 'bash scripts/container-engine.sh stop' EXIT
timing "engine ready ($DOCKER_HOST)"

bash scripts/container-engine.sh sweep
bash scripts/container-engine.sh images || {
  rc=$?
  echo "ci-docker: FAIL: image build (container-engine.sh images exit $rc)"
  exit "$rc"
}
timing 'images lab + controller'

# the demo's reports stay when something fails, for the CI log to point at
out=$(mktemp -d /tmp/fl-ci-docker.XXXXXX)
status=0
heavy node bin/failover-lab.mjs demo --driver docker --only "$SCENARIOS" --out "$out" 2>&1 | tee "$out/demo.log" || status=$?
timing "demo --driver docker (exit $status)"
# one summary line per scenario: "[i/n] name" followed by "  => PASS in 41.9 s (dir)"
while IFS= read -r line; do summary+=("$line"); done < <(
  awk '/^\[[0-9]+\/[0-9]+\] /{name=$2} /^  => /{sub(/^  => /, ""); sub(/ \(.*$/, ""); printf "  %-42s %s\n", name, $0}' "$out/demo.log"
)

tests=0
FL_DOCKER_TESTS=1 heavy npx vitest run test/docker || tests=$?
timing "vitest test/docker (exit $tests)"
((tests == 0)) || ((status != 0)) || status=$tests

printf 'ci-docker: ---- summary ----\n'
printf 'ci-docker: %s\n' "${summary[@]}"
printf 'ci-docker: %-44s %5d s\n' 'total' "$(($(now) - job_start))"
if ((status == 0)); then
  rm -rf "$out"
  echo 'ci-docker: PASS'
else
  echo "ci-docker: FAIL (exit $status); demo reports in $out"
fi
exit "$status"
