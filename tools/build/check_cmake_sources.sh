#!/usr/bin/env bash
# tools/build/check_cmake_sources.sh: checks that CMakeLists.txt builds the files Bazel's
# //src:recstore does. Fails (exit 1), naming each file and the build that lacks it, when
#   - a .cc or .h file under src/ or include/recstore/ is in //src:recstore's dependency
#     closure (Bazel) but not in CMakeLists.txt, or the reverse;
#   - a .cc or .h file under src/ or include/recstore/ is in neither build (no Bazel target
#     under //src or //include has it, and CMakeLists.txt does not list it).
# Files of other Bazel targets under src/ (//src/mapped:inspect, for the tools) are not part
# of the library and stay out of CMakeLists.txt. Prints "cmake sources: N files, in sync" on
# success; exits 2 when Bazel cannot answer.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "${root}"
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT

# The library's own files: .cc and .h under src/ and include/recstore/.
ours() { grep -E '^(src/.+|include/recstore/[^/]+)\.(cc|h)$' || true; }

# bazel_sources QUERY_EXPR: the source files of the query's result as repository paths
# (//src/log:appender.cc -> src/log/appender.cc); external (@repo//) labels are dropped.
bazel_sources() {
  if ! ./bazelw query --output=label "kind(\"source file\", $1)" >"${tmp}/labels" \
    2>"${tmp}/query.err"; then
    echo "check_cmake_sources: bazel query failed for $1:" >&2
    cat "${tmp}/query.err" >&2
    exit 2
  fi
  sed -nE 's#^@?//([^:]*):(.+)$#\1/\2#p' "${tmp}/labels" | sed 's#^/##' | ours | sort -u
}
bazel_sources 'deps(//src:recstore)' >"${tmp}/bazel"
bazel_sources 'deps(//src/... + //include/...)' >"${tmp}/bazel_any"
if [[ ! -s "${tmp}/bazel" ]]; then
  echo "check_cmake_sources: bazel query found no source files for //src:recstore" >&2
  exit 2
fi

# CMakeLists.txt's list: every src/... or include/recstore/... path outside comments.
sed 's/#.*//' CMakeLists.txt |
  grep -oE '(^|[[:space:]("]|\$\{CMAKE_CURRENT_SOURCE_DIR\}/)(src|include/recstore)/[^[:space:]()"]+' |
  sed -E 's#^[[:space:]("]*(\$\{CMAKE_CURRENT_SOURCE_DIR\}/)?##' | ours >"${tmp}/cmake_all"
sort -u "${tmp}/cmake_all" >"${tmp}/cmake"

# What is on disk.
find src include/recstore -type f \( -name '*.cc' -o -name '*.h' \) | ours | sort -u >"${tmp}/disk"

problems=0
report() {  # report FILE MESSAGE
  echo "$1: $2"
  problems=$((problems + 1))
}
while read -r f; do
  report "${f}" "in Bazel's //src:recstore but not in CMakeLists.txt"
done < <(comm -23 "${tmp}/bazel" "${tmp}/cmake")
while read -r f; do
  if [[ -e "${f}" ]]; then
    report "${f}" "in CMakeLists.txt but not in Bazel's //src:recstore"
  else
    report "${f}" "in CMakeLists.txt but not in Bazel's //src:recstore (and no such file)"
  fi
done < <(comm -13 "${tmp}/bazel" "${tmp}/cmake")
while read -r f; do
  report "${f}" "in neither build: no Bazel target under //src or //include, not in CMakeLists.txt"
done < <(sort -u "${tmp}/bazel_any" "${tmp}/cmake" | comm -23 "${tmp}/disk" -)
while read -r f; do
  report "${f}" "listed more than once in CMakeLists.txt"
done < <(sort "${tmp}/cmake_all" | uniq -d)

if ((problems > 0)); then
  echo "cmake sources: ${problems} problem(s): CMakeLists.txt lists the srcs and hdrs of" \
    "//src:recstore's targets, and each file under src/ and include/recstore/ needs a build"
  exit 1
fi
echo "cmake sources: $(wc -l <"${tmp}/cmake") files, in sync"
