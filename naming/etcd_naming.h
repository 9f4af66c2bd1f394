// Service discovery on etcd (issue 16.2), through naming/etcd_client.h:
//
// Registration: a server puts its address under "<prefix>/<name>/<address>" with a lease that it
// keeps alive, takes the key away on a graceful shutdown (before it drains), and, when it
// crashes, leaves it to expire with the lease. An etcd that cannot be reached is retried with
// backoff while the server goes on serving.
//
// Resolution: "etcd:///<name>?endpoints=127.0.0.1:2379[,host:port...][&prefix=services]" gives a
// BalancedChannel (rpc/balanced_channel.h) the addresses under "<prefix>/<name>/", kept current
// by a watch; while etcd cannot be reached the channel keeps its last endpoints.
#ifndef FRAMERPC_NAMING_ETCD_NAMING_H_
#define FRAMERPC_NAMING_ETCD_NAMING_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "naming/etcd_client.h"
#include "rpc/resolver.h"

namespace framerpc::naming {

// Makes "etcd:" targets work in Channel::Create. Idempotent; call it before making channels.
void RegisterEtcdResolver();

// The resolver of one "etcd:///..." target. INVALID_ARGUMENT for a malformed target.
absl::StatusOr<std::unique_ptr<Resolver>> NewEtcdResolver(absl::string_view target);

// A server's registration. Thread safety: construction and Deregister() on one thread.
class EtcdRegistration {
 public:
  // `url`: "etcd://host:port/<prefix>/<name>"; `address`: what clients dial. The key is written
  // by a thread of its own, retried with backoff until etcd answers. INVALID_ARGUMENT for a
  // malformed url.
  static absl::StatusOr<std::unique_ptr<EtcdRegistration>> Start(const std::string& url,
                                                                 std::string address,
                                                                 absl::Duration ttl);
  // Deregister()s.
  ~EtcdRegistration();
  EtcdRegistration(const EtcdRegistration&) = delete;
  EtcdRegistration& operator=(const EtcdRegistration&) = delete;

  // Stops the keep-alive and deletes the key (and revokes the lease) if etcd answers. Idempotent.
  void Deregister();
  const std::string& key() const { return key_; }

 private:
  EtcdRegistration(std::string endpoint, std::string key, std::string address,
                   absl::Duration ttl)
      : client_(std::move(endpoint)), key_(std::move(key)), address_(std::move(address)),
        ttl_(ttl) {}
  void Run();
  // Waits `d` or until stopped; returns whether stopped.
  bool WaitOrStop(absl::Duration d);

  const EtcdClient client_;
  const std::string key_;
  const std::string address_;
  const absl::Duration ttl_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  int64_t lease_ = 0;      // guarded by mu_: the lease the key is under, 0 for none
  std::thread thread_;
};

}  // namespace framerpc::naming

#endif  // FRAMERPC_NAMING_ETCD_NAMING_H_
