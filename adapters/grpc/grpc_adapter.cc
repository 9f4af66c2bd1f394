#include "adapters/grpc/grpc_adapter.h"

#include <grpcpp/ext/health_check_service_server_builder_option.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>

#include <algorithm>
#include <climits>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_call.h"
#include "rpc/socket_peer_identity.h"

namespace framerpc {

using grpc_adapter::CallEnvironment;
using grpc_adapter::GrpcCall;

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::InvalidArgumentError(absl::StrCat(what, " ", path, ": cannot read"));
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// gRPC's own TLS from the framed transport's options (files read now).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> GrpcTlsCredentials(
    const TlsServerOptions& tls) {
  grpc::SslServerCredentialsOptions options;
  absl::StatusOr<std::string> cert = ReadPem(tls.cert_chain_file, "certificate chain file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(tls.private_key_file, "private key file");
  if (!key.ok()) return key.status();
  options.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  switch (tls.client_auth) {
    case ClientAuth::kNone:
      options.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
      break;
    case ClientAuth::kOptional:
      options.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
      break;
    case ClientAuth::kRequire:
      options.client_certificate_request =
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
      break;
  }
  if (tls.client_auth != ClientAuth::kNone) {
    absl::StatusOr<std::string> roots = ReadPem(tls.client_ca_file, "client CA file");
    if (!roots.ok()) return roots.status();
    options.pem_root_certs = *std::move(roots);
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace

GrpcAdapter::GrpcAdapter(Dispatcher* dispatcher, GrpcAdapterOptions options)
    : dispatcher_(dispatcher), options_(std::move(options)) {}

GrpcAdapter::~GrpcAdapter() { Shutdown(); }

std::string GrpcListenTarget(absl::string_view address) {
  // gRPC spells a Linux abstract socket "unix-abstract:name"; to it "unix:@name" is a file.
  if (absl::StartsWith(address, "unix:@")) return absl::StrCat("unix-abstract:", address.substr(6));
  return std::string(address);
}

absl::Status GrpcAdapter::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ || shut_down_) {
      return absl::FailedPreconditionError("GrpcAdapter already started");
    }
  }
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (options_.tls.has_value()) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> tls =
        GrpcTlsCredentials(*options_.tls);
    if (!tls.ok()) return tls.status();
    credentials = *std::move(tls);
  }
  started_ = true;
  generic_service_ = std::make_unique<grpc::AsyncGenericService>();
  const int max_message =
      static_cast<int>(std::min<uint64_t>(dispatcher_->limits().max_body_bytes, INT_MAX));

  grpc::ServerBuilder builder;
  if (!options_.listen_address.empty()) {
    builder.AddListeningPort(GrpcListenTarget(options_.listen_address), credentials, &port_);
  }
  builder.RegisterAsyncGenericService(generic_service_.get());
  // No gRPC-side health service: grpc.health.v1 is HealthService, a framerpc service reached
  // through the generic service like any other (a registered one would take its calls).
  builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(max_message);
  const auto ms = [](absl::Duration d) {
    return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT_MAX));
  };
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             ms(options_.timeouts.first_byte));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, ms(options_.timeouts.idle));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, ms(options_.timeouts.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             ms(options_.timeouts.keepalive_timeout));
  cq_ = builder.AddCompletionQueue();
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) {
    cq_->Shutdown();
    void* tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
    std::lock_guard<std::mutex> lock(mu_);
    shut_down_ = true;
    return absl::UnavailableError(
        absl::StrCat("could not start a gRPC server on '", options_.listen_address, "'"));
  }

  env_ = std::make_unique<CallEnvironment>(CallEnvironment{
      dispatcher_, generic_service_.get(), cq_.get(), &stream_threads_,
      [this] { RequestCall(); }, [this] { CallDeleted(); }, &adopted_peers_,
      options_.stream_stall_timeout});
  const int threads = std::max(1, options_.handler_threads);
  for (int i = 0; i < threads; ++i) RequestCall();
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { PollLoop(); });
  std::lock_guard<std::mutex> lock(mu_);
  serving_ = true;
  return absl::OkStatus();
}

void GrpcAdapter::AdoptConnection(ScopedFd fd, const SocketAddress& peer) {
  // Holding mu_ keeps Shutdown() from starting while gRPC takes the connection.
  std::lock_guard<std::mutex> lock(mu_);
  if (!serving_) return;  // Closes the fd.
  // Before gRPC has the fd: its calls cannot start until it does.
  adopted_peers_.Record(fd.get(), peer.ToString(), SocketPeerIdentity(fd.get(), peer));
  grpc::AddInsecureChannelFromFd(server_.get(), fd.release());
}

void GrpcAdapter::RequestCall() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++live_calls_;
  }
  (new GrpcCall(env_.get()))->Arm();
}

void GrpcAdapter::CallDeleted() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--live_calls_ == 0) calls_cv_.notify_all();
}

void GrpcAdapter::PollLoop() {
  void* tag;
  bool ok;
  while (cq_->Next(&tag, &ok)) {
    const auto* t = static_cast<const GrpcCall::Tag*>(tag);
    t->call->OnEvent(t->op, ok);
  }
}

void GrpcAdapter::Shutdown(absl::Duration grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    serving_ = false;
  }
  if (!started_) return;
  // Fails the armed requests, then cancels the calls still open after `grace`, which cancels
  // their ServerContexts. The poll threads keep running meanwhile: calls whose handlers are still
  // running finish later, and the queue must take their completions.
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  {
    std::unique_lock<std::mutex> lock(mu_);
    calls_cv_.wait(lock, [this] { return live_calls_ == 0; });
  }
  cq_->Shutdown();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  stream_threads_.Stop();
}

}  // namespace framerpc
