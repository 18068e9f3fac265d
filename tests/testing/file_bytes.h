// Whole-file reads and writes, for tests that read or edit store files as bytes.
#ifndef RECSTORE_TESTS_TESTING_FILE_BYTES_H_
#define RECSTORE_TESTS_TESTING_FILE_BYTES_H_

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

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

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_FILE_BYTES_H_
