#!/usr/bin/env bash
# framerpc_server with the command service, as operators run it: it refuses to start when the
# service would be reachable from other hosts without a token, serves it on loopback without one,
# and demands the token wherever one is configured. Waits are on the server's output, not sleeps.
set -euo pipefail

source "$PWD/server/server_test_lib.sh"

allow=(--enable_command_service --command_allow=/bin/echo,/bin/sh)

# --- Refusals -------------------------------------------------------------------------------
expect_refusal "--auth_token_file" --listen=0.0.0.0:0 "${allow[@]}"
expect_refusal "0.0.0.0:" --listen=127.0.0.1:0,0.0.0.0:0 "${allow[@]}"
printf 'a-token-for-the-server-test\n' > "$work/token"
chmod 644 "$work/token"
expect_refusal "chmod 600" --listen=127.0.0.1:0 "${allow[@]}" --auth_token_file="$work/token"
chmod 600 "$work/token"
expect_refusal "allowlist entry" --listen=127.0.0.1:0 --enable_command_service --command_allow=bin/echo
expect_refusal "/nonexistent/prog" --listen=127.0.0.1:0 --enable_command_service --command_allow=/nonexistent/prog
expect_refusal "BASH_ENV: a shell reads it" --listen=127.0.0.1:0 "${allow[@]}" --command_env_allow=GREETING,BASH_ENV
expect_refusal "--command_containment" --listen=127.0.0.1:0 "${allow[@]}" --command_containment=chroot
expect_refusal "--command_workdir" --listen=127.0.0.1:0 "${allow[@]}" --command_workdir=relative
expect_refusal "busy_poll must be between 0 and 1s, got 2s" --listen=127.0.0.1:0 --busy_poll=2s
expect_refusal "busy_poll must be between 0 and 1s, got -1us" --listen=127.0.0.1:0 --busy_poll=-1us

# --- Loopback, no token ---------------------------------------------------------------------
start_server --listen=127.0.0.1:0 "${allow[@]}"
out="$("$cli" --stdin=never exec "$address" -- /bin/echo 'hello; rm -rf /')"
[ "$out" = "hello; rm -rf /" ] || fail "echo gave '$out'"
rc=0; "$cli" --stdin=never exec "$address" -- /bin/sh -c 'exit 3' || rc=$?
[ "$rc" -eq 3 ] || fail "exit code $rc, not 3"
rc=0; "$cli" --stdin=never exec "$address" -- /bin/cat 2>"$work/err" || rc=$?
[ "$rc" -eq 255 ] || fail "cat (not allowed) gave $rc"
grep -qF "PERMISSION_DENIED" "$work/err" || fail "no PERMISSION_DENIED: $(cat "$work/err")"
stop_server
echo "ok: loopback without a token"

# --- Issue 12: the start-up line, and the environment allowlist over the wire -----------------
start_server --listen=127.0.0.1:0 --enable_command_service --command_allow=/usr/bin/ldd \
  --command_containment=pid_namespace --command_workdir="$work"
read -r -t 30 line <&3 || fail "no command-service line"
case "$line" in
  *"containment pid_namespace, commands run in $work") ;;
  *) fail "command-service line: $line" ;;
esac
rc=0
echo "/usr/bin/touch $work/PWNED" | "$cli" --stdin=always --env=BASH_ENV=/dev/stdin \
  exec "$address" -- /usr/bin/ldd /bin/true 2>"$work/err" || rc=$?
[ "$rc" -eq 255 ] || fail "BASH_ENV gave $rc"
grep -qF "PERMISSION_DENIED" "$work/err" || fail "no PERMISSION_DENIED: $(cat "$work/err")"
[ ! -e "$work/PWNED" ] || fail "BASH_ENV ran the injected command"
rc=0; "$cli" --stdin=never --cwd=/root exec "$address" -- /usr/bin/ldd --version 2>"$work/err" || rc=$?
[ "$rc" -eq 255 ] && grep -qF "PERMISSION_DENIED" "$work/err" || fail "--cwd=/root: $rc $(cat "$work/err")"
stop_server
echo "ok: environment allowlist and working directory over the wire"

# --- Every address with a token -------------------------------------------------------------
start_server --listen=0.0.0.0:0 "${allow[@]}" --auth_token_file="$work/token"
port="${address##*:}"
rc=0; "$cli" --stdin=never exec "127.0.0.1:$port" -- /bin/echo hi 2>"$work/err" || rc=$?
[ "$rc" -eq 255 ] || fail "no token gave $rc"
grep -qF "UNAUTHENTICATED" "$work/err" || fail "no UNAUTHENTICATED: $(cat "$work/err")"
out="$("$cli" --stdin=never --auth_token_file="$work/token" exec "127.0.0.1:$port" -- /bin/echo hi)"
[ "$out" = "hi" ] || fail "with the token: '$out'"
stop_server
echo "ok: token required and accepted"

# --- Busy polling ---------------------------------------------------------------------------
start_server --listen=127.0.0.1:0 "${allow[@]}" --busy_poll=200us
out="$("$cli" --stdin=never exec "$address" -- /bin/echo polled)"
[ "$out" = "polled" ] || fail "with --busy_poll: '$out'"
stop_server
echo "ok: busy polling"

# --- Off unless enabled ---------------------------------------------------------------------
start_server --listen=127.0.0.1:0
rc=0; "$cli" --stdin=never exec "$address" -- /bin/echo hi 2>"$work/err" || rc=$?
[ "$rc" -eq 255 ] || fail "disabled service gave $rc"
grep -qF "UNIMPLEMENTED" "$work/err" || fail "no UNIMPLEMENTED: $(cat "$work/err")"
stop_server
echo "ok: off by default"
echo PASS
