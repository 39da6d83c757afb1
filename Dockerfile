# syntax=docker/dockerfile:1
# failover-lab Node image. One image runs the lease Worker (miniflare), the app stand-ins and
# the controllers; docker-compose.yml starts it several times with different commands
# (`npx failover-lab worker|app|controller --config ...`). Targets:
#   docker build --target lab .          everything (what docker-compose.yml uses)
#   docker build --target controller .   "the controller image": entrypoint = the controller
# There is no build step: tsx (a runtime dependency) runs the TypeScript sources.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only, exactly as locked. --ignore-scripts: no native builds in a slim
# image (ssh2's optional cpu-features); esbuild and workerd take their platform binaries
# from their optional per-platform packages, which need no install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS lab
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# the CLI's registry imports every command module, so the whole source tree ships
# (.dockerignore keeps out tests, reports, git and the host's node_modules)
COPY . .
# non-root: the image's "node" user (uid 1000); it owns nothing under /app, only its home
# (npx's cache) and /tmp (miniflare persist dirs)
USER node
CMD ["npx", "failover-lab", "--help"]

# ---- the controller image: what a cluster runs (deploy/kubernetes). It holds the published
# package, as `npm i failover-lab` gives it: compiled JavaScript (dist/), runtime dependencies
# only, no tsx. Built by packing this checkout and installing the tarball.
FROM deps AS package
COPY . .
RUN node scripts/build.mjs --clean --js-only --quiet \
 && npm pack --ignore-scripts --silent --pack-destination /tmp \
 && mkdir -p /opt/failover-lab \
 && cd /opt/failover-lab \
 && echo '{"name":"failover-controller-image","private":true}' > package.json \
 && npm install --omit=dev --ignore-scripts --no-audit --no-fund /tmp/failover-lab-*.tgz \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS controller
ENV NODE_ENV=production
COPY --from=package /opt/failover-lab /opt/failover-lab
# uid 1000 as in deploy/kubernetes (runAsNonRoot, read-only root filesystem): the controller
# writes nothing but stdout; admin API on ADMIN_ADDR (the manifests set 0.0.0.0:9090)
USER 1000:1000
EXPOSE 9090
ENTRYPOINT ["node", "/opt/failover-lab/node_modules/failover-lab/bin/failover-lab.mjs", "controller"]
CMD []
