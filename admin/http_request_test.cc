#include "admin/http_request.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace framerpc::admin {
namespace {

constexpr char kScrape[] =
    "GET /metrics?name=x HTTP/1.1\r\nHost: 127.0.0.1:9090\r\nAccept: text/plain\r\n"
    "User-Agent: Prometheus/2.42.0\r\n\r\n";

TEST(HttpRequestTest, ParsesAScrape) {
  HttpRequest request;
  const ParseResult result = ParseHttpRequest(kScrape, &request);
  ASSERT_EQ(result.outcome, ParseOutcome::kRequest);
  EXPECT_EQ(result.consumed, sizeof(kScrape) - 1);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/metrics");
  EXPECT_EQ(request.query, "name=x");
  EXPECT_EQ(request.version, "HTTP/1.1");
  EXPECT_EQ(request.Header("host"), "127.0.0.1:9090");
  EXPECT_EQ(request.Header("user-agent"), "Prometheus/2.42.0");
  EXPECT_EQ(request.Header("absent"), "");
}

TEST(HttpRequestTest, EveryPrefixNeedsMoreAndTheWholeParsesTheSame) {
  const std::string whole = kScrape;
  for (size_t n = 0; n < whole.size(); ++n) {
    HttpRequest request;
    EXPECT_EQ(ParseHttpRequest(whole.substr(0, n), &request).outcome, ParseOutcome::kNeedMore)
        << n;
  }
  // Bytes after the head (a pipelined request, or a body) are not consumed.
  HttpRequest request;
  const ParseResult result = ParseHttpRequest(whole + "GET / HTTP/1.1\r\n", &request);
  ASSERT_EQ(result.outcome, ParseOutcome::kRequest);
  EXPECT_EQ(result.consumed, whole.size());
}

TEST(HttpRequestTest, HeaderNamesAreCaseInsensitiveAndValuesTrimmed) {
  HttpRequest request;
  ASSERT_EQ(ParseHttpRequest("GET / HTTP/1.0\r\nAUTHORIZATION:   Bearer abc  \r\n\r\n", &request)
                .outcome,
            ParseOutcome::kRequest);
  EXPECT_EQ(request.Header("authorization"), "Bearer abc");
  EXPECT_EQ(request.version, "HTTP/1.0");
}

struct BadCase {
  const char* name;
  std::string input;
  int status;
};

TEST(HttpRequestTest, MalformedHeadsGetTheirStatus) {
  const BadCase cases[] = {
      {"two words", "GET /\r\n\r\n", 400},
      {"four words", "GET / x HTTP/1.1\r\n\r\n", 400},
      {"method not a token", "G(T / HTTP/1.1\r\n\r\n", 400},
      {"empty method", " / HTTP/1.1\r\n\r\n", 400},
      {"absolute target", "GET http://x/ HTTP/1.1\r\n\r\n", 400},
      {"version", "GET / HTTP/2.0\r\n\r\n", 505},
      {"no colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 400},
      {"space in name", "GET / HTTP/1.1\r\nHo st: x\r\n\r\n", 400},
      {"empty name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400},
  };
  for (const BadCase& c : cases) {
    HttpRequest request;
    const ParseResult result = ParseHttpRequest(c.input, &request);
    EXPECT_EQ(result.outcome, ParseOutcome::kError) << c.name;
    EXPECT_EQ(result.http_status, c.status) << c.name;
    EXPECT_FALSE(result.error.empty()) << c.name;
  }
}

TEST(HttpRequestTest, AHeadWithoutEndIsRefusedAtTheLimitNotBuffered) {
  std::string endless = "GET / HTTP/1.1\r\nX: ";
  endless.append(kMaxHeadBytes - endless.size() - 1, 'a');
  HttpRequest request;
  EXPECT_EQ(ParseHttpRequest(endless, &request).outcome, ParseOutcome::kNeedMore);
  endless += 'a';
  const ParseResult result = ParseHttpRequest(endless, &request);
  EXPECT_EQ(result.outcome, ParseOutcome::kError);
  EXPECT_EQ(result.http_status, 431);
}

TEST(HttpRequestTest, ACompleteHeadLargerThanTheLimitIsRefused) {
  std::string head = "GET / HTTP/1.1\r\nX: ";
  head.append(kMaxHeadBytes, 'a');
  head += "\r\n\r\n";
  HttpRequest request;
  const ParseResult result = ParseHttpRequest(head, &request);
  EXPECT_EQ(result.outcome, ParseOutcome::kError);
  EXPECT_EQ(result.http_status, 431);
}

TEST(HttpRequestTest, TooManyHeadersAreRefused) {
  std::string head = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i < kMaxHeaders; ++i) head += "A: b\r\n";
  HttpRequest request;
  EXPECT_EQ(ParseHttpRequest(head + "\r\n", &request).outcome, ParseOutcome::kRequest);
  const ParseResult result = ParseHttpRequest(head + "A: b\r\n\r\n", &request);
  EXPECT_EQ(result.outcome, ParseOutcome::kError);
  EXPECT_EQ(result.http_status, 431);
}

// Mutations of a valid head (a fixed seed, so every run is the same): the parser never reads out
// of bounds (run under --config=asan), and never consumes more than it was given.
TEST(HttpRequestTest, MutatedHeadsNeverMisbehave) {
  std::mt19937 random(20261207);
  const std::string base = kScrape;
  for (int round = 0; round < 20000; ++round) {
    std::string input = base;
    const int edits = 1 + static_cast<int>(random() % 8);
    for (int e = 0; e < edits; ++e) {
      const size_t at = random() % (input.size() + 1);
      switch (random() % 3) {
        case 0:
          if (at < input.size()) input[at] = static_cast<char>(random());
          break;
        case 1:
          input.insert(at, 1, static_cast<char>(random()));
          break;
        default:
          if (at < input.size()) input.erase(at, 1 + random() % 4);
      }
    }
    HttpRequest request;
    const ParseResult result = ParseHttpRequest(input, &request);
    if (result.outcome == ParseOutcome::kRequest) {
      EXPECT_LE(result.consumed, input.size());
      EXPECT_EQ(request.path.front(), '/');
    } else if (result.outcome == ParseOutcome::kError) {
      EXPECT_TRUE(result.http_status == 400 || result.http_status == 431 ||
                  result.http_status == 505)
          << result.http_status;
    }
  }
}

}  // namespace
}  // namespace framerpc::admin
