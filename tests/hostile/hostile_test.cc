// Hostile files with valid checksums (issue 12, test kind 2). For every field of the
// manifest, and of the segment header, the commit block and the compacted index of a sample of
// segment files, each boundary value is written into a copy of a realistic store with every
// checksum recomputed; then the API (in a forked child, see probe.h) and the CLI run on it.
// Never a signal, never a sanitizer report, every failure a clear error naming the file, and
// every record returned is the one written.
//
// Usage: hostile_test PATH_TO_RECSTORE_CLI. HOSTILE_VALUES=N sets the values per field (default
// 8, of which 2 also run the CLI; in sanitizer builds, which run each case several times
// slower, 4 values and the CLI on one of them in every other field). The values come in a
// fixed order (fields.h), so a run is deterministic.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/hostile/fields.h"
#include "tests/hostile/probe.h"
#include "tests/hostile/template_store.h"

namespace recstore::hostile {
namespace {

std::string* cli_path = nullptr;

// A sanitizer build starts each CLI process several times slower: there the CLI runs on one
// value of every other field.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr size_t kDefaultValues = 4;
constexpr size_t kCliValues = 1;
constexpr size_t kCliFieldEvery = 2;
#else
constexpr size_t kDefaultValues = 8;
constexpr size_t kCliValues = 2;
constexpr size_t kCliFieldEvery = 1;
#endif

size_t ValuesPerField() {
  size_t n = kDefaultValues;
  if (const char* v = std::getenv("HOSTILE_VALUES"); v != nullptr) {
    if (!absl::SimpleAtoi(v, &n) || n == 0) n = kDefaultValues;
  }
  return n;
}

std::string WorkDir() {
  const char* root = std::getenv("TEST_TMPDIR");
  return absl::StrCat(root != nullptr ? root : "/tmp", "/hostile");
}

const TemplateStore& Template() {
  static const TemplateStore* t = [] {
    std::filesystem::remove_all(WorkDir());
    std::filesystem::create_directories(WorkDir());
    return new TemplateStore(BuildTemplateStore(WorkDir() + "/template"));
  }();
  return *t;
}

// Runs every value of every field in `fields` and reports each failing case.
void RunFields(const std::vector<Field>& fields) {
  ASSERT_NE(cli_path, nullptr) << "usage: hostile_test PATH_TO_RECSTORE_CLI";
  const TemplateStore& t = Template();
  const std::string dir = WorkDir() + "/case";
  const std::string log = WorkDir() + "/case.log";
  const size_t per_field = ValuesPerField();
  const size_t cli_per_field = std::min(kCliValues, per_field);
  std::vector<std::string> all;
  for (const Written& w : t.collections) all.push_back(w.name);
  size_t cases = 0, failed = 0, with_cli = 0, field_index = 0;
  const absl::Time start = absl::Now();
  for (const Field& f : fields) {
    const uint64_t original = ReadField(t.dir, f);
    const std::vector<uint64_t> values = ValuesFor(f, original, per_field);
    size_t field_failed = 0;
    // The CLI (three processes per case) runs on a deterministic sample of the values, spread
    // over the fields so that every kind of value meets it somewhere.
    std::set<size_t> cli_at;
    for (size_t k = 0; k < cli_per_field && field_index % kCliFieldEvery == 0; ++k) {
      cli_at.insert((field_index / kCliFieldEvery + k * per_field / cli_per_field) % per_field);
    }
    ++field_index;
    size_t field_cli = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      const uint64_t value = values[i];
      CopyStore(t.dir, dir);
      WriteField(dir, f, value);
      const std::vector<std::string>& collections = f.collections.empty() ? all : f.collections;
      const bool with_cli = cli_at.count(i) > 0;
      std::vector<CliRun> cli;
      if (with_cli) cli = StartCli(*cli_path, dir, collections.front(), log);
      const pid_t api = StartApiChild(t, dir, collections, f.records_intact, log + ".api");
      std::string problems = FinishApiChild(api, log + ".api");
      if (with_cli) problems += FinishCli(cli);
      field_cli += with_cli ? 1 : 0;
      if (!problems.empty()) {
        ++field_failed;
        ADD_FAILURE() << f.name << " = " << value << " (0x" << std::hex << value << std::dec
                      << ", was " << original << "):\n"
                      << problems;
      }
    }
    std::printf("hostile: %-16s %-75s %2zu cases (%zu with the CLI), %zu failed\n", f.group.c_str(),
                f.name.c_str(), values.size(), field_cli, field_failed);
    with_cli += field_cli;
    cases += values.size();
    failed += field_failed;
  }
  std::printf("hostile: %zu fields, %zu cases (%zu with the CLI), %zu failed, in %s\n",
              fields.size(), cases, with_cli, failed,
              absl::FormatDuration(absl::Now() - start).c_str());
  std::filesystem::remove_all(dir);
}

std::vector<Field> Group(std::vector<Field> fields, const std::string& group) {
  std::erase_if(fields, [&](const Field& f) { return f.group != group; });
  return fields;
}

TEST(HostileTest, TemplateStoreIsRealistic) {
  const TemplateStore& t = Template();
  for (const Written& w : t.collections) {
    SCOPED_TRACE(w.name);
    EXPECT_EQ(w.records.size(), w.end - w.begin) << "the template has gaps";
  }
  const Written* ckpt = t.Find(absl::StrCat("checkpoint.", kCheckpoints));
  ASSERT_NE(ckpt, nullptr);
  EXPECT_GT(ckpt->begin, 0u) << "old checkpoint versions were not dropped";
  const std::vector<Field> segments = SegmentFields(t);
  EXPECT_FALSE(Group(segments, "compacted index").empty()) << "no compacted segment";
  EXPECT_GE(Group(segments, "segment header").size(), 10u * 6) << "too few segment files";
}

TEST(HostileTest, ManifestFields) { RunFields(ManifestFields(Template())); }

TEST(HostileTest, SegmentHeaderFields) {
  RunFields(Group(SegmentFields(Template()), "segment header"));
}

TEST(HostileTest, CommitBlockAndCompactedIndexFields) {
  std::vector<Field> fields = Group(SegmentFields(Template()), "commit block");
  for (Field& f : Group(SegmentFields(Template()), "compacted index")) fields.push_back(f);
  for (Field& f : Group(SegmentFields(Template()), "link block")) fields.push_back(f);
  RunFields(fields);
}

}  // namespace
}  // namespace recstore::hostile

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) recstore::hostile::cli_path = new std::string(argv[1]);
  return RUN_ALL_TESTS();
}
