// Opening a store through a test's Env (StoreOptions::env), in one place.
#ifndef RECSTORE_TESTS_TESTING_OPEN_STORE_H_
#define RECSTORE_TESTS_TESTING_OPEN_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "recstore/env.h"
#include "recstore/store.h"

namespace recstore::testing {

inline absl::StatusOr<std::unique_ptr<Store>> OpenStore(Env* env, const std::string& path,
                                                        StoreOptions options = {}) {
  options.env = env;
  return Store::Open(path, options);
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_OPEN_STORE_H_
