#include "cli/call_context.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "cli/args.h"
#include "base/status_macros.h"
#include "services/auth/shared_secret.h"

namespace framerpc::cli {

absl::Status PrepareContext(const CliOptions& options, ClientContext* context) {
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout must be positive, not ", absl::FormatDuration(options.timeout)));
  }
  FRPC_ASSIGN_OR_RETURN(const Metadata metadata, ParseMetadata(options.metadata));
  for (const auto& [key, value] : metadata) context->AddMetadata(key, value);
  FRPC_ASSIGN_OR_RETURN(const Metadata headers, ParseHeaders(options.headers));
  for (const auto& [key, value] : headers) context->AddMetadata(key, value);
  if (!options.auth_token_file.empty()) {
    FRPC_ASSIGN_OR_RETURN(const std::string token, auth::ReadTokenFile(options.auth_token_file));
    context->AddMetadata(auth::kAuthorizationKey, auth::AuthorizationValue(token));
  }
  return absl::OkStatus();
}

}  // namespace framerpc::cli
