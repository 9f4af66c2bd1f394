"""proto_sources: the .proto files of proto_library targets (and of their imports), as data.

The Node tests generate their stubs at run time with protoc and protoc-gen-frpcjs, so they need the
.proto files themselves; a public proto_library gives them even where the file is not exported.
"""

def _proto_sources_impl(ctx):
    files = depset(transitive = [dep[ProtoInfo].transitive_sources for dep in ctx.attr.deps])
    return [DefaultInfo(files = files, runfiles = ctx.runfiles(transitive_files = files))]

proto_sources = rule(
    implementation = _proto_sources_impl,
    attrs = {"deps": attr.label_list(providers = [ProtoInfo])},
)
