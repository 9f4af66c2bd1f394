#include "services/command/containment.h"

#include "absl/strings/str_cat.h"

namespace framerpc::command {

absl::string_view ContainmentName(Containment containment) {
  return containment == Containment::kPidNamespace ? "pid_namespace" : "subreaper";
}

absl::StatusOr<ContainmentChoice> ParseContainmentChoice(absl::string_view text) {
  if (text == "auto") return ContainmentChoice::kAuto;
  if (text == "pid_namespace") return ContainmentChoice::kPidNamespace;
  if (text == "subreaper") return ContainmentChoice::kSubreaper;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown containment '", text, "': want auto, pid_namespace or subreaper"));
}

}  // namespace framerpc::command
