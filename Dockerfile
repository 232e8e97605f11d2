# syntax=docker/dockerfile:1
# Stratum's image: a build stage compiles the TypeScript sources; the runtime stage holds only the
# compiled dist/, the CLI shim, the examples and the production dependencies, and runs as a
# non-root user. Build: `docker build -t stratum .`; run: `docker run -p 8000:8000 -p 8001:8001 -v
# stratum-data:/data stratum` (then `docker exec <container> stratum …` for the CLI).

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
# onnxruntime-node's install script would download CUDA binaries; Stratum runs on the CPU.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-build-assets.js scripts/
COPY src/ src/
COPY dashboard/ dashboard/
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# GLIBC_TUNABLES: allocations of 1 MiB and more get their own mapping, returned to the system when
# freed. glibc otherwise raises that threshold to the size of the largest block freed so far (model
# bytes, onnxruntime's weights), and the memory of unloaded sessions stays in its heaps: RSS grew
# 15-18% over 50 blue-green swaps without it, none with it (docs/BENCHMARKS.md, "Memory: 100
# load/unload cycles"). It must be set before the process starts: glibc reads it once, at exec.
ENV NODE_ENV=production \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576 \
    ONNXRUNTIME_NODE_INSTALL=skip \
    STRATUM_HOST=0.0.0.0 \
    STRATUM_HTTP_PORT=8000 \
    STRATUM_GRPC_PORT=8001 \
    STRATUM_DATABASE_URL=sqlite:/data/stratum.db \
    STRATUM_ARTIFACTS_URL=file:/data/artifacts \
    STRATUM_LOG_LEVEL=info
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# No install scripts are needed at run time: the native parts (onnxruntime, DuckDB, libsql) ship
# prebuilt inside their registry packages.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force \
    && ln -s /app/bin/stratum.js /usr/local/bin/stratum \
    && mkdir /data \
    && chown node:node /data
COPY --from=build /src/dist/ dist/
COPY bin/ bin/
COPY examples/ examples/
USER node
# Relative paths (training specs, the demo's .stratum/ folder) resolve in the data volume.
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000 8001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.STRATUM_HTTP_PORT}/v2/health/ready`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/stratum.js"]
CMD ["serve"]
