// ObservedChannel: a Channel that tells a CallObserver of every call it passes on to the channel
// it wraps: started, finished (code, duration, message sizes), and each stream message. For the
// client metrics (RpcMetrics(Side::kClient)); Channel::Create wraps its channel in one when
// ChannelOptions::observer is set. Sizes are the protobuf message's plus its attachment.
//
// Thread-safe, as any Channel. Lifetime: the observer must outlive the channel and its streams.
#ifndef FRAMERPC_RPC_OBSERVED_CHANNEL_H_
#define FRAMERPC_RPC_OBSERVED_CHANNEL_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "rpc/call_observer.h"
#include "rpc/channel.h"

namespace framerpc {

class ObservedChannel final : public Channel {
 public:
  // `transport`: the label the calls are counted under (framed, or udp for udp: channels).
  ObservedChannel(std::unique_ptr<Channel> inner, CallObserver* observer,
                  CallTransport transport);

  void StartCall(absl::string_view method, ClientContext* context,
                 const google::protobuf::MessageLite& request,
                 google::protobuf::MessageLite* response, DoneCallback done) override;
  absl::Status Call(absl::string_view method, ClientContext* context,
                    const google::protobuf::MessageLite& request,
                    google::protobuf::MessageLite* response) override;
  std::unique_ptr<ClientStreamBase> StartStream(absl::string_view method, MethodKind kind,
                                                ClientContext* context,
                                                google::protobuf::MessageLite* response) override;
  void CancelCall(uint64_t call_id) override { inner_->CancelCall(call_id); }
  const std::string& target() const override { return inner_->target(); }

 private:
  // The observer's handle for `method`, registered on first use.
  CallObserver::MethodHandle Handle(absl::string_view method, MethodKind kind);

  const std::unique_ptr<Channel> inner_;
  CallObserver* const observer_;
  const CallTransport transport_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, CallObserver::MethodHandle> handles_;  // guarded by mu_
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_OBSERVED_CHANNEL_H_
