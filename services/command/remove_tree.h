// Removing a directory a command worked in, whatever the command left there.
//
// Thread safety: thread-safe (works on descriptors only).
#ifndef FRAMERPC_SERVICES_COMMAND_REMOVE_TREE_H_
#define FRAMERPC_SERVICES_COMMAND_REMOVE_TREE_H_

#include <string>

#include "absl/status/status.h"

namespace framerpc::command {

// Removes `name`, a directory in the directory `parent_fd`, and everything below it, without
// following symlinks (a symlink is removed, never its target) and without crossing into another
// file system (a mount point is left in place, and the removal fails). Descends at most a fixed
// depth at a time: a deeper directory is moved up into `parent_fd` under a name of its own and
// removed from there, so that neither the stack nor the descriptors grow with the tree.
// Errors: the first failure, with the path; what could be removed is removed.
absl::Status RemoveTree(int parent_fd, const std::string& name);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_REMOVE_TREE_H_
