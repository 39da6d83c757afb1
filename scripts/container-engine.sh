#!/usr/bin/env bash
# Container engine for Docker mode (docs/docker.md). Idempotent. Never run by `npm test`.
#
#   bash scripts/container-engine.sh [start]  make sure a Docker-API engine answers; print DOCKER_HOST=...
#   bash scripts/container-engine.sh stop     stop the API service this script started (by its PID)
#   bash scripts/container-engine.sh status   exit 0 when an engine answers, 3 otherwise (changes nothing)
#   bash scripts/container-engine.sh images   (re)build the project images (Dockerfile targets lab, controller)
#   bash scripts/container-engine.sh sweep    remove containers/networks/volumes of Docker-mode runs whose owner died
#
# A real Docker engine that answers (DOCKER_HOST or /var/run/docker.sock) is used as it is.
# Otherwise, on Debian as root: podman + runc + netavark/aardvark-dns from Debian, configured so that
# containers run without flags here (no CAP_SYS_RESOURCE, cgroup v1 hybrid, no systemd), a Debian
# base image made with debootstrap and imported as localhost/debian:bookworm (cached: built once),
# and podman's Docker-compatible API on a socket this script owns.
# Exit codes: 0 ok, 2 bad input, 3 infrastructure (one line on stderr saying what to install).
set -euo pipefail

STATE_DIR=${FL_ENGINE_STATE_DIR:-/run/failover-lab}
SOCKET=$STATE_DIR/podman.sock
PID_FILE=$STATE_DIR/podman-api.pid
LOG_FILE=$STATE_DIR/podman-api.log
CACHE_DIR=${FL_ENGINE_CACHE_DIR:-/var/cache/failover-lab}
BASE_IMAGE=localhost/debian:bookworm
LAB_IMAGE=localhost/failover-lab/lab:local
CONTROLLER_IMAGE=localhost/failover-lab/controller:local
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HEAVY_LOCK=${FL_HEAVY_LOCK:-/tmp/fl-heavy.lock}
# iptables: netavark programs the bridges' NAT and forwarding through it (without it every network setup fails)
PACKAGES=(podman runc netavark aardvark-dns iptables nftables debootstrap docker-compose curl)

say() { printf 'container-engine: %s\n' "$*" >&2; }
infra() {
  printf 'container-engine: %s\n' "$*" >&2
  exit 3
}
now_s() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now_s)" 'BEGIN{printf "%.1f s", b-a}'; }
# Does a process above this one hold the heavy lock (e.g. `flock /tmp/fl-heavy.lock bash
# scripts/ci-docker.sh`)? flock(1) on the same file from below it would wait for ever (each
# open is its own lock), so then the heavy steps run without taking it again.
heavy_lock_held_above() {
  [[ ${FL_HEAVY_LOCK_HELD:-} == 1 ]] && return 0
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
# heavy steps (package installs, debootstrap, import, builds) take the machine-wide lock one at
# a time. The wait for it is reported on the script's own stderr (a step's output may be
# redirected), so step timings can be told apart from queueing.
exec {ORIG_STDERR}>&2
heavy() {
  if heavy_lock_held_above; then
    "$@"
    return
  fi
  local t0 lock_fd rc=0
  t0=$(now_s)
  exec {lock_fd}>>"$HEAVY_LOCK"
  if ! flock -n "$lock_fd"; then
    # say so before blocking: a held lock otherwise looks like a hung job
    printf 'container-engine: waiting for %s before %s (another heavy job holds it; FL_HEAVY_LOCK names another lock file)\n' \
      "$HEAVY_LOCK" "$1" >&"$ORIG_STDERR"
    flock "$lock_fd"
  fi
  awk -v a="$t0" -v b="$(now_s)" -v what="$1" \
    'BEGIN{ if (b-a >= 1) printf "container-engine: waited %.1f s for the heavy lock before %s\n", b-a, what }' >&"$ORIG_STDERR"
  "$@" || rc=$?
  flock -u "$lock_fd"
  exec {lock_fd}>&-
  return "$rc"
}

ping_socket() { curl -sf --max-time 5 --unix-socket "$1" http://d/_ping >/dev/null 2>&1; }

# A real Docker engine (or any engine the user already pointed DOCKER_HOST at) wins.
existing_engine() {
  if [[ -n ${DOCKER_HOST:-} && $DOCKER_HOST == unix://* ]] && ping_socket "${DOCKER_HOST#unix://}"; then
    echo "$DOCKER_HOST"
    return 0
  fi
  if [[ -S /var/run/docker.sock ]] && ping_socket /var/run/docker.sock; then
    echo unix:///var/run/docker.sock
    return 0
  fi
  return 1
}

install_packages() {
  local missing=() pkg status
  status=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
  for pkg in "${PACKAGES[@]}"; do grep -q "^${pkg} installed$" <<<"$status" || missing+=("$pkg"); done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null || infra "no Docker engine and no apt-get: install Docker (or podman, runc, netavark, aardvark-dns, docker-compose)"
  local t0
  t0=$(now_s)
  say "installing ${missing[*]} (Debian packages)"
  # another apt/dpkg run (a setup script outside the lock) is waited for, not failed on
  local apt_lock=(-o DPkg::Lock::Timeout=600)
  heavy apt-get "${apt_lock[@]}" update -qq >/dev/null 2>&1 || infra "apt-get update failed: install ${missing[*]} by hand"
  DEBIAN_FRONTEND=noninteractive heavy apt-get "${apt_lock[@]}" install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null ||
    infra "apt-get install failed: install ${missing[*]} (Debian) or a Docker engine"
  say "packages installed in $(took "$t0")"
}

# Before podman's first command: with the CNI backend it would create cni-podman0, whose stale route
# later hangs builds; crun cannot run on this cgroup v1 hybrid; rlimits above the inherited hard
# limits fail with EPERM (no CAP_SYS_RESOURCE), so the defaults stay below them. Each exec session's
# conmon outlives the exec by exit_command_delay (default 300 s, Docker's exec cleanup): a
# Docker-mode run's execs left dozens of them alive for five minutes after its containers were
# gone; the API clients read an exec's exit code right after its stream ends, so 10 s is plenty.
configure_podman() {
  local conf=/etc/containers/containers.conf want
  want=$(
    cat <<'EOF'
# written by failover-lab scripts/container-engine.sh
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
exit_command_delay = 10
[network]
network_backend = "netavark"
EOF
  )
  if [[ ! -f $conf ]] || [[ "$(cat "$conf")" != "$want" ]]; then
    [[ -f $conf ]] && ! grep -q 'written by failover-lab' "$conf" && cp "$conf" "$conf.before-failover-lab"
    install -d /etc/containers
    printf '%s\n' "$want" >"$conf"
  fi
  if ip link show cni-podman0 >/dev/null 2>&1; then ip link del cni-podman0; fi
}

mirror_url() {
  local url=""
  [[ -f /etc/apt/sources.list.d/debian.sources ]] &&
    url=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  [[ -z $url && -f /etc/apt/sources.list ]] &&
    url=$(awk '$1=="deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  echo "${url:-http://deb.debian.org/debian}"
}

# Debian base image from Debian's packages (no registry): debootstrap once into a cached tarball,
# import it into podman's storage. Each step is its own locked heavy job.
# the CLI of the engine in use: podman here, docker where a real Docker engine answers
engine_cli() {
  if existing_engine >/dev/null && command -v docker >/dev/null; then echo docker; else echo podman; fi
}

ensure_base_image() {
  local cli
  cli=$(engine_cli)
  "$cli" image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
  local tarball=$CACHE_DIR/debian-bookworm-minbase.tar t0
  install -d "$CACHE_DIR"
  if [[ ! -s $tarball ]]; then
    local rootfs
    rootfs=$(mktemp -d /tmp/fl-rootfs.XXXXXX)
    t0=$(now_s)
    say "debootstrap bookworm (minbase) from $(mirror_url)"
    heavy debootstrap --variant=minbase bookworm "$rootfs" "$(mirror_url)" >"$CACHE_DIR/debootstrap.log" 2>&1 || {
      rm -rf "$rootfs"
      infra "debootstrap failed (see $CACHE_DIR/debootstrap.log): the Debian mirror must be reachable"
    }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
    say "debootstrap done in $(took "$t0")"
  fi
  t0=$(now_s)
  heavy "$cli" import "$tarball" "$BASE_IMAGE" >"$CACHE_DIR/import.log" 2>&1 ||
    infra "$cli import of $tarball failed (see $CACHE_DIR/import.log)"
  say "base image $BASE_IMAGE imported in $(took "$t0")"
}

pid_alive() { [[ -f $PID_FILE ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

start_service() {
  install -d -m 0755 "$STATE_DIR"
  if pid_alive && ping_socket "$SOCKET"; then return 0; fi
  pid_alive && kill "$(cat "$PID_FILE")" 2>/dev/null
  rm -f "$SOCKET" "$PID_FILE"
  setsid podman system service --time=0 "unix://$SOCKET" >"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  local i
  for i in $(seq 1 100); do
    ping_socket "$SOCKET" && return 0
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || break
    sleep 0.1
  done
  infra "podman's API service did not answer on $SOCKET (log: $LOG_FILE)"
}

stop_service() {
  if pid_alive; then
    local pid
    pid=$(cat "$PID_FILE")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    say "stopped podman API service (pid $pid)"
  fi
  rm -f "$PID_FILE" "$SOCKET"
}

cmd_start() {
  local host
  if host=$(existing_engine); then
    # a real engine is used as it is; only the Debian base image the Dockerfile starts FROM is added
    [[ $(id -u) == 0 ]] && command -v debootstrap >/dev/null && ensure_base_image
    echo "DOCKER_HOST=$host"
    return 0
  fi
  if [[ $(id -u) != 0 ]]; then
    infra "no Docker engine answered and setting up podman needs root: install and start Docker, or run this script as root"
  fi
  [[ -f /etc/debian_version ]] || infra "no Docker engine answered and this is not Debian: install and start Docker"
  local t0
  t0=$(now_s)
  configure_podman # before any podman command
  install_packages
  configure_podman
  ensure_base_image
  start_service
  say "podman engine ready in $(took "$t0")"
  echo "DOCKER_HOST=unix://$SOCKET"
}

# Each image build is its own locked heavy step (the layer cache makes an unchanged rebuild quick).
cmd_images() {
  local cli t0 target image ca
  cli=$(engine_cli)
  # the host's extra CAs for the build's HTTPS downloads (docker/ca/README.md), removed afterwards
  for ca in /usr/local/share/ca-certificates/*.crt; do
    [[ -f $ca ]] && cp "$ca" "$ROOT/docker/ca/host-$(basename "$ca")"
  done
  trap 'rm -f "$ROOT"/docker/ca/host-*.crt' RETURN EXIT
  for target in lab controller; do
    image=$LAB_IMAGE
    [[ $target == controller ]] && image=$CONTROLLER_IMAGE
    t0=$(now_s)
    heavy "$cli" build -q --target "$target" -t "$image" "$ROOT" >/dev/null ||
      infra "building $image (Dockerfile target $target) failed: rerun without -q to see why: $cli build --target $target $ROOT"
    say "image $image built in $(took "$t0")"
  done
}

# Leftovers of Docker-mode runs whose owner process is gone (label io.failover-lab.owner-pid).
cmd_sweep() {
  local cli id pid kind removed=0
  cli=$(engine_cli)
  for kind in container network volume; do
    while read -r id pid; do
      [[ -z $id ]] && continue
      if [[ -z $pid || ! -d /proc/$pid ]]; then
        case $kind in
        container) "$cli" rm -f -v "$id" >/dev/null 2>&1 && removed=$((removed + 1)) ;;
        network) "$cli" network rm "$id" >/dev/null 2>&1 && removed=$((removed + 1)) ;;
        volume) "$cli" volume rm "$id" >/dev/null 2>&1 && removed=$((removed + 1)) ;;
        esac
      fi
    done < <(sweep_list "$cli" "$kind")
  done
  say "sweep: removed $removed leftovers of dead runs"
}

sweep_list() {
  local cli=$1 kind=$2 fmt='{{.ID}} {{index .Labels "io.failover-lab.owner-pid"}}'
  case $kind in
  container) "$cli" ps -a --filter label=io.failover-lab.run --format "$fmt" ;;
  network) "$cli" network ls --filter label=io.failover-lab.run --format "$fmt" ;;
  volume) "$cli" volume ls --filter label=io.failover-lab.run --format '{{.Name}} {{index .Labels "io.failover-lab.owner-pid"}}' ;;
  esac 2>/dev/null || true
}

case "${1:-start}" in
start) cmd_start ;;
stop) stop_service ;;
images) cmd_images ;;
sweep) cmd_sweep ;;
status)
  if host=$(existing_engine) || { ping_socket "$SOCKET" && host=unix://$SOCKET; }; then
    echo "DOCKER_HOST=$host"
  else
    infra "no Docker engine answers: run bash scripts/container-engine.sh as root, or install and start Docker"
  fi
  ;;
-h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' ;;
*)
  printf 'container-engine: unknown command "%s" (expected start, stop, status, images or sweep)\n' "$1" >&2
  exit 2
  ;;
esac
