// The collections' state pages (STATE, docs/format.md 3.7): hints that every writer open
// rewrites and that recovery never reads, so checks of a store's files leave them out.
#ifndef RECSTORE_TESTS_TESTING_STATE_PAGE_H_
#define RECSTORE_TESTS_TESTING_STATE_PAGE_H_

#include <string_view>

namespace recstore::testing {

// Whether `path` (a file name, or a path relative to anything) names a state page.
inline bool IsStatePage(std::string_view path) {
  return path == "STATE" || path.ends_with("/STATE");
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_STATE_PAGE_H_
