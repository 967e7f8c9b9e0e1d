#!/usr/bin/env bash
# Type-checks the AWS infrastructure (sst.config.ts, stacks/) against the real SST platform and Pulumi AWS types,
# offline: `sst install` fetches its providers from the npm registry only. Then proves the check bites: a stack
# with a deliberate type error must be refused. Needs `npm ci` first (sst is a dev dependency).
set -euo pipefail
cd "$(dirname "$0")/.."
work=.ci/out/sst
mkdir -p "$work/home"

# bun installs SST's providers; sst would download it from GitHub, which CI cannot reach.
if [ ! -x "$work/bun/node_modules/@oven/bun-linux-x64/bin/bun" ]; then
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$work/bun" @oven/bun-linux-x64@1.4.5 >/dev/null
fi
export SST_SKIP_DEPENDENCY_CHECK=true SST_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
export SST_BUN_PATH="$PWD/$work/bun/node_modules/@oven/bun-linux-x64/bin/bun"
# sst keeps its own bin/ and telemetry id under the user's config directory; keep them inside the work folder.
export HOME="$PWD/$work/home"

echo "sst install (stage ci-use1; evaluates sst.config.ts and bundles stacks/)"
npx sst install --stage ci-use1

# The platform's packages bring a second, older @types/node, under which SST's own sources do not type-check.
find .sst/platform/node_modules -path '*node_modules/*/node_modules/@types/node' -type d -prune -exec rm -rf {} +

echo "tsc -p tsconfig.stacks.json"
npx tsc -p tsconfig.stacks.json

echo "canary: a stack with a type error must be refused"
canary=stacks/zz-type-canary.ts
trap 'rm -f "$canary"' EXIT
cat > "$canary" <<'TS'
export const canary = new aws.kinesis.Stream('Canary', { shardCount: 'two' });
TS
if npx tsc -p tsconfig.stacks.json > "$work/canary.log" 2>&1; then
  echo "the type check accepted a stack with a type error: the SST/Pulumi types are not in effect"
  exit 1
fi
grep -q "zz-type-canary.ts" "$work/canary.log" || { cat "$work/canary.log"; echo "the canary failed for another reason"; exit 1; }
echo "infrastructure type-check passed; the canary was refused as it must be"
