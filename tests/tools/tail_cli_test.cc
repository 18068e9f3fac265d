// `recstore tail` without --follow: what it prints of typed and byte collections (the last
// ten records, --from, --limit, json and csv, --durable, the byte cap on byte records and char
// arrays also in dump), the notice for records retention dropped, and its errors. argv[1]:
// the tool.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/tool_process.h"

namespace recstore::testing {

// A typed record with a char array long enough to be cut.
struct Note {
  uint64_t id;
  char text[6000];
};
RECSTORE_RECORD(Note, id, text);

namespace {

constexpr std::chrono::milliseconds kTimeout{60'000};

struct ToolRun {
  int code = -1;
  std::string out;
  std::string err;
};

ToolRun RunTool(const std::vector<std::string>& args) {
  ToolProcess tool(ToolUnderTest(), args);
  EXPECT_TRUE(tool.started());
  const std::optional<int> code = tool.Finish(kTimeout);
  EXPECT_TRUE(code.has_value()) << "recstore " << absl::StrJoin(args, " ") << " did not end";
  return {code.value_or(-1), tool.out(), tool.err()};
}

// The JSON lines `tail` prints for byte records `from`..`to`-1 holding "record <seq>".
std::string JsonLines(uint64_t from, uint64_t to) {
  std::string out;
  for (uint64_t s = from; s < to; ++s) {
    absl::StrAppend(&out, "{\"seq\":", s, ",\"bytes\":\"record ", s, "\"}\n");
  }
  return out;
}

class TailCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir();
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(dir_, {.create_if_missing = true}));
    ASSERT_OK_AND_ASSIGN(log_, store_->OpenByteLog("log"));
  }
  // Appends byte records "record <seq>" up to `end` (exclusive), then syncs if `sync`.
  void AppendUpTo(uint64_t end, bool sync = true) {
    for (uint64_t s = log_.end(); s < end; ++s) {
      ASSERT_OK(log_.Append(absl::StrCat("record ", s)).status());
    }
    if (sync) {
      ASSERT_OK(log_.Sync().status());
    }
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  ByteLog log_;
};

TEST_F(TailCliTest, PrintsTheLastTenRecords) {
  AppendUpTo(25);
  const ToolRun r = RunTool({"tail", dir_, "log"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, JsonLines(15, 25));
  EXPECT_EQ(r.err, "");
}

TEST_F(TailCliTest, PrintsEverythingWhenFewerThanTen) {
  AppendUpTo(4);
  const ToolRun r = RunTool({"tail", dir_, "log"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, JsonLines(0, 4));
}

TEST_F(TailCliTest, FromAndLimit) {
  AppendUpTo(25);
  ToolRun r = RunTool({"tail", dir_, "log", "--from", "3", "--limit", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, JsonLines(3, 5));
  r = RunTool({"tail", dir_, "log", "--from=20"});
  EXPECT_EQ(r.out, JsonLines(20, 25));
  r = RunTool({"tail", dir_, "log", "--limit", "3"});
  EXPECT_EQ(r.out, JsonLines(15, 18));
  r = RunTool({"tail", dir_, "log", "--limit", "0", "--format", "csv"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "seq,bytes\n");
}

TEST_F(TailCliTest, FromBeyondTheEndPrintsNothing) {
  AppendUpTo(5);
  const ToolRun r = RunTool({"tail", dir_, "log", "--from", "100"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(TailCliTest, ByteRecordsAsCsv) {
  ASSERT_OK(log_.Append("plain").status());
  ASSERT_OK(log_.Append("say \"hi\", twice").status());
  ASSERT_OK(log_.Sync().status());
  const ToolRun r = RunTool({"tail", dir_, "log", "--format", "csv"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "seq,bytes\n0,\"plain\"\n1,\"say \"\"hi\"\", twice\"\n");
}

TEST_F(TailCliTest, TypedRecordsAsJsonAndCsv) {
  ASSERT_OK_AND_ASSIGN(Log<Trade> trades, store_->OpenLog<Trade>("trades"));
  for (uint64_t i = 0; i < 12; ++i) {
    ASSERT_OK(trades
                  .Append({.ts_ns = 1000 + i,
                           .symbol_id = static_cast<uint32_t>(i),
                           .flags = 3,
                           .price = 10.5 + static_cast<double>(i),
                           .qty = -static_cast<int64_t>(i)})
                  .status());
  }
  ASSERT_OK(trades.Sync().status());
  ToolRun r = RunTool({"tail", dir_, "trades", "--limit", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"seq\":2,\"ts_ns\":1002,\"symbol_id\":2,\"flags\":3,\"price\":12.5,\"qty\":-2}\n"
            "{\"seq\":3,\"ts_ns\":1003,\"symbol_id\":3,\"flags\":3,\"price\":13.5,\"qty\":-3}\n");
  r = RunTool({"tail", dir_, "trades", "--from", "10", "--format", "csv"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "seq,ts_ns,symbol_id,flags,price,qty\n"
            "10,1010,10,3,20.5,-10\n"
            "11,1011,11,3,21.5,-11\n");
}

TEST_F(TailCliTest, DurableStopsAtTheDurableEnd) {
  AppendUpTo(3);
  AppendUpTo(5, /*sync=*/false);
  ToolRun r = RunTool({"tail", dir_, "log", "--durable"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, JsonLines(0, 3));
  r = RunTool({"tail", dir_, "log"});
  EXPECT_EQ(r.out, JsonLines(0, 5));
}

TEST_F(TailCliTest, LongByteRecordsAreCutInTailAndDump) {
  const std::string big(5000, 'x');
  ASSERT_OK(log_.Append(big).status());
  ASSERT_OK(log_.Append("short").status());
  ASSERT_OK(log_.Sync().status());
  const std::string cut = std::string(4096, 'x');
  for (const char* command : {"tail", "dump"}) {
    SCOPED_TRACE(command);
    ToolRun r = RunTool({command, dir_, "log"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, absl::StrCat("{\"seq\":0,\"bytes\":\"", cut,
                                  "\\u2026(+904 bytes)\"}\n{\"seq\":1,\"bytes\":\"short\"}\n"));
    r = RunTool({command, dir_, "log", "--max-bytes", "3", "--format", "csv"});
    EXPECT_EQ(r.out, "seq,bytes\n0,\"xxx\u2026(+4997 bytes)\"\n1,\"sho\u2026(+2 bytes)\"\n");
    r = RunTool({command, dir_, "log", "--max-bytes", "0", "--limit", "1"});
    EXPECT_EQ(r.out, absl::StrCat("{\"seq\":0,\"bytes\":\"", big, "\"}\n"));
  }
}

TEST_F(TailCliTest, LongCharArraysAreCutInTailAndDump) {
  ASSERT_OK_AND_ASSIGN(Log<Note> notes, store_->OpenLog<Note>("notes"));
  Note note{};
  note.id = 7;
  std::memset(note.text, 'a', 4500);  // the rest stays NUL: a string of 4500 bytes
  ASSERT_OK(notes.Append(note).status());
  Note full{};
  full.id = 8;
  std::memset(full.text, 'b', sizeof(full.text));  // no NUL: all 6000 bytes
  ASSERT_OK(notes.Append(full).status());
  Note small{.id = 9, .text = "hi"};
  ASSERT_OK(notes.Append(small).status());
  ASSERT_OK(notes.Sync().status());
  for (const char* command : {"tail", "dump"}) {
    SCOPED_TRACE(command);
    ToolRun r = RunTool({command, dir_, "notes"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out,
              absl::StrCat("{\"seq\":0,\"id\":7,\"text\":\"", std::string(4096, 'a'),
                           "\\u2026(+404 bytes)\"}\n{\"seq\":1,\"id\":8,\"text\":\"",
                           std::string(4096, 'b'),
                           "\\u2026(+1904 bytes)\"}\n{\"seq\":2,\"id\":9,\"text\":\"hi\"}\n"));
    r = RunTool({command, dir_, "notes", "--max-bytes", "2", "--format", "csv"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out,
              "seq,id,text\n0,7,\"aa\u2026(+4498 bytes)\"\n1,8,\"bb\u2026(+5998 bytes)\"\n"
              "2,9,\"hi\"\n");
    r = RunTool({command, dir_, "notes", "--max-bytes", "0", "--limit", "1"});
    EXPECT_EQ(r.out,
              absl::StrCat("{\"seq\":0,\"id\":7,\"text\":\"", std::string(4500, 'a'), "\"}\n"));
  }
}

TEST_F(TailCliTest, ReportsRecordsDroppedByRetention) {
  AppendUpTo(20);
  ASSERT_OK(log_.TruncateBefore(15).status());
  const ToolRun r = RunTool({"tail", dir_, "log", "--from", "5"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, JsonLines(15, 20));
  EXPECT_EQ(r.err,
            "recstore: records [5, 15) were dropped by retention before they could be read\n");
  // The default start is never below begin().
  const ToolRun last = RunTool({"tail", dir_, "log"});
  EXPECT_EQ(last.out, JsonLines(15, 20));
  EXPECT_EQ(last.err, "");
}

TEST_F(TailCliTest, Errors) {
  AppendUpTo(2);
  ToolRun r = RunTool({"tail", dir_, "missing"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(r.err.starts_with("recstore: tail: ")) << r.err;
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  r = RunTool({"tail", dir_ + "/nowhere", "log"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;

  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"tail", dir_, "log", "--format", "xml"},
                                             {"tail", dir_, "log", "--limit", "-1"},
                                             {"tail", dir_, "log", "--from", "x"},
                                             {"tail", dir_, "log", "--max-bytes", ""},
                                             {"tail", dir_, "log", "--follow=yes"},
                                             {"tail", dir_, "log", "--bogus"},
                                             {"tail", dir_}}) {
    r = RunTool(args);
    EXPECT_EQ(r.code, 2) << absl::StrJoin(args, " ");
    EXPECT_TRUE(r.err.starts_with("recstore: tail: ")) << absl::StrJoin(args, " ") << r.err;
  }
}

TEST_F(TailCliTest, CursorResumesWhereTheLastRunStoppedAndInfoShowsIt) {
  AppendUpTo(30);
  // A first run creates the cursor at begin() and commits it past what it printed.
  ToolRun r = RunTool({"tail", dir_, "log", "--cursor", "indexer", "--limit", "12"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, JsonLines(0, 12));
  // The next run goes on from there, to the end.
  r = RunTool({"tail", dir_, "log", "--cursor", "indexer"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, JsonLines(12, 30));
  r = RunTool({"tail", dir_, "log", "--cursor", "indexer"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  ASSERT_OK_AND_ASSIGN(std::vector<CursorInfo> cursors, store_->ListCursors("log"));
  ASSERT_EQ(cursors.size(), 1u);
  EXPECT_EQ(cursors[0].position, 30u);
  // info shows the cursor and its lag; and, once retention passed it, what it lost.
  AppendUpTo(5000);
  r = RunTool({"info", dir_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("cursor indexer:  position 30, lag 4970 records"), std::string::npos)
      << r.out;
  ASSERT_OK(log_.TruncateBefore(4000).status());
  r = RunTool({"info", dir_});
  EXPECT_NE(r.out.find("lost [30, 4000) to retention"), std::string::npos) << r.out;
  // tail --cursor says what it skipped, then goes on.
  r = RunTool({"tail", dir_, "log", "--cursor", "indexer", "--limit", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, JsonLines(4000, 4002));
  EXPECT_NE(r.err.find("records [30, 4000) were dropped by retention"), std::string::npos) << r.err;
  // --from and --cursor exclude each other.
  r = RunTool({"tail", dir_, "log", "--cursor", "indexer", "--from", "3"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("exclude each other"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace recstore::testing

int main(int argc, char** argv) { return recstore::testing::ToolTestMain(argc, argv); }
