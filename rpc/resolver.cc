#include "rpc/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/socket_address.h"

namespace framerpc {
namespace {

class StaticResolver final : public Resolver {
 public:
  explicit StaticResolver(std::vector<std::string> addresses) : addresses_(std::move(addresses)) {}
  void Start(Update update) override { update(addresses_); }
  void RequestResolution() override {}

 private:
  const std::vector<std::string> addresses_;
};

absl::StatusOr<std::vector<std::string>> Resolve(const std::string& host,
                                                 const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve '", host, "': ", ::gai_strerror(rc)));
  }
  std::vector<std::string> addresses;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    addresses.push_back(
        SocketAddress::FromSockaddr(ai->ai_addr, static_cast<socklen_t>(ai->ai_addrlen))
            .ToString());
  }
  ::freeaddrinfo(found);
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  if (addresses.empty()) {
    return absl::UnavailableError(absl::StrCat("'", host, "' has no address"));
  }
  return addresses;
}

class DnsResolver final : public Resolver {
 public:
  DnsResolver(std::string host, std::string port, absl::Duration interval)
      : host_(std::move(host)), port_(std::move(port)), interval_(interval) {}
  ~DnsResolver() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void Start(Update update) override {
    update_ = std::move(update);
    thread_ = std::thread([this] { Run(); });
  }

  void RequestResolution() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      requested_ = true;
    }
    wake_.notify_all();
  }

 private:
  void Run() {
    std::vector<std::string> last;
    bool reported = false;
    while (true) {
      absl::StatusOr<std::vector<std::string>> result = Resolve(host_, port_);
      if (!result.ok() || !reported || *result != last) {
        if (result.ok()) last = *result;
        reported = true;
        update_(std::move(result));
      }
      std::unique_lock<std::mutex> lock(mu_);
      // A request is honoured at most once a second, so that failing connections cannot turn
      // into a stream of DNS queries.
      const absl::Time earliest = absl::Now() + absl::Seconds(1);
      wake_.wait_until(lock, absl::ToChronoTime(absl::Now() + interval_),
                       [this] { return stopping_ || requested_; });
      if (stopping_) return;
      if (requested_) {
        wake_.wait_until(lock, absl::ToChronoTime(earliest), [this] { return stopping_; });
        if (stopping_) return;
        requested_ = false;
      }
    }
  }

  const std::string host_;
  const std::string port_;
  const absl::Duration interval_;
  Update update_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;   // guarded by mu_
  bool requested_ = false;  // guarded by mu_
  std::thread thread_;
};

std::mutex& SchemesMu() {
  static std::mutex mu;
  return mu;
}

std::vector<std::pair<std::string, ResolverFactory>>& Schemes() {
  static auto* schemes = new std::vector<std::pair<std::string, ResolverFactory>>();
  return *schemes;
}

}  // namespace

void RegisterResolverScheme(std::string scheme, ResolverFactory factory) {
  std::lock_guard<std::mutex> lock(SchemesMu());
  for (auto& [name, existing] : Schemes()) {
    if (name == scheme) {
      existing = std::move(factory);
      return;
    }
  }
  Schemes().emplace_back(std::move(scheme), std::move(factory));
}

ResolverFactory FindResolverScheme(absl::string_view scheme) {
  std::lock_guard<std::mutex> lock(SchemesMu());
  for (const auto& [name, factory] : Schemes()) {
    if (name == scheme) return factory;
  }
  return nullptr;
}

std::unique_ptr<Resolver> NewStaticResolver(std::vector<std::string> addresses) {
  return std::make_unique<StaticResolver>(std::move(addresses));
}

std::unique_ptr<Resolver> NewDnsResolver(std::string host, std::string port,
                                         absl::Duration interval) {
  return std::make_unique<DnsResolver>(std::move(host), std::move(port), interval);
}

}  // namespace framerpc
