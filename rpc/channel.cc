#include "rpc/channel.h"

#include <condition_variable>
#include <memory>
#include <mutex>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "rpc/balanced_channel.h"
#include "rpc/client_stream.h"
#include "rpc/observed_channel.h"
#include "rpc/target.h"
#include "rpc/stream_channel.h"
#include "rpc/udp_channel.h"
#include "transport/event_loop.h"

namespace framerpc {

absl::StatusOr<std::unique_ptr<Channel>> Channel::Create(absl::string_view address,
                                                         ChannelOptions options) {
  if (absl::Status valid = ValidateChannelOptions(options); !valid.ok()) return valid;
  CallObserver* const observer = options.observer;
  if (IsBalancedTarget(address)) {
    absl::StatusOr<Target> target = ParseTarget(address);
    if (!target.ok()) return target.status();
    absl::StatusOr<std::unique_ptr<BalancedChannel>> balanced =
        BalancedChannel::Create(std::string(address), *std::move(target), options);
    if (!balanced.ok()) return balanced.status();
    if (observer == nullptr) return *std::move(balanced);
    return std::make_unique<ObservedChannel>(*std::move(balanced), observer,
                                             CallTransport::kFramed);
  }
  return CreateAddressChannel(address, std::move(options));
}

absl::StatusOr<std::unique_ptr<Channel>> CreateAddressChannel(absl::string_view address,
                                                              ChannelOptions options,
                                                              EndpointHooks hooks) {
  CallObserver* const observer = options.observer;
  const bool udp = absl::ConsumePrefix(&address, "udp:");
  absl::StatusOr<SocketAddress> parsed = SocketAddress::Parse(address);
  if (!parsed.ok()) return parsed.status();
  std::shared_ptr<TlsContext> tls;
  if (options.tls.has_value()) {
    if (udp) return absl::InvalidArgumentError("TLS is not available over udp: targets");
    if (parsed->is_unix() && options.tls->server_name.empty() &&
        !options.tls->insecure_skip_verify) {
      return absl::InvalidArgumentError(
          "TLS over a Unix socket needs ChannelOptions::tls->server_name: the target has no host");
    }
    absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::NewClient(*options.tls);
    if (!context.ok()) return context.status();
    tls = *std::move(context);
  }
  std::unique_ptr<Channel> channel;
  if (udp) {
    absl::StatusOr<std::unique_ptr<Channel>> created =
        CreateUdpChannel(absl::StrCat("udp:", address), *parsed, options);
    if (!created.ok()) return created.status();
    channel = *std::move(created);
  } else {
    channel = CreateStreamChannel(std::string(address), *parsed, options, std::move(tls),
                                  /*in_process=*/nullptr, std::move(hooks));
  }
  if (observer == nullptr) return channel;
  return std::make_unique<ObservedChannel>(
      std::move(channel), observer, udp ? CallTransport::kUdp : CallTransport::kFramed);
}

absl::Status ValidateChannelOptions(const ChannelOptions& options) {
  absl::Status busy_poll = ValidateBusyPoll(options.busy_poll);
  if (!busy_poll.ok()) return busy_poll;
  if (options.max_outstanding_calls == 0) {
    return absl::InvalidArgumentError("ChannelOptions::max_outstanding_calls must be at least 1");
  }
  if (options.keepalive_time < absl::ZeroDuration() ||
      (options.keepalive_time > absl::ZeroDuration() &&
       options.keepalive_timeout <= absl::ZeroDuration())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ChannelOptions::keepalive_time must be 0 (off) or positive with a positive "
        "keepalive_timeout, got ",
        absl::FormatDuration(options.keepalive_time), " and ",
        absl::FormatDuration(options.keepalive_timeout)));
  }
  return absl::OkStatus();
}

std::unique_ptr<ClientStreamBase> Channel::StartStream(absl::string_view method, MethodKind kind,
                                                       ClientContext* context,
                                                       google::protobuf::MessageLite* response) {
  return FailedClientStream(absl::UnimplementedError(
      absl::StrCat("streaming calls are not supported over ", target())));
}

absl::Status Channel::Call(absl::string_view method, ClientContext* context,
                           const google::protobuf::MessageLite& request,
                           google::protobuf::MessageLite* response) {
  // The state is shared with the callback so that it can signal after unlocking (a woken caller
  // then does not block again on the mutex) without the state dying under it.
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    absl::Status result;
  };
  auto waiter = std::make_shared<Waiter>();
  StartCall(method, context, request, response, [waiter](absl::Status status) {
    {
      std::lock_guard<std::mutex> lock(waiter->mu);
      waiter->result = std::move(status);
      waiter->done = true;
    }
    waiter->cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(waiter->mu);
  waiter->cv.wait(lock, [&waiter] { return waiter->done; });
  return std::move(waiter->result);
}

namespace {
constexpr char kNeverSentPayload[] = "framerpc.rpc/never_sent";
}  // namespace

bool CallNeverSent(const absl::Status& status) {
  return absl::IsUnavailable(status) && status.GetPayload(kNeverSentPayload).has_value();
}

absl::Status MarkNeverSent(absl::Status status) {
  if (!status.ok()) status.SetPayload(kNeverSentPayload, absl::Cord("1"));
  return status;
}

}  // namespace framerpc
