#include "services/file/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace framerpc::file {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  for (const std::string& text :
       {std::string(), std::string("plain.txt"), std::string("caf\xC3\xA9"),
        std::string("\xE2\x82\xAC"), std::string("\xED\x9F\xBF"), std::string("\xEE\x80\x80"),
        std::string("\xF0\x9F\x98\x80"), std::string("\xF4\x8F\xBF\xBF"),
        std::string("a\0b", 3)}) {
    EXPECT_TRUE(IsValidUtf8(text)) << text;
  }
}

TEST(Utf8Test, RefusesMalformedText) {
  for (const std::string& text : {
           std::string("\x80"),              // lone continuation byte
           std::string("\xC3"),              // truncated
           std::string("\xE2\x82"),          // truncated
           std::string("\xC0\xAF"),          // overlong '/'
           std::string("\xC1\xBF"),          // overlong
           std::string("\xE0\x80\xAF"),      // overlong
           std::string("\xF0\x80\x80\xAF"),  // overlong
           std::string("\xED\xA0\x80"),      // surrogate U+D800
           std::string("\xED\xBF\xBF"),      // surrogate U+DFFF
           std::string("\xF4\x90\x80\x80"),  // U+110000
           std::string("\xF5\x80\x80\x80"),  // lead byte out of range
           std::string("\xFF"),
           std::string("ok\xC3(", 4),        // bad continuation
       }) {
    EXPECT_FALSE(IsValidUtf8(text)) << absl::string_view(text).size();
  }
}

}  // namespace
}  // namespace framerpc::file
