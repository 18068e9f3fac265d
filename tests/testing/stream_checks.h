// Checks for the shipping tests: what a JetStream stream holds, compared with a collection.
#ifndef RECSTORE_TESTS_TESTING_STREAM_CHECKS_H_
#define RECSTORE_TESTS_TESTING_STREAM_CHECKS_H_

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "recstore/ship.h"
#include "src/ship/nats_client.h"

namespace recstore::testing {

// The number of messages `stream` holds; fails the test (and returns 0) on an error.
inline uint64_t StreamMessages(const std::string& servers, const std::string& stream) {
  absl::StatusOr<std::unique_ptr<ship::NatsClient>> c =
      ship::NatsClient::Connect({.servers = servers}, {});
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return 0;
  absl::StatusOr<ship::StreamInfo> info = (*c)->GetStream(stream);
  EXPECT_TRUE(info.ok()) << info.status();
  return info.ok() ? info->msgs : 0;
}

// Expects the two collections to hold the same records: same sequence numbers, same bytes.
inline void ExpectSameRecords(Store& a, Store& b, const std::string& collection) {
  absl::StatusOr<UntypedLog> la = a.OpenUntyped(collection);
  absl::StatusOr<UntypedLog> lb = b.OpenUntyped(collection);
  ASSERT_TRUE(la.ok()) << la.status();
  ASSERT_TRUE(lb.ok()) << lb.status();
  ASSERT_EQ(la->begin(), lb->begin());
  ASSERT_EQ(la->end(), lb->end());
  auto sa = la->Scan();
  auto sb = lb->Scan();
  auto ib = sb.begin();
  uint64_t n = 0;
  for (const auto& [seq, rec] : sa) {
    ASSERT_NE(ib, sb.end()) << "second collection ends before record " << seq;
    ASSERT_EQ((*ib).seq, seq);
    ASSERT_EQ(AsString((*ib).value), AsString(rec)) << "record " << seq;
    ++ib;
    ++n;
  }
  EXPECT_EQ(ib, sb.end());
  EXPECT_TRUE(sa.status().ok()) << sa.status();
  EXPECT_EQ(n, la->size());
}

// Expects `stream` to hold every record of `collection` in `store` exactly once, in order:
// the stream holds as many messages as the collection records, and pulling it into a new
// store (which refuses gaps, foreign messages and broken chains) gives the same records.
inline void ExpectShippedExactlyOnce(const std::string& servers, const std::string& stream,
                                     Store& store, const std::string& collection,
                                     const std::string& scratch_dir) {
  absl::StatusOr<UntypedLog> log = store.OpenUntyped(collection);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE(log->Refresh().ok());
  EXPECT_EQ(StreamMessages(servers, stream), log->size());
  std::filesystem::remove_all(scratch_dir);
  absl::StatusOr<std::unique_ptr<Store>> copy =
      Store::Open(scratch_dir, {.create_if_missing = true});
  ASSERT_TRUE(copy.ok()) << copy.status();
  absl::StatusOr<ShipReport> pulled =
      Pull(**copy, collection, {.nats = {.servers = servers}, .stream = stream});
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_EQ(pulled->records, log->size());
  ExpectSameRecords(store, **copy, collection);
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_STREAM_CHECKS_H_
