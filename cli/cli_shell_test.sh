#!/usr/bin/env bash
# framerpc_cli as scripts use it, against a real framerpc_server: services it does not have built
# in (the file service, health) listed, described and called through the server's reflection,
# over the framed protocol and over its gRPC port (--grpc);
# grpcurl's flags (-d, -H, -max-time, -emit-defaults, -format-error, -plaintext); --timeout in
# seconds; and the exit codes: 0, 1 for usage and local errors, 64 + the status code for the
# server's.
set -euo pipefail
source "$PWD/server/server_test_lib.sh"

mkdir "$work/files"
printf 'twelve bytes' >"$work/files/a.txt"
start_server --listen=127.0.0.1:0 --grpc_listen=127.0.0.1:0 --file_root="$work/files"
# The serving line lists the framed address first, then grpc:HOST:PORT for --grpc_listen.
grpc_address=$(sed -n 's/^framerpc_server: serving //p' "$work/first_lines" | tr ',' '\n' |
  sed -n 's/^ *grpc://p')
[ -n "$grpc_address" ] || fail "no gRPC address in: $(cat "$work/first_lines")"

# Expects exit code $1 from the CLI run with the rest; its stdout in $work/out, stderr in $work/err.
expect_exit() {
  local code="$1"; shift
  local rc=0
  "$cli" "$@" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" -eq "$code" ] || fail "exit $rc, not $code, for: $* (stderr: $(cat "$work/err"))"
}

expect_exit 0 --address="$address" list
grep -q '^framerpc.file.FileService$' "$work/out" || fail "list: $(cat "$work/out")"
grep -qF '/framerpc.file.FileService/Download(framerpc.file.DownloadRequest) returns (stream framerpc.file.DownloadResponse)' \
  "$work/out" || fail "list: $(cat "$work/out")"
expect_exit 0 --address="$address" describe framerpc.file.StatRequest
grep -q 'string path = 1;' "$work/out" || fail "describe: $(cat "$work/out")"

expect_exit 0 --address="$address" -H 'x-trace: one, two' -max-time 5 --compact \
  call /framerpc.file.FileService/Stat -d '{"path": "a.txt"}'
grep -q '"size":"12"' "$work/out" || fail "Stat: $(cat "$work/out")"
echo '{"path": "a.txt"}' | "$cli" --address="$address" --timeout=5 -plaintext -emit-defaults \
  call /framerpc.file.FileService/Stat -d @ >"$work/out" || fail "Stat with -d @"
grep -q '"size": "12"' "$work/out" || fail "Stat from stdin: $(cat "$work/out")"

# A server-streaming call that never ends on its own: one reply, then -max-time ends it.
expect_exit 68 --address="$address" -max-time 0.5 --compact call /grpc.health.v1.Health/Watch '{}'
grep -qx '{"status":"SERVING"}' "$work/out" || fail "Watch: $(cat "$work/out")"
grep -q '^ERROR: DEADLINE_EXCEEDED: ' "$work/err" || fail "Watch: $(cat "$work/err")"

# The same over the server's gRPC adapter port: reflection, calls, -v, the exit codes.
expect_exit 0 --grpc --address="$grpc_address" list framerpc.file.FileService
grep -qF '/framerpc.file.FileService/Stat(framerpc.file.StatRequest)' "$work/out" ||
  fail "list --grpc: $(cat "$work/out")"
expect_exit 0 --grpc --address="$grpc_address" describe framerpc.file.StatRequest
grep -q 'string path = 1;' "$work/out" || fail "describe --grpc: $(cat "$work/out")"
expect_exit 0 --grpc --address="$grpc_address" -H 'x-trace: one' -max-time 5 --compact \
  call /framerpc.file.FileService/Stat -d '{"path": "a.txt"}'
grep -q '"size":"12"' "$work/out" || fail "Stat --grpc: $(cat "$work/out")"
expect_exit 0 --grpc --address="$grpc_address" -v --compact \
  call /framerpc.file.FileService/Stat -d '{"path": "a.txt"}'
grep -q '^Response headers received:$' "$work/out" && grep -q '^Response trailers received:$' "$work/out" &&
  grep -q '^Sent 1 request and received 1 response$' "$work/out" || fail "-v --grpc: $(cat "$work/out")"
expect_exit 68 --grpc --address="$grpc_address" -max-time 0.5 --compact \
  call /grpc.health.v1.Health/Watch '{}'
grep -qx '{"status":"SERVING"}' "$work/out" || fail "Watch --grpc: $(cat "$work/out")"
expect_exit 69 --grpc --address="$grpc_address" call /framerpc.file.FileService/Stat -d '{"path": "missing"}'
grep -q '^ERROR: NOT_FOUND: ' "$work/err" || fail "$(cat "$work/err")"
expect_exit 1 --grpc --address="$grpc_address" health
# -v over the framed protocol, which has no response metadata, says so.
expect_exit 0 --address="$address" -v --compact call /framerpc.file.FileService/Stat -d '{"path": "a.txt"}'
grep -qF "(none: the framed protocol's responses carry no metadata)" "$work/out" ||
  fail "-v: $(cat "$work/out")"

expect_exit 0 health "$address"
[ "$(cat "$work/out")" = SERVING ] || fail "health: $(cat "$work/out")"
expect_exit 69 health "$address" no.Such.Service

# The server's errors: 64 + the code.
expect_exit 69 --address="$address" call /framerpc.file.FileService/Stat -d '{"path": "missing"}'
grep -q '^ERROR: NOT_FOUND: ' "$work/err" || fail "$(cat "$work/err")"
expect_exit 67 --address="$address" call /framerpc.file.FileService/Stat -d '{"path": "../x"}'
expect_exit 69 --address="$address" -format-error call /framerpc.file.FileService/Stat -d '{"path": "missing"}'
grep -q '"code":5' "$work/err" && grep -q '"name":"NOT_FOUND"' "$work/err" || fail "-format-error: $(cat "$work/err")"

# Usage and local errors: 1.
expect_exit 1 --address="$address" --timeout=5x call /framerpc.file.FileService/Stat '{}'
grep -qF "is neither a number of seconds (5, 0.25) nor a duration" "$work/err" || fail "$(cat "$work/err")"
expect_exit 1 --no_such_flag list
expect_exit 1 --address="$address" call /framerpc.file.FileService/Stat -d '{"nope": 1}'
expect_exit 1 --address="$address" -H 'no colon' call /framerpc.file.FileService/Stat '{}'
grep -qF "bad -H header 'no colon'" "$work/err" || fail "$(cat "$work/err")"
expect_exit 1 frobnicate
expect_exit 1 --address="$address" --reflection=sometimes list

# An address naming several servers (the same one twice here), and the balancing policy.
expect_exit 0 --address="ipv4:$address,$address" --lb_policy=round_robin --compact \
  call /framerpc.file.FileService/Stat -d '{"path": "a.txt"}'
grep -q '"size":"12"' "$work/out" || fail "Stat through a list: $(cat "$work/out")"
expect_exit 1 --address="ipv4:$address,$address" --lb_policy=random list
grep -qF "unknown load balancing policy 'random'" "$work/err" || fail "$(cat "$work/err")"

stop_server
# Nothing listening: UNAVAILABLE, 64 + 14.
expect_exit 78 --address="$address" call /framerpc.echo.EchoService/Say '{}'
expect_exit 78 health "$address"
expect_exit 78 --grpc --address="$grpc_address" call /framerpc.echo.EchoService/Say '{}'
echo PASS
