#!/usr/bin/env bash
# End-to-end tests of `recstore checkpoint DIR NAME --show`: the listing and hex dump, --keep
# and --bytes, an empty set, a damaged newest version (exit 1, fallback), and usage errors;
# dump, tail and verify given a checkpoint set's name point at `checkpoint` and the log.
# Usage: checkpoint_cli_test.sh PATH_TO_RECSTORE PATH_TO_CHECKPOINT_FIXTURE
set -u

RECSTORE="$1"
FIXTURE="$2"
T="${TEST_TMPDIR:?TEST_TMPDIR must be set}/checkpoint_cli_test"
rm -rf "$T"
mkdir -p "$T"

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run ARGS...: runs the tool; sets rc, out (stdout) and err (stderr).
run() {
  "$RECSTORE" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  out="$(cat "$T/out")"
  err="$(cat "$T/err")"
}

expect_rc() {  # WANT WHAT
  if [[ "$rc" -ne "$1" ]]; then
    fail "$2: exit code $rc, want $1; stderr: $err"
  fi
}

expect_out() {  # WANT WHAT
  if [[ "$out" != "$1" ]]; then
    fail "$2: stdout differs:"
    diff <(echo "$1") <(echo "$out") >&2
  fi
}

expect_in() {  # TEXT NEEDLE WHAT
  if [[ "$1" != *"$2"* ]]; then
    fail "$3: output lacks '$2'; got: $1"
  fi
}

S="$T/store"
"$FIXTURE" "$S" || fail "checkpoint_fixture failed"

# --- usage errors ----------------------------------------------------------------------------
run checkpoint "$S"
expect_rc 2 "checkpoint without a name"
expect_in "$err" "recstore: checkpoint: wrong number of arguments" "checkpoint without a name"

run checkpoint "$S" model
expect_rc 2 "checkpoint without --show"
expect_in "$err" "use --show" "checkpoint without --show"

run checkpoint "$S" model --show --keep 0
expect_rc 2 "--keep 0"

run checkpoint "$S" nope --show
expect_rc 2 "a missing set"
expect_in "$err" "recstore: checkpoint set 'nope'" "a missing set"

run checkpoint "$T/none" model --show
expect_rc 2 "a missing store"

run --help
expect_in "$out" "checkpoint DIR NAME --show" "--help"

# --- the listing ----------------------------------------------------------------------------
run checkpoint "$S" model --show
expect_rc 0 "show"
expect_out "checkpoint set model (log checkpoint.model): records [0, 3), keep 2
         seq  time (UTC)                             bytes
           2  2026-11-24T00:00:03.000000000Z            38
           1  2026-11-24T00:00:01.500000000Z            14
newest intact: seq 2, first 38 of 38 bytes
  00000000  74 68 69 72 64 2d 76 65 72 73 69 6f 6e 2d 70 61  |third-version-pa|
  00000010  79 6c 6f 61 64 2d 30 31 32 33 34 35 36 37 38 39  |yload-0123456789|
  00000020  61 62 63 64 65 66                                |abcdef|" "show"

run checkpoint "$S" model --show --keep=3 --bytes 4
expect_rc 0 "show --keep 3 --bytes 4"
expect_in "$out" "           0  2026-11-24T00:00:00.000000000Z            13" "--keep 3"
expect_in "$out" "newest intact: seq 2, first 4 of 38 bytes
  00000000  74 68 69 72                                      |thir|" "--bytes 4"

run checkpoint "$S" empty --show
expect_rc 0 "an empty set"
expect_out "checkpoint set empty (log checkpoint.empty): records [0, 0), keep 2
no checkpoint saved" "an empty set"

# --- dump, tail and verify given the name of a checkpoint set ---------------------------------
for cmd in dump tail; do
  run "$cmd" "$S" model
  expect_rc 2 "$cmd of a checkpoint set's name"
  expect_out "" "$cmd of a checkpoint set's name"
  if [[ "$err" != "recstore: $cmd: no collection 'model' in store $S; 'model' is a checkpoint set: use \`recstore checkpoint $S model --show\`, or $cmd 'checkpoint.model'" ]]; then
    fail "$cmd of a checkpoint set's name: got: $err"
  fi
done
run verify "$S" model
expect_rc 2 "verify of a checkpoint set's name"
expect_in "$out" "model: ERROR: collection 'model' does not exist in store $S; 'model' is a checkpoint set" \
  "verify of a checkpoint set's name"
# The log itself dumps; a name that is neither gets no hint.
run dump "$S" checkpoint.model --limit 1
expect_rc 0 "dump of the checkpoint log"
expect_in "$out" '{"seq":0,"bytes":"' "dump of the checkpoint log"
run dump "$S" nope
expect_rc 2 "dump of a missing collection"
expect_in "$err" "recstore: dump: collection 'nope' does not exist" "dump of a missing collection"
[[ "$err" != *"checkpoint set"* ]] || fail "dump of a missing collection hints at a checkpoint set: $err"

# --- a damaged newest version ---------------------------------------------------------------
seg="$(ls "$S"/*-checkpoint.model/*.seg)"
offset="$(grep -obUa "yload-0123" "$seg" | head -n 1 | cut -d: -f1)"
if [[ -z "$offset" ]]; then
  fail "the newest payload is not in $seg"
else
  printf 'Y' | dd of="$seg" bs=1 seek="$offset" conv=notrunc status=none
fi
run checkpoint "$S" model --show
expect_rc 1 "a damaged newest version"
expect_in "$err" "recstore: checkpoint set 'model': 1 of the 2 kept versions are damaged" \
  "a damaged newest version"
expect_in "$out" "newest intact: seq 1, first 14 of 14 bytes" "a damaged newest version"
expect_in "$out" "|second version|" "a damaged newest version"

if [[ "$failures" -ne 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "PASS"
