#!/usr/bin/env bash
# End-to-end tests of `recstore compact`: --before, --key, --key-prefix, --merge, the summary,
# a second writer, and usage errors.
# Usage: compact_cli_test.sh PATH_TO_RECSTORE PATH_TO_COMPACT_FIXTURE
set -u

RECSTORE="$1"
FIXTURE="$2"
T="${TEST_TMPDIR:?TEST_TMPDIR must be set}/compact_cli_test"
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

# The first sequence number of the last (active) segment file of COLLECTION, from `info`.
active_first_seq() {  # DIR COLLECTION
  "$RECSTORE" info "$1" | sed -n "/^collection $2\$/,/^\$/p" |
    sed -n 's/^    \([0-9]\{20\}\)\.seg$/\1/p' | tail -n 1 | sed 's/^0*\([0-9]\)/\1/'
}

S="$T/store"
"$FIXTURE" "$S" || fail "compact_fixture failed"

# --- usage errors ----------------------------------------------------------------------------
run compact "$S"
expect_rc 2 "compact without a collection"
expect_in "$err" "recstore: compact: wrong number of arguments" "compact without a collection"

run compact "$S" ticks --key key --merge
expect_rc 2 "--key with --merge"
expect_in "$err" "at most one of" "--key with --merge"

run compact "$S" ticks --before 1 --key-prefix 2
expect_rc 2 "--before with --key-prefix"

run compact "$S" ticks --before x
expect_rc 2 "--before x"
expect_in "$err" "--before needs a non-negative integer" "--before x"

run compact "$S" log --key-prefix 0
expect_rc 2 "--key-prefix 0"

run compact "$S" ticks --key nosuch
expect_rc 2 "--key with an unknown field"
expect_in "$err" "collection 'ticks' has no field 'nosuch' (fields: key, value)" \
  "--key with an unknown field"

run compact "$S" log --key key
expect_rc 2 "--key on a byte collection"
expect_in "$err" "--key needs a fixed-size collection" "--key on a byte collection"

run compact "$S" ticks --key-prefix 2
expect_rc 2 "--key-prefix on a fixed collection"
expect_in "$err" "--key-prefix needs a byte collection" "--key-prefix on a fixed collection"

run compact "$S" missing
expect_rc 2 "compact of a missing collection"
expect_in "$err" "recstore: compact: " "compact of a missing collection"

run compact "$T/nostore" ticks
expect_rc 2 "compact of a missing store"
[[ ! -e "$T/nostore" ]] || fail "compact created a store"

# --- --before on a byte log ------------------------------------------------------------------
printf 'zero\none\ntwo\nthree\nfour\nfive\nsix\n' | "$RECSTORE" append "$S" events ||
  fail "append events"

run compact "$S" events --before 3
expect_rc 0 "compact --before 3"
expect_in "$out" "compact events: truncate before 3" "compact --before summary"
expect_in "$out" "first seq:   3" "compact --before summary"
[[ "$err" != *$'\r'* ]] || fail "progress bar drawn although stderr is not a terminal"

run info "$S"
expect_rc 0 "info after --before"
expect_in "$(echo "$out" | sed -n '/^collection events$/,/^$/p')" \
  "records:       4 (begin 3, end 7)" "info after --before"

run dump "$S" events
expect_rc 0 "dump after --before"
expect_out '{"seq":3,"bytes":"three"}
{"seq":4,"bytes":"four"}
{"seq":5,"bytes":"five"}
{"seq":6,"bytes":"six"}' "dump after --before"

run compact "$S" events --before 100
expect_rc 2 "compact --before past the end"
expect_in "$err" "recstore: compact: truncate before 100: " "compact --before past the end"

# --- --key on a fixed collection -------------------------------------------------------------
# Records below the active segment (seqs 0-5119) are all superseded by a newer record of their
# key, except 0, 1000, ..., 5000, whose keys are unique.
run compact "$S" ticks --key key
expect_rc 0 "compact --key"
expect_in "$out" "compact ticks: keep the newest record per key" "compact --key summary"
expect_in "$out" "records:     5120 in, 6 kept" "compact --key summary"
expect_in "$out" "generation:  1" "compact --key summary"

run info "$S"
expect_rc 0 "info after compact --key"
expect_in "$(echo "$out" | sed -n '/^collection ticks$/,/^$/p')" \
  "compaction:    generation 1, records below 5120 in compacted segments" "info after --key"

run dump "$S" ticks --limit 8 --format csv
expect_rc 0 "dump after compact --key"
expect_out 'seq,key,value
0,1000,0
1000,2000,1000
2000,3000,2000
3000,4000,3000
4000,5000,4000
5000,6000,5000
5120,0,5120
5121,1,5121' "dump after compact --key"

run dump "$S" ticks --from 5999
expect_out '{"seq":5999,"key":9,"value":5999}' "dump of the last tick after compact --key"
[[ "$("$RECSTORE" dump "$S" ticks | wc -l)" -eq 886 ]] ||
  fail "dump after compact --key: want 6 + 880 records"

run verify "$S" ticks
expect_rc 0 "verify after compact --key"

run info "$S"
ticks_info="$(echo "$out" | sed -n '/^collection ticks$/,/^$/p')"
expect_in "$ticks_info" "segment files: 2 in $S/000001-ticks
    c00000000000000000001-00000000000000000000.seg
    00000000000000005120.seg" "info lists the compacted segment first"

# --- --merge (and the default) on the compacted collection -----------------------------------
run compact "$S" ticks --merge
expect_rc 0 "compact --merge"
expect_in "$out" "compact ticks: merge" "compact --merge summary"
expect_in "$out" "records:     6 in, 6 kept" "compact --merge summary"
expect_in "$out" "generation:  2" "compact --merge summary"

run compact "$S" ticks
expect_rc 0 "compact without an option"
expect_in "$out" "compact ticks: merge" "compact without an option merges"

run dump "$S" ticks --limit 7 --format csv
expect_out 'seq,key,value
0,1000,0
1000,2000,1000
2000,3000,2000
3000,4000,3000
4000,5000,4000
5000,6000,5000
5120,0,5120' "dump after merges"

# --- --key-prefix on a byte log with small segments ------------------------------------------
# 4000 lines "k<i%5>:<i>", except every 1000th, "x<i/1000>:<i>", whose 3-byte key is unique.
awk 'BEGIN { for (i = 0; i < 4000; i++) printf "%s%d:%06d\n", (i % 1000 ? "k" : "x"),
  (i % 1000 ? i % 5 : i / 1000), i }' | "$RECSTORE" append "$S" log || fail "append log"
active="$(active_first_seq "$S" log)"
if [[ -z "$active" || "$active" -le 1000 || "$active" -ge 4000 ]]; then
  fail "log: want the active segment to start between 1000 and 4000, got '$active'"
else
  # Kept: the x lines below the active segment; then everything from the active segment on.
  want=""
  kept=0
  for ((i = 0; i < active; i += 1000)); do
    want+="{\"seq\":$i,\"bytes\":\"x$((i / 1000)):$(printf %06d "$i")\"}"$'\n'
    kept=$((kept + 1))
  done
  want+="{\"seq\":$active,\"bytes\":\"k$((active % 5)):$(printf %06d "$active")\"}"
  run compact "$S" log --key-prefix 3
  expect_rc 0 "compact --key-prefix"
  expect_in "$out" "records:     $active in, $kept kept" "compact --key-prefix summary"
  run dump "$S" log --limit $((kept + 1))
  expect_out "$want" "dump after compact --key-prefix"
  [[ "$("$RECSTORE" dump "$S" log | wc -l)" -eq $((kept + 4000 - active)) ]] ||
    fail "dump after compact --key-prefix: wrong record count"
fi

# --- the progress bar on a terminal (when script(1) is there to provide one) -----------------
if command -v script >/dev/null 2>&1; then
  script -qec "'$RECSTORE' compact '$S' ticks --merge" /dev/null >"$T/tty" 2>&1
  rc=$?
  err="$(cat "$T/tty")"
  expect_rc 0 "compact --merge on a terminal"
  tty_out="$(tr -d '\r' <"$T/tty")"
  expect_in "$tty_out" "compact: [##############################] 6/6 records" \
    "the progress bar ends full"
  expect_in "$tty_out" "100%" "the progress bar ends at 100%"
  expect_in "$(cat "$T/tty")" $'\rcompact: [' "the progress bar is drawn after a carriage return"
  expect_in "$tty_out" "compact ticks: merge" "summary after the progress bar"
else
  echo "script(1) not found: progress bar not checked"
fi

# --- another writer holds the store ----------------------------------------------------------
mkfifo "$T/in" "$T/durable"
"$RECSTORE" append "$S" events --sync-every 1 --print-durable <"$T/in" >"$T/durable" &
writer=$!
exec 3>"$T/in" 4<"$T/durable"
echo seven >&3
read -r -t 60 line <&4 || fail "the appending writer printed nothing"
[[ "${line:-}" == "durable_end 8" ]] || fail "appending writer: got '${line:-}', want 'durable_end 8'"
run compact "$S" events --before 5
expect_rc 2 "compact while another process writes"
expect_in "$err" "recstore: compact: " "compact while another process writes"
expect_in "$err" "pid $writer" "compact names the writer's pid"
exec 3>&- 4<&-
wait "$writer" || fail "the appending writer failed"

run dump "$S" events --limit 1
expect_out '{"seq":3,"bytes":"three"}' "a refused compact leaves the collection as it was"

if [[ "$failures" -ne 0 ]]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
