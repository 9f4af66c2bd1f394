#!/usr/bin/env bash
# The Node client as a user gets it: `npm pack` of clients/node, the tarball's contents (the
# library, its types and the plugin; no tests, examples or scripts), installed with npm into a
# fresh directory (offline, from the npm cache that scripts/install-deps.sh fills), its plugin run
# by protoc from node_modules/.bin, and a script that calls a real framerpc_server through the
# generated client.
set -euo pipefail
source "$PWD/server/server_test_lib.sh"
protoc="$PWD/third_party/protoc"
command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm: run scripts/install-deps.sh"

# The runtime dependencies come from clients/node/.npm-cache, which scripts/install-deps.sh fills
# (scripts/npm_cache_runtime.sh), declared to Bazel as @framerpc_node_modules//:npm_cache
# (tools/npm_package.bzl); copied, so that npm writes nothing outside the test.
pkg="$PWD/clients/node"
cache="$TEST_SRCDIR/framerpc_node_modules/.npm-cache"
[ -f "$cache/specs" ] || fail "no clients/node/.npm-cache: run scripts/install-deps.sh"
cp -RL "$cache" "$work/cache"
npm_() { npm --cache="$work/cache" --offline --no-audit --no-fund --loglevel=error "$@"; }

mkdir -p "$work/pkg" "$work/dist"
cp -RL "$pkg/lib" "$pkg/bin" "$pkg/package.json" "$pkg/README.md" "$pkg/tests" "$pkg/examples" \
  "$pkg/scripts" "$work/pkg/"
(cd "$work/pkg" && npm_ pack --pack-destination "$work/dist" >/dev/null) || fail "npm pack"
tarball="$work/dist/framerpc-0.1.0.tgz"
tar tzf "$tarball" | sort >"$work/contents"
for f in package/package.json package/README.md package/lib/index.js package/lib/index.d.ts \
    package/lib/channel.js package/bin/protoc-gen-frpcjs.js; do
  grep -qx "$f" "$work/contents" || fail "the tarball lacks $f: $(cat "$work/contents")"
done
if grep -E '^package/(tests|examples|scripts|node_modules)/' "$work/contents"; then
  fail "the tarball ships files that are not the package's"
fi
tar xzf "$tarball" -O package/package.json >"$work/package.json"
node -e '
  const p = require(process.argv[1]);
  if (p.private) throw new Error("the package is private");
  if (p.license !== "Apache-2.0") throw new Error("license: " + p.license);
  if (!p.bin || !p.bin["protoc-gen-frpcjs"]) throw new Error("no protoc-gen-frpcjs bin");
' "$work/package.json" || fail "package.json"

app="$work/app"
mkdir -p "$app/gen"
echo '{"name": "app", "version": "1.0.0", "private": true}' >"$app/package.json"
(cd "$app" && npm_ install "$tarball") >"$work/install.log" 2>&1 \
  || fail "npm install of the tarball: $(cat "$work/install.log")"
[ -x "$app/node_modules/.bin/protoc-gen-frpcjs" ] || fail "no node_modules/.bin/protoc-gen-frpcjs"
cp proto/echo.proto "$app/"
(cd "$app" && "$protoc" -I. --plugin=protoc-gen-frpcjs=node_modules/.bin/protoc-gen-frpcjs \
  --frpcjs_out=gen echo.proto) || fail "protoc with the installed plugin"
cat >"$app/call.js" <<'JS'
'use strict';
const framerpc = require('framerpc');
const { EchoServiceClient } = require('./gen/echo_frpc');

if (!require.resolve('framerpc').startsWith(__dirname + '/node_modules/')) {
  throw new Error('framerpc resolved elsewhere: ' + require.resolve('framerpc'));
}
(async () => {
  const channel = new framerpc.Channel(process.argv[2]);
  try {
    const reply = await new EchoServiceClient(channel).Say({ text: 'from the tarball' }, { timeout: 5000 });
    console.log(reply.text);
  } finally {
    channel.close();
  }
})().catch((error) => { console.error(error); process.exit(1); });
JS

start_server --listen=127.0.0.1:0
out="$(cd "$app" && node call.js "$address")" || fail "the call through the installed package"
[ "$out" = "from the tarball" ] || fail "reply: $out"
stop_server
echo "PASS"
