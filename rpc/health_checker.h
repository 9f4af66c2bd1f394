// HealthChecker: the active health checks of a BalancedChannel (rpc/balanced_channel.h), gRPC's
// healthCheckConfig on the framed transport. Every `interval` it asks each endpoint, through the
// endpoint's own Channel, grpc.health.v1.Health/Check about one service name ("" for the server
// as a whole), and reports what the endpoint said:
//   SERVING                                            serving
//   NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN, or NOT_FOUND (the server does not know the name)
//                                                      not serving
//   UNIMPLEMENTED (the server has no health service)   serving: the check cannot apply (as gRPC)
//   any other failure (unreachable, deadline)          nothing: the channel's ejection of
//                                                      endpoints whose calls fail covers that
// Each check has a deadline of max(interval, 1 s); a round ends when every check has answered.
//
// Thread safety: every method is thread-safe. Reports run on the endpoint channels' I/O threads
// and must not block. Lifetime: the probes' channels must outlive the checker; its destructor
// (or Stop()) cancels the checks in flight and returns when no report can run any more.
#ifndef FRAMERPC_RPC_HEALTH_CHECKER_H_
#define FRAMERPC_RPC_HEALTH_CHECKER_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rpc/channel.h"

namespace framerpc {

class HealthChecker {
 public:
  // One endpoint to check: not owned.
  struct Probe {
    Channel* channel;
    std::function<void(bool serving)> report;
  };

  HealthChecker(std::string service, absl::Duration interval);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // The endpoints to check from now on; a round checking all of them starts at once.
  void SetProbes(std::vector<Probe> probes);
  // Ends the checks (see Lifetime above). Idempotent.
  void Stop();

  // What a Check that ended with `status` and `answer` (the ServingStatus number) says: 1
  // serving, 0 not serving, -1 nothing (see the table above). For tests.
  static int Verdict(const absl::Status& status, int answer);

 private:
  struct Round;
  void Run();
  // Checks every probe once; returns when all have answered (or were cancelled by Stop()).
  void CheckAll(const std::vector<Probe>& probes);

  const std::string service_;
  const absl::Duration interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Probe> probes_;   // guarded by mu_
  bool changed_ = false;        // guarded by mu_: SetProbes since the last round began
  bool stopping_ = false;       // guarded by mu_
  std::shared_ptr<Round> round_;  // guarded by mu_: the round in flight, for Stop() to cancel
  std::thread thread_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_HEALTH_CHECKER_H_
