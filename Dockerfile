# Stages: deps (all packages) -> build (prisma generate + tsc) -> migrate (one-shot `prisma migrate deploy`);
#         prod-deps (runtime packages only) -> runtime, the last and default target: the API and worker.
# Install scripts never run (--ignore-scripts): Prisma uses its JS engine, so nothing needs a postinstall.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM deps AS build
COPY . .
RUN npm run build

# The Prisma CLI is a devDependency, and prisma.config.ts is TypeScript importing src/config/defaults.ts:
# migrations run from the build stage, which has both, so the runtime image carries no TypeScript sources.
FROM build AS migrate
ENV NODE_ENV=production NPM_CONFIG_UPDATE_NOTIFIER=false
USER node
CMD ["npx", "prisma", "migrate", "deploy"]

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json is read for the reported version, openapi.yaml is served under /docs, public/ holds the pages Sluice
# serves itself (/docs, /console).
COPY package.json openapi.yaml ./
COPY public ./public
USER node
EXPOSE 3000
# A larger young generation: the worker allocates per call, and with the default size garbage collection took a
# fifth of its CPU at 5000 calls/s (BENCHMARKS.md). Costs up to ~3 × 64 MB of RSS per process.
CMD ["node", "--max-semi-space-size=64", "dist/main.js"]
