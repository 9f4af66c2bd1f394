"""protoc-gen-frpcpy: what it generates for every method kind, names, and its errors."""
import asyncio
import inspect
import unittest

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

import framerpc
import framerpc.protoc_gen as plugin
import stream_test_frpc
import stream_test_pb2
from proto import echo_pb2



def request_for(*modules, parameter=""):
    """A CodeGeneratorRequest for the last module's file, with its dependencies first."""
    request = plugin_pb2.CodeGeneratorRequest(parameter=parameter)
    for module in modules:
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        request.proto_file.append(proto)
    request.file_to_generate.append(modules[-1].DESCRIPTOR.name)
    return request


class PluginTest(unittest.TestCase):
    def test_method_kinds_and_signatures(self):
        kinds = {m.name: m.kind for m in stream_test_frpc.StreamTestStub.METHODS}
        self.assertEqual(kinds, {
            "Unary": framerpc.MethodKind.UNARY,
            "Watch": framerpc.MethodKind.SERVER_STREAMING,
            "Upload": framerpc.MethodKind.CLIENT_STREAMING,
            "Chat": framerpc.MethodKind.BIDI_STREAMING,
            "Nested": framerpc.MethodKind.UNARY,
            "lambda": framerpc.MethodKind.UNARY,
        })
        stub = stream_test_frpc.StreamTestStub
        params = lambda fn: list(inspect.signature(fn).parameters)  # noqa: E731
        self.assertEqual(params(stub.Unary),
                         ["self", "request", "timeout", "metadata", "attachment", "context"])
        self.assertEqual(params(stub.Watch), ["self", "request", "timeout", "metadata",
                                              "attachment", "context", "window"])
        self.assertEqual(params(stub.Upload),
                         ["self", "timeout", "metadata", "context", "window"])
        self.assertEqual(params(stub.Chat), ["self", "timeout", "metadata", "context", "window"])
        self.assertTrue(hasattr(stub, "lambda_"))
        for name in ("Unary", "Watch", "Upload", "Chat", "Nested", "lambda_"):
            self.assertTrue(asyncio.iscoroutinefunction(
                getattr(stream_test_frpc.StreamTestAsyncStub, name)), name)
        nested = [m for m in stub.METHODS if m.name == "Nested"][0]
        self.assertIs(nested.request_class, stream_test_pb2.Outer.Inner)
        self.assertIs(nested.response_class, echo_pb2.SayReply)
        self.assertEqual(nested.path, "/framerpc.pytest.StreamTest/Nested")

    def test_output_is_what_the_build_generated(self):
        response = plugin.generate(request_for(echo_pb2, stream_test_pb2))
        self.assertEqual(response.error, "")
        (out,) = response.file
        self.assertEqual(out.name, "stream_test_frpc.py")
        with open(stream_test_frpc.__file__, encoding="utf-8") as f:
            self.assertEqual(out.content, f.read())
        compile(out.content, out.name, "exec")

    def test_parameters_are_refused(self):
        response = plugin.generate(request_for(echo_pb2, parameter="fast"))
        self.assertIn("takes no parameters", response.error)
        self.assertEqual(len(response.file), 0)

    def test_files_without_services_generate_nothing(self):
        request = plugin_pb2.CodeGeneratorRequest(file_to_generate=["only/messages.proto"])
        request.proto_file.add(name="only/messages.proto", package="p").message_type.add(name="M")
        response = plugin.generate(request)
        self.assertEqual((response.error, len(response.file)), ("", 0))

    def test_names(self):
        self.assertEqual(plugin.module_name("a/b-c.proto"), "a.b_c_pb2")
        self.assertEqual(plugin.module_alias("proto.echo_pb2"), "proto_dot_echo__pb2")
        self.assertEqual(plugin.output_name("a/b-c.proto"), "a/b_c_frpc.py")
        self.assertEqual(plugin.import_line("x_pb2"), "import x_pb2 as x__pb2")


if __name__ == "__main__":
    unittest.main()
