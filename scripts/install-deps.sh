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
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
