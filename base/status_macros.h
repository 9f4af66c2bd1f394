// Small status helpers. Debian's abseil (20220623) ships neither return-if-error macros nor
// status matchers, so framerpc carries its own.
#ifndef FRAMERPC_BASE_STATUS_MACROS_H_
#define FRAMERPC_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define FRPC_STATUS_CONCAT_INNER_(a, b) a##b
#define FRPC_STATUS_CONCAT_(a, b) FRPC_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define FRPC_RETURN_IF_ERROR(expr)                          \
  do {                                                      \
    ::absl::Status frpc_status_ = (expr);                   \
    if (!frpc_status_.ok()) return frpc_status_;            \
  } while (0)

// `lhs` = value of `expr` (an absl::StatusOr<T>), or returns its error.
#define FRPC_ASSIGN_OR_RETURN(lhs, expr) \
  FRPC_ASSIGN_OR_RETURN_IMPL_(FRPC_STATUS_CONCAT_(frpc_statusor_, __LINE__), lhs, expr)

#define FRPC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#endif  // FRAMERPC_BASE_STATUS_MACROS_H_
