// Resolver: the endpoints behind a target (rpc/target.h), for a BalancedChannel. An interface, so
// that another naming system (Consul, Kubernetes endpoints, etcd) plugs in without touching the
// channel.
//
// Thread safety: Start() once; RequestResolution() from any thread; the update callback runs on
// a thread of the resolver's (or inside Start() for a static list), never concurrently with
// itself. Destroying the resolver stops it: no callback runs after the destructor returns.
#ifndef FRAMERPC_RPC_RESOLVER_H_
#define FRAMERPC_RPC_RESOLVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace framerpc {

class Resolver {
 public:
  // The endpoints ("127.0.0.1:7001", "[::1]:7001"), in a stable order, or why there are none now.
  using Update = std::function<void(absl::StatusOr<std::vector<std::string>>)>;

  virtual ~Resolver() = default;
  // Begins resolving; `update` is called with the first result and then with every change.
  virtual void Start(Update update) = 0;
  // Asks for a new resolution soon (after a connection failure); cheap to call often.
  virtual void RequestResolution() = 0;
};

// Always `addresses`.
std::unique_ptr<Resolver> NewStaticResolver(std::vector<std::string> addresses);

// Every A and AAAA record of `host` (getaddrinfo), each with `port`: resolved at start, every
// `interval`, and on RequestResolution() (at most once a second). A failure is reported (the
// channel keeps its last endpoints) and retried.
std::unique_ptr<Resolver> NewDnsResolver(std::string host, std::string port,
                                         absl::Duration interval);

// Naming systems that rpc does not link (naming/etcd_resolver.h registers etcd:): a target
// "<scheme>:..." is resolved by the factory registered for its scheme. Thread-safe.
using ResolverFactory =
    std::function<absl::StatusOr<std::unique_ptr<Resolver>>(absl::string_view target)>;
void RegisterResolverScheme(std::string scheme, ResolverFactory factory);
// The factory for `scheme`, or null.
ResolverFactory FindResolverScheme(absl::string_view scheme);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_RESOLVER_H_
