"""One-at-a-time blocking Say calls from the Python client against a running server (see
bench/clients_bench.sh). Prints: calls_per_sec=<n> p50_us=<x>"""
import argparse
import time

import framerpc
from proto import echo_frpc, echo_pb2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--text_bytes", type=int, default=64)
    args = parser.parse_args()
    request = echo_pb2.SayRequest(text="x" * args.text_bytes)
    with framerpc.Channel(args.address) as channel:
        stub = echo_frpc.EchoServiceStub(channel)
        for _ in range(1000):  # warm-up
            stub.Say(request)
        latencies = []
        start = time.perf_counter()
        end = start + args.duration
        now = start
        while now < end:
            before = now
            reply = stub.Say(request)
            if len(reply.text) != args.text_bytes:
                raise SystemExit("wrong reply")
            now = time.perf_counter()
            latencies.append((now - before) * 1e6)
    latencies.sort()
    print("calls_per_sec=%.0f p50_us=%.1f" % (len(latencies) / (now - start),
                                              latencies[len(latencies) // 2]))


if __name__ == "__main__":
    main()
