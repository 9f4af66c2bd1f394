"""A gRPC client framerpc did not write: Python grpcio calls EchoService/Say through the adapter.

Usage: echo_client.py HOST:PORT TEXT. Prints the reply's text; exits 1 on a non-OK status.
The messages are encoded by hand (field 1 text, field 2 uppercase) so that no generated
Python code is needed.
"""
import sys

import grpc


def encode_say_request(text):
    data = text.encode()
    assert len(data) < 128
    return b"\x0a" + bytes([len(data)]) + data + b"\x10\x01"


def decode_say_reply(data):
    if not data:
        return ""
    assert data[0] == 0x0A and data[1] < 128, data
    return data[2:2 + data[1]].decode()


def main():
    address, text = sys.argv[1], sys.argv[2]
    with grpc.insecure_channel(address) as channel:
        say = channel.unary_unary("/framerpc.echo.EchoService/Say")
        try:
            reply = say(encode_say_request(text), timeout=10)
        except grpc.RpcError as error:
            print(error.code(), error.details())
            return 1
    print(decode_say_reply(reply))
    return 0


if __name__ == "__main__":
    sys.exit(main())
