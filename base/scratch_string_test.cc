#include "base/scratch_string.h"

#include <thread>

#include "gtest/gtest.h"

namespace framerpc {
namespace {

TEST(ScratchStringTest, StartsEmptyAndReusesTheThreadsBuffer) {
  const char* first_buffer = nullptr;
  {
    ScratchString scratch;
    EXPECT_TRUE(scratch.get()->empty());
    scratch.get()->assign(1000, 'x');
    first_buffer = scratch.get()->data();
  }
  ScratchString again;
  EXPECT_TRUE(again.get()->empty());
  EXPECT_GE(again.get()->capacity(), 1000u);
  EXPECT_EQ(again.get()->data(), first_buffer);
}

TEST(ScratchStringTest, NestedScratchesAreDistinct) {
  ScratchString outer;
  outer.get()->assign(100, 'a');
  {
    ScratchString inner;
    EXPECT_TRUE(inner.get()->empty());
    inner.get()->assign(200, 'b');
    EXPECT_NE(inner.get()->data(), outer.get()->data());
  }
  EXPECT_EQ(*outer, std::string(100, 'a'));
}

TEST(ScratchStringTest, LargeBuffersAreNotKept) {
  {
    ScratchString scratch;
    scratch.get()->assign(ScratchStringPolicy::kKeepBytes + 1, 'x');
  }
  ScratchString again;
  EXPECT_LE(again.get()->capacity(), ScratchStringPolicy::kKeepBytes);
}

TEST(ScratchStringTest, EachThreadHasItsOwn) {
  const char* main_buffer = nullptr;
  {
    ScratchString scratch;
    scratch.get()->assign(500, 'm');
    main_buffer = scratch.get()->data();
  }
  const char* other_buffer = nullptr;
  std::thread other([&] {
    ScratchString scratch;
    scratch.get()->assign(500, 'o');
    other_buffer = scratch.get()->data();
  });
  other.join();
  EXPECT_NE(other_buffer, main_buffer);
  ScratchString mine;
  EXPECT_EQ(mine.get()->data(), main_buffer);
}

}  // namespace
}  // namespace framerpc
