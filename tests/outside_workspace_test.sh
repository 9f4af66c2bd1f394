#!/usr/bin/env bash
# framerpc used from another Bazel workspace, as docs/using.md says: examples/outside_workspace
# copied to a new directory outside the tree, its WORKSPACE pointing at this checkout with
# local_repository, its .proto built with @framerpc//tools:frpc_proto.bzl's frpc_cc_library, and
# its test (a service served on port 0 with @framerpc//testing:test_server and called, streamed,
# the same served in-process with no socket, and a client tested with the generated gMock stub)
# run by a Bazel of its own, offline.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }

example="$(dirname "$(readlink -f "$PWD/examples/outside_workspace/BUILD.in")")"
checkout="$(cd "$example/../.." && pwd)"
[ -f "$checkout/WORKSPACE" ] || fail "no framerpc checkout at $checkout"
work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/outside.XXXXXX")"
ws="$work/greeter"
mkdir -p "$ws"
cp "$example"/greeter.proto "$example"/greeter_service.h "$example"/greeter_service.cc \
  "$example"/greeter_test.cc "$ws/"
cp "$example/BUILD.in" "$ws/BUILD.bazel"
cp "$example/bazelrc" "$ws/.bazelrc"
sed "s|@FRAMERPC@|$checkout|g" "$example/WORKSPACE.in" >"$ws/WORKSPACE"

# A Bazel of its own: its own output root (removed with the test's directory), no server left.
cd "$ws"
rc=0
timeout 1200 bazel --batch --output_user_root="$work/bazel-root" test //:greeter_test \
  >"$work/bazel.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
  tail -n 60 "$work/bazel.log" >&2
  fail "bazel test //:greeter_test in the outside workspace exited $rc"
fi
grep -q '//:greeter_test .*PASSED' "$work/bazel.log" || fail "no PASSED line: $(tail -n 20 "$work/bazel.log")"
for test in ServedAndCalled InProcess MockedClient; do
  grep -q "OK \] GreeterTest\.$test " "$ws/bazel-testlogs/greeter_test/test.log" ||
    fail "GreeterTest.$test did not run and pass"
done
chmod -R u+w "$work/bazel-root" 2>/dev/null || true
rm -rf "$work"
echo PASS
