#!/usr/bin/env bash
# Builds and runs this workspace as a user of recstore would, with a fresh Bazel output base
# (so nothing built by recstore's own workspace is reused), then shuts its Bazel server down.
# Usage: examples/bazel-consumer/build.sh   (prints "bazel-consumer: OK" when it worked)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "${here}/../.." && pwd)
work=$(mktemp -d)
cleanup() {
  (cd "${here}" && bazel --output_base="${work}/output" shutdown >/dev/null 2>&1) || true
  rm -rf "${work}"
}
trap cleanup EXIT

# Bazel and the system libraries, from Debian's archive when missing (recstore's ./bazelw).
"${root}/bazelw" --setup-only

cd "${here}"
echo "bazel-consumer: bazel run //:app (output base ${work}/output)"
bazel --output_base="${work}/output" run --symlink_prefix=/ //:app -- "${work}/data"
echo "bazel-consumer: OK"
