#!/usr/bin/env bash
# tests/fuzz/run_fuzzers.sh [--seconds N] [--jobs J] [--out DIR]
#
# Builds the libFuzzer targets of tests/fuzz with clang, ASan and UBSan (--config=fuzz, in
# its own Bazel output base, since switching compilers discards the C++ cache), writes each
# target's seed corpus with the engine (seed_corpus), and runs every target for N seconds
# (default 60), J at a time (default 2). Prints each target's executions, coverage and corpus
# size, and a last line "fuzz: P passed, F failed"; exits non-zero if any target crashed.
# Shuts its Bazel server down at the end.
#
# Everything goes to DIR (default: $RECSTORE_FUZZ_OUT, else /tmp/recstore-fuzz):
#   DIR/corpus/TARGET/     the growing corpus, kept between runs
#   DIR/seeds/TARGET/      the engine-made seeds of this run
#   DIR/artifacts/TARGET/  crash-*, leak-*, timeout-* inputs: replay one with
#                          bazel-bin/tests/fuzz/TARGET_fuzzer FILE (any build), then add it to
#                          EdgeInputs in tests/fuzz/seeds.cc once fixed
#   DIR/logs/TARGET.log    libFuzzer's output
#
# clang and libclang-rt-14-dev come with ./bazelw's package list, so a fresh clone works.
set -euo pipefail

seconds=60
jobs=2
out="${RECSTORE_FUZZ_OUT:-/tmp/recstore-fuzz}"
while (($# > 0)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--seconds N] [--jobs J] [--out DIR]" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "${root}"
targets=(manifest segment_header record_reader mapped_file)
bazel=(./bazelw "--output_base=${RECSTORE_FUZZ_OUTPUT_BASE:-${HOME}/.cache/recstore-fuzz}")
trap '"${bazel[@]}" shutdown >/dev/null 2>&1 || true' EXIT

echo "fuzz: building with --config=fuzz (clang, -fsanitize=fuzzer,address,undefined)"
labels=(//tests/fuzz:seed_corpus)
for t in "${targets[@]}"; do labels+=("//tests/fuzz:${t}_fuzzer"); done
# gold warns about every ASan check symbol it cannot export; the warnings are harmless.
set +e
"${bazel[@]}" build --config=fuzz "${labels[@]}" 2>&1 | grep -v "Cannot export local symbol"
build_rc=${PIPESTATUS[0]}
set -e
if ((build_rc != 0)); then
  echo "fuzz: build failed"
  echo "fuzz: 0 passed, ${#targets[@]} failed"
  exit 1
fi
bin="$("${bazel[@]}" info --config=fuzz bazel-bin 2>/dev/null)/tests/fuzz"

mkdir -p "${out}/tmp" "${out}/logs"
rm -rf "${out}/seeds"
TMPDIR="${out}/tmp" "${bin}/seed_corpus" "${out}/seeds"

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

run_target() {  # run_target TARGET: one libFuzzer run; its exit status is the result
  local t=$1
  mkdir -p "${out}/corpus/${t}" "${out}/artifacts/${t}"
  TMPDIR="${out}/tmp" "${bin}/${t}_fuzzer" -max_total_time="${seconds}" -timeout=30 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="${out}/artifacts/${t}/" \
    "${out}/corpus/${t}" "${out}/seeds/${t}" >"${out}/logs/${t}.log" 2>&1
}

echo "fuzz: running ${targets[*]} for ${seconds}s each, ${jobs} at a time; output in ${out}"
declare -A pid_of rc_of
running=0
for t in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  run_target "${t}" &
  pid_of[${t}]=$!
  running=$((running + 1))
done
for t in "${targets[@]}"; do
  set +e
  wait "${pid_of[${t}]}"
  rc_of[${t}]=$?
  set -e
done

passed=0
failed=0
for t in "${targets[@]}"; do
  log="${out}/logs/${t}.log"
  execs=$(grep -oE 'stat::number_of_executed_units: +[0-9]+' "${log}" | grep -o '[0-9]*$' | tail -1 || true)
  rate=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "${log}" | grep -o '[0-9]*$' | tail -1 || true)
  added=$(grep -oE 'stat::new_units_added: +[0-9]+' "${log}" | grep -o '[0-9]*$' | tail -1 || true)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "${log}" | tail -1 || true)
  corpus=$(find "${out}/corpus/${t}" -type f | wc -l)
  if ((rc_of[${t}] == 0)); then
    result=passed
    passed=$((passed + 1))
  else
    result="FAILED (exit ${rc_of[${t}]})"
    failed=$((failed + 1))
  fi
  echo "fuzz: ${t}: ${result}; ${execs} execs (${rate}/s), ${cov:-cov: ?}, corpus ${corpus} files (${added} new)"
  if ((rc_of[${t}] != 0)); then
    grep -E 'ERROR|invariant failed|SUMMARY|Test unit written' "${log}" | head -5 | sed 's/^/fuzz:   /'
    ls "${out}/artifacts/${t}" | sed "s|^|fuzz:   artifact ${out}/artifacts/${t}/|"
  fi
done
echo "fuzz: ${passed} passed, ${failed} failed"
((failed == 0))
