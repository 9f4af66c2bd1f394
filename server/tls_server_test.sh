#!/usr/bin/env bash
# framerpc_server with TLS, as operators run it: certificates made here with the openssl CLI, the
# flags and their refusals, the start-up line, framerpc_cli with grpcurl's TLS flags, mutual TLS
# admitting the command service by the client's SPIFFE ID and refusing another identity, plaintext
# refused on the TLS port, and reloads (SIGHUP, and files renamed into place) that new connections
# see. Waits are on the server's output, not sleeps.
set -euo pipefail

source "$PWD/server/server_test_lib.sh"

# --- A CA, a server certificate and two client certificates (openssl CLI) -------------------
pki="$work/pki"
mkdir -p "$pki"
source "$PWD/server/test_pki_lib.sh"
ca main
ca renewed
leaf main server "DNS:localhost,IP:127.0.0.1"
leaf main deploy "URI:spiffe://example.org/ns/prod/sa/deploy"
leaf main billing "URI:spiffe://example.org/ns/prod/sa/billing"
leaf renewed server2 "DNS:localhost,IP:127.0.0.1"
cp "$pki/server.pem" "$pki/live.pem"
cp "$pki/server.key" "$pki/live.key"

tls=(--listen=127.0.0.1:0 --tls_cert="$pki/live.pem" --tls_key="$pki/live.key")
mutual=("${tls[@]}" --tls_client_ca="$pki/main-ca.pem" --tls_client_auth=require)
command=(--enable_command_service --command_allow=/bin/echo)

# --- Refusals --------------------------------------------------------------------------------
expect_refusal "--tls_cert needs --tls_key" --listen=127.0.0.1:0 --tls_cert="$pki/live.pem"
expect_refusal "--tls_client_auth=require needs --tls_client_ca" "${tls[@]}" --tls_client_auth=require
expect_refusal "--tls_client_auth: client auth 'maybe'" "${tls[@]}" --tls_client_auth=maybe
expect_refusal "--tls_min_version: TLS version '1.0'" "${tls[@]}" --tls_min_version=1.0
expect_refusal "private key file $pki/deploy.key" --listen=127.0.0.1:0 \
  --tls_cert="$pki/live.pem" --tls_key="$pki/deploy.key"
expect_refusal "but no listener asks for client certificates" "${tls[@]}" "${command[@]}" \
  --command_allow_identities=spiffe://example.org/ns/prod/sa/deploy

# --- Mutual TLS: the command service admits a client by its SPIFFE ID ------------------------
start_server "${mutual[@]}" "${command[@]}" \
  --command_allow_identities=spiffe://example.org/ns/prod/sa/deploy
grep -qF "TLS on the --listen addresses: TLS only, TLS 1.3+, client certificates required" \
  "$work/first_lines" || fail "no TLS line: $(cat "$work/first_lines")"
grep -qF "accepts a TLS client certificate naming spiffe://example.org/ns/prod/sa/deploy" \
  "$work/first_lines" || fail "no access line: $(cat "$work/first_lines")"
out="$("$cli" -cacert "$pki/main-ca.pem" -cert "$pki/deploy.pem" -key "$pki/deploy.key" \
  exec "$address" -- /bin/echo hello-over-mtls)" || fail "exec over mTLS failed"
[ "$out" = "hello-over-mtls" ] || fail "exec printed: $out"
echo "ok: exec over mutual TLS as spiffe://example.org/ns/prod/sa/deploy"

rc=0
"$cli" -cacert "$pki/main-ca.pem" -cert "$pki/billing.pem" -key "$pki/billing.key" \
  exec "$address" -- /bin/echo no 2>"$work/err" || rc=$?
[ "$rc" -eq 255 ] || fail "billing's exec exited $rc"
grep -qF "client identity spiffe://example.org/ns/prod/sa/billing is not allowed" "$work/err" \
  || fail "no identity refusal: $(cat "$work/err")"
echo "ok: another identity of the same CA refused"

rc=0
"$cli" -cacert "$pki/main-ca.pem" --address="$address" \
  call /framerpc.echo.EchoService/Say '{"text":"x"}' 2>"$work/err" || rc=$?
[ "$rc" -eq 78 ] || fail "a client without a certificate exited $rc"
grep -qF "certificate required" "$work/err" || fail "no certificate-required error: $(cat "$work/err")"
echo "ok: no client certificate refused"
stop_server

# --- TLS only: plaintext refused; -servername; SIGHUP reload ----------------------------------
# Files not watched, so that only the signal reloads.
start_server "${tls[@]}" --tls_watch_files=false
"$cli" -cacert "$pki/main-ca.pem" --address="$address" --compact \
  call /framerpc.echo.EchoService/Say '{"text":"tls"}' > "$work/out" || fail "call over TLS failed"
[ "$(cat "$work/out")" = '{"text":"tls"}' ] || fail "call printed $(cat "$work/out")"
port="${address##*:}"
"$cli" -cacert "$pki/main-ca.pem" -servername localhost --address="127.0.0.1:$port" --compact \
  call /framerpc.echo.EchoService/Say '{"text":"byname"}' > "$work/out" \
  || fail "call by name failed"
rc=0
"$cli" -cacert "$pki/main-ca.pem" -servername other.test --address="$address" \
  call /framerpc.echo.EchoService/Say '{"text":"x"}' 2>"$work/err" || rc=$?
[ "$rc" -eq 78 ] || fail "a name mismatch exited $rc"
grep -qF "hostname mismatch" "$work/err" || fail "no mismatch error: $(cat "$work/err")"
rc=0
"$cli" --address="$address" call /framerpc.echo.EchoService/Say '{"text":"x"}' 2>"$work/err" || rc=$?
[ "$rc" -eq 73 ] || fail "plaintext exited $rc"
grep -qF "this listener accepts TLS only" "$work/err" || fail "no TLS-only error: $(cat "$work/err")"
echo "ok: plaintext refused on the TLS port"

# The reload: the files now hold a certificate of another CA; SIGHUP; new connections see it.
cp "$pki/server2.pem" "$pki/live.pem"
cp "$pki/server2.key" "$pki/live.key"
kill -HUP "$server_pid"
line=""
read -r -t 30 line <&3 || fail "no reload line"
[ "$line" = "framerpc_server: TLS certificate and key reloaded" ] || fail "reload said: $line"
"$cli" -cacert "$pki/renewed-ca.pem" --address="$address" \
  call /framerpc.echo.EchoService/Say '{"text":"new"}' > /dev/null \
  || fail "the reloaded certificate is not served"
rc=0
"$cli" -cacert "$pki/main-ca.pem" --address="$address" \
  call /framerpc.echo.EchoService/Say '{"text":"old"}' 2>"$work/err" || rc=$?
[ "$rc" -eq 78 ] || fail "the old CA still verifies after the reload ($rc)"
echo "ok: SIGHUP reload served to new connections"

stop_server

# --- The files renamed into place (the key, then the certificate) reload without a signal -----
start_server "${tls[@]}"
"$cli" -cacert "$pki/renewed-ca.pem" --address="$address" \
  call /framerpc.echo.EchoService/Say '{"text":"renewed"}' > /dev/null || fail "call failed"
cp "$pki/server.key" "$pki/live.key.new" && mv "$pki/live.key.new" "$pki/live.key"
cp "$pki/server.pem" "$pki/live.pem.new" && mv "$pki/live.pem.new" "$pki/live.pem"
line=""
read -r -t 30 line <&3 || fail "no reload line after the files changed"
[ "$line" = "framerpc_server: TLS certificate and key reloaded (files changed)" ] \
  || fail "the file reload said: $line"
"$cli" -cacert "$pki/main-ca.pem" --address="$address" \
  call /framerpc.echo.EchoService/Say '{"text":"renamed"}' > /dev/null \
  || fail "the certificate renamed into place is not served"
echo "ok: files renamed into place reloaded without a signal"
stop_server
echo PASS
