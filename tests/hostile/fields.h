// The fields a hostile case damages: every field of the manifest (store header, each
// collection entry, each schema field), and of the segment header, the commit block and the
// compacted index (the sequence-number array) of a sample of segment files; the boundary
// values each one gets; and how a value is written with every checksum recomputed, so that
// the damage is hostile rather than accidental.
#ifndef RECSTORE_TESTS_HOSTILE_FIELDS_H_
#define RECSTORE_TESTS_HOSTILE_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/hostile/template_store.h"

namespace recstore::hostile {

enum class Fixup {
  kManifest,       // body length and both checksums of the manifest
  kSegmentHeader,  // the segment header checksum
  kCommitBlock,    // the commit block checksum, seeded with the segment's first_seq
  kLinkBlock,      // a compacted segment's link block checksum, seeded likewise
  kNone,           // nothing covers it (a compacted segment's sequence numbers)
};

struct Field {
  std::string group;  // "manifest", "segment header", "commit block", "compacted index"
  std::string name;   // e.g. "000001-ticks/00000000000000004608.seg header.capacity"
  std::string file;   // path relative to the store directory
  uint64_t offset = 0;
  int width = 0;  // bytes: 1, 2, 4 or 8, little-endian
  Fixup fixup = Fixup::kNone;
  uint64_t commit_seed = 0;  // kCommitBlock: the segment's first_seq
  // The collections whose reads the damage can change (empty: all of them).
  std::vector<std::string> collections;
  // Values that overflow or sit on an edge of the arithmetic that uses this field.
  std::vector<uint64_t> special;
  // Schema fields of a fixed collection: the collection's folder and the manifest offset of its
  // schema. Every segment header of the folder is rewritten to match the damaged schema
  // (record_size, stride as the engine computes it, schema hash), so the store stays
  // consistent and the damage reaches past the header comparison (issue 12, bug 4).
  std::string schema_folder;
  uint64_t schema_at = 0;
  // The damage leaves every record intact (commit blocks: recovery may start from an older
  // point, never lose records): an open that succeeds must still return every record written.
  bool records_intact = false;
};

std::vector<Field> ManifestFields(const TemplateStore& t);
// Segment headers, commit blocks and compacted indexes of the first and last ordinary
// segment and the first and last compacted segment of each collection.
std::vector<Field> SegmentFields(const TemplateStore& t);

// The field's value in the store at `dir`.
uint64_t ReadField(const std::string& dir, const Field& f);
// Up to `limit` values for the field, none equal to `original`, in a fixed order: 0, max, the
// field's first special value, 1, max - 1, its other special values, then max - 7,
// 2^(bits-1), original ± 1 and other edges of its width.
std::vector<uint64_t> ValuesFor(const Field& f, uint64_t original, size_t limit);
// Writes `value` into the field of the store at `dir` and recomputes what checksums it.
void WriteField(const std::string& dir, const Field& f, uint64_t value);

}  // namespace recstore::hostile

#endif  // RECSTORE_TESTS_HOSTILE_FIELDS_H_
