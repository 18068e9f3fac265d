// recstore: the command-line tool for recstore stores (and vector and struct files). main()
// picks the command; each command lives in its own file (demo.cc, inspect.cc, dump.cc,
// tail.cc, append.cc, compact.cc, checkpoint.cc; mapped.cc for vector and struct files).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tools/cli/cli.h"

namespace {

constexpr std::string_view kUsage = R"(usage: recstore COMMAND [ARGS]

commands:
  demo [DIR] [--records N]
      Create a store in DIR (default: a new temporary directory under $TMPDIR, removed at
      the end), append N 64-byte typed records (default 1000000) and N/10 byte records of
      about 100 bytes, sync, reopen, verify, scan and read at random; print counts, on-disk
      sizes and throughput. A line "build: ..." says how the tool was compiled (optimized or
      not, NDEBUG, sanitizers, compiler), and the throughput table is labelled with it: only
      an optimized build without sanitizers (-c opt, the default) gives representative
      figures. DIR must not already hold collections.
  info DIR
      Describe every collection: id, kind, record size, schema, segment files, records,
      retention, consumer cursors (position, lag, records lost to retention), durable end
      (one past the last durable sequence number) and what recovery found. Opens the store
      read-only.
  info FILE
      Describe a vector file (MappedVector) or a struct file (MappedStruct), told apart from
      a store by being a regular file: its record type and schema; for a vector the elements
      and sync count of the last sync, the file size and the elements it has room for, and
      the journal FILE-journal (absent, empty, or the sync it holds: applied, or committed
      but not applied, a redo pending that the next writable open does); for a struct the
      newest snapshot's sync count and both snapshot slots (seq, valid or not, the newest).
      Takes no lock: a writer may work beside it.
  verify DIR [COLLECTION]
      Check every segment header and record checksum of every (or one) collection; print a
      line per collection, with file, offset, seq and reason for a bad record.
  dump DIR COLLECTION [--from SEQ] [--limit N] [--format json|csv] [--max-bytes N]
      Print records using the schema in the manifest: JSON (default), one object per line
      with "seq", or CSV with a header line. Byte records print as {"seq":N,"bytes":"..."}.
      char arrays are strings cut at the first NUL; other arrays are [a,b] in JSON and
      [a;b] in CSV; bytes outside printable ASCII are \u00XX in JSON strings. A byte
      record, or a char array of a typed record, longer than N bytes (default 4096; 0: no
      cap) prints its first N bytes, then the mark \u2026(+M bytes) in JSON, or the
      character itself in CSV, inside the string, for the M bytes left out. Of a checkpoint
      set NAME (the byte log checkpoint.NAME), dump DIR NAME says to use checkpoint --show
      or dump DIR checkpoint.NAME.
  dump FILE [--from INDEX] [--limit N] [--format json|csv] [--max-bytes N]
      Print the last synced state of a vector or struct file (a committed journal's sync
      included) with the schema in the file, as dump DIR COLLECTION does (--max-bytes
      included): a vector's elements from INDEX on, the first column being "index" instead
      of "seq"; a struct's newest snapshot as one record whose "seq" is the snapshot's sync
      count.
  tail DIR COLLECTION [--from SEQ | --cursor NAME] [--limit N] [--follow] [--durable]
       [--format json|csv] [--max-bytes N]
      Print the last 10 records (or those from SEQ on; at most N) as dump does, opening
      the store read-only beside its writer. --cursor: start at the consumer cursor NAME
      (created at the collection's begin if missing) and commit it past each record once
      the record reached standard output (at-least-once: after a crash or kill, tail
      --cursor resumes at or before the first record not delivered). --follow: then print records as they are
      appended, across segment rotation, retention and compaction, until SIGINT or SIGTERM
      or until the reader of standard output goes away (exit status 0). --durable: print a
      record only once it is durable. Records retention dropped before tail could read
      them are skipped with the notice "recstore: records [A, B) were dropped by retention
      before they could be read" on stderr.
  append DIR COLLECTION [--sync-every N] [--print-durable]
      Append each line of standard input (without its newline) to the byte log COLLECTION,
      creating the store and the log if needed. Sync after every N lines (default: only at
      the end of input) and at the end of input. --print-durable prints "durable_end N"
      after each sync and flushes standard output: N is the durable end Sync() returns, one
      past the last durable sequence number (the records below N are durable; with a log
      that starts at 0, N of them), the number info prints as "durable end".
  compact DIR COLLECTION [--before SEQ | --key FIELD | --key-prefix N | --merge]
      Open the store as its writer and rewrite COLLECTION: --before SEQ drops every record
      below SEQ; --key FIELD (fixed-size records) or --key-prefix N (byte records, the key
      being the first N bytes) drops each record below the active segment that a newer
      record of its key supersedes; --merge, the default, folds the segments below the
      active one into full ones.
      Sequence numbers never change. Draws a progress bar when standard error is a
      terminal; prints records and bytes in and kept, segments, generation, first seq, time.
  checkpoint DIR NAME --show [--keep K] [--bytes N]
      Print the checkpoint set NAME (the byte log checkpoint.NAME): its last K versions
      (default 2), newest first, with sequence number, save time (ISO-8601 UTC) and size,
      then the first N bytes (default 64) of the newest intact one in hex. Opens the store
      read-only; a damaged version makes the exit status 1.
  ship DIR COLLECTION --server URL --stream NAME [--subject S] [--follow]
       [--create-stream [--replicas N]] [--cursor NAME] [--max-pending N] [--retry-for S]
      Publish the durable records of COLLECTION to the NATS JetStream stream NAME, exactly
      once and in order (README "Scaling out"), from where the cursor NAME (default
      ship.STREAM) and the stream's last message say, opening the store read-only beside
      its writer. URL: nats://HOST:PORT, several separated by commas. --subject: default
      recstore.COLLECTION. --create-stream: create the stream when missing, with N
      replicas (default 1). --follow: go on shipping records as they become durable.
      Progress on stderr every second (records, MB/s, position, lag). SIGINT or SIGTERM:
      wait for the acknowledgements in flight, commit the position, exit 0. Failures of
      servers are retried for S seconds (default 60).
  pull --server URL --stream NAME DIR COLLECTION
      Rebuild or extend COLLECTION of the store DIR (created when missing) from the stream
      NAME that ship filled: new records are appended and synced, records already there
      are compared byte for byte; a gap, a foreign message or another schema stops it.
  help, --help
      Print this text.

Numbers (SEQ, N, K, INDEX) are decimal integers from 0 to 18446744073709551615, without a
sign.

exit status: 0 success; 1 a data problem was found (verify failed, corrupt record while
reading); 2 bad usage or an I/O error. Errors print one line "recstore: ..." on stderr.
)";

// Opens /dev/null on each of descriptors 0, 1 and 2 that is closed, so that nothing the tool
// opens later can take their place: with stdout closed, a store file opened as descriptor 1
// would receive the tool's output, and with stdin closed `append` would read a store file as
// its input. Returns false if a descriptor could not be filled (nothing else is safe then).
bool FillStandardDescriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // open returns the lowest free descriptor: this one, as the lower ones are open.
    int got;
    do {
      got = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    } while (got < 0 && errno == EINTR);
    if (got != fd) {
      if (got >= 0) close(got);
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace recstore::cli;
  // Before anything else opens a file.
  if (!FillStandardDescriptors()) return kExitError;
  // Under `bazel run`, resolve relative paths against the directory the user ran it from.
  if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY"); wd != nullptr && chdir(wd) != 0) {
    return Fail(kExitError, "cannot enter {}", wd);
  }
  if (argc < 2) {
    fmt::print(stderr, "{}", kUsage);
    return Fail(kExitError, "no command given");
  }
  const std::string_view cmd = argv[1];
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h" || (i == 1 && arg == "help")) {
      fmt::print("{}", kUsage);
      return kExitOk;
    }
  }
  if (cmd == "demo") return DemoCommand(argc - 2, argv + 2);
  if (cmd == "info") return InfoCommand(argc - 2, argv + 2);
  if (cmd == "verify") return VerifyCommand(argc - 2, argv + 2);
  if (cmd == "dump") return DumpCommand(argc - 2, argv + 2);
  if (cmd == "tail") return TailCommand(argc - 2, argv + 2);
  if (cmd == "append") return AppendCommand(argc - 2, argv + 2);
  if (cmd == "compact") return CompactCommand(argc - 2, argv + 2);
  if (cmd == "checkpoint") return CheckpointCommand(argc - 2, argv + 2);
  if (cmd == "ship") return ShipCommand(argc - 2, argv + 2);
  if (cmd == "pull") return PullCommand(argc - 2, argv + 2);
  fmt::print(stderr, "{}", kUsage);
  return Fail(kExitError, "unknown command '{}'", cmd);
}
