#include "services/command/bounded_queue.h"

#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace framerpc::command {
namespace {

using Queue = BoundedQueue<std::string>;

TEST(BoundedQueueTest, DeliversInOrderThenEndsAfterFinish) {
  Queue queue(100);
  EXPECT_EQ(queue.Push("a", 1, absl::InfiniteFuture()), Queue::PushResult::kQueued);
  EXPECT_EQ(queue.Push("b", 1, absl::InfiniteFuture()), Queue::PushResult::kQueued);
  queue.Finish();
  std::string item;
  ASSERT_TRUE(queue.Pop(&item));
  EXPECT_EQ(item, "a");
  ASSERT_TRUE(queue.Pop(&item));
  EXPECT_EQ(item, "b");
  EXPECT_FALSE(queue.Pop(&item));
}

TEST(BoundedQueueTest, FullQueueTimesOutAtTheDeadline) {
  Queue queue(10);
  // An oversized item gets into the empty queue...
  EXPECT_EQ(queue.Push(std::string(50, 'x'), 50, absl::InfinitePast()),
            Queue::PushResult::kQueued);
  // ...and then nothing does until it is taken.
  EXPECT_EQ(queue.Push("y", 1, absl::InfinitePast()), Queue::PushResult::kTimedOut);
  EXPECT_EQ(queue.Push("y", 1, absl::Now() + absl::Milliseconds(5)),
            Queue::PushResult::kTimedOut);
  EXPECT_EQ(queue.bytes(), 50u);
  std::string item;
  ASSERT_TRUE(queue.Pop(&item));
  EXPECT_EQ(queue.Push("y", 1, absl::InfinitePast()), Queue::PushResult::kQueued);
}

TEST(BoundedQueueTest, ProducerBlocksUntilTheConsumerTakes) {
  Queue queue(4);
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) {
      EXPECT_EQ(queue.Push(std::to_string(i), 2, absl::InfiniteFuture()),
                Queue::PushResult::kQueued);
      EXPECT_LE(queue.bytes(), 4u);
    }
    queue.Finish();
  });
  std::string item;
  int expected = 0;
  while (queue.Pop(&item)) EXPECT_EQ(item, std::to_string(expected++));
  producer.join();
  EXPECT_EQ(expected, 1000);
}

TEST(BoundedQueueTest, CloseReleasesABlockedProducerAndDropsTheRest) {
  Queue queue(1);
  ASSERT_EQ(queue.Push("a", 1, absl::InfiniteFuture()), Queue::PushResult::kQueued);
  Queue::PushResult result = Queue::PushResult::kQueued;
  std::thread producer([&] { result = queue.Push("b", 1, absl::InfiniteFuture()); });
  queue.Close();
  producer.join();
  EXPECT_EQ(result, Queue::PushResult::kClosed);
  std::string item;
  EXPECT_FALSE(queue.Pop(&item));
  EXPECT_EQ(queue.bytes(), 0u);
}

}  // namespace
}  // namespace framerpc::command
