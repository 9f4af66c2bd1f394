#!/usr/bin/env bash
# The Python client as a user gets it: a wheel built from clients/python (pyproject.toml, with
# Debian's setuptools and no network), installed into a fresh venv, then used from outside the
# source tree: its console script protoc-gen-frpc-py generates typed stubs, a script calls a real
# framerpc_server through them, and mypy checks a user's code against the package's annotations
# (py.typed): a correct script passes, a wrong one is refused with the expected errors.
set -euo pipefail
source "$PWD/server/server_test_lib.sh"
protoc="$PWD/third_party/protoc"
[ -x "$protoc" ] || protoc=/usr/bin/protoc

# The sources, copied: setuptools writes build/ and *.egg-info beside them.
mkdir -p "$work/src/framerpc"
cp clients/python/pyproject.toml clients/python/README.md "$work/src/"
cp clients/python/framerpc/*.py clients/python/framerpc/*.pyi clients/python/framerpc/py.typed \
  "$work/src/framerpc/"
/usr/bin/python3 -m pip wheel --no-deps --no-build-isolation --no-index -q -w "$work/dist" \
  "$work/src" || fail "building the wheel"
wheel="$(ls "$work"/dist/framerpc-0.1.0-py3-none-any.whl)"
/usr/bin/python3 -m zipfile -l "$wheel" >"$work/contents"
for f in framerpc/py.typed framerpc/envelope_pb2.pyi framerpc/protoc_gen.py framerpc/aio.py; do
  grep -q " *$f " "$work/contents" || grep -q "^$f" "$work/contents" \
    || fail "the wheel lacks $f: $(cat "$work/contents")"
done
/usr/bin/python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("framerpc-0.1.0.dist-info/METADATA").decode())' \
  "$wheel" >"$work/metadata"
grep -qE '^Requires-Dist: protobuf ?\(?>=3.12' "$work/metadata" \
  || fail "the wheel does not declare protobuf"

/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install --no-index -q "$wheel" || fail "installing the wheel"
[ -x "$work/venv/bin/protoc-gen-frpc-py" ] || fail "no protoc-gen-frpc-py console script"

# From a directory of the user's own, nothing of the source tree on the path.
user="$work/user"
mkdir -p "$user/gen"
cp proto/echo.proto "$user/"
(cd "$user" && "$protoc" -I. --python_out=gen --pyi_out=gen \
  --plugin=protoc-gen-frpcpy="$work/venv/bin/protoc-gen-frpc-py" --frpcpy_out=gen echo.proto) \
  || fail "protoc with the installed plugin"

cat >"$user/call.py" <<'PY'
import sys

import framerpc
import echo_frpc
import echo_pb2


def say(address: str, text: str) -> str:
    with framerpc.Channel(address) as channel:
        reply = echo_frpc.EchoServiceStub(channel).Say(echo_pb2.SayRequest(text=text), timeout=5.0)
        return reply.text


if __name__ == "__main__":
    assert framerpc.__file__.startswith(sys.prefix), framerpc.__file__  # the installed package
    print(say(sys.argv[1], "from the wheel"))
PY
cat >"$user/wrong.py" <<'PY'
import framerpc
import echo_frpc


def say(address: str) -> int:
    with framerpc.Channel(address) as channel:
        reply = echo_frpc.EchoServiceStub(channel).Say("hi", timeout="soon")
        return reply.text
PY
# Debian has no protobuf stubs: protobuf's own types are Any, the messages are protoc's .pyi.
cat >"$user/mypy.ini" <<'INI'
[mypy]
[mypy-google.*]
ignore_missing_imports = True
[mypy-echo_pb2]
disable_error_code = var-annotated
INI

start_server --listen=127.0.0.1:0
out="$(cd "$user" && PYTHONPATH=gen PYTHONDONTWRITEBYTECODE=1 "$work/venv/bin/python" call.py "$address")" \
  || fail "the call through the installed package"
[ "$out" = "from the wheel" ] || fail "reply: $out"
stop_server

if command -v mypy >/dev/null; then
  # The package's own annotations are consistent.
  (cd "$work/src" && mypy --no-error-summary --config-file "$OLDPWD/clients/python/mypy.ini" framerpc) \
    >"$work/mypy.pkg" 2>&1 || fail "mypy on the package: $(cat "$work/mypy.pkg")"
  mypy_in_venv() { (cd "$user" && MYPYPATH=gen mypy --python-executable "$work/venv/bin/python" \
    --no-error-summary --config-file mypy.ini "$@"); }
  mypy_in_venv call.py >"$work/mypy.good" 2>&1 || fail "mypy on a correct script: $(cat "$work/mypy.good")"
  rc=0; mypy_in_venv wrong.py >"$work/mypy.bad" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || fail "mypy on a wrong script exited $rc: $(cat "$work/mypy.bad")"
  for expected in 'Argument 1 to "Say" of "EchoServiceStub" has incompatible type "str"; expected "SayRequest"' \
      'Argument "timeout" to "Say" of "EchoServiceStub" has incompatible type "str"; expected "Optional[float]"' \
      'Incompatible return value type (got "str", expected "int")'; do
    grep -qF "$expected" "$work/mypy.bad" || fail "mypy did not say: $expected; it said: $(cat "$work/mypy.bad")"
  done
else
  fail "mypy is not installed (scripts/install-deps.sh installs it)"
fi
echo "PASS"
