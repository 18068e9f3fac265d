// Opens a Store over an injected Env. Every test that injects an Env goes through this one
// function, so that the switch from the internal backdoor to a public StoreOptions::env is a
// one-line change here.
#ifndef RECSTORE_TESTS_TESTING_STORE_ENV_H_
#define RECSTORE_TESTS_TESTING_STORE_ENV_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "recstore/store.h"
#include "src/os/env.h"
#include "src/store/store_state.h"

namespace recstore::testing {

inline absl::StatusOr<std::unique_ptr<Store>> OpenStoreWithEnv(os::Env* env,
                                                              const std::string& path,
                                                              const StoreOptions& options) {
  return internal::StoreAccess::Open(env, path, options);
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_STORE_ENV_H_
