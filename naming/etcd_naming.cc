#include "naming/etcd_naming.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "logging/log.h"

namespace framerpc::naming {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(250);
constexpr absl::Duration kMaxBackoff = absl::Seconds(30);

absl::Duration Next(absl::Duration backoff) {
  return std::min(backoff * 2, kMaxBackoff);
}

// Watches "<prefix>/<name>/" on the first etcd endpoint that answers.
class EtcdResolver final : public Resolver {
 public:
  EtcdResolver(std::vector<std::string> endpoints, std::string prefix)
      : endpoints_(std::move(endpoints)), prefix_(std::move(prefix)) {}
  ~EtcdResolver() override {
    stopping_.store(true);
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void Start(Update update) override {
    update_ = std::move(update);
    thread_ = std::thread([this] { Run(); });
  }
  void RequestResolution() override {}  // the watch keeps the list current

 private:
  absl::Status ResolveOnce(const EtcdClient& client) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> kvs = client.Range(prefix_);
    if (!kvs.ok()) return kvs.status();
    std::vector<std::string> addresses;
    for (const auto& [key, value] : *kvs) addresses.push_back(value);
    std::sort(addresses.begin(), addresses.end());
    addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
    if (addresses.empty()) {
      update_(absl::UnavailableError(absl::StrCat("no server is registered under '", prefix_,
                                                  "' in etcd at ", client.endpoint())));
    } else {
      update_(std::move(addresses));
    }
    return absl::OkStatus();
  }

  void Run() {
    absl::Duration backoff = kFirstBackoff;
    size_t next = 0;
    while (!stopping_.load()) {
      const EtcdClient client(endpoints_[next++ % endpoints_.size()]);
      absl::Status status = ResolveOnce(client);
      if (status.ok()) {
        backoff = kFirstBackoff;
        status = client.Watch(
            prefix_, [&] { ResolveOnce(client).IgnoreError(); },
            [this] { return stopping_.load(); });
      }
      if (stopping_.load()) return;
      // The channel keeps its last endpoints; this only says why there may be none.
      if (!status.ok()) update_(status);
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, absl::ToChronoNanoseconds(backoff), [this] { return stopping_.load(); });
      backoff = Next(backoff);
    }
  }

  const std::vector<std::string> endpoints_;
  const std::string prefix_;
  Update update_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Resolver>> NewEtcdResolver(absl::string_view target) {
  absl::string_view rest = target;
  if (!absl::ConsumePrefix(&rest, "etcd:///")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target '", target, "': expected etcd:///NAME?endpoints=HOST:PORT[,HOST:PORT]"));
  }
  const size_t question = rest.find('?');
  const std::string name(rest.substr(0, question));
  std::vector<std::string> endpoints;
  std::string prefix = "services";
  if (question != absl::string_view::npos) {
    for (absl::string_view param : absl::StrSplit(rest.substr(question + 1), '&')) {
      if (absl::ConsumePrefix(&param, "endpoints=")) {
        endpoints = absl::StrSplit(param, ',', absl::SkipEmpty());
      } else if (absl::ConsumePrefix(&param, "prefix=")) {
        prefix = std::string(param);
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("target '", target, "': unknown parameter '", param, "'"));
      }
    }
  }
  if (name.empty() || absl::StrContains(name, '/') || endpoints.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target '", target, "': expected etcd:///NAME?endpoints=HOST:PORT[,HOST:PORT]"));
  }
  return std::make_unique<EtcdResolver>(std::move(endpoints), absl::StrCat(prefix, "/", name, "/"));
}

void RegisterEtcdResolver() { RegisterResolverScheme("etcd", NewEtcdResolver); }

absl::StatusOr<std::unique_ptr<EtcdRegistration>> EtcdRegistration::Start(
    const std::string& url, std::string address, absl::Duration ttl) {
  absl::string_view rest = url;
  const size_t slash = absl::ConsumePrefix(&rest, "etcd://") ? rest.find('/') : 0;
  if (slash == 0 || slash == absl::string_view::npos || rest.size() <= slash + 1 ||
      absl::EndsWith(rest, "/")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--register '", url, "': expected etcd://HOST:PORT/PREFIX/NAME"));
  }
  if (ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError("the registration's lease TTL must be at least 1s");
  }
  const std::string endpoint(rest.substr(0, slash));
  std::string key = absl::StrCat(rest.substr(slash + 1), "/", address);
  std::unique_ptr<EtcdRegistration> registration(
      new EtcdRegistration(endpoint, std::move(key), std::move(address), ttl));
  registration->thread_ = std::thread([r = registration.get()] { r->Run(); });
  return registration;
}

EtcdRegistration::~EtcdRegistration() { Deregister(); }

bool EtcdRegistration::WaitOrStop(absl::Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  return wake_.wait_for(lock, absl::ToChronoNanoseconds(d), [this] { return stopping_; });
}

void EtcdRegistration::Run() {
  absl::Duration backoff = kFirstBackoff;
  int64_t lease = 0;
  while (true) {
    absl::Status status;
    if (lease == 0) {
      absl::StatusOr<int64_t> granted = client_.GrantLease(ttl_);
      status = granted.status();
      if (granted.ok()) {
        status = client_.Put(key_, address_, *granted);
        if (status.ok()) {
          lease = *granted;
          std::lock_guard<std::mutex> lock(mu_);
          lease_ = lease;
          logging::Info("naming", "registered {} in etcd at {} (lease {}, ttl {})", key_,
                        client_.endpoint(), lease, absl::FormatDuration(ttl_));
        }
      }
    } else {
      absl::StatusOr<absl::Duration> left = client_.KeepAlive(lease);
      status = left.status();
      if (absl::IsNotFound(status)) lease = 0;  // expired while etcd was away: register again
    }
    if (!status.ok()) {
      logging::Warn("naming", "etcd registration of {}: {}; again in {}", key_,
                    status.ToString(), absl::FormatDuration(backoff));
      if (WaitOrStop(backoff)) return;
      backoff = Next(backoff);
      continue;
    }
    backoff = kFirstBackoff;
    if (WaitOrStop(ttl_ / 3)) return;
  }
}

void EtcdRegistration::Deregister() {
  int64_t lease = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    lease = lease_;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (lease == 0) return;
  absl::Status deleted = client_.Delete(key_);
  absl::Status revoked = client_.RevokeLease(lease);
  if (!deleted.ok() || !revoked.ok()) {
    logging::Warn("naming", "etcd deregistration of {}: {} {}", key_, deleted.ToString(),
                  revoked.ToString());
  } else {
    logging::Info("naming", "deregistered {} from etcd", key_);
  }
}

}  // namespace framerpc::naming
