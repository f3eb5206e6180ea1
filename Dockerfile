# One container: Bun (the same version as the pinned dev dependency), production
# dependencies only, SQLite on the /data volume, non-root.
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; Bun itself comes from the base image.
RUN bun install --production --frozen-lockfile --ignore-scripts || bun install --production --ignore-scripts

# The docs UI's one script (/swagger/assets/api-reference.js), from the
# @scalar/api-reference version package.json pins: a dev dependency, as its
# own dependencies (~280 MB) are not needed to serve the prebuilt bundle.
FROM node:20-slim AS docs-ui
WORKDIR /ui
COPY package.json ./
RUN npm pack --silent "@scalar/api-reference@$(node -p 'require("./package.json").devDependencies["@scalar/api-reference"]')" \
 && tar -xzf scalar-api-reference-*.tgz package/dist/browser/standalone.js

FROM oven/bun:1.4.5-slim
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATABASE_URL=sqlite:/data/modsync.db
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=docs-ui /ui/package/dist/browser/standalone.js ./node_modules/@scalar/api-reference/dist/browser/standalone.js
COPY package.json ./
COPY src ./src
COPY drizzle ./drizzle
RUN mkdir -p /data && chown bun:bun /data
USER bun
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then(r => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))"]
CMD ["bun", "src/index.ts"]
