# The FIX gateway's image (stacks/fix-gateway.ts): the repository's runtime dependencies and sources, run with tsx
# as everywhere else in Rotor (no build step). Built by `sst deploy` from the repository root.
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error
COPY shared ./shared
COPY functions ./functions
COPY local ./local
USER node
EXPOSE 9880
CMD ["node", "--import", "tsx", "local/fix/gateway-main.ts"]
