#!/usr/bin/env bash
# framerpc_server with the command service, as operators run it: it refuses to start without a
# credential to check (being on loopback is none), admits a Unix-socket peer by its uid, another
# local user by nothing, and demands the token wherever one is configured; --trust_local_peers
# must be asked for. Waits are on the server's output, not sleeps.
set -euo pipefail

source "$PWD/server/server_test_lib.sh"

allow=(--enable_command_service --command_allow=/bin/echo,/bin/sh,/usr/bin/id)

# --- Refusals -------------------------------------------------------------------------------
expect_refusal "needs a credential: --auth_token_file" --listen=0.0.0.0:0 "${allow[@]}"
# The attack that worked: started like this, the server let any local user (nobody included)
# run commands as its own user over 127.0.0.1, with no token. Now it does not start.
expect_refusal "needs a credential: --auth_token_file" --listen=127.0.0.1:0 "${allow[@]}"
expect_refusal "served on no unix: address" --listen=127.0.0.1:0 "${allow[@]}" \
  --command_allow_uids="$(id -u)"
expect_refusal "--command_allow_uids: no user named 'no-such-user-here'" --listen=127.0.0.1:0 \
  "${allow[@]}" --command_allow_uids=no-such-user-here
printf 'a-token-for-the-server-test\n' > "$work/token"
chmod 644 "$work/token"
expect_refusal "chmod 600" --listen=127.0.0.1:0 "${allow[@]}" --auth_token_file="$work/token"
chmod 600 "$work/token"
expect_refusal "allowlist entry" --listen=127.0.0.1:0 --enable_command_service --command_allow=bin/echo \
  --trust_local_peers
expect_refusal "/nonexistent/prog" --listen=127.0.0.1:0 --enable_command_service --command_allow=/nonexistent/prog \
  --trust_local_peers
expect_refusal "BASH_ENV: a shell reads it" --listen=127.0.0.1:0 "${allow[@]}" --command_env_allow=GREETING,BASH_ENV \
  --trust_local_peers
expect_refusal "--command_containment" --listen=127.0.0.1:0 "${allow[@]}" --command_containment=chroot \
  --trust_local_peers
expect_refusal "--command_workdir" --listen=127.0.0.1:0 "${allow[@]}" --command_workdir=relative \
  --trust_local_peers
expect_refusal "/nonexistent/framerpc_supervisor" --listen=127.0.0.1:0 "${allow[@]}" \
  --command_supervisor=/nonexistent/framerpc_supervisor --trust_local_peers
expect_refusal "busy_poll must be between 0 and 1s, got 2s" --listen=127.0.0.1:0 --busy_poll=2s
expect_refusal "busy_poll must be between 0 and 1s, got -1us" --listen=127.0.0.1:0 --busy_poll=-1us
expect_refusal "the idle timeout must be positive, not 0" --listen=127.0.0.1:0 --idle_timeout=0s

# --- Unix-socket peers by uid; other local users refused -------------------------------------
# A directory and a socket any user may reach, and a copy of the CLI any user may run (the
# runfiles are under /root), so that only the server's own check stands between `nobody` and
# the command service.
shared="$(mktemp -d /tmp/frpc-srv.XXXXXX)"
trap 'cleanup; rm -rf "$shared"' EXIT
chmod 755 "$shared"
cp "$cli" "$shared/cli"
chmod 755 "$shared/cli"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$shared/cli" "$@"; }

start_server --listen=127.0.0.1:0,unix:"$shared/s.sock" "${allow[@]}" --command_allow_uids="$(id -u)"
grep -qF "command service enabled (3 programs allowed), containment " "$work/first_lines" \
  || fail "no command line: $(cat "$work/first_lines")"
grep -qF "; accepts a Unix-socket peer with uid $(id -u)" \
  "$work/first_lines" || fail "no access line: $(cat "$work/first_lines")"
chmod 777 "$shared/s.sock"
out="$("$cli" --stdin=never exec "unix:$shared/s.sock" -- /bin/echo 'hello; rm -rf /')"
[ "$out" = "hello; rm -rf /" ] || fail "echo gave '$out'"
rc=0; "$cli" --stdin=never exec "unix:$shared/s.sock" -- /bin/sh -c 'exit 3' || rc=$?
[ "$rc" -eq 3 ] || fail "exit code $rc, not 3"
rc=0; "$cli" --stdin=never exec "unix:$shared/s.sock" -- /bin/cat 2>"$work/err" || rc=$?
[ "$rc" -eq 255 ] || fail "cat (not allowed) gave $rc"
grep -qF "PERMISSION_DENIED" "$work/err" || fail "no PERMISSION_DENIED: $(cat "$work/err")"
# The same user over TCP has no uid to show: refused.
rc=0; "$cli" --stdin=never exec "$address" -- /bin/echo hi 2>"$work/err" || rc=$?
[ "$rc" -eq 255 ] || fail "TCP without a token gave $rc"
grep -qF "UNAUTHENTICATED" "$work/err" || fail "no UNAUTHENTICATED: $(cat "$work/err")"
# nobody, over TCP and over the Unix socket: refused, and /usr/bin/id never ran.
rc=0; as_nobody --stdin=never exec "$address" -- /usr/bin/id >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" -eq 255 ] || fail "nobody over TCP gave $rc: $(cat "$work/out")"
grep -qF "UNAUTHENTICATED" "$work/err" || fail "nobody over TCP: $(cat "$work/err")"
rc=0; as_nobody --stdin=never exec "unix:$shared/s.sock" -- /usr/bin/id >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" -eq 255 ] || fail "nobody over the Unix socket gave $rc: $(cat "$work/out")"
grep -qF "PERMISSION_DENIED: the command service: peer uid 65534 is not allowed" "$work/err" \
  || fail "nobody over the Unix socket: $(cat "$work/err")"
[ ! -s "$work/out" ] || fail "nobody got output: $(cat "$work/out")"
stop_server
echo "ok: Unix-socket peers by uid, nobody refused"

# --- --trust_local_peers, asked for: every local user is admitted ---------------------------
start_server --listen=127.0.0.1:0 "${allow[@]}" --trust_local_peers
grep -qF "accepts any peer on this host (loopback or Unix socket)" "$work/first_lines" \
  || fail "no access line: $(cat "$work/first_lines")"
out="$(as_nobody --stdin=never exec "$address" -- /usr/bin/id -u)"
[ "$out" = "$(id -u)" ] || fail "nobody with --trust_local_peers: '$out'"
stop_server
echo "ok: --trust_local_peers admits every local user, as documented"

# --- Issue 12: the start-up line, and the environment allowlist over the wire -----------------
start_server --listen=127.0.0.1:0 --enable_command_service --command_allow=/usr/bin/ldd \
  --command_containment=pid_namespace --command_workdir="$work" --trust_local_peers
grep -qF "containment pid_namespace, commands run in $work; accepts" "$work/first_lines" \
  || fail "command-service line: $(cat "$work/first_lines")"
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
# Without TLS, the token and the commands would cross the network in clear: refused unless said.
expect_refusal "would take credentials and commands in plaintext on 0.0.0.0:" \
  --listen=0.0.0.0:0 "${allow[@]}" --auth_token_file="$work/token"
start_server --listen=0.0.0.0:0 "${allow[@]}" --auth_token_file="$work/token" --accept_plaintext
grep -qF "accepts a bearer token ('authorization: Bearer <token>' metadata)" "$work/first_lines" \
  || fail "no access line: $(cat "$work/first_lines")"
port="${address##*:}"
rc=0; "$cli" --stdin=never exec "127.0.0.1:$port" -- /bin/echo hi 2>"$work/err" || rc=$?
[ "$rc" -eq 255 ] || fail "no token gave $rc"
grep -qF "UNAUTHENTICATED" "$work/err" || fail "no UNAUTHENTICATED: $(cat "$work/err")"
out="$("$cli" --stdin=never --auth_token_file="$work/token" exec "127.0.0.1:$port" -- /bin/echo hi)"
[ "$out" = "hi" ] || fail "with the token: '$out'"
stop_server
echo "ok: token required and accepted"

# --- Busy polling ---------------------------------------------------------------------------
start_server --listen=127.0.0.1:0 "${allow[@]}" --trust_local_peers --busy_poll=200us
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
