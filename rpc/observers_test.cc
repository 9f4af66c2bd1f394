#include "rpc/observers.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc {
namespace {

// Records what it is told, with the method name its handle stands for.
class RecordingObserver final : public CallObserver {
 public:
  MethodHandle RegisterMethod(absl::string_view full_name, MethodKind kind) override {
    names_.push_back(std::make_unique<std::string>(full_name));
    return names_.back().get();
  }
  MethodHandle UnknownMethod() override { return &unknown_; }
  void OnStarted(MethodHandle method, CallTransport transport) override {
    events_.push_back("started " + Name(method) + " " + CallTransportName(transport));
  }
  void OnFinished(MethodHandle method, const FinishedCall& call) override {
    events_.push_back("finished " + Name(method) + " " + std::to_string(call.request_bytes));
  }
  void OnStreamMessage(MethodHandle method, CallTransport transport, bool received,
                       size_t bytes) override {
    events_.push_back("message " + Name(method) + (received ? " in " : " out ") +
                      std::to_string(bytes));
  }
  const std::vector<std::string>& events() const { return events_; }

 private:
  std::string Name(MethodHandle method) const { return *static_cast<std::string*>(method); }

  std::vector<std::unique_ptr<std::string>> names_;
  std::string unknown_ = "<unknown>";
  std::vector<std::string> events_;
};

TEST(CompositeObserverTest, EveryObserverGetsItsOwnHandles) {
  RecordingObserver first;
  RecordingObserver second;
  CompositeObserver both({&first, &second});
  CallObserver::MethodHandle say = both.RegisterMethod("/a.S/Say", MethodKind::kUnary);
  CallObserver::MethodHandle watch = both.RegisterMethod("/a.S/Watch",
                                                         MethodKind::kServerStreaming);
  EXPECT_NE(say, watch);
  both.OnStarted(say, CallTransport::kFramed);
  both.OnStreamMessage(watch, CallTransport::kGrpc, /*received=*/false, 12);
  FinishedCall call{nullptr, CallTransport::kUdp, absl::StatusCode::kOk, absl::Milliseconds(1),
                    34, 56, true};
  both.OnFinished(say, call);
  both.OnStarted(both.UnknownMethod(), CallTransport::kUdp);
  const std::vector<std::string> expected = {"started /a.S/Say framed", "message /a.S/Watch out 12",
                                             "finished /a.S/Say 34", "started <unknown> udp"};
  EXPECT_EQ(first.events(), expected);
  EXPECT_EQ(second.events(), expected);
}

TEST(CompositeObserverTest, NoObservers) {
  CompositeObserver none({});
  CallObserver::MethodHandle method = none.RegisterMethod("/a.S/Say", MethodKind::kUnary);
  EXPECT_NE(method, nullptr);
  none.OnStarted(method, CallTransport::kFramed);
  none.OnStarted(none.UnknownMethod(), CallTransport::kFramed);
}

}  // namespace
}  // namespace framerpc
