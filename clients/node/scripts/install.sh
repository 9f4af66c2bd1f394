#!/bin/sh
# Installs clients/node's npm packages exactly as package-lock.json pins them (npm ci), unless
# node_modules already holds them. Called by scripts/install-deps.sh; needs node and npm.
set -eu
cd "$(dirname "$0")/.."
if node scripts/check-node-modules.js . 2>/dev/null; then
  exit 0
fi
echo "clients/node: npm ci" >&2
npm ci --no-audit --no-fund --loglevel=error
node scripts/check-node-modules.js .
