// etcd_call_loop TARGET: a client for server/etcd_test that calls framerpc.echo.EchoService/Say
// through TARGET (an etcd:/// name) on a round_robin channel, one call at a time, each with a
// 5 s deadline and no retry policy, until it receives SIGTERM. It prints "calls N" after every
// 50th call that succeeded and "FAILED <status>" for each failure, and at the end
// "total N failed M"; it exits 0 when no call failed, 1 otherwise.
#include <signal.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "naming/etcd_naming.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: etcd_call_loop etcd:///NAME?endpoints=HOST:PORT\n");
    return 2;
  }
  // SIGTERM stays pending (blocked here and in every thread made after) until the loop asks.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);

  framerpc::naming::RegisterEtcdResolver();
  framerpc::ChannelOptions options;
  options.load_balancing = "round_robin";
  absl::StatusOr<std::unique_ptr<framerpc::Channel>> channel =
      framerpc::Channel::Create(argv[1], options);
  if (!channel.ok()) {
    std::fprintf(stderr, "%s\n", channel.status().ToString().c_str());
    return 2;
  }
  framerpc::echo::EchoService::Stub stub(channel->get());
  long calls = 0;
  long failed = 0;
  const timespec now = {0, 0};
  while (sigtimedwait(&term, nullptr, &now) != SIGTERM) {
    framerpc::ClientContext context;
    context.set_timeout(absl::Seconds(5));
    framerpc::echo::SayRequest request;
    request.set_text(absl::StrCat("call ", calls));
    framerpc::echo::SayReply reply;
    const absl::Status status = stub.Say(&context, request, &reply);
    if (!status.ok() || reply.text() != request.text()) {
      ++failed;
      std::printf("FAILED %s\n", status.ToString().c_str());
    } else if (++calls % 50 == 0) {
      std::printf("calls %ld\n", calls);
    }
    std::fflush(stdout);
  }
  std::printf("total %ld failed %ld\n", calls, failed);
  std::fflush(stdout);
  return failed == 0 ? 0 : 1;
}
