#include "src/log/segment_set.h"

#include <algorithm>

namespace recstore::log {

uint64_t CompactedPart::LowerBound(uint64_t seq) const {
  return static_cast<uint64_t>(std::lower_bound(seqs, seqs + count, seq) - seqs);
}

SegmentSet::SegmentSet(const SegmentSet& other)
    : state(other.state),
      compacted(other.compacted),
      dense(other.dense),
      end_(other.end()),
      chain_mu_(other.chain_mu_) {}

SegmentSet::~SegmentSet() {
  if (chain_mu_ == nullptr) return;
  // A long chain of replaced sets (a pin held across many rotations) is released one set at
  // a time here, not by nested destructors: the successor of a set this one holds the last
  // reference to is taken out before that set goes. (Nothing can take a new reference to a
  // replaced set, so a count of 1 stays 1.)
  std::shared_ptr<const SegmentSet> next;
  {
    std::lock_guard<std::mutex> lock(*chain_mu_);
    next = std::move(successor_);
  }
  while (next != nullptr) {
    std::shared_ptr<const SegmentSet> after;
    {
      std::lock_guard<std::mutex> lock(*chain_mu_);
      if (next.use_count() == 1) after = std::move(next->successor_);
    }
    next = std::move(after);
  }
}

size_t SegmentSet::PartFor(uint64_t seq) const {
  auto it = std::partition_point(compacted.begin(), compacted.end(),
                                 [&](const auto& p) { return p->last() < seq; });
  return static_cast<size_t>(it - compacted.begin());
}

bool SegmentSet::CompactedAtOrBelow(uint64_t seq, uint64_t* out) const {
  size_t k = PartFor(seq);
  if (k < compacted.size() && compacted[k]->first() <= seq) {
    const CompactedPart& p = *compacted[k];
    *out = *(std::upper_bound(p.seqs, p.seqs + p.count, seq) - 1);
    return true;
  }
  if (k == 0) return false;
  *out = compacted[k - 1]->last();
  return true;
}

size_t SegmentSet::FindDense(uint64_t seq) const {
  auto it = std::partition_point(dense.begin(), dense.end(),
                                 [&](const auto& s) { return s->first_seq() <= seq; });
  return it == dense.begin() ? dense.size() : static_cast<size_t>(it - dense.begin()) - 1;
}

uint64_t SegmentSet::DenseEnd(size_t i, uint64_t end) const {
  if (i + 1 < dense.size()) end = std::min(end, dense[i + 1]->first_seq());
  return std::max(end, dense[i]->first_seq());
}

}  // namespace recstore::log
