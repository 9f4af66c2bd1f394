"""frpc_cc_library: C++ framerpc stubs (foo.frpc.h/.cc) for the services of a proto_library.

    proto_library(name = "echo_proto", srcs = ["echo.proto"])
    cc_proto_library(name = "echo_cc_proto", deps = [":echo_proto"])
    frpc_cc_library(name = "echo_frpc", proto = ":echo_proto", cc_proto = ":echo_cc_proto")

Code then includes "<package>/echo.frpc.h". From another workspace, load it as
@framerpc//tools:frpc_proto.bzl (docs/using.md): its labels are framerpc's own. The .proto files must belong to the package of the
frpc_cc_library and be imported by their workspace path (no import_prefix/strip_import_prefix),
so that the generated includes of "<package>/echo.pb.h" and "<package>/echo.frpc.h" resolve.
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

def _import_path(proto_info, src):
    """The path under which protoc knows `src`: relative to the proto source root."""
    root = proto_info.proto_source_root
    if root in ("", ".") or not src.path.startswith(root + "/"):
        return src.path
    return src.path[len(root) + 1:]

def _out_dir(output, relative):
    """The --frpc_out directory under which protoc writes `output` as `relative`."""
    if not output.path.endswith("/" + relative):
        fail("cannot place %s as %s" % (output.path, relative))
    return output.path[:-len(relative) - 1]

def _frpc_cc_gen_impl(ctx):
    proto_info = ctx.attr.proto[ProtoInfo]
    package = ctx.label.package
    import_paths = []
    hdrs = []
    srcs = []
    mock_hdrs = []
    for src in proto_info.direct_sources:
        import_path = _import_path(proto_info, src)
        own_path = src.owner.package + "/" + src.owner.name if src.owner.package else src.owner.name
        if src.owner.package != package or import_path != own_path:
            fail("%s: %s must be a .proto of package //%s imported by its workspace path " %
                 (ctx.label, src.short_path, package) + "(no import_prefix/strip_import_prefix)")
        stem = src.owner.name[:-len(".proto")]
        import_paths.append(import_path)
        hdrs.append(ctx.actions.declare_file(stem + ".frpc.h"))
        srcs.append(ctx.actions.declare_file(stem + ".frpc.cc"))
        mock_hdrs.append(ctx.actions.declare_file(stem + ".frpc_mock.h"))
    if not hdrs:
        fail("%s: %s has no .proto sources of its own" % (ctx.label, ctx.attr.proto.label))

    args = ctx.actions.args()
    args.add(ctx.executable._plugin.path, format = "--plugin=protoc-gen-frpc=%s")
    out_dir = _out_dir(hdrs[0], import_paths[0][:-len(".proto")] + ".frpc.h")
    args.add(out_dir, format = "--frpc_out=%s")
    args.add_joined(
        proto_info.transitive_descriptor_sets,
        join_with = ctx.configuration.host_path_separator,
        format_joined = "--descriptor_set_in=%s",
    )
    args.add_all(import_paths)
    ctx.actions.run(
        executable = ctx.executable._protoc,
        tools = [ctx.executable._plugin],
        inputs = proto_info.transitive_descriptor_sets,
        outputs = hdrs + srcs + mock_hdrs,
        arguments = [args],
        mnemonic = "FrpcCppGen",
        progress_message = "Generating framerpc C++ stubs for %s" % ctx.attr.proto.label,
    )
    return [
        DefaultInfo(files = depset(hdrs + srcs)),
        OutputGroupInfo(
            frpc_hdrs = depset(hdrs),
            frpc_srcs = depset(srcs),
            frpc_mock_hdrs = depset(mock_hdrs),
        ),
    ]

_frpc_cc_gen = rule(
    implementation = _frpc_cc_gen_impl,
    doc = "Runs protoc-gen-frpc on the direct sources of `proto`.",
    attrs = {
        "proto": attr.label(mandatory = True, providers = [ProtoInfo]),
        "_plugin": attr.label(
            default = Label("//tools:frpc_cpp_plugin"),
            executable = True,
            cfg = "exec",
        ),
        "_protoc": attr.label(
            default = Label("//third_party:protoc"),
            executable = True,
            cfg = "exec",
        ),
    },
)

def frpc_cc_library(name, proto, cc_proto, visibility = None, **kwargs):
    """A cc_library of the framerpc stubs for the services of `proto`, and `<name>_mock`.

    `<name>_mock` (testonly) holds "<package>/foo.frpc_mock.h": a gMock MockSStub of each
    service's StubInterface, for tests of code that calls the service.

    Args:
      name: name of the cc_library.
      proto: the proto_library whose services to generate; its .proto files must be in this package.
      cc_proto: the cc_proto_library of `proto`, for the message classes.
      visibility: visibility of the cc_library; the helper targets are private.
      **kwargs: passed to the cc_library (testonly and tags also reach the helper targets).
    """
    helper_kwargs = {
        "testonly": kwargs.get("testonly"),
        "tags": kwargs.get("tags"),
        "visibility": ["//visibility:private"],
    }
    _frpc_cc_gen(name = name + "_gen", proto = proto, **helper_kwargs)
    for kind in ("hdrs", "srcs", "mock_hdrs"):
        native.filegroup(
            name = "%s_%s" % (name, kind),
            srcs = [":%s_gen" % name],
            output_group = "frpc_" + kind,
            **helper_kwargs
        )
    cc_library(
        name = name,
        srcs = [":%s_srcs" % name],
        hdrs = [":%s_hdrs" % name],
        # What the generated code includes: rpc/service.h and rpc/stream.h (the server base and
        # the stream types, both from //rpc:service), rpc/channel.h and rpc/context.h.
        deps = [
            cc_proto,
            Label("//rpc:service"),
            Label("//rpc:channel"),
            Label("//third_party:protobuf"),
        ],
        visibility = visibility,
        **kwargs
    )
    cc_library(
        name = name + "_mock",
        testonly = True,
        hdrs = [":%s_mock_hdrs" % name],
        deps = [":" + name, Label("//third_party:gtest")],
        visibility = visibility,
        tags = kwargs.get("tags"),
    )
