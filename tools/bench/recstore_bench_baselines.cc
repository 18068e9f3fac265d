// The physical limits recstore is measured against: memcpy, a plain read pass, and copies
// into fresh anonymous and file-backed pages.
#include "tools/bench/recstore_bench_common.h"

namespace recstore_bench {
// ---------------------------------------------------------------------------------------------
// memcpy baselines.

// Source and destination regions large enough for either record kind's data, pre-touched so
// that no page fault lands in a timed loop.
struct Buffers {
  size_t size = 0;
  std::unique_ptr<std::byte[]> src;
  std::unique_ptr<std::byte[]> dst;
};

Buffers& buffers() {
  static Buffers* b = [] {
    auto* out = new Buffers;
    out->size = std::max(config().records64 * sizeof(Rec64), config().records100 * kBytesRecord);
    out->src.reset(new std::byte[out->size]);
    out->dst.reset(new std::byte[out->size]);
    for (size_t i = 0; i < out->size; ++i) out->src[i] = static_cast<std::byte>(i * 131 + 7);
    std::memset(out->dst.get(), 0, out->size);
    return out;
  }();
  return *b;
}

// Copies `records` chunks of kChunk bytes from a small cache-resident source (as an append
// copies from the caller's record) into the large destination, one after another.
template <size_t kChunk>
void BM_MemcpyChunks(benchmark::State& state, uint64_t records) {
  Buffers& b = buffers();
  std::array<std::byte, kChunk * 16> hot;
  std::memcpy(hot.data(), b.src.get(), hot.size());
  for (auto _ : state) {
    std::byte* d = b.dst.get();
    for (uint64_t i = 0; i < records; ++i) {
      std::memcpy(d, hot.data() + (i % 16) * kChunk, kChunk);
      d += kChunk;
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * records * kChunk));
}

// One memcpy of `bytes` from the source region to the destination region.
void BM_MemcpyBulk(benchmark::State& state, uint64_t bytes) {
  Buffers& b = buffers();
  for (auto _ : state) {
    std::memcpy(b.dst.get(), b.src.get(), bytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// Reads the first 8 bytes of every 64-byte record of the source region (one cache line per
// record): what a scan costs with no checksum and no iterator.
void BM_ReadSum64(benchmark::State& state, uint64_t records) {
  Buffers& b = buffers();
  for (auto _ : state) {
    uint64_t sum = 0;
    for (uint64_t i = 0; i < records; ++i) {
      uint64_t v;
      std::memcpy(&v, b.src.get() + i * sizeof(Rec64), sizeof(v));
      sum += v;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * records * sizeof(Rec64)));
}

// The same stores as an append of 64-byte records without recstore, into new pages: one
// 64-byte memcpy per 72-byte slot (the stride of a 64-byte record and its checksum). With
// `file`, into a fresh fallocated file mapped shared and pre-faulted 1 MiB ahead with
// MADV_POPULATE_WRITE, as a segment is; otherwise into fresh anonymous memory. Only the
// copies and the pre-faulting are timed (one pass per iteration); the file is created,
// mapped, unmapped and removed outside the timing. What it shows: the cost of new pages,
// which no append can avoid.
void BM_FreshPages64(benchmark::State& state, uint64_t records, bool file) {
  const size_t stride = 72;
  const size_t len = (records * stride + 4095) / 4096 * 4096;
  const std::string path = config().root + "/fresh_pages";
  std::array<std::byte, 64 * 16> hot;
  std::memcpy(hot.data(), buffers().src.get(), hot.size());
  for (auto _ : state) {
    PrewarmPages(len);
    int fd = -1;
    void* map = MAP_FAILED;
    if (file) {
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || ::posix_fallocate(fd, 0, static_cast<off_t>(len)) != 0) {
        state.SkipWithError("cannot create the scratch file");
        break;
      }
      map = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    } else {
      map = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    if (map == MAP_FAILED) {
      state.SkipWithError("mmap failed");
      break;
    }
    std::byte* base = static_cast<std::byte*>(map);
    const auto start = std::chrono::steady_clock::now();
    size_t populated = 0;
    for (uint64_t i = 0; i < records; ++i) {
      const size_t off = i * stride;
      if (file && off + (512 << 10) >= populated && populated < len) {
        const size_t from = std::max(populated, (off + 4095) / 4096 * 4096);
        const size_t n = std::min<size_t>(1 << 20, len - from);
        ::madvise(base + from, n, MADV_POPULATE_WRITE);
        populated = from + n;
      }
      std::memcpy(base + off, hot.data() + (i % 16) * 64, 64);
    }
    benchmark::ClobberMemory();
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ::munmap(map, len);
    if (fd >= 0) {
      ::close(fd);
      ::unlink(path.c_str());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * records * sizeof(Rec64)));
}

template void BM_MemcpyChunks<64>(benchmark::State&, uint64_t);
template void BM_MemcpyChunks<100>(benchmark::State&, uint64_t);

}  // namespace recstore_bench
