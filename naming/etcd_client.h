// EtcdClient: the few calls of etcd's v3 API that naming needs, through etcd's HTTP/JSON gateway
// (etcd 3.4, Debian's etcd-server), with libcurl: leases, put, delete, range over a prefix, and a
// watch. Keys and values are bytes (base64 on the wire, as the gateway wants).
//
// Thread safety: each call makes its own request; any number may run at once. Watch() blocks
// until `stop` says so or the stream ends.
#ifndef FRAMERPC_NAMING_ETCD_CLIENT_H_
#define FRAMERPC_NAMING_ETCD_CLIENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace framerpc::naming {

class EtcdClient {
 public:
  // `endpoint`: "host:port" of an etcd client URL (http). Requests give up after `timeout`.
  explicit EtcdClient(std::string endpoint, absl::Duration timeout = absl::Seconds(5))
      : endpoint_(std::move(endpoint)), timeout_(timeout) {}

  // A lease of `ttl` (whole seconds, at least 1); its id.
  absl::StatusOr<int64_t> GrantLease(absl::Duration ttl) const;
  // Renews `lease` once; its remaining TTL, NOT_FOUND when it has expired.
  absl::StatusOr<absl::Duration> KeepAlive(int64_t lease) const;
  absl::Status RevokeLease(int64_t lease) const;
  // `lease` 0: none.
  absl::Status Put(const std::string& key, const std::string& value, int64_t lease = 0) const;
  absl::Status Delete(const std::string& key) const;
  // Every key under `prefix` with its value, in key order.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Range(
      const std::string& prefix) const;
  // Watches `prefix`: `on_change` runs after each event batch; returns when `stop()` is true
  // (checked at least every second) or the stream fails (UNAVAILABLE).
  absl::Status Watch(const std::string& prefix, const std::function<void()>& on_change,
                     const std::function<bool()>& stop) const;

  const std::string& endpoint() const { return endpoint_; }

 private:
  // POSTs `body` to /v3/<path>; the parsed reply (a JSON object as text).
  absl::StatusOr<std::string> Post(const std::string& path, const std::string& body) const;

  const std::string endpoint_;
  const absl::Duration timeout_;
};

// The key right after every key that starts with `prefix` (etcd's range_end for a prefix).
std::string PrefixEnd(const std::string& prefix);

}  // namespace framerpc::naming

#endif  // FRAMERPC_NAMING_ETCD_CLIENT_H_
