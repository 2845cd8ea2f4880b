# One image for api, worker and runpod-sim; the compose file picks the command.
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV TURBO_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1
COPY package.json package-lock.json turbo.json tsconfig.base.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY packages ./packages
COPY apps ./apps
# the pod agent: the API serves it to pods as a zipapp (GET /v1/runs/:id/agent), the worker pins its sha256
COPY pod-agent/trainpod_agent ./pod-agent/trainpod_agent
RUN npm ci --no-audit --no-fund && npm run build

FROM node:20-bookworm-slim
# curl and python3: the runpod-sim's pods run the real bootstrap and the real pod agent (only the ML is simulated)
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
EXPOSE 8080 8765
CMD ["node", "apps/api/dist/main.js"]
