#!/bin/sh
# esbuild in its own session (see esbuild-session.mjs). setsid(1) execs in place when the
# caller is not a group leader, so esbuild keeps this PID and the harness's pipes.
if [ -x /usr/bin/setsid ]; then exec /usr/bin/setsid -- "$FL_ESBUILD_REAL" "$@"; fi
exec "$FL_ESBUILD_REAL" "$@"
