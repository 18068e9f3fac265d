// Checks shared by the resource-fault tests: which files a folder holds, and whether a log
// holds exactly the records the tests append (Trade i = MakeTrade(i), byte record i =
// ByteRecord(i)).
#ifndef RECSTORE_TESTS_FAULTS_CHECKS_H_
#define RECSTORE_TESTS_FAULTS_CHECKS_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/faults/workload.h"
#include "tests/testing/records.h"
#include "tests/testing/state_page.h"

namespace recstore::faults {

// Names of the entries of `dir`, sorted, but for a collection's state page (STATE: a hint
// every writer open rewrites, docs/format.md 3.7).
inline std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!::recstore::testing::IsStatePage(e.path().filename().string()))
      names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The folder of collection number `id` (1-based, in creation order) named `name`.
inline std::string CollectionDir(const std::string& store, int id, const std::string& name) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%06d-", id);
  return store + "/" + buf + name;
}

// Records [0, n) of `log` are MakeTrade(0..n-1), checked through Get and Scan.
inline ::testing::AssertionResult TradesIntact(const Log<testing::Trade>& log, uint64_t n) {
  if (log.size() < n) {
    return ::testing::AssertionFailure() << "holds " << log.size() << " records, want " << n;
  }
  for (uint64_t i = 0; i < n; ++i) {
    absl::StatusOr<const testing::Trade*> t = log.Get(i);
    const testing::Trade want = testing::MakeTrade(i);
    if (!t.ok() || std::memcmp(*t, &want, sizeof(want)) != 0) {
      return ::testing::AssertionFailure()
             << "record " << i << ": " << (t.ok() ? "wrong content" : t.status().ToString());
    }
  }
  uint64_t seen = 0;
  for (const auto& e : log.Scan()) {
    if (e.seq != seen || e.value.ts_ns != testing::MakeTrade(e.seq).ts_ns) {
      return ::testing::AssertionFailure() << "scan: record " << e.seq << " at step " << seen;
    }
    ++seen;
  }
  if (seen != log.size()) return ::testing::AssertionFailure() << "scan saw " << seen;
  return ::testing::AssertionSuccess();
}

// Records [0, n) of `log` are ByteRecord(0..n-1).
inline ::testing::AssertionResult BytesIntact(const ByteLog& log, uint64_t n) {
  if (log.size() < n) {
    return ::testing::AssertionFailure() << "holds " << log.size() << " records, want " << n;
  }
  for (uint64_t i = 0; i < n; ++i) {
    absl::StatusOr<std::span<const std::byte>> r = log.Get(i);
    if (!r.ok() ||
        std::string_view(reinterpret_cast<const char*>(r->data()), r->size()) != ByteRecord(i)) {
      return ::testing::AssertionFailure()
             << "record " << i << ": " << (r.ok() ? "wrong content" : r.status().ToString());
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace recstore::faults

#endif  // RECSTORE_TESTS_FAULTS_CHECKS_H_
