// A store whose collections span many segment files, built by the real engine and kept byte
// for byte, with what every record holds and which file holds it. The damaged-file tests
// (issue 12, test kind 3) restore it, damage whole files (delete, zero, truncate) and reopen.
//
// The store (64 KiB segments, everything synced, closed cleanly):
//   readings          fixed-size `Reading` records: 3 compacted segments (one Merge) and 5
//                     ordinary ones, the newest partly filled
//   events            byte records of 0 to 400 bytes: 3 compacted segments (one Merge) and 5
//                     ordinary ones
//   checkpoint.state  the byte log of a checkpoint set (keep 9, 24 versions of 14,000 bytes):
//                     3 segments, the older versions dropped by the set's own TruncateBefore
//   MANIFEST, LOCK
//
// A second layout, kTinyRecords, holds one byte log "ticks" of 20,000 empty records over 7
// segments of 3,072 records each: enough records per segment that a hole of five missing
// segments spans more records than a segment has slots.
#ifndef RECSTORE_TESTS_CORRUPTION_FILE_SET_H_
#define RECSTORE_TESTS_CORRUPTION_FILE_SET_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "recstore/recstore.h"

namespace recstore::testing {

inline constexpr char kCheckpointSet[] = "state";
inline constexpr char kCheckpointLog[] = "checkpoint.state";
inline constexpr uint32_t kCheckpointKeep = 9;

// Every file and folder under a directory: relative path -> content. Folders appear as
// "<path>/" with empty content, so a removed folder shows as a difference.
using Tree = std::map<std::string, std::string>;

Tree ReadTree(const std::string& dir);
// Makes `dir` hold exactly `want`, given that it holds `now`: rewrites the files that differ,
// creates missing files and folders, removes what `want` lacks.
void WriteTree(const std::string& dir, const Tree& now, const Tree& want);
// The paths whose presence or content differs, leaving out those in `ignore` and the
// collections' state pages (".../STATE": hints that every writer open rewrites).
std::vector<std::string> DiffTree(const Tree& a, const Tree& b,
                                  const std::set<std::string>& ignore = {});
// The paths of `dir` that differ from `want` (as DiffTree(want, ReadTree(dir)) names them,
// state pages left out too), without reading the whole tree into memory.
std::vector<std::string> DiffDir(const std::string& dir, const Tree& want,
                                 const std::set<std::string>& ignore = {});
// Makes `dir` hold `want` again, given the paths DiffDir named.
void RestoreDir(const std::string& dir, const Tree& want, const std::vector<std::string>& diff);

// What a collection held when the store was built.
struct CollectionTruth {
  std::string name;
  std::string folder;  // relative to the store, e.g. "000002-events"
  CollectionKind kind = CollectionKind::kFixed;
  uint64_t begin = 0;  // first live record
  uint64_t end = 0;    // every record in [begin, end) was synced
  uint64_t compacted_end = 0;
  std::vector<std::string> records;  // records[seq - begin]: the bytes Get returns
  std::vector<std::string> files;    // segment files (relative to the store), in record order
  std::vector<size_t> file_of;       // file_of[seq - begin]: index into files

  const std::string& FileOf(uint64_t seq) const { return files[file_of[seq - begin]]; }
};

inline constexpr char kTicksName[] = "ticks";

class FileSet {
 public:
  enum class Layout { kMixed, kTinyRecords };

  // Builds the store in `dir` with the engine, reads it back and checks it against what was
  // appended (every record in place, in the file its name says).
  static absl::StatusOr<FileSet> Build(const std::string& dir, Layout layout = Layout::kMixed);

  const std::string& dir() const { return dir_; }
  const Tree& pristine() const { return pristine_; }
  const std::vector<CollectionTruth>& collections() const { return collections_; }
  // The newest checkpoint version's payload and sequence number.
  const std::string& newest_checkpoint() const { return newest_checkpoint_; }
  uint64_t newest_checkpoint_seq() const { return newest_checkpoint_seq_; }
  // Every file of the store (relative paths): each collection's segments in record order,
  // then MANIFEST and LOCK.
  std::vector<std::string> Files() const;
  // The collection whose folder holds `file`, or -1 (MANIFEST, LOCK).
  int CollectionOf(const std::string& file) const;

 private:
  std::string dir_;
  Tree pristine_;
  std::vector<CollectionTruth> collections_;
  std::string newest_checkpoint_;
  uint64_t newest_checkpoint_seq_ = 0;
};

// Whole-file damage.
enum class Damage {
  kDelete,            // the file is gone
  kZero,              // every byte zero, size kept
  kTruncate,          // cut to 0 bytes
  kTruncateToHeader,  // cut to its header: the 4096-byte header page of a segment, the
                      // 40-byte header of MANIFEST
  kZeroHeader,        // its header zeroed, the rest kept: 72 bytes of a segment, 40 of MANIFEST
};
inline constexpr Damage kDamages[] = {Damage::kDelete, Damage::kZero, Damage::kTruncate,
                                      Damage::kTruncateToHeader, Damage::kZeroHeader};
const char* DamageName(Damage d);
// Applies `d` to `file` in `tree`. False when it does not apply to that file (the LOCK file
// has no header) or changes nothing.
bool ApplyDamage(Damage d, const std::string& file, Tree* tree);

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_CORRUPTION_FILE_SET_H_
