# meshdrill as an image for its in-cluster CronJobs (`meshdrill cronjob`). Build from a checkout
# after `npm ci` (which compiles dist/), push to your own registry, and pass it by digest:
#   npm ci && docker build -t registry.example/meshdrill:$(node -p 'require("./package.json").version') .
# git is in the image: the CronJob clones the mesh config repo and the gate commits its stage change.
FROM node:22-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/meshdrill
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY dist ./dist
COPY schemas ./schemas
# The uid the CronJobs run as (runAsNonRoot); it owns nothing in the image.
USER 65532:65532
ENTRYPOINT ["node", "/opt/meshdrill/bin/meshdrill.js"]
