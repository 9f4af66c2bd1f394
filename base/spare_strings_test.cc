#include "base/spare_strings.h"

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace framerpc {
namespace {

TEST(SpareStringsTest, ABufferGivenBackIsTheNextOneTaken) {
  std::string head(100, 'x');
  const char* buffer = head.data();
  SpareStrings::Give(std::move(head));
  EXPECT_EQ(SpareStrings::KeptByThisThread(), 1);
  std::string next = SpareStrings::Take();
  EXPECT_TRUE(next.empty());
  EXPECT_GE(next.capacity(), 100u);
  EXPECT_EQ(next.data(), buffer);
  EXPECT_EQ(SpareStrings::KeptByThisThread(), 0);
  EXPECT_TRUE(SpareStrings::Take().empty());  // none left: a fresh one
}

TEST(SpareStringsTest, ShortAndLargeStringsAreNotKept) {
  SpareStrings::Give(std::string("short"));  // no heap buffer to keep
  SpareStrings::Give(std::string(SpareStrings::kKeepCapacity + 1, 'x'));
  EXPECT_EQ(SpareStrings::KeptByThisThread(), 0);
}

TEST(SpareStringsTest, AThreadKeepsAtMostItsSlots) {
  for (int i = 0; i < SpareStrings::kSlots + 3; ++i) SpareStrings::Give(std::string(64, 'x'));
  EXPECT_EQ(SpareStrings::KeptByThisThread(), SpareStrings::kSlots);
  for (int i = 0; i < SpareStrings::kSlots; ++i) EXPECT_GE(SpareStrings::Take().capacity(), 64u);
  EXPECT_EQ(SpareStrings::KeptByThisThread(), 0);
}

TEST(SpareStringsTest, EachThreadHasItsOwn) {
  SpareStrings::Give(std::string(64, 'x'));
  int kept_by_other = -1;
  std::string taken_by_other = "unset";
  std::thread other([&] {
    kept_by_other = SpareStrings::KeptByThisThread();
    taken_by_other = SpareStrings::Take();
    SpareStrings::Give(std::string(200, 'y'));  // freed with the thread
  });
  other.join();
  EXPECT_EQ(kept_by_other, 0);
  EXPECT_TRUE(taken_by_other.empty());
  EXPECT_EQ(SpareStrings::KeptByThisThread(), 1);
  SpareStrings::Take();
}

}  // namespace
}  // namespace framerpc
