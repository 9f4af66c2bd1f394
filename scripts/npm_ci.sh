#!/bin/sh
# Installs the npm packages of the package in DIR (a path from the repository root) exactly as
# its package-lock.json pins them (npm ci), unless node_modules already holds them. Called by
# scripts/install-deps.sh for clients/node and adapters/grpc/interop; needs node and npm.
#
#   scripts/npm_ci.sh clients/node
set -eu
[ $# -eq 1 ] || { echo "usage: $0 PACKAGE_DIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
check="$root/clients/node/scripts/check-node-modules.js"
cd "$root/$1"
if node "$check" . "$1" 2>/dev/null; then
  exit 0
fi
echo "$1: npm ci" >&2
npm ci --no-audit --no-fund --loglevel=error
node "$check" . "$1"
