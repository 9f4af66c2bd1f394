#!/bin/sh
# Fails when tests/vectors/checksums.json differs from what gen_checksums.py generates now.
exec /usr/bin/python3 tests/vectors/gen_checksums.py --check
