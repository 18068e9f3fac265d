// What every hostile case runs on its damaged store, and what it asserts.
//
// ProbeApi (run in a forked child: a signal or a sanitizer report is the child's death, not
// the test's): a read-only open, then a writer open, both through an Env whose mappings are
// heap buffers (AddressSanitizer sees any read past a segment); for each collection the damage
// can touch, OpenUntyped, Get of the first, middle and last records (of the log as opened and
// as written), a full Scan and Verify; the checkpoint set's Load.
// Assertions: every failure is a non-OK status whose message is not empty and names the store
// (a file in it); every record returned is byte-identical to what was written under that
// sequence number; a checkpoint that loads is one that was saved; a scan does not yield more
// records than were written; a log never opens with end() below begin(). With
// `records_intact` (damage that leaves every record as written, such as a commit block's),
// an open that succeeds must also return every record written: Get and the scan find them all.
//
// ProbeCli: `recstore info DIR`, `recstore verify DIR`, `recstore dump DIR COLLECTION`: none
// dies of a signal or reports a sanitizer error; a non-zero exit comes with a message on
// stderr.
#ifndef RECSTORE_TESTS_HOSTILE_PROBE_H_
#define RECSTORE_TESTS_HOSTILE_PROBE_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/hostile/template_store.h"

namespace recstore::hostile {

// Returns what went wrong, one line per problem; empty when every assertion held.
std::string ProbeApi(const TemplateStore& t, const std::string& dir,
                     const std::vector<std::string>& collections, bool records_intact);

// ProbeApi in a child process (stdout and stderr to `log`, a 60 s alarm). FinishApiChild waits
// for it and returns "" or what went wrong: the problems, the signal, or the exit status, with
// the end of the child's output (a sanitizer report).
pid_t StartApiChild(const TemplateStore& t, const std::string& dir,
                    const std::vector<std::string>& collections, bool records_intact,
                    const std::string& log);
std::string FinishApiChild(pid_t pid, const std::string& log);

// The three commands, run at once (stderr to `log_prefix`.COMMAND); FinishCli waits for them
// and returns "" or what went wrong.
struct CliRun {
  std::string command;
  std::string log;
  pid_t pid = -1;
};
std::vector<CliRun> StartCli(const std::string& cli, const std::string& dir,
                             const std::string& collection, const std::string& log_prefix);
std::string FinishCli(const std::vector<CliRun>& runs);

}  // namespace recstore::hostile

#endif  // RECSTORE_TESTS_HOSTILE_PROBE_H_
