#!/bin/sh
# Installs the interop test's npm packages (@grpc/grpc-js, @grpc/proto-loader) exactly as
# package-lock.json pins them (npm ci), unless node_modules already holds them. Called by
# scripts/install-deps.sh; needs node and npm.
set -eu
cd "$(dirname "$0")"
if node check_node_modules.js . 2>/dev/null; then
  exit 0
fi
echo "adapters/grpc/interop: npm ci" >&2
npm ci --no-audit --no-fund --loglevel=error
node check_node_modules.js .
