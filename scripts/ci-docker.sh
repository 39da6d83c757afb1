#!/usr/bin/env bash
# Docker-mode CI job, run by .ci/run after `npm test` (docs/docker.md):
#   1. scripts/container-engine.sh: a Docker engine (podman from Debian where none is installed;
#      the Debian base image from debootstrap, cached in the engine's storage and in
#      /var/cache/failover-lab)
#   2. the project images (Dockerfile targets lab, controller)
#   3. a Docker-mode subset of the catalog: demo --driver docker
#   4. the Docker tests (test/docker, FL_DOCKER_TESTS=1: an engine test may not skip)
# Prints one timing line per step; stops the engine's API service it started. Exit codes as
# everywhere: 0 ok, 1 a scenario or test failed, 3 infrastructure.
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIOS=${FL_DOCKER_SCENARIOS:-primary-region-crash,primary-region-isolated,kv-split-brain}
now() { date +%s; }
step_start=$(now)
timing() {
  local t
  t=$(now)
  printf 'ci-docker: %-28s %4d s\n' "$1" "$((t - step_start))"
  step_start=$t
}

engine_out=$(bash scripts/container-engine.sh start)
export "${engine_out##*$'\n'}" # DOCKER_HOST=unix://...
export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
trap 'bash scripts/container-engine.sh stop' EXIT
timing "engine ($DOCKER_HOST)"

bash scripts/container-engine.sh sweep
bash scripts/container-engine.sh images
timing 'images'

out=$(mktemp -d /tmp/fl-ci-docker.XXXXXX)
trap 'rm -rf "$out"; bash scripts/container-engine.sh stop' EXIT
status=0
flock /tmp/fl-heavy.lock node bin/failover-lab.mjs demo --driver docker --only "$SCENARIOS" --out "$out" || status=$?
timing "demo --driver docker ($SCENARIOS)"

FL_DOCKER_TESTS=1 flock /tmp/fl-heavy.lock npx vitest run test/docker || status=$?
timing 'vitest test/docker'
exit "$status"
