#include "base/refusal_observer.h"

namespace framerpc {

const char* RefusalKindName(RefusalKind kind) {
  switch (kind) {
    case RefusalKind::kPolicy:
      return "policy";
    case RefusalKind::kLimit:
      return "limit";
    case RefusalKind::kGarbage:
      return "garbage";
    case RefusalKind::kTimeout:
      return "timeout";
    case RefusalKind::kTls:
      return "tls";
  }
  return "unknown";
}

}  // namespace framerpc
