#include "transport/write_queue.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/spare_strings.h"
#include "gtest/gtest.h"

namespace framerpc {
namespace {

std::unique_ptr<WriteRequest> Request(std::string head, std::string tail = std::string()) {
  return std::make_unique<WriteRequest>(std::move(head), std::move(tail));
}

// Owner: takes every request there is, oldest first, into `out`, and releases the queue.
void DrainAndRelease(WriteQueue* queue, std::vector<std::string>* out) {
  for (;;) {
    while (WriteRequest* front = queue->Front()) {
      out->push_back(absl::StrCat(front->head, front->tail_view()));
      front->written = front->size();
      queue->PopFront();
    }
    if (queue->TryRelease()) return;
  }
}

TEST(WriteQueueTest, TheFirstPusherOwnsAndTheOthersQueueBehindIt) {
  WriteQueue queue;
  EXPECT_EQ(queue.Push(Request("a")), WriteQueue::PushResult::kOwner);
  EXPECT_EQ(queue.Push(Request("b")), WriteQueue::PushResult::kQueued);
  EXPECT_EQ(queue.Push(Request("c", "C")), WriteQueue::PushResult::kQueued);
  std::vector<std::string> taken;
  DrainAndRelease(&queue, &taken);
  EXPECT_EQ(taken, (std::vector<std::string>{"a", "b", "cC"}));
  // Released: the next pusher owns it again.
  EXPECT_EQ(queue.Push(Request("d")), WriteQueue::PushResult::kOwner);
  taken.clear();
  DrainAndRelease(&queue, &taken);
  EXPECT_EQ(taken, (std::vector<std::string>{"d"}));
}

// A written request's small head goes to the thread's spare strings (the next reply's head is
// built in it); a large one is freed.
TEST(WriteQueueTest, AWrittenSmallHeadBecomesThisThreadsSpare) {
  while (SpareStrings::KeptByThisThread() > 0) SpareStrings::Take();
  WriteQueue queue;
  std::string head(100, 'h');
  const char* buffer = head.data();
  ASSERT_EQ(queue.Push(Request(std::move(head))), WriteQueue::PushResult::kOwner);
  EXPECT_EQ(queue.Push(Request(std::string(SpareStrings::kKeepCapacity + 1, 'L'))),
            WriteQueue::PushResult::kQueued);
  std::vector<std::string> taken;
  DrainAndRelease(&queue, &taken);
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(SpareStrings::KeptByThisThread(), 1);
  EXPECT_EQ(SpareStrings::Take().data(), buffer);
}

TEST(WriteQueueTest, ReleaseFailsWhileRequestsCameMeanwhile) {
  WriteQueue queue;
  ASSERT_EQ(queue.Push(Request("a")), WriteQueue::PushResult::kOwner);
  WriteRequest* front = queue.Front();
  ASSERT_NE(front, nullptr);
  queue.PopFront();
  EXPECT_EQ(queue.Front(), nullptr);
  EXPECT_EQ(queue.Push(Request("b")), WriteQueue::PushResult::kQueued);
  EXPECT_FALSE(queue.TryRelease());  // still the owner: "b" must be written
  ASSERT_NE(queue.Front(), nullptr);
  EXPECT_EQ(queue.Front()->head, "b");
  queue.PopFront();
  EXPECT_TRUE(queue.TryRelease());
}

TEST(WriteQueueTest, AnOwnerWritesBorrowedBytesWhereTheyAreAndAQueuedPusherCopiesThem) {
  WriteQueue queue;
  std::string lent = "tail-1";
  ASSERT_EQ(queue.Push(Request("h1"), lent, [](WriteRequest*) {}),
            WriteQueue::PushResult::kOwner);
  EXPECT_EQ(queue.Front()->tail_view().data(), lent.data());  // not copied
  int counted = 0;
  {
    std::string lent2 = "tail-2";
    ASSERT_EQ(queue.Push(Request("h2"), lent2, [&](WriteRequest* r) {
      ++counted;
      r->counted = true;
    }),
              WriteQueue::PushResult::kQueued);
    lent2.assign("XXXXXX");  // the pusher's bytes are gone: the queue has its own copy
  }
  EXPECT_EQ(counted, 1);
  queue.OwnBorrowed();  // the owner passes its role on: what it lent is copied too
  lent.assign("YYYYYY");
  std::vector<std::string> taken;
  DrainAndRelease(&queue, &taken);
  EXPECT_EQ(taken, (std::vector<std::string>{"h1tail-1", "h2tail-2"}));
}

TEST(WriteQueueTest, PoisonDropsEverythingAndLaterPushesAreDropped) {
  WriteQueue queue;
  ASSERT_EQ(queue.Push(Request("a")), WriteQueue::PushResult::kOwner);
  auto count = [](WriteRequest* r) { r->counted = true; };
  ASSERT_EQ(queue.Push(Request("bb"), {}, count), WriteQueue::PushResult::kQueued);
  ASSERT_EQ(queue.Push(Request("ccc"), {}, count), WriteQueue::PushResult::kQueued);
  queue.Front()->written = 1;  // "a" written; only counted requests count
  EXPECT_EQ(queue.Poison(), 5u);
  EXPECT_TRUE(queue.poisoned());
  bool counted = false;
  EXPECT_EQ(queue.Push(Request("d"), {}, [&](WriteRequest*) { counted = true; }),
            WriteQueue::PushResult::kDropped);
  EXPECT_FALSE(counted);
  EXPECT_EQ(queue.Push(Request("e")), WriteQueue::PushResult::kDropped);
  // "d" and "e" are freed with the queue (the sanitizers' leak check sees it).
}

TEST(WriteQueueTest, RequestsAreRecycled) {
  WriteQueue queue;
  ASSERT_EQ(queue.Push(Request("a")), WriteQueue::PushResult::kOwner);
  ASSERT_EQ(queue.Push(Request("b")), WriteQueue::PushResult::kQueued);
  std::vector<std::string> taken;
  DrainAndRelease(&queue, &taken);
  std::unique_ptr<WriteRequest> reused = queue.NewRequest();
  EXPECT_TRUE(reused->head.empty());
  EXPECT_EQ(reused->written, 0u);
  EXPECT_FALSE(reused->counted);
  EXPECT_EQ(reused->kind, WriteRequest::Kind::kData);
}

// Many threads push numbered requests; whichever owns the queue takes what is there. Every
// request is taken exactly once, and each thread's in the order it pushed them.
TEST(WriteQueueTest, ManyThreadsLoseNothingAndKeepEachThreadsOrder) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  WriteQueue queue;
  std::vector<std::string> taken;  // only the owner appends (ownership is exclusive)
  std::atomic<int> owners_now{0};
  std::atomic<bool> overlap{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto request = queue.NewRequest();
        request->head = absl::StrCat(t, ":", i);
        if (queue.Push(std::move(request)) != WriteQueue::PushResult::kOwner) continue;
        if (owners_now.fetch_add(1) != 0) overlap = true;
        std::vector<std::string> batch;
        for (;;) {
          while (WriteRequest* front = queue.Front()) {
            batch.push_back(front->head);
            queue.PopFront();
          }
          // Published before the release: the next owner appends after it.
          taken.insert(taken.end(), batch.begin(), batch.end());
          batch.clear();
          owners_now.fetch_sub(1);
          if (queue.TryRelease()) break;
          owners_now.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_FALSE(overlap);
  ASSERT_EQ(taken.size(), size_t{kThreads} * kPerThread);
  std::vector<int> next(kThreads, 0);
  for (const std::string& item : taken) {
    const size_t colon = item.find(':');
    const int t = std::stoi(item.substr(0, colon));
    const int i = std::stoi(item.substr(colon + 1));
    ASSERT_EQ(i, next[t]) << "thread " << t << " out of order";
    ++next[t];
  }
}

}  // namespace
}  // namespace framerpc
