"""proto_files: the .proto source files of proto_library targets (and of their imports).

The interop clients need the .proto files themselves: protoc reads them for the Python stubs, and
@grpc/proto-loader loads them at run time in Node. A proto_library provides them (ProtoInfo) even
where its package does not export the file.
"""

def _proto_files_impl(ctx):
    files = depset(transitive = [dep[ProtoInfo].transitive_sources for dep in ctx.attr.deps])
    return [DefaultInfo(files = files, runfiles = ctx.runfiles(transitive_files = files))]

proto_files = rule(
    implementation = _proto_files_impl,
    attrs = {"deps": attr.label_list(providers = [ProtoInfo])},
)
