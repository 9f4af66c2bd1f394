#!/usr/bin/env bash
# The admin pages to a peer that is not local. The test runs in a network namespace of its own
# (unshare --net) where 10.1.2.3 is an address of the namespace's lo: a connection from it is
# not loopback by address, so the server treats it as remote, yet no packet leaves the namespace.
# Remote peers get /metrics, /healthz and /readyz; every other page needs the token (401 without
# or with a wrong one), or is refused outright (403) when the server has no token.
set -euo pipefail
if [ "${ADMIN_REMOTE_TEST_IN_NETNS:-}" != 1 ]; then
  export ADMIN_REMOTE_TEST_IN_NETNS=1
  exec unshare --net -- "$0" "$@"
fi
ip link set lo up
ip addr add 10.1.2.3/32 dev lo
source "$PWD/server/server_test_lib.sh"

get() { curl -sS --max-time 10 -o "$work/body" -w '%{http_code}' "$@"; }
expect() {
  local want="$1"; shift
  local got; got="$(get "$@")"
  [ "$got" = "$want" ] || fail "$* answered $got, expected $want: $(cat "$work/body")"
  echo "ok: $want for $*"
}
admin_of() { local a; a="$(tail -n 1 "$work/first_lines" | grep -o 'admin:[^,]*')"; echo "${a#admin:}"; }

token="setup-admin-token-0123456789"
printf '%s\n' "$token" >"$work/token"
chmod 600 "$work/token"

start_server --listen=127.0.0.1:0 --admin_listen=10.1.2.3:0 --auth_token_file="$work/token"
admin="$(admin_of)"
case "$admin" in 10.1.2.3:*) ;; *) fail "admin address $admin" ;; esac
for page in metrics healthz readyz; do
  expect 200 --interface 10.1.2.3 "http://$admin/$page"
done
for page in status connections calls flags version; do
  expect 401 --interface 10.1.2.3 "http://$admin/$page"
  expect 401 --interface 10.1.2.3 -H "Authorization: Bearer wrong-token-wrong-token" "http://$admin/$page"
  expect 200 --interface 10.1.2.3 -H "Authorization: Bearer $token" "http://$admin/$page"
done
# framerpc_cli stats from this non-local address: refused without the token, shown with it.
rc=0; "$cli" stats "$admin" >"$work/stats" 2>"$work/stats.err" || rc=$?
[ "$rc" -eq 80 ] || fail "stats without the token exited $rc: $(cat "$work/stats.err")"
"$cli" --auth_token_file="$work/token" stats "$admin" >"$work/stats" || fail "stats with the token"
grep -q '^# methods, last minute' "$work/stats" || fail "stats printed: $(cat "$work/stats")"
echo "ok: framerpc_cli stats needs the token off the host"
stop_server

# No token: the pages beyond the probes are for local peers only.
start_server --listen=127.0.0.1:0 --admin_listen=10.1.2.3:0
admin="$(admin_of)"
expect 200 --interface 10.1.2.3 "http://$admin/metrics"
expect 403 --interface 10.1.2.3 "http://$admin/calls"
stop_server

# The same pages to a loopback peer need nothing.
start_server --listen=127.0.0.1:0 --admin_listen=0.0.0.0:0
admin="$(admin_of)"
expect 200 "http://127.0.0.1:${admin##*:}/calls"
expect 403 --interface 10.1.2.3 "http://10.1.2.3:${admin##*:}/calls"
stop_server
