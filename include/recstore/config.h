// The language and library requirements of recstore's public headers, checked first by each
// of them so that a build with the wrong settings fails with one clear message.
//
// recstore needs C++20 (std::span, std::atomic_ref, designated initializers, concepts).
// Bazel: put `build --cxxopt=-std=c++20 --host_cxxopt=-std=c++20` in your .bazelrc.
// CMake: link recstore::recstore, which requires cxx_std_20 of its users.
// pkg-config: `pkg-config --cflags recstore` carries -std=c++20.
//
// Abseil: the API takes and returns absl::Status, absl::StatusOr and absl::Time of the Abseil
// that recstore itself was built with (Debian's libabsl-dev, 20220623, in which
// absl::string_view and absl::optional are their own types, not std's). Build your code
// against that same Abseil; a second copy of Abseil in one program breaks the one-definition
// rule.
#ifndef RECSTORE_CONFIG_H_
#define RECSTORE_CONFIG_H_

#if !defined(__cplusplus) || __cplusplus < 202002L
#error \
    "recstore needs C++20: compile with -std=c++20 (Bazel: build --cxxopt=-std=c++20 in .bazelrc; see recstore/config.h)"
#endif

#endif  // RECSTORE_CONFIG_H_
