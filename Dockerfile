# syntax=docker/dockerfile:1
# The API server image: built in one stage (dev dependencies, TypeScript), run in another (production
# dependencies and compiled JavaScript only), as an unprivileged user.
#
#   docker build -t umb-api .
#   cp .env.example .env
#   docker run --env-file .env -p 8000:8000 -v umb-data:/app/data umb-api
#
# `.env` may say HOST=127.0.0.1 (right on a workstation): the image sets LISTEN_HOST=0.0.0.0, which wins over
# HOST, so the container is reachable through -p whatever `.env` says (-e LISTEN_HOST=… to listen elsewhere).
# DATA_DIR is a volume: the embedded database and, in development, the generated encryption key live there.
#
# Node 22 LTS: the code needs require(esm) (Node >= 20.19, unflagged in 22.12+), since Nest 12 ships ESM.

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so that a source change does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY migrations ./migrations
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    LISTEN_HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# The embedded database (without DATABASE_URL) and a generated development encryption key live here: a volume,
# so they outlive the container. Created and owned before VOLUME, so a new named volume starts owned by node.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 8000
# Liveness through the API's own route; the slim image has no curl, node has fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node directly (not npm) so that SIGTERM reaches the server and its graceful shutdown runs.
CMD ["node", "dist/apps/api/src/main.js"]
