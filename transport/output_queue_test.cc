#include "transport/output_queue.h"

#include <string>

#include "gtest/gtest.h"

namespace framerpc {
namespace {

TEST(OutputQueueTest, EmptyQueueHoldsNoMemory) {
  OutputQueue queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_EQ(queue.capacity(), 0u);
}

TEST(OutputQueueTest, FirstInFirstOut) {
  OutputQueue queue;
  queue.push_back("a");
  queue.push_back("bb");
  queue.push_back("ccc");
  EXPECT_EQ(queue.size(), 3u);
  std::string all;
  for (const std::string& piece : queue) all += piece + "|";
  EXPECT_EQ(all, "a|bb|ccc|");
  EXPECT_EQ(queue.front(), "a");
  queue.pop_front();
  EXPECT_EQ(queue.front(), "bb");
  queue.push_back("dddd");
  all.clear();
  for (const std::string& piece : queue) all += piece + "|";
  EXPECT_EQ(all, "bb|ccc|dddd|");
  queue.pop_front();
  queue.pop_front();
  EXPECT_EQ(queue.front(), "dddd");
  queue.pop_front();
  EXPECT_TRUE(queue.empty());
}

TEST(OutputQueueTest, DrainingKeepsASmallCapacityForTheNextPiece) {
  OutputQueue queue;
  queue.push_back("reply");
  const size_t capacity = queue.capacity();
  EXPECT_GE(capacity, 1u);
  queue.pop_front();
  EXPECT_TRUE(queue.empty());
  // A busy connection that queues one reply at a time does not allocate per reply.
  EXPECT_EQ(queue.capacity(), capacity);
  queue.push_back("next");
  EXPECT_EQ(queue.capacity(), capacity);
}

TEST(OutputQueueTest, DrainingAfterABurstGivesTheMemoryBack) {
  OutputQueue queue;
  for (int i = 0; i < 1000; ++i) queue.push_back(std::string(100, 'x'));
  EXPECT_GE(queue.capacity(), 1000u);
  while (!queue.empty()) queue.pop_front();
  EXPECT_EQ(queue.capacity(), 0u);
  queue.push_back("a");
  queue.push_back("b");
  queue.clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_LE(queue.capacity(), OutputQueue::kKeptCapacity);
}

TEST(OutputQueueTest, AQueueThatNeverDrainsStaysBounded) {
  OutputQueue queue;
  queue.push_back("0");
  int next = 1;
  // Always one piece or more queued: the popped slots at the front are compacted away.
  for (int i = 0; i < 100000; ++i) {
    queue.push_back(std::to_string(next++));
    EXPECT_EQ(queue.front(), std::to_string(i));
    queue.pop_front();
  }
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.front(), std::to_string(next - 1));
  EXPECT_LE(queue.capacity(), 4 * OutputQueue::kCompactAfter);
}

TEST(OutputQueueTest, ABatchOfManyPiecesKeepsItsCapacityForTheNextAndReleaseFreesIt) {
  OutputQueue queue;
  for (int i = 0; i < 64; ++i) queue.push_back("reply");
  const size_t capacity = queue.capacity();
  while (!queue.empty()) queue.pop_front();
  EXPECT_EQ(queue.capacity(), capacity);  // 64 calls in flight: no growth per batch
  queue.ReleaseIfEmpty();
  EXPECT_EQ(queue.capacity(), 0u);
  queue.push_back("a");
  queue.ReleaseIfEmpty();  // not empty: kept
  EXPECT_EQ(queue.front(), "a");
}

TEST(OutputQueueTest, PoppingFreesThePiecesBytesAtOnce) {
  OutputQueue queue;
  queue.push_back(std::string(1 << 20, 'a'));
  queue.push_back("b");
  std::string* popped_slot = &queue.front();
  queue.pop_front();
  // The slot stays in the vector until compaction, but its megabyte is gone.
  EXPECT_EQ(popped_slot->capacity(), std::string().capacity());
  EXPECT_EQ(queue.front(), "b");
}

}  // namespace
}  // namespace framerpc
