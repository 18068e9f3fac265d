#!/usr/bin/env bash
# Builds recstore with CMake, installs it into a fresh prefix, then builds and runs this
# project against the installed package twice: with find_package(recstore) and with
# pkg-config. Everything happens in a new temporary directory, removed at the end (kept when
# a step fails, for a look at its log).
# Usage: examples/cmake-consumer/build.sh   (prints "cmake-consumer: OK" when it worked)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "${here}/../.." && pwd)
jobs=${JOBS:-2}

# cmake, pkg-config, the compiler and the libraries, from Debian's archive when missing
# (as ./bazelw does for Bazel's packages; exits 2 when it may not install them).
"${root}/tools/build/ensure_debian_packages.sh" cmake-consumer \
  cmake pkg-config g++ libabsl-dev libxxhash-dev

work=$(mktemp -d "${TMPDIR:-/tmp}/recstore-cmake-consumer.XXXXXX")
ok=0
cleanup() {
  if ((ok)); then
    rm -rf "${work}"
  else
    echo "cmake-consumer: FAILED (logs and build trees kept in ${work})" >&2
  fi
}
trap cleanup EXIT

# step NAME COMMAND...: prints one line, runs the command with its output in a log, and on
# failure shows the end of that log and stops. (set -e does not apply inside the command: the
# functions below return 1 themselves.)
n=0
step() {
  local name=$1
  shift
  n=$((n + 1))
  local log="${work}/step${n}.log"
  echo "cmake-consumer: ${name}"
  if ! "$@" >"${log}" 2>&1; then
    echo "cmake-consumer: step failed: $*" >&2
    tail -n 40 "${log}" >&2
    exit 1
  fi
}

prefix="${work}/prefix"
# The library as a user builds it, warnings as errors (Bazel's build of it has no warnings
# either), with the examples, into a prefix of its own.
step "configure recstore (${root})" \
  cmake -S "${root}" -B "${work}/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="${prefix}" -DRECSTORE_WERROR=ON -DRECSTORE_BUILD_EXAMPLES=ON
step "build recstore" cmake --build "${work}/build" -j "${jobs}"
run_examples() {
  local name
  for name in points counters; do
    mkdir "${work}/${name}" || return 1
    "${work}/build/${name}" "${work}/${name}" || return 1
  done
}
step "run examples/points and examples/counters" run_examples
step "install recstore into ${prefix}" cmake --install "${work}/build"

pcdir=$(dirname "$(find "${prefix}" -name recstore.pc -print -quit)")
check_installed() {
  local f
  for f in include/recstore/recstore.h include/recstore/config.h; do
    [[ -f "${prefix}/${f}" ]] || { echo "missing ${prefix}/${f}"; return 1; }
  done
  [[ -f "${pcdir}/recstore.pc" ]] || { echo "no recstore.pc under ${prefix}"; return 1; }
  find "${prefix}" -name recstoreConfig.cmake | grep -q . || { echo "no recstoreConfig.cmake"; return 1; }
  find "${prefix}" -name recstoreConfigVersion.cmake | grep -q . || { echo "no ConfigVersion"; return 1; }
  # No source-tree or build-tree path may leak into the installed package.
  if grep -rlF --include='*.cmake' --include='*.pc' --include='*.h' \
    -e "${root}" -e "${work}/build" "${prefix}"; then
    echo "the files above name the source or build tree"
    return 1
  fi
}
step "check the installed files" check_installed

# The consumer, as its users build it; -Wall -Wextra -Werror show that recstore's headers
# compile cleanly in a user's program.
step "configure the consumer with find_package(recstore) (CMAKE_PREFIX_PATH=${prefix})" \
  cmake -S "${here}" -B "${work}/consumer" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="${prefix}" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror"
step "build the consumer" cmake --build "${work}/consumer" -j "${jobs}"
mkdir "${work}/data-cmake" "${work}/data-pkgconfig" "${work}/data-static"
step "run the consumer" "${work}/consumer/app" "${work}/data-cmake"

# The same program with pkg-config: plain `--libs` (the static librecstore.a's Abseil
# libraries are in recstore.pc's Requires).
build_with_pkg_config() {
  local flags
  flags=$(PKG_CONFIG_PATH="${pcdir}" pkg-config --cflags --libs recstore) || return 1
  echo "c++ -std=c++20 main.cc ${flags}"
  # shellcheck disable=SC2086  # the flags are words
  c++ -std=c++20 -O2 -Wall -Wextra -Werror "${here}/main.cc" ${flags} -o "${work}/app-pkgconfig"
}
step "build the consumer with pkg-config (PKG_CONFIG_PATH=${pcdir})" build_with_pkg_config
step "run the pkg-config consumer" "${work}/app-pkgconfig" "${work}/data-pkgconfig"

# Fully static (Abseil's .a libraries too): the link order recstore.pc and Abseil's .pc files
# give must be right, and nothing recstore needs may be missing from them.
build_static() {
  local flags
  flags=$(PKG_CONFIG_PATH="${pcdir}" pkg-config --cflags --libs --static recstore) || return 1
  echo "c++ -std=c++20 -static main.cc ${flags}"
  # shellcheck disable=SC2086  # the flags are words
  c++ -std=c++20 -O2 -static "${here}/main.cc" ${flags} -o "${work}/app-static"
}
step "link the consumer fully static (pkg-config --static, -static)" build_static
step "run the static consumer" "${work}/app-static" "${work}/data-static"

ok=1
echo "cmake-consumer: OK"
