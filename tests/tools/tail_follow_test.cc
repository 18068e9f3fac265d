// `recstore tail --follow` as a child process with its output on a pipe, the writer in this
// process: records arrive in order across segment rotation, retention and compaction; SIGINT
// and SIGTERM end it with status 0; so does the reader closing the pipe, whether tail is
// idle or writing; --durable holds records back until they are synced; records dropped
// before tail read them give a notice on stderr. argv[1]: the tool.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/tool_process.h"

namespace recstore::testing {
namespace {

// Generous bounds for what should take milliseconds (slow sanitizer builds, a busy machine).
constexpr std::chrono::milliseconds kTimeout{60'000};
// How long tail must exit within once asked to stop.
constexpr std::chrono::milliseconds kPromptly{5'000};

std::string Payload(uint64_t seq) {
  return absl::StrCat("record ", seq, " ", std::string(200, 'p'));
}

std::string JsonLine(uint64_t seq) {
  return absl::StrCat("{\"seq\":", seq, ",\"bytes\":\"", Payload(seq), "\"}");
}

class TailFollowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir();
    // 64 KiB segments: about 250 records of Payload() each.
    ASSERT_OK_AND_ASSIGN(store_,
                         Store::Open(dir_, {.create_if_missing = true, .segment_size = 64 << 10}));
    ASSERT_OK_AND_ASSIGN(log_, store_->OpenByteLog("log"));
  }

  // Appends records Payload(seq) up to `end` (exclusive), then syncs if `sync`.
  void AppendUpTo(uint64_t end, bool sync = true) {
    for (uint64_t s = log_.end(); s < end; ++s) ASSERT_OK(log_.Append(Payload(s)).status());
    if (sync) {
      ASSERT_OK(log_.Sync().status());
    }
  }

  // Reads the lines of records [from, to) from `tool`.
  static void ExpectLines(ToolProcess& tool, uint64_t from, uint64_t to) {
    for (uint64_t s = from; s < to; ++s) {
      const std::optional<std::string> line = tool.ReadLine(kTimeout);
      ASSERT_TRUE(line.has_value()) << "no line for record " << s;
      ASSERT_EQ(*line, JsonLine(s));
    }
  }

  // Waits for `tool` to exit (promptly) and expects status 0 and nothing on stderr.
  static void ExpectCleanExit(ToolProcess& tool) {
    const std::optional<int> code = tool.Finish(kPromptly);
    ASSERT_TRUE(code.has_value()) << "tail did not exit within " << kPromptly.count() << " ms";
    EXPECT_EQ(*code, 0) << tool.err();
    EXPECT_EQ(tool.err(), "");
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  ByteLog log_;
};

TEST_F(TailFollowTest, RecordsArriveInOrderAcrossRotationRetentionAndCompaction) {
  AppendUpTo(5);
  ToolProcess tool(ToolUnderTest(), {"tail", dir_, "log", "--follow", "--from", "0"});
  ASSERT_TRUE(tool.started());
  ExpectLines(tool, 0, 5);  // tail runs and has caught up
  // Several segments' worth, appended while tail follows.
  AppendUpTo(1000, /*sync=*/false);
  ExpectLines(tool, 5, 1000);
  // Retention drops the segments tail has read, then more records arrive.
  ASSERT_OK(log_.TruncateBefore(900).status());
  AppendUpTo(1100);
  ExpectLines(tool, 1000, 1100);
  // A compaction of what lies below the active segment, then more records.
  ASSERT_OK(log_.Merge().status());
  AppendUpTo(1300);
  ExpectLines(tool, 1100, 1300);
  tool.Signal(SIGINT);
  ExpectCleanExit(tool);
  EXPECT_EQ(tool.out(), "");  // nothing printed after the last record read
}

TEST_F(TailFollowTest, StartsWithTheLastTenAndWaitsBeyondTheEnd) {
  AppendUpTo(30);
  ToolProcess last(ToolUnderTest(), {"tail", dir_, "log", "--follow"});
  ToolProcess ahead(ToolUnderTest(), {"tail", dir_, "log", "--follow", "--from", "40"});
  ASSERT_TRUE(last.started() && ahead.started());
  ExpectLines(last, 20, 30);
  AppendUpTo(45);
  ExpectLines(last, 30, 45);
  ExpectLines(ahead, 40, 45);
  last.Signal(SIGTERM);
  ahead.Signal(SIGTERM);
  ExpectCleanExit(last);
  ExpectCleanExit(ahead);
}

TEST_F(TailFollowTest, LimitEndsTheFollow) {
  AppendUpTo(3);
  ToolProcess tool(ToolUnderTest(),
                   {"tail", dir_, "log", "--follow", "--from", "0", "--limit", "5"});
  ExpectLines(tool, 0, 3);
  AppendUpTo(10);
  ExpectLines(tool, 3, 5);
  ExpectCleanExit(tool);
  EXPECT_EQ(tool.out(), "");
}

TEST_F(TailFollowTest, SigintWhileWaitingFlushesAndExitsZero) {
  AppendUpTo(2);
  ToolProcess tool(ToolUnderTest(), {"tail", dir_, "log", "--follow", "--format", "csv"});
  ASSERT_EQ(tool.ReadLine(kTimeout), "seq,bytes");
  ASSERT_EQ(tool.ReadLine(kTimeout), absl::StrCat("0,\"", Payload(0), "\""));
  ASSERT_EQ(tool.ReadLine(kTimeout), absl::StrCat("1,\"", Payload(1), "\""));
  tool.Signal(SIGINT);
  ExpectCleanExit(tool);
}

TEST_F(TailFollowTest, ClosedPipeWhileWaitingEndsTailAtOnce) {
  AppendUpTo(3);
  ToolProcess tool(ToolUnderTest(), {"tail", dir_, "log", "--follow"});
  ExpectLines(tool, 0, 3);
  // As `| head -3` does: the reader goes away while no record arrives.
  tool.CloseStdout();
  ExpectCleanExit(tool);
}

TEST_F(TailFollowTest, ClosedPipeWhileWritingEndsTail) {
  AppendUpTo(20000, /*sync=*/false);  // about 4 MiB of output: more than the pipe holds
  ToolProcess tool(ToolUnderTest(), {"tail", dir_, "log", "--follow", "--from", "0"});
  ExpectLines(tool, 0, 3);
  tool.CloseStdout();
  AppendUpTo(20100);
  ExpectCleanExit(tool);
}

TEST_F(TailFollowTest, DurableHoldsRecordsBackUntilSynced) {
  AppendUpTo(2);
  ToolProcess tool(ToolUnderTest(), {"tail", dir_, "log", "--follow", "--durable"});
  ExpectLines(tool, 0, 2);
  AppendUpTo(4, /*sync=*/false);
  // Not durable: nothing may come (a bounded look; the positive check follows).
  EXPECT_EQ(tool.ReadLine(std::chrono::milliseconds(500)), std::nullopt);
  ASSERT_OK(log_.Sync().status());
  ExpectLines(tool, 2, 4);
  tool.Signal(SIGINT);
  ExpectCleanExit(tool);
}

TEST_F(TailFollowTest, RecordsDroppedBeforeTailReadThemGiveANotice) {
  AppendUpTo(3);
  ToolProcess tool(ToolUnderTest(), {"tail", dir_, "log", "--follow", "--from", "0"});
  ExpectLines(tool, 0, 3);
  // Hold tail still while records arrive and retention drops some of them unread.
  tool.Signal(SIGSTOP);
  ASSERT_TRUE(tool.WaitStopped());
  AppendUpTo(13);
  ASSERT_OK(log_.TruncateBefore(8).status());
  tool.Signal(SIGCONT);
  ExpectLines(tool, 8, 13);
  tool.Signal(SIGINT);
  const std::optional<int> code = tool.Finish(kPromptly);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << tool.err();
  EXPECT_EQ(tool.err(),
            "recstore: records [3, 8) were dropped by retention before they could be read\n");
}

}  // namespace
}  // namespace recstore::testing

int main(int argc, char** argv) { return recstore::testing::ToolTestMain(argc, argv); }
