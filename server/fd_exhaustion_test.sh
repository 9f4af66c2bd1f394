#!/usr/bin/env bash
# The fd-exhaustion attack against framerpc_server as operators run it: with a low descriptor
# limit, one client opens far more silent connections than the server has descriptors for, and
# holds them. A new client must still be served at once: the server keeps its connections below
# the descriptor limit and closes the oldest idle one to make room. (Before, at the limit every
# new connection was accepted and closed at once, for as long as the silent ones stayed open.)
set -euo pipefail

source "$PWD/server/server_test_lib.sh"

# 128 descriptors: the server keeps 64 for connections (the limit less max(64, a tenth)).
start_server_with_nofile() {
  rm -f "$work/fifo"
  mkfifo "$work/fifo"
  prlimit --nofile=128:128 "$server" "$@" >"$work/fifo" 2>"$work/server.err" &
  server_pid=$!
  exec 3<"$work/fifo"
  local line=""
  while read -r -t 30 line <&3; do
    case "$line" in "framerpc_server: serving "*) break ;; esac
  done
  address="${line#framerpc_server: serving }"
  address="${address%%,*}"
  [ -n "$address" ] || fail "server did not start: $(cat "$work/server.err")"
}

start_server_with_nofile --listen=127.0.0.1:0 --io_threads=1 --first_byte_timeout=1h
port="${address##*:}"

# The attacker: 300 silent connections, held until its stdin closes.
mkfifo "$work/attacker_ready"
exec 4> >(/usr/bin/python3 -c '
import socket, sys
held = []
for _ in range(300):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    held.append(s)
open(sys.argv[2], "w").write("ready\n")
sys.stdin.read()
' "$port" "$work/attacker_ready")
read -r -t 60 ready < "$work/attacker_ready" || fail "the attacker could not connect"
[ "$ready" = "ready" ] || fail "attacker: $ready"

out="$(timeout 30 "$cli" --address="$address" --compact call /framerpc.echo.EchoService/Say \
  '{"text": "still served"}')" || fail "a new client was not served"
[ "$out" = '{"text":"still served"}' ] || fail "unexpected reply: $out"
kill -0 "$server_pid" || fail "the server died"
exec 4>&-
stop_server
echo PASS
