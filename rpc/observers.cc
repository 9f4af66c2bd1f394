#include "rpc/observers.h"

#include <algorithm>

namespace framerpc {

CompositeObserver::CompositeObserver(std::vector<CallObserver*> observers)
    : observers_(std::move(observers)) {
  MethodHandle* unknown = NewHandles();
  for (size_t i = 0; i < observers_.size(); ++i) unknown[i] = observers_[i]->UnknownMethod();
  unknown_ = unknown;
}

CallObserver::MethodHandle* CompositeObserver::NewHandles() {
  std::lock_guard<std::mutex> lock(mu_);
  // At least one element, so that every handle is a distinct non-null pointer.
  handles_.push_back(std::make_unique<MethodHandle[]>(std::max<size_t>(1, observers_.size())));
  return handles_.back().get();
}

CallObserver::MethodHandle CompositeObserver::RegisterMethod(absl::string_view full_name,
                                                             MethodKind kind) {
  MethodHandle* handles = NewHandles();
  for (size_t i = 0; i < observers_.size(); ++i) {
    handles[i] = observers_[i]->RegisterMethod(full_name, kind);
  }
  return handles;
}

}  // namespace framerpc
