# sluice: multi-stage build. The uWebSockets.js build we depend on is a native addon for Node 20 on glibc,
# so both stages use the same Debian 12 (bookworm) Node 20 image.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
# npm ci runs `prepare` (tsc) with the dev dependencies present, then they are pruned.
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY bin ./bin
COPY config ./config
# The demo config, mounted over by your own (README "Docker"). Inside a container the admin API stays on
# 127.0.0.1: the HEALTHCHECK runs inside the container too.
COPY config/sluice.yaml /etc/sluice/sluice.yaml
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9901/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--single-threaded-gc", "bin/sluice.js"]
CMD ["start", "--config", "/etc/sluice/sluice.yaml"]
