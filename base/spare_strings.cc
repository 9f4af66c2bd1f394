#include "base/spare_strings.h"

#include <utility>

namespace framerpc {
namespace {

struct Spares {
  std::string slots[SpareStrings::kSlots];
  int count = 0;
};

Spares& ThisThreadsSpares() {
  thread_local Spares spares;
  return spares;
}

// std::string's capacity when it holds no heap buffer (the short-string optimisation).
size_t InlineCapacity() { return std::string().capacity(); }

}  // namespace

std::string SpareStrings::Take() {
  Spares& spares = ThisThreadsSpares();
  if (spares.count == 0) return std::string();
  std::string value = std::move(spares.slots[--spares.count]);
  value.clear();
  return value;
}

void SpareStrings::Give(std::string value) {
  if (value.capacity() <= InlineCapacity() || value.capacity() > kKeepCapacity) return;
  Spares& spares = ThisThreadsSpares();
  if (spares.count == kSlots) return;
  spares.slots[spares.count++] = std::move(value);
}

int SpareStrings::KeptByThisThread() { return ThisThreadsSpares().count; }

}  // namespace framerpc
