// For tests that need a mount inside a test root (a bind mount, a devpts instance) without ever
// touching the host's mount table: RunInChildMountNamespace runs a function in a child process
// that has a mount namespace of its own, in which "/" is first made recursively private, so that
// nothing mounted there propagates anywhere. The mounts go away with the child.
//
// The function's result is a text report that the parent gets back and makes its assertions on
// (a gtest assertion inside the child would not be seen). A status is reported as
// ReportLine(label, status): "label: CODE: message\n".
//
// The caller must be single-threaded: the child is a plain fork() that goes on to run ordinary
// code (malloc, threads of its own). FAILED_PRECONDITION otherwise. Not thread-safe.
#ifndef FRAMERPC_SERVICES_FILE_MOUNT_NAMESPACE_CHILD_H_
#define FRAMERPC_SERVICES_FILE_MOUNT_NAMESPACE_CHILD_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace framerpc::file {

// The report `body` returned in the child. An error if the child could not set up its namespace
// (the message says why) or did not exit normally.
absl::StatusOr<std::string> RunInChildMountNamespace(const std::function<std::string()>& body);

// "label: OK\n", or "label: PERMISSION_DENIED: message\n".
std::string ReportLine(absl::string_view label, const absl::Status& status);

// The part of `report` after "label: " up to the end of that line ("" if there is no such line).
std::string ReportedFor(absl::string_view report, absl::string_view label);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_MOUNT_NAMESPACE_CHILD_H_
