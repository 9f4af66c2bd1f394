#include "services/file/uploads_in_progress.h"

namespace framerpc::file {

void UploadsInProgress::Add(const struct stat& st) {
  std::lock_guard<std::mutex> lock(mu_);
  ++count_[KeyOf(st)];
}

void UploadsInProgress::Remove(const struct stat& st) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = count_.find(KeyOf(st));
  if (it != count_.end() && --it->second == 0) count_.erase(it);
}

bool UploadsInProgress::Contains(const struct stat& st) const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_.contains(KeyOf(st));
}

}  // namespace framerpc::file
