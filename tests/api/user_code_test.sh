#!/usr/bin/env bash
# The public headers as user code compiles them (the system g++ with -std=c++20 -Wall -Wextra
# -Werror and nothing suppressed), and what they refuse to compile, with the message a user
# sees:
#   - user_code_ok.cc (options by designated initializers, RECSTORE_RECORD, ForEach) compiles;
#   - RECSTORE_RECORD with a field left out (also one hidden in what would be padding) or
#     named twice does not;
#   - below C++20 the headers stop at their #error.
set -uo pipefail
root="${TEST_SRCDIR}/${TEST_WORKSPACE}"
cxx=${CXX:-g++}
flags=(-fsyntax-only -Wall -Wextra -Werror -I"${root}/include")
err="${TEST_TMPDIR}/err.txt"
failures=0

fail() {
  echo "FAIL: $1"
  sed 's/^/  | /' "${err}" | head -20
  failures=$((failures + 1))
}

# expect_ok NAME FILE [flags]
expect_ok() {
  local name=$1 file=$2
  shift 2
  if "${cxx}" -std=c++20 "${flags[@]}" "$@" -x c++ "${file}" 2>"${err}"; then
    echo "ok: ${name}"
  else
    fail "${name}: does not compile"
  fi
}

# expect_error NAME MESSAGE-REGEX [compiler flags] < SOURCE
expect_error() {
  local name=$1 message=$2
  shift 2
  local src="${TEST_TMPDIR}/${name}.cc"
  cat >"${src}"
  if "${cxx}" "${flags[@]}" "$@" -x c++ "${src}" 2>"${err}"; then
    fail "${name}: compiled, but must not"
  elif grep -qE "${message}" "${err}"; then
    echo "ok: ${name}: refused"
  else
    fail "${name}: refused without the expected message /${message}/"
  fi
}

expect_ok user_code_ok "${root}/tests/api/user_code_ok.cc"

missing_message='only [0-9]+ names? provided for structured binding'
expect_error missing_last_field "${missing_message}" -std=c++20 <<'CC'
#include "recstore/schema.h"
struct R { uint64_t a; uint32_t b; uint32_t c; };
RECSTORE_RECORD(R, a, b);
CC

expect_error missing_field_in_padding "${missing_message}" -std=c++20 <<'CC'
#include "recstore/schema.h"
// b sits where padding would be without it: a layout check alone would not see it.
struct R { uint8_t a; uint8_t b; uint32_t c; };
RECSTORE_RECORD(R, a, c);
CC

expect_error field_twice "redeclaration|conflicting declaration|previous declaration" -std=c++20 <<'CC'
#include "recstore/schema.h"
struct R { uint64_t a; uint64_t b; };
RECSTORE_RECORD(R, a, a);
CC

expect_error below_cxx20 "recstore needs C\+\+20" -std=c++17 <<'CC'
#include "recstore/recstore.h"
CC

if ((failures > 0)); then
  echo "${failures} check(s) failed"
  exit 1
fi
echo "all checks passed"
