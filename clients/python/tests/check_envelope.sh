#!/bin/sh
# Fails when clients/python/framerpc/envelope_pb2.py is not protoc's output for transport/envelope.proto.
exec /usr/bin/python3 clients/python/gen_envelope.py --check
