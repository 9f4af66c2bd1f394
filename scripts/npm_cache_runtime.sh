#!/bin/sh
# Fills DIR/.npm-cache, an npm cache of the runtime dependencies of the npm package in DIR (as its
# package-lock.json pins them: the entries not marked dev), registry metadata included, so that
# the package's tarball (npm pack) installs with `npm install --offline --cache DIR/.npm-cache`,
# as clients/node's package_test does. DIR/.npm-cache/specs lists what is in it; when that list
# is current nothing is fetched: a second run makes no network request.
#
#   scripts/npm_cache_runtime.sh clients/node
set -eu
[ $# -eq 1 ] || { echo "usage: $0 PACKAGE_DIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/$1"
specs=$(node -e '
  const lock = require("./package-lock.json");
  for (const [where, entry] of Object.entries(lock.packages || {})) {
    if (where && !entry.dev && !entry.link) {
      console.log(where.replace(/^.*node_modules\//, "") + "@" + entry.version);
    }
  }')
cache=.npm-cache
if [ -f "$cache/specs" ] && [ "$(cat "$cache/specs")" = "$specs" ]; then
  exit 0
fi
echo "$1: npm cache add $(echo $specs) (into $1/$cache)" >&2
rm -rf "$cache"
# shellcheck disable=SC2086
npm cache add --cache="$cache" --loglevel=error $specs
printf '%s\n' "$specs" >"$cache/specs"
