#include "base/parker.h"

#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc {
namespace {

TEST(ParkerTest, WaitOnAnOldTicketReturnsAtOnce) {
  Parker parker;
  const uint32_t ticket = parker.Ticket();
  parker.Wake();
  parker.Wait(ticket);  // would hang if the Wake() were lost
  EXPECT_NE(parker.Ticket(), ticket);
}

// A producer hands values one by one to a consumer that sleeps whenever it finds nothing, with
// the protocol of the header: every value arrives, and the consumer never sleeps through one
// (the test would hang).
TEST(ParkerTest, NoWakeUpIsLostUnderTheProtocol) {
  constexpr int kValues = 20000;
  Parker parker;
  std::mutex mu;
  std::vector<int> queue;   // guarded by mu
  bool sleeping = false;    // guarded by mu
  std::thread producer([&] {
    for (int i = 0; i < kValues; ++i) {
      bool wake;
      {
        std::lock_guard<std::mutex> lock(mu);
        queue.push_back(i);
        wake = sleeping;
        sleeping = false;
      }
      if (wake) parker.Wake();
    }
  });
  int expected = 0;
  while (expected < kValues) {
    std::vector<int> taken;
    {
      std::unique_lock<std::mutex> lock(mu);
      while (queue.empty()) {
        sleeping = true;
        const uint32_t ticket = parker.Ticket();
        lock.unlock();
        parker.Wait(ticket);
        lock.lock();
      }
      taken.swap(queue);
    }
    for (int value : taken) ASSERT_EQ(value, expected++);
  }
  producer.join();
}

}  // namespace
}  // namespace framerpc
