// FUZZ_CHECK(cond) << "what": an invariant of a fuzz target. On failure it prints the message
// and aborts, which libFuzzer (and the replay test) reports as a crash with the input saved.
#ifndef RECSTORE_TESTS_FUZZ_FUZZ_CHECK_H_
#define RECSTORE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

namespace recstore::fuzz {

class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* cond) {
    out_ << file << ":" << line << ": invariant failed: " << cond << ": ";
  }
  [[noreturn]] ~CheckFailure() {
    std::fprintf(stderr, "%s\n", out_.str().c_str());
    std::abort();
  }
  template <typename T>
  CheckFailure& operator<<(const T& v) {
    out_ << v;
    return *this;
  }

 private:
  std::ostringstream out_;
};

}  // namespace recstore::fuzz

// A loop rather than if/else, so that `if (x) FUZZ_CHECK(y) << ...;` has no dangling else; the
// body runs at most once (CheckFailure aborts).
#define FUZZ_CHECK(cond)                                                     \
  for (bool fuzz_check_ok_ = (cond); !fuzz_check_ok_; fuzz_check_ok_ = true) \
  ::recstore::fuzz::CheckFailure(__FILE__, __LINE__, #cond)

#endif  // RECSTORE_TESTS_FUZZ_FUZZ_CHECK_H_
