#!/usr/bin/env bash
# framerpc_server's --version and --help (its own flags, not "No flags matched"), the log flags'
# refusals, and its logs as operators read them: --log_format=json lines on stderr that each parse
# as JSON, an access line per call with the trace id, a policy refusal and a garbage connection
# logged once each with their reason, the token nowhere, and stdout's start-up report unchanged.
set -euo pipefail

source "$PWD/server/server_test_lib.sh"

# --- --version ------------------------------------------------------------------------------
"$server" --version >"$work/version" || fail "--version exited $?"
grep -q '^framerpc_server [0-9]\+\.[0-9]\+\.[0-9]\+$' "$work/version" \
  || fail "no version line: $(cat "$work/version")"
grep -q '^built with .*protobuf .*gRPC .*abseil .*spdlog ' "$work/version" \
  || fail "no build line: $(cat "$work/version")"
echo "ok: --version"

# --- --help lists the server's own flags -------------------------------------------------------
rc=0; "$server" --help >"$work/help" 2>&1 || rc=$?
[ "$rc" -ne 124 ] || fail "--help did not exit"
! grep -q "No flags matched" "$work/help" || fail "--help matched no flags"
for flag in --listen --log_level --log_format --access_log --access_log_sample --grpc_listen \
            --enable_command_service --file_root --refusal_log_rate; do
  grep -q -- "$flag " "$work/help" || fail "--help does not list $flag: $(head -20 "$work/help")"
done
echo "ok: --help"

# --- The log flags' refusals -----------------------------------------------------------------
expect_refusal "--log_level: log level must be debug, info, warn or error, not 'verbose'" \
  --listen=127.0.0.1:0 --log_level=verbose
expect_refusal "--log_format: log format must be text or json, not 'xml'" \
  --listen=127.0.0.1:0 --log_format=xml
expect_refusal "--access_log writes at level info" --listen=127.0.0.1:0 --access_log --log_level=warn
expect_refusal "--access_log_sample must be at least 1" --listen=127.0.0.1:0 --access_log \
  --access_log_sample=0

# --- JSON logs: access lines, refusals, no token -----------------------------------------------
token="a-token-that-must-never-be-logged-$$"
printf '%s\n' "$token" > "$work/token"
chmod 600 "$work/token"
mkdir -p "$work/files"
printf 'some content\n' > "$work/files/a.txt"
start_server --listen=127.0.0.1:0 --file_root="$work/files" --auth_token_file="$work/token" \
  --log_format=json --access_log
[ "$(tail -1 "$work/first_lines")" = "framerpc_server: serving $address" ] \
  || fail "the serving line changed: $(cat "$work/first_lines")"
# A call with the token in its metadata and a traceparent.
"$cli" --address="$address" --metadata="authorization=Bearer $token" \
  --metadata=traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 \
  call /framerpc.echo.EchoService/Say '{"text":"hi"}' >/dev/null
# A read without the token: refused by the file service's policy.
rc=0; "$cli" download "$address" a.txt "$work/copy" 2>"$work/err" || rc=$?
grep -qF "UNAUTHENTICATED" "$work/err" || fail "download without a token: $(cat "$work/err")"
# The same with a wrong token: refused, and that token is never logged either.
rc=0; "$cli" --metadata="authorization=Bearer wrong-$token" download "$address" a.txt \
  "$work/copy" 2>"$work/err" || rc=$?
grep -qF "UNAUTHENTICATED" "$work/err" || fail "download with a wrong token: $(cat "$work/err")"
# A connection that sends garbage: the server answers CONNECTION_ERROR and closes.
host="${address%:*}"; port="${address##*:}"
exec 4<>"/dev/tcp/$host/$port"
printf 'GARBAGE, NOT FRAMERPC AT ALL\r\n\r\n' >&4
timeout 30 cat <&4 >/dev/null || true
exec 4<&- 4>&-
stop_server

/usr/bin/python3 - "$work/server.err" "$token" <<'PY' || fail "the log: $(cat "$work/server.err")"
import json, sys
path, token = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
assert token not in text, "the token is in the log"
records = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
for r in records:
    assert {"ts", "level", "logger", "msg"} <= r.keys(), r
access = [r for r in records if r["logger"] == "access" and r["msg"] == "call"]
say = [r for r in access if r["method"] == "/framerpc.echo.EchoService/Say"]
assert len(say) == 1, access
assert say[0]["code"] == "OK" and say[0]["transport"] == "framed", say[0]
assert say[0]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736", say[0]
assert say[0]["peer"].startswith("127.0.0.1:"), say[0]
refused = [r for r in records if r["logger"] == "refusal" and r["msg"] == "refused"]
policy = [r for r in refused if r["kind"] == "policy"]
assert len(policy) == 2, refused
assert all(r["reason"].startswith("UNAUTHENTICATED: the file service") for r in policy), policy
garbage = [r for r in refused if r["kind"] == "garbage"]
assert len(garbage) == 1 and "bad magic" in garbage[0]["reason"], refused
assert any(r["logger"] == "server" and r["msg"] == "serving" for r in records), records
print("ok:", len(records), "JSON log lines")
PY
echo "ok: JSON logs"
