// The README quickstart, compiled and run as written.
#include <cstdint>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/status_matchers.h"

struct Trade {  // any trivially copyable, standard-layout struct
  uint64_t ts_ns;
  uint32_t symbol_id;
  uint32_t flags;
  double price;
  int64_t qty;
};
RECSTORE_RECORD(Trade, ts_ns, symbol_id, flags, price, qty);  // records the schema

namespace {

absl::Status RunQuickstart(const std::string& dir, uint64_t* scanned) {
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open(dir, {.create_if_missing = true}));
  ASSIGN_OR_RETURN(auto trades, store->OpenLog<Trade>("trades"));
  ASSIGN_OR_RETURN(uint64_t seq,
                   trades.Append({.ts_ns = 1, .symbol_id = 7, .price = 10.5, .qty = 3}));
  RETURN_IF_ERROR(trades.Sync());  // everything appended so far is durable
  RETURN_IF_ERROR(trades.ForEach([&](uint64_t s, const Trade& t) {  // t: into the mapping
    *scanned += t.qty + s;
  }));  // returns DataLoss if a record is damaged, OK once it has seen them all
  ASSIGN_OR_RETURN(const Trade* t, trades.Get(seq));
  if (t->price != 10.5) return absl::InternalError("wrong price");
  ASSIGN_OR_RETURN(auto events, store->OpenByteLog("events"));  // variable-size records
  RETURN_IF_ERROR(events.Append("user 42 logged in").status());
  return absl::OkStatus();
}

TEST(QuickstartTest, RunsAsWrittenAndReopens) {
  const std::string dir = std::string(getenv("TEST_TMPDIR")) + "/quickstart";
  uint64_t scanned = 0;
  ASSERT_OK(RunQuickstart(dir, &scanned));
  EXPECT_EQ(scanned, 3u);
  ASSERT_OK(RunQuickstart(dir, &scanned));  // second run appends a second trade
  EXPECT_EQ(scanned, 3u + 3u + (3u + 1u));
  ASSERT_OK_AND_ASSIGN(auto store, recstore::Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  ASSERT_EQ(events.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto bytes, events.Get(1));
  EXPECT_EQ(recstore::AsString(bytes), "user 42 logged in");
}

}  // namespace
