#include "metrics/exposition.h"

#include <sstream>

#include "prometheus/text_serializer.h"

namespace framerpc::metrics {

std::string Exposition::Render() const {
  std::vector<prometheus::MetricFamily> families;
  for (const prometheus::Collectable* collectable : collectables_) {
    std::vector<prometheus::MetricFamily> collected = collectable->Collect();
    for (prometheus::MetricFamily& family : collected) families.push_back(std::move(family));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace framerpc::metrics
