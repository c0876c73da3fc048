#!/usr/bin/env bash
# The whole uvu suite (test/: transports, export, the gateway's receivers, interop with the official
# exporters, and the test receiver they all send to) with connect-es 2.3 in place of our ~2.1
# dependency. connect 2.2+ needs Node 22, so the lock file stays on 2.1 for Node 20; this checks that
# users who resolve a newer connect on 22+ get a working library and gateway.
# `bash scripts/with-node.sh 24 npm run test:connect-2.3`.
#
# The whole suite rather than the suites that load connect: a list would go stale silently, and the
# rest costs little next to them (measured on a loaded 2-core machine: ~2 min, transport alone ~10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix scripts/connect-2.3 --no-audit --no-fund --loglevel=error
exec node --import tsx/esm --import ./scripts/connect-2.3/register.mjs node_modules/uvu/bin.js test '\.test\.ts$'
