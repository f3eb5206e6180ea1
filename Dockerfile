# One container: Bun (the same version as the pinned dev dependency), production
# dependencies only, SQLite on the /data volume, non-root (user bun, uid 1000).
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies, without peers: Bun installs peer dependencies by
# default, and those of elysia and @elysiajs/openapi (typescript and its native
# compiler, @types/bun, bun-types, file-type) are build tooling modsync never
# loads at run time: node_modules 90 MB with them, 46 MB without. Bun itself
# comes from the base image. The lockfile is package-lock.json (npm is the
# project's installer); bun reads it, and --frozen-lockfile fails the build
# rather than resolve anything it does not pin.
RUN bun install --production --omit=peer --frozen-lockfile --ignore-scripts
# What package.json's postinstall does after npm's installs: postgres-js's connection
# queues, which grew by an entry a query in a busy pool (scripts/fix-postgres-queue.mjs).
COPY scripts/fix-postgres-queue.mjs scripts/
RUN bun scripts/fix-postgres-queue.mjs

# The docs UI's one script (/swagger/assets/api-reference.js), from the
# @scalar/api-reference version package.json pins: a dev dependency, as its
# own dependencies (~280 MB) are not needed to serve the prebuilt bundle.
FROM node:20-slim AS docs-ui
WORKDIR /ui
COPY package.json ./
RUN npm pack --silent "@scalar/api-reference@$(node -p 'require("./package.json").devDependencies["@scalar/api-reference"]')" \
 && tar -xzf scalar-api-reference-*.tgz package/dist/browser/standalone.js

FROM oven/bun:1.4.5-slim
# MIMALLOC_PURGE_DELAY=-1: the allocator keeps the memory it freed instead of handing it
# back to the OS and faulting it in again (src/allocator.ts). Set here, the server does
# not need to start itself again to get it.
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATABASE_URL=sqlite:/data/modsync.db \
    MIMALLOC_PURGE_DELAY=-1
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=docs-ui /ui/package/dist/browser/standalone.js ./node_modules/@scalar/api-reference/dist/browser/standalone.js
COPY package.json ./
COPY src ./src
COPY drizzle ./drizzle
# A named volume starts as a copy of this folder (owned by bun); a bind mount
# keeps its host owner and must be writable by uid 1000 (start-up says so if not).
RUN mkdir -p /data && chown bun:bun /data
USER bun
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then(r => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))"]
# The admin CLI in a running container: docker exec <container> bun run cli <command>
CMD ["bun", "src/index.ts"]
