#include "server/tls_reload.h"

#include "absl/status/statusor.h"
#include "logging/log.h"

namespace framerpc::server {

absl::Status TlsReloader::Reload(absl::string_view why) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<TlsSetup> setup = BuildTlsSetup(flags_);
  if (setup.ok() && setup->context == nullptr) {
    setup = absl::FailedPreconditionError("no TLS certificate to reload");
  }
  if (!setup.ok()) {
    logging::Log(logging::Level::kError, "server",
                 "TLS reload refused, the certificate in use stays",
                 {{"trigger", std::string(why)}, {"error", setup.status().ToString()}});
    return setup.status();
  }
  server_->SetTlsContext(setup->context);
  logging::Log(logging::Level::kInfo, "server", "TLS certificate and key reloaded",
               {{"trigger", std::string(why)}});
  return absl::OkStatus();
}

}  // namespace framerpc::server
