#include "cli/json_stream.h"

#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc::cli {
namespace {

// Every text of `input`, or the first error's message prefixed with "ERROR ".
std::vector<std::string> Texts(const std::string& input, size_t max = size_t{1} << 20) {
  std::istringstream in(input);
  JsonStreamReader reader(&in, max);
  std::vector<std::string> out;
  while (true) {
    absl::StatusOr<std::optional<std::string>> next = reader.Next();
    if (!next.ok()) {
      out.push_back("ERROR " + std::string(next.status().message()));
      // The error repeats.
      EXPECT_EQ(reader.Next().status(), next.status());
      return out;
    }
    if (!next->has_value()) return out;
    out.push_back(**next);
  }
}

using Strings = std::vector<std::string>;

TEST(JsonStreamReaderTest, EmptyAndBlankInputHaveNoTexts) {
  EXPECT_EQ(Texts(""), Strings{});
  EXPECT_EQ(Texts(" \n\t\r\n"), Strings{});
}

TEST(JsonStreamReaderTest, OnePerLineAndConcatenated) {
  EXPECT_EQ(Texts("{\"a\":1}\n{\"a\":2}\n"), (Strings{"{\"a\":1}", "{\"a\":2}"}));
  EXPECT_EQ(Texts("{\"a\":1}{\"a\":2}"), (Strings{"{\"a\":1}", "{\"a\":2}"}));
  EXPECT_EQ(Texts("  {\n  \"a\": {\"b\": [1, {}]}\n}\n\n{}"),
            (Strings{"{\n  \"a\": {\"b\": [1, {}]}\n}", "{}"}));
}

TEST(JsonStreamReaderTest, BracketsInsideStringsAndEscapesDoNotCount) {
  EXPECT_EQ(Texts(R"({"t":"}{]["}{"t":"a\"}"}{"t":"\\"})"),
            (Strings{R"({"t":"}{]["})", R"({"t":"a\"}"})", R"({"t":"\\"})"}));
}

TEST(JsonStreamReaderTest, BadInputIsNamedWithItsOffset) {
  EXPECT_EQ(Texts("{} 42"),
            (Strings{"{}", "ERROR the requests must be JSON objects, one after another; byte 3 "
                           "starts something else ('4')"}));
  EXPECT_EQ(Texts("{]"), (Strings{"ERROR unbalanced ']' at byte 1 of the requests"}));
  EXPECT_EQ(Texts("{}\n{\"a\": [1"),
            (Strings{"{}", "ERROR the requests end inside the JSON text that starts at byte 2"}));
  EXPECT_EQ(Texts("{\"a\": \"}"),
            (Strings{"ERROR the requests end inside the JSON text that starts at byte 0"}));
}

TEST(JsonStreamReaderTest, ATextOverTheBoundIsRefusedAsItIsRead) {
  EXPECT_EQ(Texts("{\"a\":1}{\"abcdefgh\":1}", 8),
            (Strings{"{\"a\":1}", "ERROR a request's JSON starting at byte 7 is longer than 8 bytes"}));
}

}  // namespace
}  // namespace framerpc::cli
