#!/usr/bin/env bash
# Installs the Debian 12 packages framerpc builds and tests with, if any are missing.
# Idempotent; needs root (or sudo) only when something must be installed.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap            # Bazel 4.2.3, used fully offline (see docs/building.md)
  g++
  protobuf-compiler
  libprotobuf-dev
  libprotoc-dev              # for our protoc plugin
  libabsl-dev
  libgtest-dev
  libgmock-dev
  libgrpc++-dev
  protobuf-compiler-grpc
  pkg-config
  python3-grpcio             # a real gRPC client we did not write, in the adapter's tests
  python3-protobuf
  libssl-dev                 # libcrypto's SHA-256 for the file service
  libxxhash-dev              # XXH3-128, the file service's default checksum
  libjemalloc-dev            # the server's allocator: keeps 1 MiB bodies mapped between calls
  python3-xxhash             # the same XXH3-128 for the Python client's example and tests
  prometheus-cpp-dev         # the metrics registry and text format (prometheus-cpp 1.0)
  libspdlog-dev              # logs (spdlog 1.10, with libfmt-dev)
  prometheus                 # a real Prometheus (and promtool) for the metrics tests
  util-linux                 # setpriv, prlimit and unshare, for the tests that run as nobody, with
                             # few fds, or in a network namespace of their own
  iproute2                   # ip and ss, for those namespaces and for finding a child's port
  curl                       # an HTTP client we did not write, for the admin pages' tests
  nlohmann-json3-dev         # JSON for the log tests and the CLI's -format-error
  etcd-server                # a real etcd for service discovery (server/etcd_test)
  etcd-client
  libcurl4-openssl-dev       # HTTP to etcd's JSON gateway (naming/)
  haproxy                    # real proxies in front of framerpc servers (server/proxies_test)
  nginx
  libnginx-mod-stream
  python3-venv               # the Python client's package test: a wheel (setuptools, wheel),
  python3-pip                # installed with pip into a fresh venv,
  python3-setuptools
  python3-wheel
  mypy                       # and a user's code type-checked against it
)

# Node.js and npm, for clients/node. A machine may have them from elsewhere (NodeSource's nodejs
# bundles npm and conflicts with Debian's npm package), so Debian's are added only when missing.
if ! command -v node >/dev/null 2>&1; then PACKAGES+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(npm); fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -ne 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done" >&2
fi

# clients/node's npm packages (npm ci from its package-lock.json; nothing when they are there).
# A failure here leaves only the Node tests failing, each saying what to run.
if ! "$(dirname "$0")/npm_ci.sh" clients/node; then
  echo "install-deps: warning: could not install clients/node's npm packages" >&2
fi

# ...and its runtime dependencies in clients/node/.npm-cache, for installing its packed tarball
# offline (its package_test).
if ! "$(dirname "$0")/npm_cache_runtime.sh" clients/node; then
  echo "install-deps: warning: could not cache clients/node's runtime npm packages" >&2
fi

# The gRPC adapter's Node interop test: @grpc/grpc-js and @grpc/proto-loader, npm ci from
# adapters/grpc/interop/package-lock.json (its own node_modules, apart from clients/node's).
if ! "$(dirname "$0")/npm_ci.sh" adapters/grpc/interop; then
  echo "install-deps: warning: could not install adapters/grpc/interop's npm packages" >&2
fi
