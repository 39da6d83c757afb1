# syntax=docker/dockerfile:1
# failover-lab image, built locally with no registry pull: FROM the Debian base image that
# scripts/container-engine.sh makes with debootstrap (localhost/debian:bookworm), Node from the
# npm registry's node-linux-<arch> package, PowerDNS 4.7 and unbound from Debian. One image runs
# every component of Docker mode (src/topology/docker/): the lease Worker (workerd), the app
# stand-ins, the controllers, the built-in Toxiproxy server, PowerDNS and the unbound witnesses.
# Targets:
#   docker build --target lab .          everything (Docker mode and docker-compose.yml use it)
#   docker build --target controller .   "the controller image": entrypoint = the controller
# There is no build step: tsx (a runtime dependency) runs the TypeScript sources.
ARG BASE_IMAGE=localhost/debian:bookworm

FROM ${BASE_IMAGE} AS node
ARG NODE_VERSION=20.20.2
ARG NPM_VERSION=10.9.9
# tini is PID 1 of every container: it forwards SIGTERM and reaps, so a stop never waits out
# the engine's grace period (pdns, unbound and node exit on SIGTERM).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl tini \
 && rm -rf /var/lib/apt/lists/*
# The build machine's extra CAs (docker/ca/README.md): HTTPS to the npm registry trusts what the
# host trusts; Node reads the system bundle too.
COPY docker/ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN set -eu; \
    case "$(dpkg --print-architecture)" in amd64) arch=x64 ;; arm64) arch=arm64 ;; *) echo "unsupported arch" >&2; exit 1 ;; esac; \
    curl -fsSL "https://registry.npmjs.org/node-linux-${arch}/-/node-linux-${arch}-${NODE_VERSION}.tgz" \
      | tar -xz -C /usr/local --strip-components=1 package/bin/node; \
    mkdir -p /usr/local/lib/npm; \
    curl -fsSL "https://registry.npmjs.org/npm/-/npm-${NPM_VERSION}.tgz" | tar -xz -C /usr/local/lib/npm --strip-components=1; \
    ln -s ../lib/npm/bin/npm-cli.js /usr/local/bin/npm; \
    ln -s ../lib/npm/bin/npx-cli.js /usr/local/bin/npx; \
    node --version; npm --version

FROM node AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies exactly as locked, tsx included: the containers run the TypeScript sources, as a
# checkout does (FAILOVER_LAB_FROM_SOURCE below), and the app stand-in runs under tsx.
# --ignore-scripts: esbuild and workerd take their platform binaries from their optional
# per-platform packages, which need no install script.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node AS lab
# PowerDNS 4.7 (gsqlite3, LUA records) and unbound 1.17, as the local driver uses them; no
# service is started at install time (no init system in the image).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pdns-server pdns-backend-sqlite3 sqlite3 unbound \
 && rm -rf /var/lib/apt/lists/* /etc/powerdns/pdns.d/bind.conf /etc/unbound/unbound.conf.d/*
ENV NODE_ENV=production \
    FAILOVER_LAB_FROM_SOURCE=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# the CLI's registry imports every command module, so the whole source tree ships
# (.dockerignore keeps out tests, reports, git and the host's node_modules)
COPY . .
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "bin/failover-lab.mjs", "--help"]

# ---- the controller image: what a cluster runs (deploy/kubernetes). It holds the published
# package, as `npm i failover-lab` gives it: compiled JavaScript (dist/), runtime dependencies
# only, no tsx, no PowerDNS/unbound. Built by packing this checkout and installing the tarball.
FROM deps AS package
COPY . .
RUN node scripts/build.mjs --clean --js-only --quiet \
 && npm pack --ignore-scripts --silent --pack-destination /tmp \
 && mkdir -p /opt/failover-lab \
 && cd /opt/failover-lab \
 && echo '{"name":"failover-controller-image","private":true}' > package.json \
 && npm install --omit=dev --ignore-scripts --no-audit --no-fund /tmp/failover-lab-*.tgz \
 && npm cache clean --force

FROM node AS controller
ENV NODE_ENV=production
COPY --from=package /opt/failover-lab /opt/failover-lab
# uid 1000 as in deploy/kubernetes (runAsNonRoot, read-only root filesystem): the controller
# writes nothing but stdout; admin API on ADMIN_ADDR (the manifests set 0.0.0.0:9090)
USER 1000:1000
EXPOSE 9090
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/failover-lab/node_modules/failover-lab/bin/failover-lab.mjs", "controller"]
CMD []
