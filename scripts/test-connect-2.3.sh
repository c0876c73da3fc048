#!/usr/bin/env bash
# The transport suite (test/transport: our gRPC client against real loopback servers) with connect-es
# 2.3 in place of our ~2.1 dependency. connect 2.2+ needs Node 22, so the lock file stays on 2.1 for
# Node 20; this checks that users who resolve a newer connect on 22+ get a working transport.
# `bash scripts/with-node.sh 24 npm run test:connect-2.3`.
#
# Only test/transport: the test receiver (test/support/receiver.ts) taps gRPC bodies by wrapping the
# request's async iterator, and connect-node 2.3 reads requests through `req.iterator()` instead, so
# every suite that sends gRPC to that receiver fails under 2.3 for a reason in the harness alone.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix scripts/connect-2.3 --no-audit --no-fund --loglevel=error
exec node --import tsx/esm --import ./scripts/connect-2.3/register.mjs node_modules/uvu/bin.js test/transport '\.test\.ts$'
