// The generated gMock class (tools/testdata/streaming.frpc_mock.h): code written against
// Arith::StubInterface is tested with MockArithStub and no server, for a unary call, its async
// form and a streaming call.
#include <memory>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/testdata/streaming.frpc_mock.h"

namespace framerpc::tools::testdata {
namespace {

using ::testing::_;
using ::testing::ByMove;
using ::testing::Invoke;
using ::testing::Return;

// What a user writes: a function of the interface, not of a Channel.
absl::StatusOr<int64_t> NextOf(Arith::StubInterface* arith, int64_t value) {
  ClientContext context;
  Operand operand;
  operand.set_value(value);
  Result result;
  absl::Status status = arith->Increment(&context, operand, &result);
  if (!status.ok()) return status;
  return result.value();
}

TEST(FrpcMockTest, AUnaryCallAnsweredByTheMock) {
  MockArithStub arith;
  EXPECT_CALL(arith, Increment(_, _, _))
      .WillOnce(Invoke([](ClientContext*, const Operand& operand, Result* result) {
        result->set_value(operand.value() + 100);
        return absl::OkStatus();
      }))
      .WillOnce(Return(absl::UnavailableError("no server")));
  EXPECT_EQ(NextOf(&arith, 1).value(), 101);
  EXPECT_EQ(NextOf(&arith, 1).status().code(), absl::StatusCode::kUnavailable);
}

TEST(FrpcMockTest, AnAsyncCallRunsTheCallbackTheMockIsGiven) {
  MockArithStub arith;
  EXPECT_CALL(arith, IncrementAsync(_, _, _, _))
      .WillOnce(Invoke([](ClientContext*, const Operand&, Result* result, DoneCallback done) {
        result->set_value(7);
        done(absl::OkStatus());
      }));
  Arith::StubInterface* stub = &arith;
  ClientContext context;
  Result result;
  absl::Status seen = absl::UnknownError("not called");
  stub->IncrementAsync(&context, Operand(), &result, [&](absl::Status s) { seen = s; });
  EXPECT_TRUE(seen.ok());
  EXPECT_EQ(result.value(), 7);
}

TEST(FrpcMockTest, AStreamingMethodReturnsWhatTheTestGives) {
  MockArithStub arith;
  EXPECT_CALL(arith, Count(_, _)).WillOnce(Return(ByMove(std::unique_ptr<ClientReader<Result>>())));
  Arith::StubInterface* stub = &arith;
  ClientContext context;
  EXPECT_EQ(stub->Count(&context, Operand()), nullptr);
}

}  // namespace
}  // namespace framerpc::tools::testdata
