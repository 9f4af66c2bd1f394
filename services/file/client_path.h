// Lexical validation of the paths a file-service client sends. Pure string work: no system calls,
// so it can be fuzzed and reasoned about in isolation. Stateless; thread-safe.
//
// The grammar accepted (everything else is INVALID_ARGUMENT, with a message saying why):
//   path      := "." | component ("/" component)*
//   component := 1..NAME_MAX bytes, none of them '/' or NUL
// and the whole path is shorter than PATH_MAX bytes. In particular:
//   - ""            is refused ("path is empty"): an unset field is a client bug, not the root.
//   - "."           names the root itself.
//   - "/etc/passwd" is refused: absolute paths are not allowed.
//   - "a//b", "a/"  are refused: empty components (including a trailing slash).
//   - "a/./b"       is "a/b":   "." components are dropped.
//   - "a/../b"      is "b":     ".." is resolved lexically (like Go's path.Clean), so the kernel
//                               never sees a ".." from the client, and "a" need not exist.
//   - "a/../../x"   is refused: it escapes the root.
// Passing these checks says nothing about what is on disk; resolution beneath the root (symlinks,
// missing files) is RootDir's job.
#ifndef FRAMERPC_SERVICES_FILE_CLIENT_PATH_H_
#define FRAMERPC_SERVICES_FILE_CLIENT_PATH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace framerpc::file {

// A client path that passed the checks above, as a list of plain names (never "", ".", "..").
// An empty list is the root. Copyable value type.
class ClientPath {
 public:
  // Validates and normalises `path`. INVALID_ARGUMENT on any violation of the grammar above.
  static absl::StatusOr<ClientPath> Parse(absl::string_view path);

  const std::vector<std::string>& components() const { return components_; }
  bool is_root() const { return components_.empty(); }

  // The normalised path relative to the root: "a/b", or "." for the root.
  std::string Relative() const;
  // The path without its last component (the root for a single name). Requires !is_root().
  ClientPath Parent() const;
  // The last component. Requires !is_root().
  const std::string& Name() const { return components_.back(); }

 private:
  explicit ClientPath(std::vector<std::string> components) : components_(std::move(components)) {}

  std::vector<std::string> components_;
};

// `path` quoted for an error message: C-escaped (a NUL shows as \x00) and cut at 128 bytes, so a
// hostile path cannot forge log lines or flood them.
std::string QuotePath(absl::string_view path);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_CLIENT_PATH_H_
