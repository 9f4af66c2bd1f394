#!/usr/bin/env bash
# Service discovery on a real etcd (Debian's etcd-server 3.4) on loopback ports the test picks:
# framerpc_servers that --register, a client that calls etcd:///echo, a graceful shutdown that
# takes the key away before draining, a crash whose key expires with its lease, and a server whose
# etcd cannot be reached that serves all the same.
set -euo pipefail
source "$PWD/server/server_test_lib.sh"
etcd="$(command -v etcd)" || fail "etcd is not installed (scripts/install-deps.sh: etcd-server)"
etcdctl="$(command -v etcdctl)" || fail "etcdctl is not installed (etcd-client)"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  cleanup
}
trap stop_all EXIT

# etcd's gateway dials its own client URL, so port 0 will not do: two free ports, asked of the
# kernel and given back just before etcd takes them.
read -r cport pport < <(/usr/bin/python3 -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
# Starts etcd on those ports ($1: a name for its log fifo), over the same data directory each
# time; sets etcd_pid once it serves.
start_etcd() {
  local line ready="" efd
  mkfifo "$work/$1.fifo"
  "$etcd" --name t --data-dir "$work/etcd" \
    --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "t=http://127.0.0.1:$pport" 2>"$work/$1.fifo" >/dev/null &
  etcd_pid=$!
  pids+=($!)
  exec {efd}<"$work/$1.fifo"
  while read -r -t 30 line <&$efd; do
    echo "$line" >>"$work/etcd.log"
    case "$line" in *"serving insecure client requests"*) ready=1; break ;; esac
  done
  [ -n "$ready" ] || fail "etcd did not start: $(tail -5 "$work/etcd.log")"
  cat <&$efd >>"$work/etcd.log" &  # keep draining its log
}
start_etcd etcd
export ETCDCTL_API=3
ctl() { "$etcdctl" --endpoints="127.0.0.1:$cport" "$@"; }
keys() { ctl get --prefix services/echo/ --keys-only | grep -v '^$' || true; }

# Starts a framerpc_server ($1: a name, then flags); sets ${name}_rpc and ${name}_pid; its
# output goes on to $work/$name.out.
start_backend() {
  local name="$1" line; shift
  mkfifo "$work/$name.fifo"
  "$server" --listen=127.0.0.1:0 "$@" >"$work/$name.fifo" 2>"$work/$name.err" &
  pids+=($!)
  eval "${name}_pid=$!"
  exec {fd}<"$work/$name.fifo"
  eval "${name}_fd=$fd"
  while read -r -t 30 line <&$fd; do
    case "$line" in "framerpc_server: serving "*) break ;; esac
  done
  [[ "$line" == "framerpc_server: serving "* ]] || fail "$name did not start: $(cat "$work/$name.err")"
  line="${line#framerpc_server: serving }"
  eval "${name}_rpc=${line%%,*}"
}

# Waits (bounded) until the registered keys are exactly "$@" (sorted addresses).
wait_for_keys() {
  local want deadline=$((SECONDS + 30))
  want="$(printf 'services/echo/%s\n' "$@" | sort)"
  [ $# -gt 0 ] || want=""
  until [ "$(keys | sort)" = "$want" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "etcd holds [$(keys | tr '\n' ' ')], not [$(tr '\n' ' ' <<<"$want")]"
    sleep 0.1  # the registration is asynchronous, and a lease expires in its own time
  done
}

register="etcd://127.0.0.1:$cport/services/echo"
start_backend a --register="$register" --register_ttl=2s
start_backend b --register="$register" --register_ttl=2s --drain_delay=30s
wait_for_keys "$a_rpc" "$b_rpc"
echo "registered: $(keys | tr '\n' ' ')"

target="etcd:///echo?endpoints=127.0.0.1:$cport"
for i in 1 2 3; do
  "$cli" --address="$target" --compact call /framerpc.echo.EchoService/Say "{\"text\": \"etcd $i\"}" \
    | grep -q "etcd $i" || fail "call $i through etcd:///echo"
done

# etcd itself stopped and restarted while a client calls through it: the client keeps its last
# endpoints while etcd is away (no call fails), and the servers' registrations are there again
# once etcd is back.
mkfifo "$work/loop.fifo"
"$PWD/server/etcd_call_loop" "$target" >"$work/loop.fifo" 2>"$work/loop.err" &
loop_pid=$!
pids+=($loop_pid)
exec {loop_fd}<"$work/loop.fifo"
# Waits (bounded) for $1 more "calls N" lines (50 calls each) from the client.
wait_calls() {
  local n=0 line
  while [ "$n" -lt "$1" ] && read -r -t 30 line <&$loop_fd; do
    case "$line" in "calls "*) n=$((n + 1)) ;; FAILED*) fail "a call failed: $line" ;; esac
  done
  [ "$n" -ge "$1" ] || fail "the client stopped calling: $(cat "$work/loop.err")"
}
wait_calls 2
kill -TERM "$etcd_pid"
wait "$etcd_pid" || true
wait_calls 4  # 200 calls with etcd down
echo "200 calls while etcd was down"
start_etcd etcd2
wait_for_keys "$a_rpc" "$b_rpc"
wait_calls 4
kill -TERM "$loop_pid"
while read -r -t 30 line <&$loop_fd; do
  case "$line" in "total "*) break ;; FAILED*) fail "a call failed: $line" ;; esac
done
wait "$loop_pid" || fail "the client saw failures: $line"
[[ "$line" == "total "*" failed 0" ]] || fail "the client's total: $line"
echo "etcd restarted under a calling client: $line"

# A graceful shutdown: the key is gone before the drain starts.
kill -TERM "$b_pid"
while read -r -t 30 line <&$b_fd; do
  case "$line" in *"draining for"*) break ;; esac
done
[[ "$line" == *"draining for"* ]] || fail "b did not start draining"
[ "$(keys)" = "services/echo/$a_rpc" ] || fail "b's key is still there while it drains: $(keys)"
kill -TERM "$b_pid"  # a second signal ends the drain
wait "$b_pid" || true
echo "b deregistered before draining"

# A crash: the key stays until its lease (2 s) runs out.
kill -KILL "$a_pid"
wait "$a_pid" 2>/dev/null || true
[ "$(keys)" = "services/echo/$a_rpc" ] || fail "a's key went at once: $(keys)"
wait_for_keys
echo "a's key expired with its lease"
rc=0; "$cli" --address="$target" call /framerpc.echo.EchoService/Say '{}' >/dev/null 2>"$work/err" || rc=$?
[ "$rc" -eq 78 ] && grep -q "no server is registered under 'services/echo/'" "$work/err" \
  || fail "no server registered: exit $rc, $(cat "$work/err")"

# An etcd that cannot be reached: the server serves, and says it will try again.
start_backend c --register="etcd://127.0.0.1:1/services/echo" --register_ttl=2s
"$cli" --address="$c_rpc" --compact call /framerpc.echo.EchoService/Say '{"text": "no etcd"}' \
  | grep -q 'no etcd' || fail "c does not serve without etcd"
deadline=$((SECONDS + 30))
until grep -q 'etcd registration of services/echo/.*again in' "$work/c.err"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "c did not log its etcd failure: $(cat "$work/c.err")"
  sleep 0.1  # the first attempt's error, from the registration's thread
done
echo PASS
