#!/usr/bin/env bash
# The recstore tool started with standard descriptors closed. Before the fix, with stdout and
# stderr closed the tool opened store files as descriptors 1 and 2 and wrote its own messages
# into a segment (its header destroyed: `verify` said bad magic); with stdin closed, `append`
# read the LOCK file as its input and appended the writer's pid as a record. Every command
# here runs with some of 0-2 closed; afterwards `verify` must find every segment header and
# record intact, and the records must be exactly those appended through an open stdin.
# Usage: closed_fds_cli_test.sh PATH_TO_RECSTORE
set -u

RECSTORE="$1"
T="${TEST_TMPDIR:?TEST_TMPDIR must be set}/closed_fds_cli_test"
rm -rf "$T"
mkdir -p "$T"
S="$T/store"

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# The store holds exactly the byte records given, one per argument, in the log "log", and
# every segment of every collection checks: `verify` exits 0 and prints "ok".
expect_store() {  # WHAT RECORD...
  local what=$1
  shift
  local out rc
  out=$("$RECSTORE" verify "$S" 2>&1)
  rc=$?
  if [[ $rc -ne 0 || "$out" != *"log: ok"* ]]; then
    fail "$what: verify exited $rc: $out"
  fi
  local want="" seq=0 r
  for r in "$@"; do
    want+="{\"seq\":${seq},\"bytes\":\"${r}\"}"$'\n'
    seq=$((seq + 1))
  done
  out=$("$RECSTORE" dump "$S" log 2>&1)$'\n'
  if [[ $# -eq 0 ]]; then want=$'\n'; fi
  if [[ "$out" != "$want" ]]; then
    fail "$what: the log holds other records:"
    diff <(printf '%s' "$want") <(printf '%s' "$out") >&2
  fi
}

# A baseline, appended normally.
printf 'a\nb\nc\n' | "$RECSTORE" append "$S" log >/dev/null 2>&1 || fail "baseline append"
expect_store "baseline" a b c

# stdout and stderr closed, output requested: the "durable" lines go nowhere.
printf 'd\ne\n' | "$RECSTORE" append "$S" log --print-durable >&- 2>&-
rc=$?
[[ $rc -eq 0 ]] || fail "append with stdout and stderr closed: exit $rc, want 0"
expect_store "append with stdout and stderr closed" a b c d e

# stdout and stderr closed, and an error while the writer has its segments open: reading a
# directory as input fails, and the error message must not reach a segment.
"$RECSTORE" append "$S" log <"$T" >&- 2>&-
rc=$?
[[ $rc -eq 2 ]] || fail "append of unreadable input with stdout and stderr closed: exit $rc, want 2"
expect_store "failed append with stdout and stderr closed" a b c d e

# The same error with only stderr closed, and with only stdout closed.
"$RECSTORE" append "$S" log <"$T" 2>&-
[[ $? -eq 2 ]] || fail "append of unreadable input with stderr closed"
"$RECSTORE" append "$S" log <"$T" >&-
[[ $? -eq 2 ]] || fail "append of unreadable input with stdout closed"
expect_store "failed appends with stdout or stderr closed" a b c d e

# Read-only commands and their errors, with stdout and stderr closed.
for cmd in "info $S" "verify $S" "dump $S log" "dump $S nosuch" "verify $S nosuch"; do
  # shellcheck disable=SC2086
  "$RECSTORE" $cmd >&- 2>&-
done
expect_store "read-only commands with stdout and stderr closed" a b c d e

# stdin closed: append reads an empty input (not a store file) and appends nothing.
"$RECSTORE" append "$S" log <&-
rc=$?
[[ $rc -eq 0 ]] || fail "append with stdin closed: exit $rc, want 0"
expect_store "append with stdin closed" a b c d e
"$RECSTORE" append "$S" log --print-durable <&- >&- 2>&-
rc=$?
[[ $rc -eq 0 ]] || fail "append with 0, 1 and 2 closed: exit $rc, want 0"
expect_store "append with 0, 1 and 2 closed" a b c d e

# stdin closed on a new store: the log is created and stays empty.
S2="$T/store2"
"$RECSTORE" append "$S2" log <&- 2>&-
rc=$?
[[ $rc -eq 0 ]] || fail "append with stdin closed to a new store: exit $rc, want 0"
S_SAVED=$S
S=$S2
expect_store "append with stdin closed to a new store"
S=$S_SAVED

# And the store still takes appends as before.
printf 'f\n' | "$RECSTORE" append "$S" log >/dev/null 2>&1 || fail "append after the rest"
expect_store "append after the rest" a b c d e f

if ((failures > 0)); then
  echo "${failures} check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
