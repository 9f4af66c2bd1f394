"""protoc-gen-frpcpy: framerpc's protoc plugin for Python stubs.

Installed with the package as the console script `protoc-gen-frpc-py`; in the source tree,
clients/python/protoc_gen_frpc_py.py runs it:

    protoc --plugin=protoc-gen-frpcpy="$(command -v protoc-gen-frpc-py)" \\
        --python_out=OUT --frpcpy_out=OUT -I. proto/echo.proto

For each .proto file with services it writes <path>_frpc.py beside protoc's <path>_pb2.py, with,
per service, a blocking stub `<Service>Stub(channel)` for framerpc.Channel and an asyncio stub
`<Service>AsyncStub(channel)` for framerpc.aio.Channel: one method per rpc, named as in the
.proto, with a signature for its kind (docs/clients.md). Messages come from protoc's own
--python_out. Needs only /usr/bin/python3 and python3-protobuf.
"""
import keyword
import sys

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

GENERATOR = "protoc-gen-frpcpy"


def module_name(proto_path):
    """The module protoc's Python generator makes for `proto_path` (proto/echo.proto ->
    proto.echo_pb2)."""
    stem = proto_path[:-len(".proto")] if proto_path.endswith(".proto") else proto_path
    return stem.replace("-", "_").replace("/", ".") + "_pb2"


def module_alias(module):
    """The alias protoc's Python generator uses: proto.echo_pb2 -> proto_dot_echo__pb2."""
    return module.replace("_", "__").replace(".", "_dot_")


def import_line(module):
    alias = module_alias(module)
    package, _, name = module.rpartition(".")
    if package:
        return "from %s import %s as %s" % (package, name, alias)
    return "import %s as %s" % (module, alias)


def python_name(name):
    return name + "_" if keyword.iskeyword(name) else name


class TypeIndex:
    """Fully qualified message names (".pkg.Outer.Inner") -> (proto file, "Outer.Inner")."""

    def __init__(self, files):
        self.types = {}
        for f in files:
            prefix = "." + f.package if f.package else ""
            for message in f.message_type:
                self._add(f.name, prefix, "", message)

    def _add(self, file_name, prefix, outer, message):
        local = outer + message.name
        self.types[prefix + "." + local] = (file_name, local)
        for nested in message.nested_type:
            self._add(file_name, prefix, local + ".", nested)

    def resolve(self, full_name):
        if full_name not in self.types:
            raise ValueError("unknown message type %s" % full_name)
        file_name, local = self.types[full_name]
        module = module_name(file_name)
        return module, "%s.%s" % (module_alias(module), local)


KINDS = {
    (False, False): "UNARY",
    (False, True): "SERVER_STREAMING",
    (True, False): "CLIENT_STREAMING",
    (True, True): "BIDI_STREAMING",
}

def signature(kind, req, resp, asynchronous):
    """The parameters and return annotation of a stub method of `kind` (annotations are strings
    in the generated module: it has `from __future__ import annotations`)."""
    options = ("timeout: _Optional[float] = None, metadata: _Optional[_Metadata] = None, ")
    context = "context: _Optional[_ClientContext] = None"
    window = "window: _Optional[int] = None"
    stream = "_aio.ClientStream" if asynchronous else "_framerpc.ClientStream"
    if kind == "UNARY":
        return ("request: %s, *, %sattachment: _BytesLike = b\"\", %s) -> %s"
                % (req, options, context, resp))
    if kind == "SERVER_STREAMING":
        return ("request: %s, *, %sattachment: _BytesLike = b\"\", %s, %s) -> %s[%s]"
                % (req, options, context, window, stream, resp))
    return "*, %s%s, %s) -> %s[%s]" % (options, context, window, stream, resp)


RETURNS = {
    "UNARY": "Returns the {resp} reply; raises framerpc.RpcError.",
    "SERVER_STREAMING": "Returns a stream: iterate over its {resp} messages, or read() them.",
    "CLIENT_STREAMING": "Returns a stream: write() {req} messages, then finish() returns the {resp}.",
    "BIDI_STREAMING": "Returns a stream: write() {req} messages and read() {resp} messages.",
}


def method_body(kind, path, req, resp, asynchronous):
    call = "await " if asynchronous else ""
    lines = []
    if kind in ("UNARY", "SERVER_STREAMING"):
        lines.append("if not isinstance(request, %s):" % req)
        lines.append("    raise TypeError(\"%s takes a %s, not \" + type(request).__name__)"
                     % (path, req.split(".", 1)[1]))
    if kind == "UNARY":
        lines.append("return %sself._channel.unary_call(" % call)
        lines.append("    %r, request, %s, timeout=timeout, metadata=metadata," % (path, resp))
        lines.append("    attachment=attachment, context=context)")
    elif kind == "SERVER_STREAMING":
        lines.append("return %sself._channel.stream_call(" % call)
        lines.append("    %r, _Kind.SERVER_STREAMING, %s, request=request," % (path, resp))
        lines.append("    request_class=%s, timeout=timeout, metadata=metadata," % req)
        lines.append("    attachment=attachment, context=context, window=window)")
    else:
        lines.append("return %sself._channel.stream_call(" % call)
        lines.append("    %r, _Kind.%s, %s, request_class=%s," % (path, kind, resp, req))
        lines.append("    timeout=timeout, metadata=metadata, context=context, window=window)")
    return lines


def generate_file(proto, index):
    """The text of <proto>_frpc.py."""
    services = list(proto.service)
    imports = {module_name(proto.name)}
    methods = []
    for service in services:
        full_service = (proto.package + "." if proto.package else "") + service.name
        for method in service.method:
            req_module, req = index.resolve(method.input_type)
            resp_module, resp = index.resolve(method.output_type)
            imports.update((req_module, resp_module))
            kind = KINDS[(method.client_streaming, method.server_streaming)]
            methods.append((service, full_service, method, kind, req, resp))

    out = []
    w = out.append
    w("# Generated by %s (framerpc) from %s. DO NOT EDIT." % (GENERATOR, proto.name))
    w('"""framerpc stubs for %s."""' % proto.name)
    w("from __future__ import annotations")
    w("")
    w("from typing import TYPE_CHECKING as _TYPE_CHECKING")
    w("from typing import Optional as _Optional")
    w("")
    w("from framerpc import MethodInfo as _Method")
    w("from framerpc import MethodKind as _Kind")
    w("")
    w("if _TYPE_CHECKING:")
    w("    import framerpc as _framerpc")
    w("    from framerpc import aio as _aio")
    w("    from framerpc import ClientContext as _ClientContext")
    w("    from framerpc._types import BytesLike as _BytesLike")
    w("    from framerpc._types import Metadata as _Metadata")
    w("")
    for module in sorted(imports):
        w(import_line(module))
    w("")
    names = []
    for service in services:
        full_service = (proto.package + "." if proto.package else "") + service.name
        own = [m for m in methods if m[0] is service]
        for asynchronous in (False, True):
            cls = service.name + ("AsyncStub" if asynchronous else "Stub")
            names.append(cls)
            w("")
            w("class %s:" % cls)
            w('    """%s stub for %s (%s)."""' % (
                "Asyncio" if asynchronous else "Blocking", full_service,
                "framerpc.aio.Channel" if asynchronous else "framerpc.Channel"))
            w("")
            w("    SERVICE = %r" % full_service)
            w("    METHODS = (")
            for _, _, method, kind, req, resp in own:
                w("        _Method(%r, %r, _Kind.%s, %s, %s)," % (
                    method.name, "/%s/%s" % (full_service, method.name), kind, req, resp))
            w("    )")
            w("")
            w("    def __init__(self, channel: %s) -> None:" % (
                "_aio.Channel" if asynchronous else "_framerpc.Channel"))
            w("        self._channel = channel")
            for _, _, method, kind, req, resp in own:
                path = "/%s/%s" % (full_service, method.name)
                w("")
                w("    %sdef %s(self, %s:" % ("async " if asynchronous else "",
                                             python_name(method.name),
                                             signature(kind, req, resp, asynchronous)))
                req_name = req.split(".", 1)[1]
                resp_name = resp.split(".", 1)[1]
                doc = "rpc %s(%s%s) returns (%s%s). " % (
                    method.name, "stream " if method.client_streaming else "",
                    method.input_type.lstrip("."), "stream " if method.server_streaming else "",
                    method.output_type.lstrip("."))
                w('        """%s%s"""' % (doc, RETURNS[kind].format(req=req_name, resp=resp_name)))
                for line in method_body(kind, path, req, resp, asynchronous):
                    w("        " + line)
            w("")
    w("")
    w("__all__ = %r" % names)
    return "\n".join(out) + "\n"


def output_name(proto_name):
    stem = proto_name[:-len(".proto")] if proto_name.endswith(".proto") else proto_name
    return stem.replace("-", "_") + "_frpc.py"


def generate(request):
    response = plugin_pb2.CodeGeneratorResponse()
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    if request.parameter:
        response.error = "%s takes no parameters (got %r)" % (GENERATOR, request.parameter)
        return response
    files = {f.name: f for f in request.proto_file}
    index = TypeIndex(request.proto_file)
    for name in request.file_to_generate:
        proto = files[name]
        if not proto.service:
            continue
        try:
            content = generate_file(proto, index)
        except ValueError as error:
            response.error = "%s: %s" % (name, error)
            return response
        out = response.file.add()
        out.name = output_name(name)
        out.content = content
    return response


def main() -> int:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())
    return 0
