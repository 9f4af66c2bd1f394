"""proto_sources: the .proto files of proto_library targets (and of their imports), as data.

For tests that need the .proto files themselves rather than generated C++: the Node and Python
clients generate their stubs at run time with protoc, and @grpc/proto-loader loads them in the
gRPC interop test. A proto_library provides them (ProtoInfo) even where its package does not
export the file.
"""

def _proto_sources_impl(ctx):
    files = depset(transitive = [dep[ProtoInfo].transitive_sources for dep in ctx.attr.deps])
    return [DefaultInfo(files = files, runfiles = ctx.runfiles(transitive_files = files))]

proto_sources = rule(
    implementation = _proto_sources_impl,
    attrs = {"deps": attr.label_list(providers = [ProtoInfo])},
)
