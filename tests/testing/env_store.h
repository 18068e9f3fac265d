// Opens a Store over an injected Env. Every test that injects an Env into a Store goes
// through OpenStoreOverEnv, so that moving to a public Env option is a change of one line.
#ifndef RECSTORE_TESTS_TESTING_ENV_STORE_H_
#define RECSTORE_TESTS_TESTING_ENV_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "recstore/store.h"
#include "src/os/env.h"
#include "src/store/store_state.h"

namespace recstore::testing {

inline absl::StatusOr<std::unique_ptr<Store>> OpenStoreOverEnv(os::Env* env,
                                                               const std::string& path,
                                                               const StoreOptions& options = {}) {
  return internal::StoreAccess::Open(env, path, options);
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_ENV_STORE_H_
