#!/usr/bin/env bash
# What a framerpc_server spends per call, watched from outside with `perf stat`: page faults and
# CPU per call while `clients` client_echo processes make one-at-a-time Bytes calls with an
# attachment of `bytes` (docs/benchmarks.md, issue 18.1). Needs perf (linux-perf).
#
#   bench/server_cost.sh SERVER CLIENT_ECHO [clients=1] [bytes=1048576] [seconds=3]
#   e.g. bench/server_cost.sh bazel-bin/server/framerpc_server bazel-bin/bench/client_echo 4
set -euo pipefail
server=$1 client=$2 clients=${3:-1} bytes=${4:-1048576} seconds=${5:-3}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$server" --listen=127.0.0.1:0 --io_threads=1 >"$work/out" 2>/dev/null &
pid=$!
for _ in $(seq 100); do grep -q "127.0.0.1:" "$work/out" && break; sleep 0.1; done
addr=$(grep -o "127.0.0.1:[0-9]*" "$work/out" | head -1)
[ -n "$addr" ] || { echo "server_cost: the server did not report its address" >&2; exit 1; }
"$client" --address="$addr" --attachment_bytes="$bytes" --duration=1s --warmup_calls=100 >/dev/null
perf stat -e page-faults,task-clock -x, -p "$pid" -o "$work/perf" &
perf_pid=$!
sleep 0.2  # perf attaches
client_pids=()
for i in $(seq "$clients"); do
  "$client" --address="$addr" --attachment_bytes="$bytes" --duration="${seconds}s" \
    --warmup_calls=0 >"$work/c$i" &
  client_pids+=($!)
done
wait "${client_pids[@]}"
kill -INT "$perf_pid"
wait "$perf_pid" || true
calls_per_sec=0
for i in $(seq "$clients"); do
  calls_per_sec=$((calls_per_sec + $(sed 's/calls_per_sec=\([0-9]*\).*/\1/' "$work/c$i")))
done
sleep 2
idle_rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
awk -F, -v rate="$calls_per_sec" -v s="$seconds" -v rss="$idle_rss" -v c="$clients" '
  /page-faults/ {faults = $1} /task-clock/ {ms = $1}
  END {calls = rate * s
       printf "clients=%d calls/s=%d server_page_faults/call=%.1f server_cpu_us/call=%.0f idle_rss_2s_after_kib=%d\n",
              c, rate, faults / calls, ms * 1000 / calls, rss}' "$work/perf"
