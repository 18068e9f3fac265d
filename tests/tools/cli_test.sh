#!/usr/bin/env bash
# End-to-end tests of the recstore tool: demo, info, verify, dump, append, exit codes.
# Usage: cli_test.sh PATH_TO_RECSTORE (Bazel passes it as $(location //tools:recstore)).
set -u

RECSTORE="$1"
T="${TEST_TMPDIR:?TEST_TMPDIR must be set}/cli_test"
rm -rf "$T"
mkdir -p "$T"

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run ARGS... [< input]: runs the tool; sets rc, out (stdout) and err (stderr).
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

# One line "recstore: ..." on stderr.
expect_reason() {  # WHAT
  if [[ "$err" != *"recstore: "* ]]; then
    fail "$1: no 'recstore: ' reason on stderr; got: $err"
  fi
}

# Overwrites one byte at OFFSET of FILE with 0xff.
corrupt() {  # FILE OFFSET
  printf '\xff' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# --- usage and exit codes --------------------------------------------------------------------
run
expect_rc 2 "no arguments"
expect_in "$err" "usage: recstore" "no arguments"
expect_reason "no arguments"

run --help
expect_rc 0 "--help"
expect_in "$out" "usage: recstore" "--help"
expect_in "$out" "dump DIR COLLECTION" "--help"

run frobnicate
expect_rc 2 "unknown command"
expect_reason "unknown command"

run dump "$T/none" trades --bogus
expect_rc 2 "unknown flag"
expect_in "$err" "unknown flag '--bogus'" "unknown flag"

run dump "$T/none"
expect_rc 2 "missing argument"
expect_reason "missing argument"

run verify "$T/none"
expect_rc 2 "verify of a missing store"
expect_in "$err" "does not exist" "verify of a missing store"

# A store path that is a regular file, or whose parent is missing.
echo "not a store" >"$T/afile"
run append "$T/afile" log </dev/null
expect_rc 2 "append to a regular file"
expect_in "$err" "recstore: append: store path $T/afile exists but is not a directory" \
  "append to a regular file"
run verify "$T/afile"
expect_rc 2 "verify of a regular file"
expect_in "$err" "store path $T/afile exists but is not a directory" "verify of a regular file"
run append "$T/no/such/parent" log </dev/null
expect_rc 2 "append below a missing parent"
expect_in "$err" "parent directory $T/no/such does not exist" "append below a missing parent"
[[ ! -e "$T/no" ]] || fail "append below a missing parent created $T/no"

# --- demo ------------------------------------------------------------------------------------
DEMO="$T/demo"
run demo "$DEMO" --records 20000
expect_rc 0 "demo"
expect_in "$out" "trades: 20000 records of 64 bytes (Trade, 12 fields)" "demo counts"
expect_in "$out" "events: 2000 records" "demo counts"
for step in "append trades" "append events" "sync" "reopen" "verify" "scan trades" \
  "scan events" "get trades" "get events"; do
  expect_in "$out" "  $step " "demo throughput table"
done
expect_in "$err" "demo: appending 20000 Trade records" "demo progress on stderr"
# The build mode, labelled, and the throughput table titled with it.
build_line="$(grep '^build: ' "$T/out")"
[[ "$build_line" =~ ^build:\ (optimized|NOT\ optimized\ \(compiled\ without\ -O\)),\ assertions\ (on\ \(no\ NDEBUG\)|off\ \(NDEBUG\)),\ .*(GCC|clang) ]] ||
  fail "demo: no or malformed build line: '$build_line'"
if [[ "$build_line" == "build: optimized, "* && "$build_line" != *Sanitizer* ]]; then
  expect_in "$out" "throughput (optimized build)" "demo throughput title"
elif [[ "$build_line" == "build: optimized, "* ]]; then
  expect_in "$out" "throughput (sanitizer build: " "demo throughput title"
else
  expect_in "$out" "throughput (UNOPTIMIZED build: not representative" "demo throughput title"
fi
[[ -d "$DEMO/000001-trades" ]] || fail "demo: no trades folder in $DEMO"

run demo "$DEMO" --records 10
expect_rc 2 "demo on a store that has collections"
expect_in "$err" "already holds" "demo on a store that has collections"

run demo --records 1000
expect_rc 0 "demo in a temporary directory"
tmp_dir="$(sed -n 's/^recstore demo: store in \(.*\) (removed at exit)$/\1/p' "$T/out")"
[[ -n "$tmp_dir" && ! -e "$tmp_dir" ]] || fail "demo: temporary store '$tmp_dir' left behind"

# --- info ------------------------------------------------------------------------------------
run info "$DEMO"
expect_rc 0 "info"
expect_in "$out" "store $DEMO: 2 collections" "info"
expect_in "$out" "collection trades" "info"
expect_in "$out" "schema:        demo::Trade (64 bytes, align 8, 12 fields)" "info schema"
for field in ts_ns order_id price qty symbol_id trader_id venue fee flags side maker levels; do
  expect_in "$out" "    $field " "info field list"
done
expect_in "$out" "venue      char        40      8      8" "info char array field"
expect_in "$out" "levels     int16       56      8      4" "info int16 array field"
expect_in "$out" "kind:          variable" "info events kind"
expect_in "$out" "00000000000000000000.seg" "info segment files"
expect_in "$out" "records:       20000 (begin 0, end 20000)" "info records"
expect_in "$out" "recovery:      clean" "info recovery"

# --- dump of typed records -------------------------------------------------------------------
run dump "$DEMO" trades --from 5 --limit 1
expect_rc 0 "dump trades json"
expect_out '{"seq":5,"ts_ns":1700000000000005000,"order_id":36,"price":100.05,"qty":6,"symbol_id":5,"trader_id":-1,"venue":"XNYS","fee":1.75,"flags":5,"side":1,"maker":false,"levels":[-45,-44,-43,-42]}' \
  "dump trades json"

run dump "$DEMO" trades --from=19998 --format csv
expect_rc 0 "dump trades csv"
expect_out 'seq,ts_ns,order_id,price,qty,symbol_id,trader_id,venue,fee,flags,side,maker,levels
19998,1700000000019998000,139987,109.98,17,498,-2,"BATS",2.5,19998,0,true,[48;49;-50;-49]
19999,1700000000019999000,139994,109.99,18,499,-1,"IEXG",2.75,19999,1,false,[49;-50;-49;-48]' \
  "dump trades csv"

run dump "$DEMO" events --from 3 --limit 1
expect_rc 0 "dump events"
expect_out '{"seq":3,"bytes":"2024-05-01T12:00:00.002991Z WARN  orders req=00000003 user=3 latency_us=111 path=/api/v1/orders/39"}' \
  "dump events"

# --- append, then dump the byte records ------------------------------------------------------
S="$T/store"
"$RECSTORE" append "$S" log --sync-every 2 --print-durable >"$T/out" 2>"$T/err" <<'EOF'
first line
say "hi", twice
	tab and \ backslash
four
five
EOF
rc=$?
out="$(cat "$T/out")"
err="$(cat "$T/err")"
expect_rc 0 "append"
# The durable end after each sync: one past the last durable sequence number, as Sync()
# returns it and info prints it.
expect_out 'durable_end 2
durable_end 4
durable_end 5' "append --sync-every 2 --print-durable"

printf 'ctl\001\177 \303\251\nno newline at end' | "$RECSTORE" append "$S" log --print-durable \
  >"$T/out" 2>"$T/err"
rc=$?
out="$(cat "$T/out")"
expect_rc 0 "second append"
expect_out 'durable_end 7' "second append prints the durable end once"

run append "$S" log --print-durable </dev/null
expect_rc 0 "append of nothing"
expect_out 'durable_end 7' "append of nothing reports what is durable"
run info "$S"
expect_in "$out" "  durable end:   7" "info prints the same durable end as append"

# A separate store: a read-only open of a byte log whose last segment holds no record fails
# (Collection::ScanTail keeps re-adding that segment until open() gives EMFILE), which would
# make the verify checks below fail.
run append "$T/empty_store" empty --print-durable </dev/null
expect_rc 0 "append of nothing to a new log"
expect_out 'durable_end 0' "append of nothing to a new log: no record is durable"

echo "only line" | "$RECSTORE" append "$S" other >"$T/out" 2>"$T/err"
rc=$?
out="$(cat "$T/out")"
err="$(cat "$T/err")"
expect_rc 0 "append without --print-durable"
expect_out '' "append without --print-durable prints nothing"

run append "$S" log --sync-every x </dev/null
expect_rc 2 "append with a bad --sync-every"

run dump "$S" log
expect_rc 0 "dump log json"
expect_out '{"seq":0,"bytes":"first line"}
{"seq":1,"bytes":"say \"hi\", twice"}
{"seq":2,"bytes":"\ttab and \\ backslash"}
{"seq":3,"bytes":"four"}
{"seq":4,"bytes":"five"}
{"seq":5,"bytes":"ctl\u0001\u007f \u00c3\u00a9"}
{"seq":6,"bytes":"no newline at end"}' "dump log json"

run dump "$S" log --format csv --from 1 --limit 2
expect_rc 0 "dump log csv"
expect_out 'seq,bytes
1,"say ""hi"", twice"
2,"	tab and \ backslash"' "dump log csv with --from and --limit"

run dump "$S" log --from 4 --limit 1
expect_rc 0 "dump --from --limit"
expect_out '{"seq":4,"bytes":"five"}' "dump --from 4 --limit 1"

run dump "$S" log --from 100
expect_rc 0 "dump past the end"
expect_out '' "dump past the end"

run dump "$S" log --limit 0 --format csv
expect_rc 0 "dump --limit 0"
expect_out 'seq,bytes' "dump --limit 0 prints the csv header only"

run dump "$S" missing
expect_rc 2 "dump of a missing collection"
expect_reason "dump of a missing collection"

run dump "$S" log --format xml
expect_rc 2 "dump --format xml"

# Each rejected number gets its own reason (exit 2, nothing on stdout).
expect_number_reason() {  # VALUE REASON
  run dump "$S" log --from "$1"
  expect_rc 2 "dump --from '$1'"
  expect_out '' "dump --from '$1'"
  if [[ "$err" != "recstore: dump: --from $2" ]]; then
    fail "dump --from '$1': reason '$err', want 'recstore: dump: --from $2'"
  fi
}
expect_number_reason "" "needs a non-negative integer, got an empty value"
expect_number_reason "-1" "cannot be negative ('-1')"
expect_number_reason "-0" "cannot be negative ('-0')"
expect_number_reason "+5" "takes digits without a sign ('+5')"
expect_number_reason "-" "needs a non-negative integer (decimal digits only), not '-'"
expect_number_reason "abc" "needs a non-negative integer (decimal digits only), not 'abc'"
expect_number_reason "12x" "needs a non-negative integer (decimal digits only), not '12x'"
expect_number_reason " 5" "needs a non-negative integer (decimal digits only), not ' 5'"
expect_number_reason "0x10" "needs a non-negative integer (decimal digits only), not '0x10'"
expect_number_reason "1e3" "needs a non-negative integer (decimal digits only), not '1e3'"
expect_number_reason "18446744073709551616" \
  "'18446744073709551616' is too large (at most 18446744073709551615)"
expect_number_reason "99999999999999999999999" \
  "'99999999999999999999999' is too large (at most 18446744073709551615)"
run dump "$S" log --from 18446744073709551615
expect_rc 0 "dump --from 2^64-1"
expect_out '' "dump --from 2^64-1"
run dump "$S" log --from 0004 --limit=01
expect_rc 0 "dump with leading zeros"
expect_out '{"seq":4,"bytes":"five"}' "dump with leading zeros"

# --- verify, before and after corruption -----------------------------------------------------
run verify "$S"
expect_rc 0 "verify a good store"
expect_in "$out" "log: ok: 7 records in 1 segments" "verify a good store"
expect_in "$out" "other: ok: 1 records in 1 segments" "verify a good store"

# Record 0's frame starts at 4096 (16-byte header, then the payload): hit its payload.
corrupt "$S/000001-log/00000000000000000000.seg" $((4096 + 16 + 2))
run verify "$S"
expect_rc 1 "verify after corrupting a byte record"
expect_in "$out" "log: BAD: file $S/000001-log/00000000000000000000.seg, offset 4096, seq 0" \
  "verify names the bad record"
expect_in "$out" "other: ok" "verify still checks the other collections"
expect_in "$err" "recstore: verify: 1 of 2 collections failed" "verify reason"

run verify "$S" other
expect_rc 0 "verify of one good collection"

run dump "$S" log
expect_rc 1 "dump over a corrupt byte record"
expect_in "$err" "recstore: dump: stopped after 0 records" "dump reason"

# Fixed records: 64 bytes + 8-byte checksum = 72-byte slots from 4096; hit record 3.
corrupt "$DEMO/000001-trades/00000000000000000000.seg" $((4096 + 72 * 3 + 10))
run verify "$DEMO" trades
expect_rc 1 "verify after corrupting a typed record"
expect_in "$out" "trades: BAD: file $DEMO/000001-trades/00000000000000000000.seg, offset 4312, seq 3" \
  "verify names the bad typed record"

run dump "$DEMO" trades --limit 3 --format csv
expect_rc 0 "dump stopping before the bad record"
[[ "$(echo "$out" | wc -l)" -eq 4 ]] || fail "dump --limit 3: want header and 3 lines, got: $out"

run dump "$DEMO" trades --limit 4
expect_rc 1 "dump reaching the bad record"
[[ "$(echo "$out" | wc -l)" -eq 3 ]] || fail "dump up to the bad record: want 3 lines, got: $out"
expect_in "$err" "record 3 of collection 'trades': checksum mismatch" "dump names the bad record"

run dump "$DEMO" trades --from 4 --limit 1
expect_rc 0 "dump after the bad record"
expect_in "$out" '{"seq":4,' "dump after the bad record"

if [[ "$failures" -ne 0 ]]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
