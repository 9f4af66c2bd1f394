#!/usr/bin/env bash
# framerpc_server's metrics as a real Prometheus scrapes them: the server on port 0 with its
# admin port, calls made with the CLI, a Prometheus (Debian's 2.42) started on a loopback port of
# its own choosing and pointed at the admin port, and its query API asked until it has the counts.
# Also the pages over HTTP with curl, on the admin port and on the RPC port (--admin_on_rpc_port).
set -euo pipefail
source "$PWD/server/server_test_lib.sh"

prom_pid=""
stop_prometheus() {
  if [ -n "$prom_pid" ]; then kill -TERM "$prom_pid" 2>/dev/null || true; wait "$prom_pid" || true; fi
  prom_pid=""
}
trap 'stop_prometheus; cleanup' EXIT

token="scrape-test-token-0123456789"
printf '%s\n' "$token" >"$work/token"
chmod 600 "$work/token"
mkdir "$work/files"
head -c 300000 /dev/urandom >"$work/files/blob.bin"
start_server --listen=127.0.0.1:0 --admin_listen=127.0.0.1:0 --admin_on_rpc_port \
  --enable_command_service --command_allow=/bin/true --auth_token_file="$work/token" \
  --file_root="$work/files"
serving="$(tail -n 1 "$work/first_lines")"
admin="$(grep -o 'admin:[^,]*' <<<"$serving")" || fail "no admin address in: $serving"
admin="${admin#admin:}"
echo "rpc $address, admin $admin"

for i in 1 2 3 4 5; do
  "$cli" --address="$address" --compact call /framerpc.echo.EchoService/Say "{\"text\": \"m$i\"}" >/dev/null
done

# Calls that fail on purpose: Run without the token, twice; and one with it.
run='{"command": {"argv": ["/bin/true"]}}'
for i in 1 2; do
  rc=0; "$cli" --address="$address" call /framerpc.command.CommandService/Run "$run" >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 80 ] || fail "Run without the token should be UNAUTHENTICATED (64 + 16), got $rc"
done
"$cli" --address="$address" --auth_token_file="$work/token" call /framerpc.command.CommandService/Run "$run" >/dev/null \
  || fail "Run with the token"

# A download: the file service's bytes.
"$cli" --auth_token_file="$work/token" download "$address" blob.bin "$work/blob.copy" >"$work/dl.out" 2>&1 || fail "download: $(cat "$work/dl.out")"
cmp -s "$work/files/blob.bin" "$work/blob.copy" || fail "the download differs"

# The pages, with curl, on both ports.
get() { curl -sS --max-time 10 -o "$work/body" -w '%{http_code}' "$@"; }
[ "$(get "http://$admin/metrics")" = 200 ] || fail "/metrics"
grep -q '^grpc_server_handled_total{grpc_code="OK",grpc_method="Say",grpc_service="framerpc.echo.EchoService",grpc_type="unary",transport="framed"} 5$' "$work/body" \
  || fail "/metrics lacks the five Say calls: $(grep Say "$work/body")"
promtool check metrics < "$work/body" || fail "promtool finds fault with /metrics"
grep -q '^framerpc_command_finished_total{outcome="exited_zero"} 1$' "$work/body" \
  || fail "/metrics lacks the command: $(grep framerpc_command_finished "$work/body")"
grep -q '^framerpc_command_refused_total{reason="credential"} 2$' "$work/body" \
  || fail "/metrics lacks the refusals: $(grep framerpc_command_refused "$work/body")"
grep -q '^framerpc_file_sent_bytes_total 300000$' "$work/body" \
  || fail "/metrics lacks the download: $(grep framerpc_file_ "$work/body")"
[ "$(get "http://$address/readyz")" = 200 ] || fail "/readyz on the RPC port"
grep -qx SERVING "$work/body" || fail "/readyz body: $(cat "$work/body")"
[ "$(get "http://$address/status")" = 200 ] || fail "/status on the RPC port"
grep -q 'framerpc.echo.EchoService *Say *framed' "$work/body" || fail "/status: $(cat "$work/body")"
[ "$(get "http://$admin/flags")" = 200 ] || fail "/flags"
grep -q '^admin_on_rpc_port *true$' "$work/body" || fail "/flags: $(cat "$work/body")"
[ "$(get "http://$admin/version")" = 200 ] || fail "/version"
grep -q '^framerpc_server [0-9]' "$work/body" || fail "/version: $(cat "$work/body")"
[ "$(get "http://$admin/nope")" = 404 ] || fail "/nope"
# The RPC port still serves calls after the HTTP ones.
"$cli" --address="$address" --compact call /framerpc.echo.EchoService/Say '{"text": "after"}' | grep -q after \
  || fail "a call after the pages"

# A real Prometheus, on a loopback port it picks (port 0; found from its listening socket).
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: framerpc
    static_configs:
      - targets: ["$admin"]
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address=127.0.0.1:0 --log.level=warn >"$work/prometheus.log" 2>&1 &
prom_pid=$!
prom=""
deadline=$((SECONDS + 60))
while [ -z "$prom" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "Prometheus did not listen: $(cat "$work/prometheus.log")"
  kill -0 "$prom_pid" 2>/dev/null || fail "Prometheus exited: $(cat "$work/prometheus.log")"
  prom="$(ss -Hltnp 2>/dev/null | grep "pid=$prom_pid," | awk '{print $4}' | head -n 1)" || true
  [ -n "$prom" ] || sleep 0.1  # polling an outside process's start, bounded by the deadline
done
echo "prometheus on $prom"

# Ask until a scrape has landed (scrapes every second; the deadline bounds a broken setup), then
# compare every method and code Prometheus has with what was sent.
handled() {
  curl -sS --max-time 5 -G "http://$prom/api/v1/query" \
    --data-urlencode 'query=sum by (grpc_method, grpc_code) (grpc_server_handled_total{job="framerpc", transport="framed"})' \
    | python3 -c 'import json,sys
d=json.load(sys.stdin)
rows=sorted("%s %s %s" % (r["metric"]["grpc_method"], r["metric"]["grpc_code"], r["value"][1])
            for r in d.get("data",{}).get("result",[]))
print(";".join(rows))' 2>/dev/null || true
}
expected="Download OK 1;Run OK 1;Run Unauthenticated 2;Say OK 6"
got=""
while [ "$got" != "$expected" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "Prometheus has '$got', expected '$expected'; targets: $(curl -s "http://$prom/api/v1/targets")"
  got="$(handled)"
  [ "$got" = "$expected" ] || sleep 0.2  # the next scrape; bounded by the deadline
done
# The scrape itself was healthy: `up` is 1 for the target.
up="$(curl -sS -G "http://$prom/api/v1/query" --data-urlencode 'query=up{job="framerpc"}')"
grep -q '"value":\[[0-9.]*,"1"\]' <<<"$up" || fail "up is not 1: $up"
echo "ok: Prometheus scraped $got"
stop_prometheus
stop_server
