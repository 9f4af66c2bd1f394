#!/usr/bin/env bash
# The main job: builds framerpc, starts the server with the demo configuration below, and
# exercises it with the command-line client over TCP, a Unix socket and UDP, printing each step.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

# --- The demo configuration (loopback only; port 0 = any free port) -------------------------
work="$(mktemp -d /tmp/framerpc-demo.XXXXXX)"
SERVER_FLAGS=(
  --listen=127.0.0.1:0,unix:"$work/framerpc.sock"
  --udp=127.0.0.1:0
  --io_threads=2
  --ready_file="$work/ready"
  # Being on this host is no credential: the command service and file-service writes admit a
  # caller with the token (on any transport), or a Unix-socket peer running as this user.
  --auth_token_file="$work/token"
  # The command service.
  --enable_command_service
  --command_allow=/bin/echo,/usr/bin/uname,/usr/bin/wc,/usr/bin/seq
  --command_allow_uids="$(id -u)"
  # The file service on one directory, writable.
  --file_root="$work/files"
  --file_writable
  --file_allow_uids="$(id -u)"
)
mkdir "$work/files"
# A shared secret, readable by its owner only (the server refuses it otherwise).
(umask 077 && head -c 32 /dev/urandom | base64 > "$work/token")
# ---------------------------------------------------------------------------------------------

echo "== building"
bazel build //server:framerpc_server //cli:framerpc_cli 2>&1 | grep -vE '^INFO: From |linux-sandbox' | tail -n 2
bin="$(bazel info bazel-bin 2>/dev/null)"
server="$bin/server/framerpc_server"
cli="$bin/cli/framerpc_cli"

server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -TERM "$server_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting: framerpc_server ${SERVER_FLAGS[*]}"
"$server" "${SERVER_FLAGS[@]}" &
server_pid=$!
for _ in $(seq 1 100); do
  [ -f "$work/ready" ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "server exited early" >&2; exit 1; }
  sleep 0.1
done
[ -f "$work/ready" ] || { echo "server did not become ready" >&2; exit 1; }
tcp="$(sed -n 1p "$work/ready")"
unix="$(sed -n 2p "$work/ready")"
udp="$(sed -n 3p "$work/ready")"

step() {
  echo
  echo "\$ framerpc_cli $(printf "%q " "$@")"
  "$cli" "$@"
}

step list
step --address="$tcp" call /framerpc.echo.EchoService/Say '{"text": "hello over TCP"}'
step --address="$tcp" call /framerpc.echo.EchoService/Say '{"text": "shout it", "uppercase": true}'
step --address="$unix" call /framerpc.echo.EchoService/Say '{"text": "hello over a Unix socket"}'
step --address="$udp" call /framerpc.echo.EchoService/Say '{"text": "hello over UDP, one datagram"}'
printf 'raw attachment bytes' > "$work/attachment"
step --address="$tcp" --attachment_file="$work/attachment" --print_attachment \
  call /framerpc.echo.EchoService/Bytes '{}'
echo
echo "\$ framerpc_cli --address=$tcp call /framerpc.echo.EchoService/Shout '{}'   # expected to fail"
if "$cli" --address="$tcp" call /framerpc.echo.EchoService/Shout '{}'; then
  echo "unexpected success" >&2
  exit 1
fi


echo
echo "== the command service: argv runs without a shell, output streams, exit codes pass through"
token=(--auth_token_file="$work/token")
echo
echo "\$ framerpc_cli exec $tcp -- /usr/bin/uname -sr   # expected to fail: no credential"
rc=0
"$cli" exec "$tcp" -- /usr/bin/uname -sr </dev/null || rc=$?
[ "$rc" -eq 255 ] || { echo "unexpected exit code $rc" >&2; exit 1; }
echo "(exit code $rc: loopback alone is no credential)"
step "${token[@]}" exec "$tcp" -- /usr/bin/uname -sr
step exec "$unix" -- /bin/echo 'over the Unix socket, admitted by uid; not a shell: $(id); rm -rf /'
echo
echo "\$ printf 'one\\ntwo\\nthree\\n' | framerpc_cli exec $unix -- /usr/bin/wc -l   # stdin is forwarded"
printf 'one\ntwo\nthree\n' | "$cli" exec "$unix" -- /usr/bin/wc -l
echo
echo "\$ framerpc_cli exec $unix -- /usr/bin/seq 100000 | tail -n 1   # a large output, streamed"
"$cli" exec "$unix" -- /usr/bin/seq 100000 </dev/null | tail -n 1
step "${token[@]}" --address="$tcp" --compact call /framerpc.command.CommandService/Run \
  '{"command": {"argv": ["/usr/bin/wc", "-c"]}, "stdin": "aGVsbG8="}'
echo "(unary Run; bytes are base64 in JSON: stdin \"hello\", stdout \"5\\n\")"
echo
echo "\$ framerpc_cli exec $unix -- /bin/rm -rf /tmp/x   # expected to fail: not in the allowlist"
rc=0
"$cli" exec "$unix" -- /bin/rm -rf /tmp/x </dev/null || rc=$?
[ "$rc" -eq 255 ] || { echo "unexpected exit code $rc" >&2; exit 1; }
echo "(exit code $rc)"

echo
echo "== the file service: upload and download, checked by SHA-256 at both ends"
head -c $((3 * 1024 * 1024 + 123)) /dev/urandom > "$work/report.bin"
step "${token[@]}" upload "$tcp" "$work/report.bin" q3.bin
step download "$unix" q3.bin "$work/q3-copy.bin"
cmp "$work/report.bin" "$work/q3-copy.bin" && echo "(cmp: the copy is identical)"
echo
echo "\$ framerpc_cli download $unix q3.bin $work/q3-copy.bin --continue   # after 1000000 bytes"
head -c 1000000 "$work/report.bin" > "$work/q3-copy.bin"
"$cli" download "$unix" q3.bin "$work/q3-copy.bin" --continue
cmp "$work/report.bin" "$work/q3-copy.bin" && echo "(cmp: the resumed copy is identical)"
echo
echo "\$ framerpc_cli download $unix ../../etc/passwd $work/passwd   # expected to fail"
rc=0
"$cli" download "$unix" ../../etc/passwd "$work/passwd" || rc=$?
[ "$rc" -eq 67 ] || { echo "unexpected exit code $rc" >&2; exit 1; }
echo "(exit code $rc: 64 + 3, the server's INVALID_ARGUMENT)"

echo
echo "== graceful shutdown (SIGTERM)"
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
echo "== demo finished"
