#include "logging/log.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "logging/log_capture.h"
#include "nlohmann/json.hpp"

namespace framerpc::logging {
namespace {

// Parses one line with nlohmann::json, which refuses anything that is not one valid JSON text
// (a second object, a raw control character, malformed UTF-8). (Not protobuf's Struct: under
// ThreadSanitizer, our inlined Map lookups disagree with Debian's uninstrumented protobuf.)
nlohmann::json ParseLine(const std::string& line) {
  nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << "not one JSON text: " << line;
  EXPECT_TRUE(parsed.is_object()) << line;
  return parsed;
}

std::string StringField(const nlohmann::json& s, const std::string& key) {
  auto it = s.find(key);
  if (it == s.end() || !it->is_string()) return "<missing " + key + ">";
  return it->get<std::string>();
}

bool NoRawControlCharacters(const std::string& line) {
  for (char c : line) {
    if (static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

TEST(LogTest, JsonLinesParseWhateverTheStrings) {
  LogCapture capture({Level::kInfo, Format::kJson});
  const std::vector<std::string> nasty = {
      "plain",
      "quote \" backslash \\ slash /",
      "new\nline\r\ttab \x01\x1f del\x7f",
      std::string("nul \0 inside", 12),
      "valid UTF-8: h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x98\x80",
      "line separator \xe2\x80\xa8 paragraph \xe2\x80\xa9",
      "bad: \xff \xc0\xaf overlong, \xed\xa0\x80 surrogate, \xf4\x90\x80\x80 too high, cut \xe2\x98",
      "{\"injected\":\"json\"}\n{\"ts\":1}",
  };
  for (const std::string& text : nasty) {
    Log(Level::kWarn, text, text, {{"value", text}, {text, "as a key"}, {"n", int64_t{-42}}});
  }
  const std::vector<std::string> lines = capture.Lines();
  ASSERT_EQ(lines.size(), nasty.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE(lines[i]);
    EXPECT_TRUE(NoRawControlCharacters(lines[i]));
    const nlohmann::json parsed = ParseLine(lines[i]);
    EXPECT_EQ(StringField(parsed, "level"), "warn");
    EXPECT_EQ(parsed.at("n").get<double>(), -42);
    const std::string ts = StringField(parsed, "ts");
    EXPECT_EQ(ts.size(), 27u) << ts;  // 2024-05-01T12:34:56.123456Z
    EXPECT_TRUE(absl::EndsWith(ts, "Z")) << ts;
    if (i < 6) {  // well-formed: every string comes back as it was
      EXPECT_EQ(StringField(parsed, "logger"), nasty[i]);
      EXPECT_EQ(StringField(parsed, "msg"), nasty[i]);
      EXPECT_EQ(StringField(parsed, "value"), nasty[i]);
      EXPECT_EQ(StringField(parsed, nasty[i]), "as a key");
    }
  }
  // Malformed UTF-8: each bad byte becomes U+FFFD, the rest is kept.
  const nlohmann::json bad = ParseLine(lines[6]);
  EXPECT_EQ(StringField(bad, "msg"),
            "bad: \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd overlong, "
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd surrogate, "
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd too high, cut "
            "\xef\xbf\xbd\xef\xbf\xbd");
  // An injected object is a string inside this one.
  EXPECT_EQ(StringField(ParseLine(lines[7]), "value"), nasty[7]);
}

TEST(LogTest, JsonFieldTypes) {
  LogCapture capture({Level::kDebug, Format::kJson});
  Log(Level::kDebug, "test", "types",
      {{"s", "text"}, {"i", 7}, {"u", uint64_t{18446744073709551615u}}, {"b", true}});
  const std::vector<std::string> lines = capture.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lines[0],
                                "\"level\":\"debug\",\"logger\":\"test\",\"msg\":\"types\","
                                "\"s\":\"text\",\"i\":7,\"u\":18446744073709551615,\"b\":true}"))
      << lines[0];
  const nlohmann::json parsed = ParseLine(lines[0]);
  EXPECT_EQ(parsed.at("i").get<double>(), 7);
  EXPECT_TRUE(parsed.at("b").get<bool>());
}

TEST(LogTest, TextIsOneLinePerRecord) {
  LogCapture capture({Level::kInfo, Format::kText});
  Log(Level::kInfo, "server", "listening", {{"address", "127.0.0.1:7000"}, {"calls", 3}});
  Log(Level::kError, "peer said", "two\nlines", {{"reason", "a \"quoted\"\nvalue"}, {"k=v", ""}});
  const std::vector<std::string> lines = capture.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(absl::StrContains(lines[0], " info server: listening address=127.0.0.1:7000 calls=3"))
      << lines[0];
  EXPECT_TRUE(absl::StrContains(
      lines[1], " error \"peer said\": \"two\\nlines\" reason=\"a \\\"quoted\\\"\\nvalue\" "
                "\"k=v\"=\"\""))
      << lines[1];
  for (const std::string& line : lines) EXPECT_TRUE(NoRawControlCharacters(line)) << line;
}

TEST(LogTest, LevelsFilter) {
  LogCapture capture({Level::kWarn, Format::kText});
  EXPECT_FALSE(Enabled(Level::kDebug));
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kWarn));
  EXPECT_TRUE(Enabled(Level::kError));
  Debug("test", "debug {}", 1);
  Info("test", "info {}", 2);
  Warn("test", "warn {}", 3);
  Error("test", "error {}", 4);
  const std::vector<std::string> lines = capture.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(absl::EndsWith(lines[0], " warn test: warn 3")) << lines[0];
  EXPECT_TRUE(absl::EndsWith(lines[1], " error test: error 4")) << lines[1];
  EXPECT_EQ(CurrentOptions().level, Level::kWarn);
}

TEST(LogTest, ParseLevelAndFormat) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("info"), Level::kInfo);
  EXPECT_EQ(*ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(*ParseLevel("warning"), Level::kWarn);
  EXPECT_EQ(*ParseLevel("error"), Level::kError);
  EXPECT_EQ(ParseLevel("verbose").status().message(),
            "log level must be debug, info, warn or error, not 'verbose'");
  EXPECT_EQ(*ParseFormat("text"), Format::kText);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("xml").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace framerpc::logging
