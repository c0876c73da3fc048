#!/usr/bin/env bash
# The interop suite (test/interop) against the official OpenTelemetry JS 3.x line, installed from
# test/interop/peers-3x's own lock file; official.ts loads it when OTLP_FANOUT_OTEL_PEERS names that
# folder. The 3.x packages need Node >= 22.15: `bash scripts/with-node.sh 22 npm run test:interop:3x`.
set -euo pipefail
cd "$(dirname "$0")/.."
node -e 'const [a, b] = process.versions.node.split(".").map(Number); if (a < 22 || (a === 22 && b < 15)) { console.error(`test:interop:3x: Node ${process.version}; the OpenTelemetry 3.x line needs >= 22.15 (bash scripts/with-node.sh 22 npm run test:interop:3x)`); process.exit(1); }'
npm ci --prefix test/interop/peers-3x --no-audit --no-fund --loglevel=error
OTLP_FANOUT_OTEL_PEERS=test/interop/peers-3x exec npm run --silent test:interop
