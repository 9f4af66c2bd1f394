// Decodes every shared test vector (tests/vectors/manifest.json) with the C++ frame codec, checks
// the outcome, the fields or the exact error, and re-encodes the valid frames to the same bytes.
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "proto/echo.pb.h"
#include "tests/vectors/vectors.pb.h"
#include "transport/frame_codec.h"

namespace framerpc {
namespace {

using vectors::EncodeError;
using vectors::EnvelopeFields;
using vectors::Manifest;
using vectors::Vector;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The test runs in the runfiles root of the workspace.
std::string VectorPath(const std::string& relative) { return "tests/vectors/" + relative; }

std::string HexToBytes(absl::string_view text) {
  std::string digits;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  EXPECT_EQ(digits.size() % 2, 0u) << "odd number of hex digits";
  for (char c : digits) EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c))) << c;
  return absl::HexStringToBytes(digits);
}

FrameLimits ToLimits(bool has_limits, const vectors::Limits& limits) {
  FrameLimits out;  // the defaults of docs/protocol.md §6
  if (has_limits) {
    out.max_body_bytes = limits.max_body_bytes();
    out.max_envelope_bytes = limits.max_envelope_bytes();
    out.max_metadata_bytes = limits.max_metadata_bytes();
  }
  return out;
}

Envelope ToEnvelope(const EnvelopeFields& fields) {
  Envelope envelope;
  envelope.set_kind(fields.kind());
  envelope.set_call_id(fields.call_id());
  envelope.set_method(fields.method());
  envelope.set_timeout_us(fields.timeout_us());
  envelope.set_status_code(fields.status_code());
  envelope.set_status_message(fields.status_message());
  envelope.set_flags(fields.flags());
  for (const vectors::Metadata& entry : fields.metadata()) {
    MetadataEntry* out = envelope.add_metadata();
    out->set_key(entry.key());
    out->set_value(entry.value());
  }
  envelope.set_attachment_size(fields.attachment_size());
  envelope.set_window_update(fields.window_update());
  envelope.set_last_call_id(fields.last_call_id());
  envelope.set_ping_data(fields.ping_data());
  return envelope;
}

Manifest LoadManifest() {
  Manifest manifest;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      ReadFile(VectorPath("manifest.json")), &manifest, options);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return manifest;
}

class VectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Link the echo messages so that message_type can be looked up in the generated pool.
    echo::SayRequest::descriptor();
    manifest_ = LoadManifest();
    ASSERT_EQ(manifest_.format(), 1u);
  }
  Manifest manifest_;
};

TEST_F(VectorsTest, ManifestCoversEveryOutcome) {
  int counts[4] = {0, 0, 0, 0};
  for (const Vector& v : manifest_.vectors()) counts[v.outcome()]++;
  EXPECT_EQ(counts[Vector::OUTCOME_UNSPECIFIED], 0);
  EXPECT_GE(counts[Vector::FRAME], 20);
  EXPECT_GE(counts[Vector::NEED_MORE], 3);
  EXPECT_GE(counts[Vector::ERROR], 20);
  EXPECT_GE(manifest_.encode_errors_size(), 4);
}

void CheckFrameVector(const Vector& v, const std::string& bytes, const FrameLimits& limits) {
  Frame frame;
  DecodeResult result = DecodeFrame(bytes, limits, &frame);
  ASSERT_EQ(result.outcome, DecodeOutcome::kFrame) << result.error;
  EXPECT_EQ(result.consumed, v.consumed());

  Envelope decoded = frame.envelope;
  decoded.DiscardUnknownFields();
  const Envelope expected = ToEnvelope(v.envelope());
  EXPECT_EQ(decoded.SerializeAsString(), expected.SerializeAsString())
      << "decoded:\n" << decoded.DebugString() << "expected:\n" << expected.DebugString();
  EXPECT_EQ(absl::BytesToHexString(frame.message_bytes()), v.message_hex());
  EXPECT_EQ(absl::BytesToHexString(frame.attachment()), v.attachment_hex());

  const std::string message_bytes = HexToBytes(v.message_hex());
  if (!v.message_type().empty()) {
    const google::protobuf::Descriptor* type =
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
            v.message_type());
    ASSERT_NE(type, nullptr) << v.message_type();
    std::unique_ptr<google::protobuf::Message> message(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
    ASSERT_TRUE(message->ParseFromString(message_bytes));
    EXPECT_EQ(message->SerializeAsString(), message_bytes);
  }

  // Every proper prefix of a frame is a valid prefix.
  for (size_t n = 0; n < v.consumed(); ++n) {
    Frame partial;
    DecodeResult prefix = DecodeFrame(absl::string_view(bytes).substr(0, n), limits, &partial);
    ASSERT_EQ(prefix.outcome, DecodeOutcome::kNeedMore) << "prefix of " << n << " bytes";
  }

  if (v.reencodes()) {
    vectors::Opaque message;
    ASSERT_TRUE(message.ParseFromString(message_bytes));
    Envelope envelope = expected;
    envelope.clear_attachment_size();  // set by the encoder
    std::string out;
    ASSERT_TRUE(EncodeFrame(envelope, message_bytes.empty() ? nullptr : &message,
                            HexToBytes(v.attachment_hex()), limits, &out)
                    .ok());
    EXPECT_EQ(absl::BytesToHexString(out),
              absl::BytesToHexString(bytes.substr(0, v.consumed())));
  }
}

TEST_F(VectorsTest, DecodesEveryVector) {
  for (const Vector& v : manifest_.vectors()) {
    SCOPED_TRACE(v.name());
    const std::string bytes = HexToBytes(ReadFile(VectorPath(v.file())));
    const FrameLimits limits = ToLimits(v.has_limits(), v.limits());
    switch (v.outcome()) {
      case Vector::FRAME:
        CheckFrameVector(v, bytes, limits);
        break;
      case Vector::NEED_MORE: {
        Frame frame;
        DecodeResult result = DecodeFrame(bytes, limits, &frame);
        EXPECT_EQ(result.outcome, DecodeOutcome::kNeedMore) << result.error;
        EXPECT_EQ(result.consumed, 0u);
        break;
      }
      case Vector::ERROR: {
        Frame frame;
        DecodeResult result = DecodeFrame(bytes, limits, &frame);
        ASSERT_EQ(result.outcome, DecodeOutcome::kError);
        EXPECT_EQ(static_cast<int>(result.error.code()), v.error_code());
        EXPECT_EQ(absl::StatusCodeToString(result.error.code()), v.error_code_name());
        EXPECT_EQ(result.error.message(), v.error_message());
        break;
      }
      default:
        ADD_FAILURE() << "vector without an outcome";
    }
  }
}

TEST_F(VectorsTest, EncoderRefusesEveryEncodeError) {
  for (const EncodeError& e : manifest_.encode_errors()) {
    SCOPED_TRACE(e.name());
    vectors::Opaque message;
    const std::string message_bytes = HexToBytes(e.message_hex());
    ASSERT_TRUE(message.ParseFromString(message_bytes));
    std::string out = "untouched";
    absl::Status status =
        EncodeFrame(ToEnvelope(e.envelope()), message_bytes.empty() ? nullptr : &message,
                    HexToBytes(e.attachment_hex()), ToLimits(e.has_limits(), e.limits()),
                    &out);
    EXPECT_EQ(static_cast<int>(status.code()), e.error_code());
    EXPECT_EQ(absl::StatusCodeToString(status.code()), e.error_code_name());
    EXPECT_EQ(status.message(), e.error_message());
    EXPECT_EQ(out, "untouched");
  }
}

// The vectors cover what issue 6 asks for, by name, so that a regenerated manifest cannot quietly
// drop a case.
TEST_F(VectorsTest, RequiredCasesArePresent) {
  std::set<std::string> names;
  for (const Vector& v : manifest_.vectors()) names.insert(v.name());
  for (const char* name :
       {"unary_request_say", "unary_response_say", "error_response_unimplemented", "cancel",
        "goaway", "connection_error", "unary_request_deadline_metadata",
        "unary_request_attachment", "stream_message", "half_close", "window_update",
        "bad_magic_http", "bad_version", "reserved_byte_5", "envelope_length_zero",
        "envelope_longer_than_body", "body_over_limit", "garbage_envelope_wire_type",
        "attachment_larger_than_payload"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
}

}  // namespace
}  // namespace framerpc
