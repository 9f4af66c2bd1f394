#include "transport/frame_codec.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc {
namespace {

Envelope RequestEnvelope(uint64_t id) {
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(id);
  envelope.set_method("/framerpc.echo.EchoService/Say");
  envelope.set_timeout_us(1500);
  MetadataEntry* entry = envelope.add_metadata();
  entry->set_key("token");
  entry->set_value("secret");
  return envelope;
}

std::string EncodeOrDie(const Envelope& envelope, const google::protobuf::MessageLite* message,
                        absl::string_view attachment, const FrameLimits& limits = {}) {
  std::string out;
  absl::Status status = EncodeFrame(envelope, message, attachment, limits, &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

// A header with the given fields and `tail` as the rest of the frame.
std::string Header(uint32_t body, uint32_t envelope, char version = 1,
                   absl::string_view magic = "FRPC") {
  std::string h(magic);
  h.push_back(version);
  h.append(3, '\0');
  for (uint32_t v : {body, envelope}) {
    h.push_back(static_cast<char>(v >> 24));
    h.push_back(static_cast<char>(v >> 16));
    h.push_back(static_cast<char>(v >> 8));
    h.push_back(static_cast<char>(v));
  }
  return h;
}

DecodeResult Decode(absl::string_view bytes, const FrameLimits& limits = {}) {
  Frame frame;
  return DecodeFrame(bytes, limits, &frame);
}

void ExpectError(absl::string_view bytes, absl::StatusCode code, absl::string_view message,
                 const FrameLimits& limits = {}) {
  DecodeResult result = Decode(bytes, limits);
  ASSERT_EQ(result.outcome, DecodeOutcome::kError);
  EXPECT_EQ(result.error.code(), code) << result.error;
  EXPECT_EQ(result.error.message(), message);
}

TEST(FrameCodecTest, HeaderLayoutIsBigEndian) {
  Envelope envelope;
  envelope.set_kind(CANCEL);
  envelope.set_call_id(7);
  const std::string frame = EncodeOrDie(envelope, nullptr, "abc");
  ASSERT_GE(frame.size(), kFrameHeaderSize);
  EXPECT_EQ(frame.substr(0, 4), "FRPC");
  EXPECT_EQ(frame[4], 1);
  EXPECT_EQ(frame.substr(5, 3), std::string(3, '\0'));
  const uint32_t envelope_bytes = static_cast<uint32_t>(frame.size() - kFrameHeaderSize - 3);
  EXPECT_EQ(frame.substr(8, 8), Header(envelope_bytes + 3, envelope_bytes).substr(8, 8));
}

TEST(FrameCodecTest, RoundTripsEnvelopeMessageAndAttachment) {
  Envelope message;  // Any message will do as a payload.
  message.set_method("payload message");
  const std::string bytes = EncodeOrDie(RequestEnvelope(42), &message, "raw-attachment");
  Frame frame;
  DecodeResult result = DecodeFrame(bytes, {}, &frame);
  ASSERT_EQ(result.outcome, DecodeOutcome::kFrame) << result.error;
  EXPECT_EQ(result.consumed, bytes.size());
  EXPECT_EQ(frame.envelope.call_id(), 42u);
  EXPECT_EQ(frame.envelope.method(), "/framerpc.echo.EchoService/Say");
  EXPECT_EQ(frame.envelope.timeout_us(), 1500);
  EXPECT_EQ(frame.envelope.metadata(0).value(), "secret");
  EXPECT_EQ(frame.attachment(), "raw-attachment");
  Envelope parsed;
  ASSERT_TRUE(parsed.ParseFromString(std::string(frame.message_bytes())));
  EXPECT_EQ(parsed.method(), "payload message");
}

TEST(FrameCodecTest, HeadPlusAttachmentIsTheWholeFrame) {
  Envelope message;
  message.set_method("payload message");
  const std::string attachment(70000, 'a');  // a multi-byte attachment_size varint
  const std::string whole = EncodeOrDie(RequestEnvelope(42), &message, attachment);
  std::string head = "kept";  // appended to, like EncodeFrame
  const absl::Status encoded =
      EncodeFrameHead(RequestEnvelope(42), &message, attachment.size(), {}, &head);
  ASSERT_TRUE(encoded.ok()) << encoded;
  EXPECT_EQ(head.substr(0, 4), "kept");
  EXPECT_EQ(head.substr(4) + attachment, whole);
  // The limits count the attachment the head announces.
  FrameLimits limits;
  limits.max_body_bytes = 1000;
  std::string out;
  EXPECT_EQ(EncodeFrameHead(RequestEnvelope(1), nullptr, 1000, limits, &out).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(out.empty());
}

TEST(FrameCodecTest, AnAttachmentBehindAShortMessageIsDetachedAndTakenWithoutACopy) {
  Envelope message;
  message.set_call_id(9);  // 2 bytes: held inside std::string
  const std::string attachment(4096, 'z');
  Frame frame;
  ASSERT_EQ(DecodeFrame(EncodeOrDie(RequestEnvelope(1), &message, attachment), {}, &frame).outcome,
            DecodeOutcome::kFrame);
  EXPECT_TRUE(frame.attachment_detached);
  EXPECT_TRUE(frame.AttachmentTakenWhole());
  EXPECT_EQ(frame.payload_size(), message.ByteSizeLong() + attachment.size());
  Envelope parsed;
  ASSERT_TRUE(parsed.ParseFromString(std::string(frame.message_bytes())));
  EXPECT_EQ(parsed.call_id(), 9u);
  const char* bytes = frame.attachment().data();
  std::string taken;
  frame.TakeAttachment(&taken);
  EXPECT_EQ(taken, attachment);
  EXPECT_EQ(taken.data(), bytes);  // moved, not copied
}

TEST(FrameCodecTest, AnAttachmentBehindALongOrNoMessageStaysInThePayload) {
  Envelope long_message;
  long_message.set_method(std::string(64, 'm'));
  Frame frame;
  ASSERT_EQ(DecodeFrame(EncodeOrDie(RequestEnvelope(1), &long_message, "tail"), {}, &frame).outcome,
            DecodeOutcome::kFrame);
  EXPECT_FALSE(frame.attachment_detached);
  EXPECT_FALSE(frame.AttachmentTakenWhole());
  EXPECT_EQ(frame.attachment(), "tail");
  // No message at all: the payload is the attachment, taken whole.
  ASSERT_EQ(DecodeFrame(EncodeOrDie(RequestEnvelope(2), nullptr, "only"), {}, &frame).outcome,
            DecodeOutcome::kFrame);
  EXPECT_FALSE(frame.attachment_detached);
  EXPECT_TRUE(frame.AttachmentTakenWhole());
  EXPECT_TRUE(frame.message_bytes().empty());
  EXPECT_EQ(frame.attachment(), "only");
}

TEST(FrameCodecTest, EncodingFromTheCallersEnvelopeMatchesAndSetsTheAttachmentSize) {
  Envelope message;
  message.set_method("payload message");
  Envelope envelope = RequestEnvelope(5);
  std::string in_place;
  ASSERT_TRUE(EncodeFrame(&envelope, &message, "attached", {}, &in_place).ok());
  EXPECT_EQ(in_place, EncodeOrDie(RequestEnvelope(5), &message, "attached"));
  EXPECT_EQ(envelope.attachment_size(), 8u);
  // Refused frames leave the output as it was.
  FrameLimits limits;
  limits.max_body_bytes = 10;
  std::string out = "kept";
  EXPECT_EQ(EncodeFrame(&envelope, &message, "attached", limits, &out).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(out, "kept");
}

TEST(FrameCodecTest, EnvelopeDecodesBeforeThePayloadArrives) {
  const std::string attachment(5000, 'p');
  const std::string bytes = EncodeOrDie(RequestEnvelope(9), nullptr, attachment);
  const size_t head = bytes.size() - attachment.size();
  Envelope envelope;
  uint32_t body = 0;
  // Header and envelope incomplete: need more.
  EXPECT_EQ(DecodeEnvelope(absl::string_view(bytes).substr(0, head - 1), {}, &envelope, &body)
                .outcome,
            DecodeOutcome::kNeedMore);
  // Complete, with none of the payload: decoded, consuming the head only.
  DecodeResult result = DecodeEnvelope(absl::string_view(bytes).substr(0, head), {}, &envelope, &body);
  ASSERT_EQ(result.outcome, DecodeOutcome::kFrame) << result.error;
  EXPECT_EQ(result.consumed, head);
  EXPECT_EQ(body, bytes.size() - kFrameHeaderSize);
  EXPECT_EQ(envelope.call_id(), 9u);
  EXPECT_EQ(envelope.attachment_size(), 5000u);
  // The same checks as DecodeFrame: an attachment larger than the announced payload.
  Envelope lying = RequestEnvelope(9);
  lying.set_attachment_size(6000);
  const std::string lying_envelope = lying.SerializeAsString();
  std::string bad = Header(static_cast<uint32_t>(lying_envelope.size() + 5000),
                           static_cast<uint32_t>(lying_envelope.size())) +
                    lying_envelope;
  result = DecodeEnvelope(bad, {}, &envelope, &body);
  EXPECT_EQ(result.outcome, DecodeOutcome::kError);
  EXPECT_EQ(result.error.code(), absl::StatusCode::kInvalidArgument);
  // And a body over the limit is refused from the header alone.
  FrameLimits limits;
  limits.max_body_bytes = 1000;
  EXPECT_EQ(DecodeEnvelope(absl::string_view(bytes).substr(0, 16), limits, &envelope, &body)
                .error.code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(FrameCodecTest, EveryFrameFedOneByteAtATime) {
  std::vector<std::string> frames;
  frames.push_back(EncodeOrDie(RequestEnvelope(1), nullptr, ""));
  frames.push_back(EncodeOrDie(RequestEnvelope(2), nullptr, "attachment"));
  Envelope response;
  response.set_kind(RESPONSE);
  response.set_call_id(3);
  response.set_status_code(5);
  response.set_status_message("not found");
  frames.push_back(EncodeOrDie(response, &response, ""));
  Envelope minimal;  // Just the kind: a 2-byte envelope.
  minimal.set_kind(GOAWAY);
  frames.push_back(EncodeOrDie(minimal, nullptr, ""));
  for (const std::string& bytes : frames) {
    for (size_t n = 0; n < bytes.size(); ++n) {
      DecodeResult partial = Decode(absl::string_view(bytes).substr(0, n));
      ASSERT_EQ(partial.outcome, DecodeOutcome::kNeedMore) << "prefix of " << n << " bytes";
    }
    DecodeResult whole = Decode(bytes);
    ASSERT_EQ(whole.outcome, DecodeOutcome::kFrame) << whole.error;
    EXPECT_EQ(whole.consumed, bytes.size());
  }
}

TEST(FrameCodecTest, ThousandFramesInOneBuffer) {
  std::string buffer;
  for (uint64_t id = 1; id <= 1000; ++id) {
    buffer += EncodeOrDie(RequestEnvelope(id), nullptr, std::string(id % 17, 'x'));
  }
  absl::string_view rest(buffer);
  for (uint64_t id = 1; id <= 1000; ++id) {
    Frame frame;
    DecodeResult result = DecodeFrame(rest, {}, &frame);
    ASSERT_EQ(result.outcome, DecodeOutcome::kFrame) << "frame " << id;
    EXPECT_EQ(frame.envelope.call_id(), id);
    EXPECT_EQ(frame.attachment().size(), id % 17);
    rest.remove_prefix(result.consumed);
  }
  EXPECT_TRUE(rest.empty());
}

TEST(FrameCodecTest, BadMagicIsRejectedAtTheFirstWrongByte) {
  ExpectError("G", absl::StatusCode::kInvalidArgument,
              "bad magic: not a framerpc stream (first bytes G)");
  ExpectError(Header(10, 1, 1, "FRPX") + std::string(10, 'a'), absl::StatusCode::kInvalidArgument,
              "bad magic: not a framerpc stream (first bytes FRPX)");
  // An HTTP/2 client preface is refused, not buffered.
  ExpectError("PRI * HTTP/2.0\r\n", absl::StatusCode::kInvalidArgument,
              "bad magic: not a framerpc stream (first bytes PRI )");
}

TEST(FrameCodecTest, BadVersion) {
  ExpectError(Header(10, 1, 2), absl::StatusCode::kUnimplemented,
              "unsupported protocol version 2 (supported: 1)");
  ExpectError(Header(10, 1, 0).substr(0, 5), absl::StatusCode::kUnimplemented,
              "unsupported protocol version 0 (supported: 1)");
}

TEST(FrameCodecTest, NonZeroReservedByte) {
  std::string bytes = Header(10, 1);
  bytes[6] = 1;
  ExpectError(bytes, absl::StatusCode::kInvalidArgument, "reserved header byte 6 is not zero");
}

TEST(FrameCodecTest, ZeroLengths) {
  ExpectError(Header(0, 0), absl::StatusCode::kInvalidArgument, "envelope length is 0");
  ExpectError(Header(5, 0), absl::StatusCode::kInvalidArgument, "envelope length is 0");
}

TEST(FrameCodecTest, BodyAtTheLimitIsAccepted) {
  FrameLimits limits;
  limits.max_body_bytes = 1000;
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(1);
  const size_t envelope_bytes = [&] {
    Envelope sized = envelope;
    sized.set_attachment_size(999);  // Same varint width as the final value.
    return sized.ByteSizeLong();
  }();
  const std::string attachment(1000 - envelope_bytes, 'z');
  const std::string bytes = EncodeOrDie(envelope, nullptr, attachment, limits);
  ASSERT_EQ(bytes.size(), kFrameHeaderSize + 1000);
  DecodeResult result = Decode(bytes, limits);
  EXPECT_EQ(result.outcome, DecodeOutcome::kFrame) << result.error;
  // One byte more does not encode.
  std::string out;
  absl::Status too_big = EncodeFrame(envelope, nullptr, attachment + "z", limits, &out);
  EXPECT_EQ(too_big.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(out.empty());
}

TEST(FrameCodecTest, BodyOverTheLimitIsRejectedFromTheHeaderAlone) {
  FrameLimits limits;
  limits.max_body_bytes = 1000;
  ExpectError(Header(1001, 1), absl::StatusCode::kResourceExhausted,
              "frame body of 1001 bytes exceeds the limit of 1000", limits);
  ExpectError(Header(0xFFFFFFFFu, 1), absl::StatusCode::kResourceExhausted,
              "frame body of 4294967295 bytes exceeds the limit of 67108864");
  ExpectError(Header((64u << 20) + 1, 1), absl::StatusCode::kResourceExhausted,
              "frame body of 67108865 bytes exceeds the limit of 67108864");
  // The default limit itself only needs more bytes.
  EXPECT_EQ(Decode(Header(64u << 20, 1)).outcome, DecodeOutcome::kNeedMore);
}

TEST(FrameCodecTest, EnvelopeLongerThanTheFrame) {
  ExpectError(Header(10, 11), absl::StatusCode::kInvalidArgument,
              "envelope length 11 exceeds body length 10");
  ExpectError(Header(10, 0xFFFFFFFFu), absl::StatusCode::kInvalidArgument,
              "envelope length 4294967295 exceeds body length 10");
}

TEST(FrameCodecTest, EnvelopeOverItsLimit) {
  FrameLimits limits;
  limits.max_envelope_bytes = 100;
  ExpectError(Header(500, 101), absl::StatusCode::kResourceExhausted,
              "envelope of 101 bytes exceeds the limit of 100", limits);
}

TEST(FrameCodecTest, GarbageEnvelope) {
  const std::string garbage = "\xff\xff\xff\xff";
  ExpectError(Header(4, 4) + garbage, absl::StatusCode::kInvalidArgument,
              "envelope is not a valid framerpc.Envelope");
}

TEST(FrameCodecTest, AttachmentLargerThanPayload) {
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(1);
  envelope.set_attachment_size(50);
  const std::string serialized = envelope.SerializeAsString();
  const uint32_t size = static_cast<uint32_t>(serialized.size());
  ExpectError(Header(size + 10, size) + serialized + std::string(10, 'a'),
              absl::StatusCode::kInvalidArgument, "attachment size 50 exceeds payload size 10");
}

TEST(FrameCodecTest, EmptyEnvelopeDoesNotEncode) {
  std::string out;
  absl::Status status = EncodeFrame(Envelope(), nullptr, "", {}, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "envelope is empty (set its kind)");
  EXPECT_TRUE(out.empty());
}

TEST(FrameCodecTest, MetadataOverItsLimit) {
  FrameLimits limits;
  limits.max_metadata_bytes = 10;
  Envelope envelope = RequestEnvelope(1);  // "token" + "secret" = 11 bytes.
  std::string out;
  EXPECT_EQ(EncodeFrame(envelope, nullptr, "", limits, &out).code(),
            absl::StatusCode::kResourceExhausted);
  const std::string bytes = EncodeOrDie(envelope, nullptr, "");
  ExpectError(bytes, absl::StatusCode::kResourceExhausted,
              "metadata of 11 bytes exceeds the limit of 10", limits);
}

}  // namespace
}  // namespace framerpc
