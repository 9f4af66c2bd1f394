// Byte accounting for one output stream with a cap: how much of each chunk to deliver, and
// whether anything was cut.
//
// Thread safety: a value type; not thread-safe.
#ifndef FRAMERPC_SERVICES_COMMAND_OUTPUT_LIMIT_H_
#define FRAMERPC_SERVICES_COMMAND_OUTPUT_LIMIT_H_

#include <algorithm>
#include <cstddef>

namespace framerpc::command {

class OutputLimit {
 public:
  explicit OutputLimit(size_t limit) : limit_(limit) {}

  // Accounts for a chunk of `size` bytes and returns how many of its leading bytes to deliver.
  // Once the total passes the limit, the excess is cut and truncated() becomes true; output of
  // exactly `limit` bytes is not truncated.
  size_t Admit(size_t size) {
    const size_t keep = std::min(size, limit_ - delivered_);
    delivered_ += keep;
    if (keep < size) truncated_ = true;
    return keep;
  }

  size_t delivered() const { return delivered_; }
  bool truncated() const { return truncated_; }

 private:
  size_t limit_;
  size_t delivered_ = 0;
  bool truncated_ = false;
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_OUTPUT_LIMIT_H_
