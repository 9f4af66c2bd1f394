#!/usr/bin/env bash
# framerpc_server with the file service, as operators run it, driven by framerpc_cli: it refuses
# a writable service reachable from other hosts without a token, and bad --file_* flags; a
# read-only service serves downloads and refuses uploads; a writable one moves files both ways,
# resumes a download, and demands the token when one is configured. Waits are on the server's
# output, not sleeps.
set -euo pipefail

source "$PWD/server/server_test_lib.sh"
root="$work/root"
mkdir "$root"

# Runs the CLI expecting exit code $1 (64 + the status code for the server's errors) and $2 in
# its stderr.
expect_cli_error() {
  local code="$1" expected="$2"; shift 2
  local rc=0
  "$cli" "$@" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" -eq "$code" ] || fail "exit $rc, not $code, for: $* ($(cat "$work/err"))"
  grep -qF -- "$expected" "$work/err" || fail "no '$expected' in: $(cat "$work/err")"
}

head -c 300000 /dev/urandom > "$root/data.bin"
head -c 200000 /dev/urandom > "$work/up.bin"
printf 'a-token-for-the-file-server-test\n' > "$work/token"
chmod 600 "$work/token"

# --- Refusals -------------------------------------------------------------------------------
# The attack that worked: started like this, the server let any local user write files as its own
# user over 127.0.0.1. Now writes need a credential, or it does not start.
expect_refusal "a writable file service needs a credential for writes" --listen=127.0.0.1:0 \
  --file_root="$root" --file_writable
expect_refusal "would let anyone read the files" --listen=0.0.0.0:0 --file_root="$root"
expect_refusal "--file_chunk_bytes must be between" --listen=127.0.0.1:0 --file_root="$root" \
  --file_chunk_bytes=100
expect_refusal "NOT_FOUND" --listen=127.0.0.1:0 --file_root="$work/missing"

# --- Read-only (the default), on every address when the files are declared public ------------
start_server --listen=0.0.0.0:0 --file_root="$root" --file_public
grep -qF "file service on $root (read-only); reads: anyone" "$work/first_lines" \
  || fail "no access line: $(cat "$work/first_lines")"
port="${address##*:}"
"$cli" download "127.0.0.1:$port" data.bin "$work/copy.bin" >"$work/out"
cmp "$root/data.bin" "$work/copy.bin" || fail "download differs"
grep -qF "verified" "$work/out" || fail "no verification line: $(cat "$work/out")"
expect_cli_error 71 "the file service is read-only" upload "127.0.0.1:$port" "$work/up.bin" up.bin
[ ! -e "$root/up.bin" ] || fail "read-only server wrote up.bin"
expect_cli_error 67 "escapes the root" download "127.0.0.1:$port" ../etc/passwd "$work/x"
stop_server
echo "ok: read-only"

# --- Writable on loopback, for every local user, as asked -----------------------------------
start_server --listen=127.0.0.1:0 --file_root="$root" --file_writable --file_chunk_bytes=65536 \
  --trust_local_peers
grep -qF "(writable, hard links and mounts refused); reads: anyone; writes: any peer on this host" \
  "$work/first_lines" \
  || fail "no access line: $(cat "$work/first_lines")"
"$cli" upload "$address" "$work/up.bin" sub.bin >/dev/null
cmp "$work/up.bin" "$root/sub.bin" || fail "upload differs"
expect_cli_error 70 "already exists" upload "$address" "$work/up.bin" sub.bin
"$cli" --overwrite upload "$address" "$work/copy.bin" sub.bin >/dev/null
cmp "$work/copy.bin" "$root/sub.bin" || fail "overwrite differs"
# An interrupted download: the first 100000 bytes are there; --continue fetches the rest.
head -c 100000 "$root/data.bin" > "$work/part.bin"
"$cli" download "$address" data.bin "$work/part.bin" --continue >"$work/out"
cmp "$root/data.bin" "$work/part.bin" || fail "resumed download differs"
grep -qF "after the 100000 already there" "$work/out" || fail "not resumed: $(cat "$work/out")"
stop_server
echo "ok: writable on loopback"

# --- Writable, for one Unix-socket uid -------------------------------------------------------
shared="$(mktemp -d /tmp/frpc-files.XXXXXX)"
trap 'cleanup; rm -rf "$shared"' EXIT
chmod 755 "$shared"
cp "$cli" "$shared/cli"
chmod 755 "$shared/cli"
start_server --listen=127.0.0.1:0,unix:"$shared/s.sock" --file_root="$root" --file_writable \
  --file_allow_uids="$(id -u)"
chmod 777 "$shared/s.sock"
"$cli" upload "unix:$shared/s.sock" "$work/up.bin" uid.bin >/dev/null
cmp "$work/up.bin" "$root/uid.bin" || fail "upload by uid differs"
expect_cli_error 80 "UNAUTHENTICATED" upload "$address" "$work/up.bin" tcp.bin
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$shared/cli" upload \
  "unix:$shared/s.sock" /etc/hostname nobody.bin >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" -eq 71 ] || fail "nobody's upload: exit $rc ($(cat "$work/err"))"
grep -qF "peer uid 65534 is not allowed" "$work/err" || fail "nobody: $(cat "$work/err")"
[ ! -e "$root/tcp.bin" ] && [ ! -e "$root/nobody.bin" ] || fail "a refused upload wrote a file"
stop_server
echo "ok: writes by Unix-socket uid; TCP and nobody refused"

# --- Writable on every address, with the token ----------------------------------------------
expect_refusal "would take credentials and files in plaintext on 0.0.0.0:" \
  --listen=0.0.0.0:0 --file_root="$root" --file_writable --auth_token_file="$work/token"
start_server --listen=0.0.0.0:0 --file_root="$root" --file_writable --auth_token_file="$work/token" \
  --accept_plaintext
port="${address##*:}"
expect_cli_error 80 "UNAUTHENTICATED" upload "127.0.0.1:$port" "$work/up.bin" tok.bin
expect_cli_error 80 "UNAUTHENTICATED" download "127.0.0.1:$port" data.bin "$work/x"
"$cli" --auth_token_file="$work/token" upload "127.0.0.1:$port" "$work/up.bin" tok.bin >/dev/null
cmp "$work/up.bin" "$root/tok.bin" || fail "upload with the token differs"
stop_server
echo "ok: token required and accepted"
echo PASS
