"""The external repositories recstore's library needs, for any workspace that builds it.

In your WORKSPACE (Bazel 4.2.3, Debian's bazel-bootstrap, works offline):

    local_repository(name = "recstore", path = "/path/to/recstore")  # or http_archive
    load("@recstore//:deps.bzl", "recstore_dependencies")
    recstore_dependencies()

and in your BUILD file: deps = ["@recstore//:recstore"]. Your .bazelrc needs
`build --cxxopt=-std=c++20 --host_cxxopt=-std=c++20` (the public headers stop with an #error
below C++20). Each repository below is declared only when the workspace has none of that name,
so one you declared first is kept:

  rules_cc, rules_java, remote_coverage_tools: tiny local stand-ins for the three repositories
      Bazel 4.2.3 would otherwise download (third_party/bazel/README.md);
  absl, xxhash: the system Abseil (Debian's libabsl-dev 20220623) and xxHash (libxxhash-dev),
      linked from /usr. The public API uses this Abseil's types (absl::Status, absl::StatusOr,
      absl::Time): build the whole program against it, not a second copy of Abseil.

recstore's own WORKSPACE calls the same function, so the two never differ.
"""

def _recstore_root(rctx):
    # Label() in a .bzl file resolves in the repository holding that file: recstore's.
    return rctx.path(Label("//:BUILD.bazel")).dirname

def _standin_impl(rctx):
    folder = _recstore_root(rctx).get_child("third_party").get_child("bazel").get_child(rctx.attr.folder)
    if not folder.exists:
        fail("recstore: missing stand-in folder %s" % folder)
    for child in folder.readdir():
        rctx.symlink(child, child.basename)

_standin_repository = repository_rule(
    implementation = _standin_impl,
    attrs = {"folder": attr.string(mandatory = True)},
    local = True,
)

def _maybe(rule, name, **kwargs):
    if not native.existing_rule(name):
        rule(name = name, **kwargs)

def recstore_dependencies():
    """Declares what //:recstore needs and the workspace does not have yet."""
    for name in ["rules_cc", "rules_java", "remote_coverage_tools"]:
        _maybe(_standin_repository, name, folder = name)
    for name in ["absl", "xxhash"]:
        _maybe(
            native.new_local_repository,
            name,
            path = "/usr",
            build_file = str(Label("//third_party:%s.BUILD" % name)),
        )
