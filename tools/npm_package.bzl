"""npm_package: a package's npm dependencies (node_modules, and optionally its npm cache) as
Bazel inputs, so that tests take them as `data` instead of reading the source tree beside them.

Bazel cannot download: scripts/install-deps.sh installs them before Bazel runs (scripts/npm_ci.sh:
`npm ci` with the committed package-lock.json). This rule links those directories into an external
repository and exposes each as a filegroup. It is fetched again when the package-lock.json
changes (it is read through a label) and on every fetch (`local`), so a fresh `npm ci` is seen.
A directory that is missing (set-up not run yet) gives an empty filegroup; the tests then fail
with scripts/install-deps.sh's instructions (clients/node/scripts/check-node-modules.js).

    npm_package(
        name = "framerpc_node_modules",
        lockfile = "//clients/node:package-lock.json",
        dirs = {"node_modules": "node_modules", ".npm-cache": "npm_cache"},
    )
    # data = ["@framerpc_node_modules//:node_modules"]; in a test:
    #   $TEST_SRCDIR/framerpc_node_modules/node_modules
"""

def _npm_package_impl(rctx):
    package = rctx.path(rctx.attr.lockfile).dirname
    build = [
        "# Made by //tools:npm_package.bzl from {}.".format(package),
        'package(default_visibility = ["//visibility:public"])',
        "",
    ]
    for directory, target in rctx.attr.dirs.items():
        source = rctx.path("{}/{}".format(package, directory))
        if source.exists:
            rctx.symlink(source, directory)
            srcs = 'glob(["{0}/**"], exclude = ["{0}/_logs/**"])'.format(directory)
        else:
            srcs = "[]  # {} is missing: run scripts/install-deps.sh".format(source)
        build.append("filegroup(\n    name = \"{}\",\n    srcs = {},\n)\n".format(target, srcs))
    rctx.file("WORKSPACE", 'workspace(name = "{}")\n'.format(rctx.name))
    rctx.file("BUILD.bazel", "\n".join(build))

npm_package = repository_rule(
    implementation = _npm_package_impl,
    attrs = {
        "lockfile": attr.label(mandatory = True, allow_single_file = True),
        "dirs": attr.string_dict(mandatory = True),
    },
    local = True,
)
