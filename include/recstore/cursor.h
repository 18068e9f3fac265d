// Durable consumer cursors: a named position per collection, "every record below N has been
// processed", kept in a small file of its own so that read-only processes (the consumers,
// which cannot take the writer lock) can commit it.
//
//   ASSIGN_OR_RETURN(auto store, recstore::Store::Open("data", {.read_only = true}));
//   ASSIGN_OR_RETURN(auto log, store->OpenByteLog("events"));
//   ASSIGN_OR_RETURN(recstore::Cursor cursor, store->OpenCursor("events", "indexer"));
//   for (const auto& [seq, rec] : log.Scan(cursor.position())) {   // starts at begin() at least
//     Process(rec);
//     RETURN_IF_ERROR(cursor.Commit(seq + 1));   // durable when it returns
//   }
//
// Delivery is at-least-once: a consumer that crashes after processing a record and before
// its Commit returns processes that record again after restarting. Exactly-once processing
// needs the consumer to make its output and its position durable in one atomic step, which
// the cursor cannot do for it: store the position with the output (in the same transaction
// of the consumer's own database, or in the same record it writes), and on restart resume
// from the position stored there, using the cursor only to tell retention what may go.
//
// A cursor never moves back: Commit refuses a position below the committed one. A new cursor
// starts at the collection's begin() as the manifest has it when the cursor is created. A
// cursor whose position is below the collection's begin() has lost the records
// [position(), begin()): retention or TruncateBefore dropped them before it consumed them
// (see RetentionPolicy::keep_unconsumed in compaction.h for retention that waits for it).
//
// One holder per cursor at a time: opening a cursor takes an open-file-description lock
// (F_OFD_SETLK) on its file, so a second open of the same cursor, in this process or
// another, fails with Unavailable until the holder is destroyed. A child made by fork() does
// not keep the lock (as for the store's LOCK file, store.h) and must not use the parent's
// Cursor.
//
// Files: <store>/cursors/<collection folder>/<name>.cursor (docs/format.md section 9).
// Dropping the collection removes its cursors; a collection re-created under the same name
// starts without any.
#ifndef RECSTORE_CURSOR_H_
#define RECSTORE_CURSOR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "recstore/config.h"  // first: fails clearly below C++20

namespace recstore {

namespace internal {
class CursorFile;
}  // namespace internal

struct CursorOptions {
  // Create the cursor when it does not exist (from a read-only store too). Otherwise opening
  // a missing cursor fails with NotFound.
  bool create_if_missing = true;
};

// A cursor as committed on disk.
struct CursorInfo {
  std::string collection;
  std::string name;
  uint64_t position = 0;  // the next record to process: every record below it is consumed
  uint64_t commits = 0;   // Commit calls that returned OK since the cursor was created
  int64_t time_ns = 0;    // when it was last committed (or created): Env::NowUnixNanos()
};

// The holder of one cursor: move-only, since it holds the cursor's lock; destroying it
// releases the lock. A moved-from Cursor may only be destroyed or assigned to.
//
// Thread safety: all methods may be called from several threads at once (a mutex inside
// orders them); Commit calls run one at a time.
class Cursor {
 public:
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;
  ~Cursor();

  // The committed position: the next record to process. Never decreases.
  uint64_t position() const;

  // Records that every record below `next` has been processed, durably: when it returns OK,
  // the new position survives a crash of the process or the machine (one write and one
  // fdatasync of the cursor file, docs/design.md section 8.9). Committing the current
  // position again is allowed (it refreshes time_ns). `next` is not checked against the
  // collection's end. Errors: InvalidArgument when `next` < position() or `next` > 2^62;
  // ResourceExhausted after 2^62 commits; the I/O error of the write or the flush, after
  // which position() is unchanged (the cursor on disk holds the old position or, if the
  // write reached the disk anyway, `next`) and a later Commit may try again.
  [[nodiscard]] absl::Status Commit(uint64_t next);

  // The committed state (position, commit count, time of the last commit).
  CursorInfo info() const;
  const std::string& name() const;
  const std::string& collection() const;
  // The cursor's file, for messages.
  const std::string& path() const;

 private:
  friend class Store;
  explicit Cursor(std::unique_ptr<internal::CursorFile> file);

  std::unique_ptr<internal::CursorFile> file_;
};

}  // namespace recstore

#endif  // RECSTORE_CURSOR_H_
