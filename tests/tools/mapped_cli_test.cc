// `recstore info FILE` and `recstore dump FILE` on vector files (MappedVector) and struct
// files (MappedStruct): the exact output of both (JSON and CSV), a journal committed but not
// applied, journal states, and damaged or foreign files. argv[1]: the tool.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "recstore/mapped_struct.h"
#include "recstore/mapped_vector.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/tool_process.h"

namespace recstore::testing {

struct Point {
  double x;
  double y;
  double z;
};
RECSTORE_RECORD(Point, x, y, z);

struct Counters {
  uint64_t requests;
  uint64_t errors;
  char host[16];
};
RECSTORE_RECORD(Counters, requests, errors, host);

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

constexpr char kPointSchema[] =
    "  schema:        recstore::testing::Point (24 bytes, align 8, 3 fields)\n"
    "    field  type    offset   size  count\n"
    "    x      double       0      8      1\n"
    "    y      double       8      8      1\n"
    "    z      double      16      8      1\n";

// A vector file with `n` points {i + 0.5, -i, i / 4}, synced once.
void MakeVector(const std::string& path, int n, Env* env = nullptr) {
  ASSERT_OK_AND_ASSIGN(MappedVector<Point> v,
                       MappedVector<Point>::Open(path, {.create_if_missing = true, .env = env}));
  for (int i = 0; i < n; ++i) {
    ASSERT_OK(v.push_back({i + 0.5, static_cast<double>(-i), i / 4.0}));
  }
  ASSERT_OK(v.Sync());
}

// Overwrites byte `at` of the file with its complement.
void FlipByte(const std::string& path, size_t at) {
  std::string bytes = ReadFileBytes(path);
  ASSERT_LT(at, bytes.size());
  bytes[at] = static_cast<char>(~bytes[at]);
  WriteFileBytes(path, bytes);
}

TEST(MappedCliTest, VectorInfoAndDump) {
  const std::string path = TestDir("points.rsv");
  MakeVector(path, 3);
  // Changes not synced, in a writer that stays open beside the tool: not shown.
  ASSERT_OK_AND_ASSIGN(MappedVector<Point> v, MappedVector<Point>::Open(path));
  ASSERT_OK(v.Set(0, {9, 9, 9}));
  ASSERT_OK(v.push_back({7, 7, 7}));

  ToolRun r = RunTool({"info", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, absl::StrCat("vector file ", path, "\n", kPointSchema,
                                "  elements:      3\n"
                                "  sync count:    1\n"
                                "  file size:     69632 (68.0 KiB), room for 2730 elements\n"
                                "  journal:       ",
                                path,
                                "-journal (12288 bytes): holds sync 1 (header + 1 element page), "
                                "applied\n"));

  r = RunTool({"dump", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"index\":0,\"x\":0.5,\"y\":0,\"z\":0}\n"
            "{\"index\":1,\"x\":1.5,\"y\":-1,\"z\":0.25}\n"
            "{\"index\":2,\"x\":2.5,\"y\":-2,\"z\":0.5}\n");
  r = RunTool({"dump", path, "--format", "csv"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "index,x,y,z\n"
            "0,0.5,0,0\n"
            "1,1.5,-1,0.25\n"
            "2,2.5,-2,0.5\n");
  r = RunTool({"dump", path, "--from", "1", "--limit", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"index\":1,\"x\":1.5,\"y\":-1,\"z\":0.25}\n");
  r = RunTool({"dump", path, "--from=5", "--format=csv"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "index,x,y,z\n");

  // Synced: now shown.
  ASSERT_OK(v.Sync());
  r = RunTool({"dump", path, "--from", "3", "--format", "csv"});
  EXPECT_EQ(r.out, "index,x,y,z\n3,7,7,7\n");
  r = RunTool({"dump", path, "--limit", "1"});
  EXPECT_EQ(r.out, "{\"index\":0,\"x\":9,\"y\":9,\"z\":9}\n");
}

TEST(MappedCliTest, NewVectorAndAbsentJournal) {
  const std::string path = TestDir("new.rsv");
  {
    ASSERT_OK_AND_ASSIGN(MappedVector<Point> v,
                         MappedVector<Point>::Open(path, {.create_if_missing = true}));
  }
  const std::string expected_head =
      absl::StrCat("vector file ", path, "\n", kPointSchema,
                   "  elements:      0\n"
                   "  sync count:    0\n"
                   "  file size:     4096 (4.0 KiB), room for 0 elements\n"
                   "  journal:       ",
                   path, "-journal");
  ToolRun r = RunTool({"info", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, expected_head + " (0 bytes): empty\n");
  r = RunTool({"dump", path, "--format", "csv"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "index,x,y,z\n");

  std::filesystem::remove(path + "-journal");
  r = RunTool({"info", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, expected_head + ": absent\n");
}

TEST(MappedCliTest, StructInfoAndDump) {
  const std::string path = TestDir("counters.rss");
  ASSERT_OK_AND_ASSIGN(MappedStruct<Counters> c,
                       MappedStruct<Counters>::Open(path, {.create_if_missing = true}));
  std::strcpy(c.mutable_get()->host, "web-1");
  c.Atomic(&Counters::requests).fetch_add(4);
  ASSERT_OK(c.Sync());  // slot 1, seq 2 (creation wrote slot 0, seq 1)
  c.Atomic(&Counters::requests).fetch_add(1);
  c.Atomic(&Counters::errors).fetch_add(1);
  ASSERT_OK(c.Sync());  // slot 0, seq 3
  // Not synced: not shown.
  c.Atomic(&Counters::requests).fetch_add(100);

  const std::string head = absl::StrCat(
      "struct file ", path,
      "\n"
      "  schema:        recstore::testing::Counters (32 bytes, align 8, 3 fields)\n"
      "    field     type    offset   size  count\n"
      "    requests  uint64       0      8      1\n"
      "    errors    uint64       8      8      1\n"
      "    host      char        16     16     16\n"
      "  file size:     16384 (16.0 KiB): header page, live struct at 4096, slots at 8192 and "
      "12288\n");
  ToolRun r = RunTool({"info", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, head +
                       "  sync count:    3\n"
                       "  slot 0:        seq 3, valid (newest)\n"
                       "  slot 1:        seq 2, valid\n");

  r = RunTool({"dump", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"seq\":3,\"requests\":5,\"errors\":1,\"host\":\"web-1\"}\n");
  r = RunTool({"dump", path, "--format", "csv"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "seq,requests,errors,host\n3,5,1,\"web-1\"\n");
  r = RunTool({"dump", path, "--from", "1", "--format", "csv"});
  EXPECT_EQ(r.out, "seq,requests,errors,host\n");
  // --max-bytes caps char arrays, as in a store's dump.
  r = RunTool({"dump", path, "--max-bytes", "3"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"seq\":3,\"requests\":5,\"errors\":1,\"host\":\"web\\u2026(+2 bytes)\"}\n");
  r = RunTool({"dump", path, "--max-bytes", "3", "--format", "csv"});
  EXPECT_EQ(r.out, "seq,requests,errors,host\n3,5,1,\"web\u2026(+2 bytes)\"\n");

  // A torn sync into slot 1 (the older one): the newest stays, the torn one shows.
  FlipByte(path, 12288 + 20);
  r = RunTool({"info", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, head +
                       "  sync count:    3\n"
                       "  slot 0:        seq 3, valid (newest)\n"
                       "  slot 1:        seq 2, damaged (checksum mismatch; a sync torn by "
                       "a crash leaves one so)\n");
}

// A sync that committed its journal and then failed to write the vector file: the journal
// holds the new state, which info calls a pending redo and dump shows.
TEST(MappedCliTest, JournalCommittedButNotApplied) {
  const std::string path = TestDir("pending.rsv");
  FaultEnv env;
  MakeVector(path, 2, &env);
  {
    ASSERT_OK_AND_ASSIGN(MappedVector<Point> v, MappedVector<Point>::Open(path, {.env = &env}));
    ASSERT_OK(v.Set(0, {-1, -1, -1}));
    ASSERT_OK(v.push_back({5, 6, 7}));
    // Once the journal is durable, every write fails: the file keeps sync 1.
    env.BeforeEachCall([&env](std::string_view op, const std::string& p) {
      if (op == "SyncData" && p.ends_with("-journal")) env.Fail("PWrite", EIO);
    });
    EXPECT_FALSE(v.Sync().ok());
    env.BeforeEachCall(nullptr);
    env.Clear();
  }
  ToolRun r = RunTool({"info", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            absl::StrCat("vector file ", path, "\n", kPointSchema,
                         "  elements:      3\n"
                         "  sync count:    2 (committed in the journal; the file's header page "
                         "is at sync 1 with 2 elements)\n"
                         "  file size:     69632 (68.0 KiB), room for 2730 elements\n"
                         "  journal:       ",
                         path,
                         "-journal (12288 bytes): holds sync 2 (header + 1 element page), "
                         "committed but not applied: redo pending (the next writable open "
                         "applies it; dump shows it)\n"));
  r = RunTool({"dump", path, "--format", "csv"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "index,x,y,z\n0,-1,-1,-1\n1,1.5,-1,0.25\n2,5,6,7\n");

  // A writable open redoes it.
  { ASSERT_OK(MappedVector<Point>::Open(path).status()); }
  r = RunTool({"info", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("  sync count:    2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("holds sync 2 (header + 1 element page), applied\n"), std::string::npos)
      << r.out;
  r = RunTool({"dump", path, "--format", "csv"});
  EXPECT_EQ(r.out, "index,x,y,z\n0,-1,-1,-1\n1,1.5,-1,0.25\n2,5,6,7\n");
}

TEST(MappedCliTest, DamagedHeader) {
  const std::string path = TestDir("damaged.rsv");
  MakeVector(path, 3);
  FlipByte(path, 70);  // inside the schema: the header checksum fails

  // The journal of the last sync still holds the header page: it stands in, as a writable
  // open would use it.
  ToolRun r = RunTool({"info", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("  header page:   damaged: offset 48: header checksum mismatch (the "
                       "header page is damaged); the journal restores it\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  elements:      3\n"), std::string::npos) << r.out;
  r = RunTool({"dump", path, "--limit", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"index\":0,\"x\":0.5,\"y\":0,\"z\":0}\n");

  // Without it: one error line naming the file, exit status 1 (a data problem).
  std::filesystem::remove(path + "-journal");
  const std::string reason =
      absl::StrCat(path,
                   ": offset 48: header checksum mismatch (the header page is damaged); no "
                   "valid journal restores it\n");
  for (const char* command : {"info", "dump"}) {
    r = RunTool({command, path});
    EXPECT_EQ(r.code, 1) << command;
    EXPECT_EQ(r.out, "") << command;
    EXPECT_EQ(r.err, absl::StrCat("recstore: ", command, ": ", reason));
  }
}

TEST(MappedCliTest, TruncatedVectorFile) {
  const std::string path = TestDir("short.rsv");
  MakeVector(path, 3);
  // (With the journal of that sync a writable open would redo the page, and the file would be
  // whole again.)
  std::filesystem::remove(path + "-journal");
  std::filesystem::resize_file(path, 4096 + 40);
  const ToolRun r = RunTool({"dump", path});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, absl::StrCat("recstore: dump: ", path,
                                ": the header says 3 elements of 24 bytes but the file holds "
                                "40 bytes of elements\n"));
}

TEST(MappedCliTest, OtherFilesAndUsage) {
  const std::string path = TestDir("plain.txt");
  WriteFileBytes(path, "hello\n");
  for (const char* command : {"info", "dump"}) {
    const ToolRun r = RunTool({command, path});
    EXPECT_EQ(r.code, 2) << command;
    EXPECT_EQ(r.err, absl::StrCat("recstore: ", command, ": ", path,
                                  ": not a recstore vector or struct file (no RSMAPPED header "
                                  "page); a store is a directory\n"));
  }
  const std::string vec = TestDir("v.rsv");
  MakeVector(vec, 1);
  ToolRun r = RunTool({"dump", vec, "coll"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, absl::StrCat("recstore: dump: ", vec,
                                " is a file (a vector or struct file), which takes no "
                                "COLLECTION\n"));
  r = RunTool({"dump", vec, "--format", "xml"});
  EXPECT_EQ(r.code, 2);
  r = RunTool({"--help"});
  EXPECT_NE(r.out.find("  info FILE\n"), std::string::npos);
  EXPECT_NE(
      r.out.find("  dump FILE [--from INDEX] [--limit N] [--format json|csv] [--max-bytes N]\n"),
      std::string::npos);
}

}  // namespace
}  // namespace recstore::testing

int main(int argc, char** argv) { return recstore::testing::ToolTestMain(argc, argv); }
