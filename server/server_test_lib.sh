# Shared by the framerpc_server shell tests (sourced from their runfiles root): paths to the
# server and the CLI, a work directory, and helpers that start, stop and expect refusals from
# the server. Waits are on the server's output, never sleeps.
#
#   source "$PWD/server/server_test_lib.sh"    # then: start_server ...; stop_server

server="$PWD/server/framerpc_server"
cli="$PWD/cli/framerpc_cli"
work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/srv.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" || true; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# Runs the server with "$@" expecting it to refuse to start; its stderr must contain $expected.
expect_refusal() {
  local expected="$1"; shift
  local rc=0
  timeout 30 "$server" "$@" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" -ne 0 ] || fail "started with: $*"
  [ "$rc" -ne 124 ] || fail "did not exit (timeout) with: $*"
  grep -qF -- "$expected" "$work/err" || fail "no '$expected' in: $(cat "$work/err")"
  echo "ok: refused ($*)"
}

# Starts the server with "$@" and sets $address to its first listening address, once it has
# printed that it is serving. Its start-up report (the services' access lines, then the serving
# line, which comes last) is in $work/first_lines.
start_server() {
  rm -f "$work/fifo"
  mkfifo "$work/fifo"
  "$server" "$@" >"$work/fifo" 2>"$work/server.err" &
  server_pid=$!
  exec 3<"$work/fifo"
  local line=""
  : > "$work/first_lines"
  while :; do
    read -r -t 30 line <&3 || fail "server did not start: $(cat "$work/server.err")"
    printf '%s\n' "$line" >> "$work/first_lines"
    case "$line" in
      "framerpc_server: serving "*) break ;;
      "framerpc_server: "*) ;;
      *) fail "unexpected start-up line: $line" ;;
    esac
  done
  address="${line#framerpc_server: serving }"
  address="${address%%,*}"
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || fail "server exited with $?"
  server_pid=""
  exec 3<&-
}
