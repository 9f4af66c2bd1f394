#!/bin/sh
# Fails when tests/vectors/ differs from what gen_vectors.py generates now.
exec /usr/bin/python3 tests/vectors/gen_vectors.py --check
