// CompositeObserver: several CallObservers seen by the dispatcher as one (the metrics and the
// access log), for ServerOptions::observer.
//
//   CompositeObserver observers({&metrics, &access_log});
//   options.observer = &observers;     // or the one observer itself, when there is only one
//
// The handle it gives out for a method is an array of its observers' handles for that method,
// so a call costs one indirect call per observer and nothing else. Each observer's
// UnknownMethod() is asked once, at construction: it must always return the same handle.
//
// Thread safety: as CallObserver (RegisterMethod may run concurrently too). Lifetime: the
// observers must outlive it; it must outlive the dispatcher that uses it.
#ifndef FRAMERPC_RPC_OBSERVERS_H_
#define FRAMERPC_RPC_OBSERVERS_H_

#include <memory>
#include <mutex>
#include <vector>

#include "rpc/call_observer.h"

namespace framerpc {

class CompositeObserver final : public CallObserver {
 public:
  // `observers`: not owned, not null.
  explicit CompositeObserver(std::vector<CallObserver*> observers);
  CompositeObserver(const CompositeObserver&) = delete;
  CompositeObserver& operator=(const CompositeObserver&) = delete;

  MethodHandle RegisterMethod(absl::string_view full_name, MethodKind kind) override;
  MethodHandle UnknownMethod() override { return unknown_; }
  void OnStarted(MethodHandle method, CallTransport transport) override {
    MethodHandle* handles = static_cast<MethodHandle*>(method);
    for (size_t i = 0; i < observers_.size(); ++i) observers_[i]->OnStarted(handles[i], transport);
  }
  void OnFinished(MethodHandle method, const FinishedCall& call) override {
    MethodHandle* handles = static_cast<MethodHandle*>(method);
    for (size_t i = 0; i < observers_.size(); ++i) observers_[i]->OnFinished(handles[i], call);
  }
  void OnStreamMessage(MethodHandle method, CallTransport transport, bool received,
                       size_t bytes) override {
    MethodHandle* handles = static_cast<MethodHandle*>(method);
    for (size_t i = 0; i < observers_.size(); ++i) {
      observers_[i]->OnStreamMessage(handles[i], transport, received, bytes);
    }
  }

 private:
  // A new array of observers_.size() handles, owned by this object.
  MethodHandle* NewHandles();

  const std::vector<CallObserver*> observers_;
  std::mutex mu_;
  std::vector<std::unique_ptr<MethodHandle[]>> handles_;  // guarded by mu_
  MethodHandle unknown_ = nullptr;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_OBSERVERS_H_
