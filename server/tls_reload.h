// TlsReloader: makes a new server TlsContext from the --tls_* files and hands it to the Server,
// for SIGHUP and for a FileWatch on those files. New handshakes use the new certificate and key;
// connections already made keep the context they were made with (they hold it), so none is
// dropped. A pair that cannot be used (unreadable, a key that does not match its certificate, a
// malformed PEM) is refused with an error log line, and the context in use stays.
//
// Thread safety: Reload() may be called from any thread; calls are serialised. `server` is not
// owned and must outlive the reloader.
#ifndef FRAMERPC_SERVER_TLS_RELOAD_H_
#define FRAMERPC_SERVER_TLS_RELOAD_H_

#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rpc/server.h"
#include "server/tls_setup.h"

namespace framerpc::server {

class TlsReloader {
 public:
  TlsReloader(Server* server, TlsFlags flags) : server_(server), flags_(std::move(flags)) {}
  TlsReloader(const TlsReloader&) = delete;
  TlsReloader& operator=(const TlsReloader&) = delete;

  // `why` ("SIGHUP", "files changed") goes into the log line. The error is BuildTlsSetup's.
  absl::Status Reload(absl::string_view why);

  // The files a FileWatch should watch: the certificate, the key and the client CAs.
  std::vector<std::string> files() const { return {flags_.cert, flags_.key, flags_.client_ca}; }

 private:
  Server* const server_;
  const TlsFlags flags_;
  std::mutex mu_;  // one reload at a time, so that the last files read are the ones in use
};

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_TLS_RELOAD_H_
