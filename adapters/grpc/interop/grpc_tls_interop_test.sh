#!/usr/bin/env bash
# gRPC clients framerpc did not write, over TLS (issue 14.6), against the real framerpc_server's
# gRPC adapter port (--grpc_listen) with --tls_cert and client certificates required:
#  - Debian's python3-grpcio with ssl_channel_credentials (grpc_tls_interop.py): a unary call and
#    an Exec stream with a client certificate, no client certificate and an unknown CA refused;
#  - `buf curl --cacert --cert --key` (npm @bufbuild/buf): the services listed through reflection,
#    a call whose schema came from reflection, and an unknown CA refused.
# Certificates are made here with the openssl CLI. Waits are on the server's ready file (bounded
# polling), never sleeps as synchronisation.
set -euo pipefail

source "$PWD/adapters/grpc/interop/interop_lib.sh"
npm_package_dir "$work/npm"
# buf is its native binary for this platform (the package's launcher would look for it through
# the source tree).
buf="$modules/@bufbuild/buf-linux-x64/bin/buf"
[ -x "$buf" ] || fail "no $buf: run scripts/install-deps.sh"

export HOME="$work/home" BUF_CACHE_DIR="$work/buf-cache"  # buf writes nothing outside the test
mkdir -p "$HOME"

# --- A CA with a server and a client certificate, and a CA the server does not know ----------
pki="$work/pki"
mkdir -p "$pki"
source "$PWD/server/test_pki_lib.sh"
client_id="spiffe://example.org/ns/test/sa/client"
ca main
ca other
leaf main server "DNS:localhost,IP:127.0.0.1"
leaf main client "URI:$client_id"

start_server --listen=127.0.0.1:0 --grpc_listen=127.0.0.1:0 \
  --tls_cert="$pki/server.pem" --tls_key="$pki/server.key" \
  --tls_client_ca="$pki/main-ca.pem" --tls_client_auth=require \
  --enable_command_service --command_allow=/bin/cat --command_allow_identities="$client_id" \
  --io_threads=2 --shutdown_grace=5s
grpc=$(sed -n 's/^grpc://p' "$work/ready")
[ -n "$grpc" ] || fail "unexpected ready file: $(cat "$work/ready")"
echo "server: gRPC over TLS on $grpc"

# --- grpcio with ssl_channel_credentials -------------------------------------------------------
PYTHONPATH="$stubs" "$python" "$here/grpc_tls_interop.py" "$grpc" "$pki" || fail "grpcio over TLS"

# --- buf curl: reflection over TLS (-v: its log names why a server is refused) ----------------
tls_flags=(--protocol grpc --cacert "$pki/main-ca.pem" --cert "$pki/client.pem" --key "$pki/client.key")
"$buf" curl "${tls_flags[@]}" --reflect-protocol grpc-v1alpha --list-services "https://$grpc" \
  >"$work/services" 2>"$work/buf.err" || fail "buf curl --list-services: $(cat "$work/buf.err")"
for service in framerpc.echo.EchoService framerpc.command.CommandService \
    grpc.reflection.v1alpha.ServerReflection; do
  grep -qxF "$service" "$work/services" || fail "buf curl did not list $service: $(cat "$work/services")"
done
echo "ok: buf curl --cacert lists the services through reflection: $(tr '\n' ' ' <"$work/services")"

"$buf" curl "${tls_flags[@]}" --reflect-protocol grpc-v1alpha \
  -d '{"text": "buf over tls"}' "https://$grpc/framerpc.echo.EchoService/Say" \
  >"$work/say" 2>"$work/buf.err" || fail "buf curl Say: $(cat "$work/buf.err")"
"$python" -c 'import json, sys; reply = json.load(open(sys.argv[1]));
assert reply == {"text": "buf over tls"}, reply' "$work/say" || fail "buf curl Say replied $(cat "$work/say")"
echo "ok: buf curl calls EchoService.Say with the schema from reflection"

rc=0
"$buf" curl --cacert "$pki/other-ca.pem" --cert "$pki/client.pem" --key "$pki/client.key" \
  --protocol grpc --reflect-protocol grpc-v1alpha --list-services -v "https://$grpc" >/dev/null 2>"$work/buf.err" ||
  rc=$?
[ "$rc" -ne 0 ] || fail "buf curl trusted a server its CA did not issue"
grep -qF "certificate signed by unknown authority" "$work/buf.err" ||
  fail "buf curl with another CA said: $(cat "$work/buf.err")"
echo "ok: buf curl with another CA refused: $(grep -F "unknown authority" "$work/buf.err")"

kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=""
[ "$rc" -eq 0 ] || fail "server exited with $rc: $(cat "$work/server.err")"
echo "PASS: grpcio and buf curl over TLS through the adapter's port"
