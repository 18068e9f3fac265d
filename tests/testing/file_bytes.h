// Whole-file reads and writes, for tests that read or edit store files as bytes.
#ifndef RECSTORE_TESTS_TESTING_FILE_BYTES_H_
#define RECSTORE_TESTS_TESTING_FILE_BYTES_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace recstore::testing {

// The file's bytes; empty when it cannot be read.
inline std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Replaces the file's contents with `bytes` (creating it). A failed write aborts the test
// binary: a test meant to damage or rewrite a file must not go on with it unchanged.
inline void WriteFileBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::abort();
  }
}

// Overwrites `bytes.size()` bytes of the file at `offset` in place (the rest of the file, and
// its size unless the patch runs past the end, stay as they were). Aborts on failure, as
// WriteFileBytes does.
inline void PatchFileBytes(const std::string& path, uint64_t offset, std::string_view bytes) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) {
    std::fprintf(stderr, "cannot patch %s at %llu\n", path.c_str(),
                 static_cast<unsigned long long>(offset));
    std::abort();
  }
}

// Flips every bit of the byte at `offset` (which must be inside the file).
inline void FlipFileByte(const std::string& path, uint64_t offset) {
  const std::string bytes = ReadFileBytes(path);
  if (offset >= bytes.size()) {
    std::fprintf(stderr, "%s: offset %llu is past the end (%zu bytes)\n", path.c_str(),
                 static_cast<unsigned long long>(offset), bytes.size());
    std::abort();
  }
  PatchFileBytes(path, offset, std::string(1, static_cast<char>(~bytes[offset])));
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_FILE_BYTES_H_
