// A store built by the real engine, kept in memory byte for byte, with the location and role
// of every byte as docs/format.md describes it. Corruption trials restore a fresh copy of its
// files, damage them, and reopen: no trial pays for building a store.
//
// The store holds two collections, each over three 64 KiB segments (the newest partly filled,
// so there is a middle one): "readings" (fixed-size `Reading` records) and "events" (variable-size
// byte records of 0 to 400 bytes).
#ifndef RECSTORE_TESTS_CORRUPTION_STORE_IMAGE_H_
#define RECSTORE_TESTS_CORRUPTION_STORE_IMAGE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "recstore/recstore.h"

namespace recstore::testing {

// 100 bytes, align 4: each 112-byte slot holds the record, 4 padding bytes and the checksum
// (format.md 3.3), and 548 slots fill a 64 KiB segment with 64 bytes to spare.
struct Reading {
  uint32_t sensor;
  uint32_t value;
  char label[92];
};
RECSTORE_RECORD(Reading, sensor, value, label);

inline constexpr char kFixedName[] = "readings";
inline constexpr char kBytesName[] = "events";
inline constexpr uint64_t kSegmentSize = 64 << 10;

// The payload appended as record `seq` of a collection of `kind`.
std::string ExpectedPayload(CollectionKind kind, uint64_t seq);

// Where one record of the image sits.
struct RecordLoc {
  uint64_t seq = 0;
  size_t segment = 0;   // index into CollectionImage::segments
  uint64_t offset = 0;  // fixed: slot offset; variable: frame offset
  uint64_t span = 0;    // bytes from `offset` it occupies: the slot, or the frame with padding
  uint64_t slot = 0;    // variable: file offset of its slot-index entry
};

struct SegmentImage {
  std::string file;  // file name, <first_seq, 20 digits>.seg
  uint64_t first_seq = 0;
  uint64_t records = 0;
  std::string bytes;
};

// What a byte of a segment file is (docs/format.md section 3).
enum class ByteRole {
  kHeader,        // segment header, bytes 0..71
  kCommit,        // commit block, bytes 2048..2079
  kHeaderFiller,  // the rest of the header page: written zero, never read
  kCovered,       // covered by a record checksum (or is the checksum)
  kPadding,       // record or frame padding: written zero, not covered by any checksum
  kSlot,          // variable: a slot-index entry of a record
  kFree,          // past the last record of its segment (or unused slot space)
};
const char* RoleName(ByteRole role);

struct ByteInfo {
  ByteRole role = ByteRole::kFree;
  uint64_t seq = 0;  // the record, for kCovered, kPadding and kSlot
};

struct CollectionImage {
  std::string name;
  std::string folder;  // e.g. "000001-readings"
  CollectionKind kind = CollectionKind::kFixed;
  uint32_t stride = 0;        // fixed
  bool commit_blocks = true;  // false: every commit block zeroed (see WithoutCommitBlocks)
  int version = 0;            // tells images of the same files apart
  std::vector<SegmentImage> segments;
  std::vector<RecordLoc> records;     // records[seq]
  std::vector<std::string> payloads;  // payloads[seq]: what was appended

  uint64_t size() const { return records.size(); }
  bool fixed() const { return kind == CollectionKind::kFixed; }
  ByteInfo Classify(size_t segment, uint64_t offset) const;
  // Whether `seq` + 1 is a record in the same segment as `seq`.
  bool HasNextInSegment(uint64_t seq) const;
  std::string SegmentPath(const std::string& dir, size_t segment) const;
};

class StoreImage {
 public:
  // Builds the store in `dir` with the real engine (Store::Open, appends, syncs, close) and
  // loads its files. Checks the layout it derives against the files' own slot indexes.
  static absl::StatusOr<StoreImage> Build(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const std::string& manifest() const { return manifest_; }
  const CollectionImage& collection(CollectionKind kind) const {
    return kind == CollectionKind::kFixed ? fixed_ : bytes_;
  }

  // Puts the files of `c` back as the image has them: those in `changed` (paths changed since
  // the last restore, by the engine or by damage), those last written from another image of
  // the same files, and any that are missing or of the wrong size. Removes files in `changed`
  // that the image does not have, and rewrites the manifest if it is in `changed`.
  void Restore(const CollectionImage& c, const std::set<std::string>& changed);

 private:
  std::string dir_;
  std::string manifest_;
  CollectionImage fixed_;
  CollectionImage bytes_;
  std::map<std::string, int> on_disk_;  // path -> version of the image last written there
};

// `c` with every commit block zeroed: as if no commit block had reached the disk, so recovery
// starts at record 0 and checks every record at open.
CollectionImage WithoutCommitBlocks(const CollectionImage& c);

// Damage on disk.
void FlipBit(const std::string& path, uint64_t offset, int bit);
void CutFile(const std::string& path, uint64_t size);     // truncate
void ZeroFrom(const std::string& path, uint64_t offset);  // zero to the end, size kept

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_CORRUPTION_STORE_IMAGE_H_
