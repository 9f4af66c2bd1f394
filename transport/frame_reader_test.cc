#include "transport/frame_reader.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/scoped_fd.h"
#include "gtest/gtest.h"
#include "transport/test_bytes.h"

namespace framerpc {
namespace {

struct Sent {
  uint64_t call_id;
  std::string message;  // serialized into the payload before the attachment
  std::string attachment;
};

// Frames of mixed sizes: small, around the diversion threshold, and large (up to 2 MiB they were
// once the only ones diverted; every larger body is diverted too now).
std::vector<Sent> MixedFrames() {
  const size_t sizes[] = {0,
                          10,
                          FrameReader::kMinDivertPayloadBytes - 1,
                          FrameReader::kMinDivertPayloadBytes,
                          64 << 10,
                          200 << 10,
                          (2 << 20) - 64,
                          (2 << 20) + 1000,
                          5 << 20,
                          3};
  std::vector<Sent> frames;
  uint32_t seed = 1;
  for (int repeat = 0; repeat < 3; ++repeat) {
    for (size_t size : sizes) {
      Envelope message;  // any message will do
      message.set_method("m" + std::to_string(seed));
      frames.push_back({seed, message.SerializeAsString(), Pattern(size, seed)});
      ++seed;
    }
  }
  return frames;
}

std::string Encode(const std::vector<Sent>& frames) {
  std::string out;
  for (const Sent& sent : frames) {
    Envelope envelope;
    envelope.set_kind(STREAM_MESSAGE);
    envelope.set_call_id(sent.call_id);
    Envelope message;
    EXPECT_TRUE(message.ParseFromString(sent.message));
    EXPECT_TRUE(EncodeFrame(envelope, &message, sent.attachment, FrameLimits{}, &out).ok());
  }
  return out;
}

void ExpectSame(const Sent& sent, const Frame& frame, uint32_t body_bytes) {
  EXPECT_EQ(frame.envelope.call_id(), sent.call_id);
  EXPECT_EQ(frame.message_bytes(), sent.message) << sent.call_id;
  EXPECT_TRUE(frame.attachment() == sent.attachment) << sent.call_id;
  EXPECT_EQ(body_bytes, frame.envelope.ByteSizeLong() + frame.payload_size()) << sent.call_id;
}

// Takes every complete frame out of `buffer`, checking each against the next one expected.
void DrainAndCheck(FrameReader* reader, Buffer* buffer, const std::vector<Sent>& frames,
                   size_t* next) {
  for (;;) {
    Frame frame;
    const FrameReadResult result = reader->Next(buffer, &frame);
    ASSERT_NE(result.outcome, DecodeOutcome::kError) << result.error;
    if (result.outcome == DecodeOutcome::kNeedMore) return;
    ASSERT_LT(*next, frames.size());
    ExpectSame(frames[(*next)++], frame, result.body_bytes);
  }
}

TEST(FrameReaderTest, FramesFedInRandomPiecesComeOutWhole) {
  const std::vector<Sent> frames = MixedFrames();
  const std::string wire = Encode(frames);
  std::mt19937 random(7);
  Buffer buffer;
  FrameReader reader(FrameLimits{});
  size_t next = 0;
  size_t offset = 0;
  while (offset < wire.size()) {
    const size_t piece = std::min<size_t>(wire.size() - offset, 1 + random() % (150 << 10));
    buffer.Append(absl::string_view(wire).substr(offset, piece));
    offset += piece;
    ASSERT_NO_FATAL_FAILURE(DrainAndCheck(&reader, &buffer, frames, &next));
  }
  EXPECT_EQ(next, frames.size());
  EXPECT_EQ(buffer.readable_bytes(), 0u);
  EXPECT_FALSE(buffer.diverting());
  EXPECT_GT(reader.bodies_read_in_place(), 0u);
}

TEST(FrameReaderTest, LargeBodiesAreReadFromTheSocketInPlace) {
  const std::vector<Sent> frames = MixedFrames();
  const std::string wire = Encode(frames);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ScopedFd read_end(sv[0]);
  ScopedFd write_end(sv[1]);
  std::thread writer([&] {
    size_t done = 0;
    while (done < wire.size()) {
      const ssize_t n = ::write(write_end.get(), wire.data() + done, wire.size() - done);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  });
  Buffer buffer;
  FrameReader reader(FrameLimits{});
  size_t next = 0;
  while (next < frames.size()) {
    int err = 0;
    const ssize_t n = buffer.ReadFd(read_end.get(), 256 << 10, &err);
    ASSERT_GT(n, 0) << std::strerror(err);
    ASSERT_NO_FATAL_FAILURE(DrainAndCheck(&reader, &buffer, frames, &next));
  }
  writer.join();
  // Every frame from 16 KiB of payload up to the largest diverted body, except any that happened
  // to arrive whole in one read, was read in place: at least one of each size class here.
  EXPECT_GE(reader.bodies_read_in_place(), 3u);
}

TEST(FrameReaderTest, BadEnvelopeOfALargeFrameFailsBeforeItsBodyArrives) {
  Envelope envelope;
  envelope.set_kind(STREAM_MESSAGE);
  envelope.set_call_id(1);
  envelope.set_attachment_size(100 << 10);  // more than the payload announced below
  const std::string serialized = envelope.SerializeAsString();
  std::string head(kFrameHeaderSize, '\0');
  std::memcpy(&head[0], kFrameMagic, 4);
  head[4] = 1;
  const uint32_t body = static_cast<uint32_t>(serialized.size() + (64 << 10));
  const uint32_t env = static_cast<uint32_t>(serialized.size());
  for (int i = 0; i < 4; ++i) {
    head[8 + i] = static_cast<char>(body >> (24 - 8 * i));
    head[12 + i] = static_cast<char>(env >> (24 - 8 * i));
  }
  Buffer buffer;
  buffer.Append(head + serialized);  // none of the body
  FrameReader reader(FrameLimits{});
  Frame frame;
  const FrameReadResult result = reader.Next(&buffer, &frame);
  EXPECT_EQ(result.outcome, DecodeOutcome::kError);
  EXPECT_EQ(result.error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(buffer.diverting());  // nothing was allocated for the body
}

TEST(FrameReaderTest, BodyOverTheLimitIsRefusedFromTheHeader) {
  FrameLimits limits;
  limits.max_body_bytes = 64 << 10;
  std::string wire;
  Envelope envelope;
  envelope.set_kind(STREAM_MESSAGE);
  envelope.set_call_id(1);
  ASSERT_TRUE(EncodeFrame(envelope, nullptr, std::string(32 << 10, 'x'), FrameLimits{}, &wire).ok());
  wire[9] = 0x7f;  // body length now far over the limit
  Buffer buffer;
  buffer.Append(wire.substr(0, kFrameHeaderSize));
  FrameReader reader(limits);
  Frame frame;
  const FrameReadResult result = reader.Next(&buffer, &frame);
  EXPECT_EQ(result.outcome, DecodeOutcome::kError);
  EXPECT_EQ(result.error.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(buffer.diverting());
}

// A large body is read in place whatever its size: the frame costs its own size, not the doubling
// of a buffer it was gathered in and then a copy out of it (5x the frame for a 60 MiB request).
TEST(FrameReaderTest, ALargeBodyIsReadInPlaceWithoutGrowingTheBuffer) {
  std::string wire;
  Envelope envelope;
  envelope.set_kind(STREAM_MESSAGE);
  envelope.set_call_id(1);
  const std::string body(20 << 20, 'b');
  ASSERT_TRUE(EncodeFrame(envelope, nullptr, body, FrameLimits{}, &wire).ok());
  Buffer buffer;
  FrameReader reader(FrameLimits{});
  Frame frame;
  FrameReadResult result;
  for (size_t sent = 0; sent < wire.size(); sent += 256 << 10) {  // as socket reads would come
    buffer.Append(absl::string_view(wire).substr(sent, 256 << 10));
    result = reader.Next(&buffer, &frame);
    if (result.outcome == DecodeOutcome::kFrame) break;
    EXPECT_LE(buffer.readable_bytes(), size_t{256} << 10);
  }
  ASSERT_EQ(result.outcome, DecodeOutcome::kFrame);
  EXPECT_EQ(reader.bodies_read_in_place(), 1u);
  EXPECT_TRUE(frame.attachment() == body);
}

// Feeds `wire` in 64 KiB pieces, as socket reads would come, until a frame is out.
FrameReadResult ReadInPieces(const std::string& wire, FrameReader* reader, Frame* frame) {
  Buffer buffer;
  FrameReadResult result;
  for (size_t sent = 0; sent < wire.size(); sent += 64 << 10) {
    buffer.Append(absl::string_view(wire).substr(sent, 64 << 10));
    result = reader->Next(&buffer, frame);
    if (result.outcome != DecodeOutcome::kNeedMore) break;
  }
  return result;
}

std::string FrameWithMessage(const std::string& method, const std::string& attachment) {
  Envelope envelope;
  envelope.set_kind(RESPONSE);
  envelope.set_call_id(9);
  Envelope message;  // any message will do
  message.set_method(method);
  std::string wire;
  EXPECT_TRUE(EncodeFrame(envelope, &message, attachment, FrameLimits{}, &wire).ok());
  return wire;
}

// A unary reply (a small message, then a large attachment) comes out with the attachment in a
// string of its own, which TakeAttachment hands over as it is: the bytes read from the socket are
// the bytes the caller gets, with no copy.
TEST(FrameReaderTest, ALargeAttachmentBehindASmallMessageIsTakenWithoutACopy) {
  const std::string attachment = Pattern(1 << 20, 5);
  FrameReader reader(FrameLimits{});
  Frame frame;
  const FrameReadResult result =
      ReadInPieces(FrameWithMessage("small", attachment), &reader, &frame);
  ASSERT_EQ(result.outcome, DecodeOutcome::kFrame);
  ASSERT_TRUE(frame.attachment_detached);
  EXPECT_EQ(reader.bodies_read_in_place(), 1u);
  Envelope message;
  ASSERT_TRUE(message.ParseFromArray(frame.message_bytes().data(),
                                     static_cast<int>(frame.message_bytes().size())));
  EXPECT_EQ(message.method(), "small");
  EXPECT_EQ(result.body_bytes, frame.envelope.ByteSizeLong() + frame.payload_size());
  const char* read_into = frame.attachment().data();
  std::string taken;
  frame.TakeAttachment(&taken);
  EXPECT_EQ(taken.data(), read_into);  // the same storage: moved, not copied
  EXPECT_TRUE(taken == attachment);
}

// A message too large to hold in the buffer keeps the whole payload in one string, read in place,
// as before: the buffer never grows to hold a large message.
TEST(FrameReaderTest, ALargeMessageKeepsItsAttachmentInThePayload) {
  const std::string attachment = Pattern(100 << 10, 6);
  const std::string method(FrameReader::kMaxHeldMessageBytes + 1, 'm');
  FrameReader reader(FrameLimits{});
  Frame frame;
  const FrameReadResult result = ReadInPieces(FrameWithMessage(method, attachment), &reader, &frame);
  ASSERT_EQ(result.outcome, DecodeOutcome::kFrame);
  EXPECT_FALSE(frame.attachment_detached);
  EXPECT_EQ(reader.bodies_read_in_place(), 1u);
  Envelope message;
  ASSERT_TRUE(message.ParseFromArray(frame.message_bytes().data(),
                                     static_cast<int>(frame.message_bytes().size())));
  EXPECT_EQ(message.method(), method);
  EXPECT_TRUE(frame.attachment() == attachment);
}

// A frame read after a detached one starts clean: a small frame reusing the same Frame object is
// not mistaken for one with a detached attachment.
TEST(FrameReaderTest, ASmallFrameAfterADetachedOneIsWhole) {
  FrameReader reader(FrameLimits{});
  Frame frame;
  ASSERT_EQ(ReadInPieces(FrameWithMessage("a", Pattern(64 << 10, 7)), &reader, &frame).outcome,
            DecodeOutcome::kFrame);
  ASSERT_TRUE(frame.attachment_detached);
  // A message longer than std::string holds inline: the payload stays whole (AssignPayload).
  ASSERT_EQ(ReadInPieces(FrameWithMessage(std::string(40, 'b'), "tiny"), &reader, &frame).outcome,
            DecodeOutcome::kFrame);
  EXPECT_FALSE(frame.attachment_detached);
  EXPECT_EQ(frame.attachment(), "tiny");
}

TEST(FrameReaderTest, ABodyIsTakenFromTheBudgetUntilItIsComplete) {
  ByteBudget budget(1 << 20);
  FrameReader reader(FrameLimits{});
  reader.set_budget(&budget);
  std::string wire;
  Envelope envelope;
  envelope.set_kind(STREAM_MESSAGE);
  envelope.set_call_id(1);
  ASSERT_TRUE(EncodeFrame(envelope, nullptr, std::string(700 << 10, 'a'), FrameLimits{}, &wire).ok());
  ASSERT_TRUE(EncodeFrame(envelope, nullptr, std::string(700 << 10, 'c'), FrameLimits{}, &wire).ok());
  const size_t first = wire.size() / 2;

  Buffer buffer;
  buffer.Append(absl::string_view(wire).substr(0, 1000));
  Frame frame;
  FrameReadResult result = reader.Next(&buffer, &frame);
  EXPECT_EQ(result.outcome, DecodeOutcome::kNeedMore);
  EXPECT_FALSE(result.over_budget);
  EXPECT_TRUE(buffer.diverting());
  EXPECT_GE(budget.used(), size_t{700} << 10);  // taken before the storage was reserved

  // The rest of the first frame: complete, and its share goes back.
  buffer.Append(absl::string_view(wire).substr(1000, first - 1000 + 1000));
  result = reader.Next(&buffer, &frame);
  ASSERT_EQ(result.outcome, DecodeOutcome::kFrame);
  EXPECT_EQ(budget.used(), 0u);  // given back with the complete frame
  // A body that does not fit waits where it is, undiverted, until the caller retries.
  {
    ByteBudget tight(100 << 10);
    FrameReader tight_reader(FrameLimits{});
    tight_reader.set_budget(&tight);
    Buffer tight_buffer;
    tight_buffer.Append(absl::string_view(wire).substr(0, 1000));
    Frame f;
    const FrameReadResult blocked = tight_reader.Next(&tight_buffer, &f);
    EXPECT_EQ(blocked.outcome, DecodeOutcome::kNeedMore);
    EXPECT_TRUE(blocked.over_budget);
    EXPECT_FALSE(tight_buffer.diverting());
    EXPECT_EQ(tight_buffer.readable_bytes(), 1000u);  // left where it was
    EXPECT_EQ(tight.used(), 0u);
  }
  // A reader destroyed mid-body gives its share back.
  {
    FrameReader abandoned(FrameLimits{});
    abandoned.set_budget(&budget);
    Buffer partial;
    partial.Append(absl::string_view(wire).substr(0, 1000));
    Frame f;
    abandoned.Next(&partial, &f);
    EXPECT_GT(budget.used(), 0u);
  }
  EXPECT_EQ(budget.used(), 0u);
}

}  // namespace
}  // namespace framerpc
