#!/usr/bin/env bash
# framerpc behind the proxies people run (issue 16): two real framerpc_servers behind HAProxy
# (TCP mode, round robin, a refused connection redispatched to the other server) and behind nginx
# (the stream module for the framed protocol, grpc_pass for the gRPC adapter), each proxy on a
# Unix socket of the test's own, so that nothing but loopback and those sockets is used. Calls
# made with framerpc_cli and with Python's grpcio; each server's /metrics says how many it served.
set -euo pipefail
source "$PWD/server/server_test_lib.sh"
# Debian installs both in /usr/sbin, which the tests' PATH does not hold.
haproxy="$(PATH="$PATH:/usr/sbin:/sbin" command -v haproxy)" \
  || fail "haproxy is not installed (scripts/install-deps.sh)"
nginx="$(PATH="$PATH:/usr/sbin:/sbin" command -v nginx)" \
  || fail "nginx is not installed (scripts/install-deps.sh)"
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || fail "no nginx stream module (libnginx-mod-stream)"

# Socket paths must fit in 107 bytes: a short directory of our own.
sock="$(mktemp -d /tmp/frpc-px.XXXXXX)"
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$sock"
  cleanup
}
trap stop_all EXIT

# Starts a framerpc_server ($1: a name); sets ${name}_rpc, ${name}_grpc, ${name}_admin.
start_backend() {
  local name="$1" line
  mkfifo "$work/$name.fifo"
  "$server" --listen=127.0.0.1:0 --grpc_listen=127.0.0.1:0 --admin_listen=127.0.0.1:0 \
    >"$work/$name.fifo" 2>"$work/$name.err" &
  pids+=($!)
  eval "${name}_pid=$!"
  exec {fd}<"$work/$name.fifo"
  while read -r -t 30 line <&$fd; do
    case "$line" in "framerpc_server: serving "*) break ;; esac
  done
  [[ "$line" == "framerpc_server: serving "* ]] || fail "$name did not start: $(cat "$work/$name.err")"
  line="${line#framerpc_server: serving }"
  eval "${name}_rpc=${line%%,*}"
  eval "${name}_grpc=$(grep -o 'grpc:[^,]*' <<<"$line" | head -1 | cut -d: -f2-)"
  eval "${name}_admin=$(grep -o 'admin:[^,]*' <<<"$line" | cut -d: -f2-)"
}

# How many Say calls a server answered OK, over $2 (framed or grpc), from its /metrics.
said() {
  local admin="$1" transport="$2"
  curl -sS --max-time 10 "http://$admin/metrics" \
    | grep '^grpc_server_handled_total{grpc_code="OK",grpc_method="Say"' \
    | grep "transport=\"$transport\"" | awk '{print $2}' | head -1
}

# Waits (bounded) for a proxy's socket to appear: the proxies print nothing when ready. $2: the
# proxy's log, shown on failure.
wait_for_socket() {
  local path="$1" log="$2" deadline=$((SECONDS + 30))
  until [ -S "$path" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$path did not appear: $(tail -n 20 "$log")"
    sleep 0.05  # polling an outside process's start, bounded by the deadline
  done
}

start_backend a
start_backend b
echo "backends: a $a_rpc (grpc $a_grpc), b $b_rpc (grpc $b_grpc)"

# --- HAProxy, TCP mode ----------------------------------------------------------------------
cat >"$work/haproxy.cfg" <<CFG
global
  maxconn 256
defaults
  mode tcp
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch
frontend framed
  bind unix@$sock/haproxy.sock mode 600
  default_backend servers
backend servers
  balance roundrobin
  server a $a_rpc
  server b $b_rpc
CFG
"$haproxy" -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
pids+=($!)
wait_for_socket "$sock/haproxy.sock" "$work/haproxy.log"
for i in $(seq 1 10); do
  "$cli" --address="unix:$sock/haproxy.sock" --compact call /framerpc.echo.EchoService/Say \
    "{\"text\": \"via haproxy $i\"}" | grep -q "via haproxy $i" || fail "call $i through HAProxy"
done
[ "$(said "$a_admin" framed)" = 5 ] && [ "$(said "$b_admin" framed)" = 5 ] \
  || fail "HAProxy round robin: a $(said "$a_admin" framed), b $(said "$b_admin" framed)"
echo "haproxy: 10 calls, 5 to each server"

# --- nginx: stream for framed, grpc_pass for gRPC -----------------------------------------------
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CFG
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log info;
events { worker_connections 256; }
stream {
  upstream framed { server $a_rpc; server $b_rpc; }
  server { listen unix:$sock/nginx-framed.sock; proxy_pass framed; }
}
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream grpc_servers { server $a_grpc; server $b_grpc; }
  server {
    listen unix:$sock/nginx-grpc.sock http2;
    location / { grpc_pass grpc://grpc_servers; }
  }
}
CFG
"$nginx" -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx.conf" >"$work/nginx/stdout" 2>&1 &
pids+=($!)
wait_for_socket "$sock/nginx-framed.sock" "$work/nginx/error.log"
wait_for_socket "$sock/nginx-grpc.sock" "$work/nginx/error.log"
for i in $(seq 1 6); do
  "$cli" --address="unix:$sock/nginx-framed.sock" --compact call /framerpc.echo.EchoService/Say \
    "{\"text\": \"via nginx $i\"}" | grep -q "via nginx $i" || fail "call $i through nginx's stream proxy"
done
[ "$(said "$a_admin" framed)" = 8 ] && [ "$(said "$b_admin" framed)" = 8 ] \
  || fail "nginx stream round robin: a $(said "$a_admin" framed), b $(said "$b_admin" framed)"
for i in 1 2 3 4; do
  out="$(/usr/bin/python3 adapters/grpc/echo_client.py "unix:$sock/nginx-grpc.sock" "grpc $i")" \
    || fail "grpcio through nginx's grpc_pass: $out $(tail -5 "$work/nginx/error.log")"
  [ "$out" = "GRPC $i" ] || fail "grpcio through nginx: $out"
done
grpc_a="$(said "$a_admin" grpc)"; grpc_b="$(said "$b_admin" grpc)"
[ $((${grpc_a:-0} + ${grpc_b:-0})) -eq 4 ] && [ -n "$grpc_a" ] && [ -n "$grpc_b" ] \
  || fail "nginx grpc_pass: a ${grpc_a:-0}, b ${grpc_b:-0} of 4"
echo "nginx: 6 framed calls (3 to each), 4 gRPC calls (a $grpc_a, b $grpc_b)"

# --- A server goes away: HAProxy sends its connections to the other --------------------------
kill -TERM "$b_pid"
wait "$b_pid" || true
before="$(said "$a_admin" framed)"
for i in $(seq 1 6); do
  "$cli" --address="unix:$sock/haproxy.sock" --compact call /framerpc.echo.EchoService/Say \
    "{\"text\": \"after $i\"}" | grep -q "after $i" || fail "call $i through HAProxy after b stopped"
done
[ "$(said "$a_admin" framed)" = $((before + 6)) ] || fail "a did not take b's calls"
echo "haproxy: b stopped, 6 calls redispatched to a"
echo PASS
