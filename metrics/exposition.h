// The Prometheus text exposition of a set of collectables (RpcMetrics, ServerMetrics,
// ProcessMetrics, the services' collectors), with prometheus-cpp's serializer.
//
// Thread safety: Add() before the first Render(), from one thread; Render() from any thread.
#ifndef FRAMERPC_METRICS_EXPOSITION_H_
#define FRAMERPC_METRICS_EXPOSITION_H_

#include <string>
#include <vector>

#include "prometheus/collectable.h"

namespace framerpc::metrics {

class Exposition {
 public:
  // `collectable` must outlive this object.
  void Add(const prometheus::Collectable* collectable) { collectables_.push_back(collectable); }
  // Text format version 0.0.4 (Content-Type "text/plain; version=0.0.4; charset=utf-8").
  std::string Render() const;

 private:
  std::vector<const prometheus::Collectable*> collectables_;
};

}  // namespace framerpc::metrics

#endif  // FRAMERPC_METRICS_EXPOSITION_H_
