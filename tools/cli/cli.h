// Shared pieces of the recstore command-line tool: exit codes, error reporting, argument
// parsing and small filesystem helpers. Every command is a function `int Cmd(const Args&)`
// that returns the process exit code.
#ifndef RECSTORE_TOOLS_CLI_CLI_H_
#define RECSTORE_TOOLS_CLI_CLI_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/core.h"
#include "recstore/recstore.h"

namespace recstore::cli {

// Process exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitDataProblem = 1;  // verify failed, DataLoss while reading
inline constexpr int kExitError = 2;        // bad usage or an I/O (or other) error

// Prints "recstore: <message>" on stderr and returns `code`.
template <typename... T>
int Fail(int code, fmt::format_string<T...> format, T&&... args) {
  fmt::print(stderr, "recstore: {}\n", fmt::format(format, std::forward<T>(args)...));
  return code;
}

// The exit code for a failed status: kExitDataProblem for DataLoss, kExitError otherwise.
int ExitCodeFor(const absl::Status& status);

// Prints "recstore: <context>: <status message>" and returns ExitCodeFor(status).
int FailStatus(const absl::Status& status, std::string_view context);

// A flag a command accepts: `--name VALUE`, `--name=VALUE`, or `--name` alone when
// !takes_value.
struct FlagSpec {
  std::string name;  // without the leading "--"
  bool takes_value;
};

// A command's parsed arguments: positional arguments in order and the flags given.
class Args {
 public:
  // Parses `argv[0, argc)` (the arguments after the command name). On a usage error (unknown
  // flag, missing value, wrong number of positional arguments) returns nullopt after printing
  // the reason. "--" ends flag parsing.
  static std::optional<Args> Parse(std::string_view command, int argc, char** argv,
                                   const std::vector<FlagSpec>& flags, size_t min_positional,
                                   size_t max_positional);

  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(const std::string& flag) const { return flags_.contains(flag); }
  // The flag's value as an unsigned integer (ParseUInt), `fallback` when absent; nullopt
  // (after printing "<command>: --<flag> <reason>") when it is not one.
  std::optional<uint64_t> UInt(const std::string& flag, uint64_t fallback) const;
  // The flag's value, `fallback` when absent.
  std::string Str(const std::string& flag, const std::string& fallback) const;

 private:
  std::string command_;
  std::vector<std::string> positional_;
  std::map<std::string, std::string> flags_;
};

// Prints why collection `name` of the store at `dir` could not be opened by `command` and
// returns the exit code. When `status` is NotFound and the store holds the checkpoint set
// `name` (the byte log "checkpoint.<name>"), the message says so: "no collection 'x' in store
// DIR; 'x' is a checkpoint set: use `recstore checkpoint DIR x --show`, or <command>
// 'checkpoint.x'". Otherwise as FailStatus(status, command).
int FailCollectionOpen(const absl::Status& status, const Store& store, std::string_view command,
                       const std::string& dir, const std::string& name);
// The hint above, or "" when `name` is no checkpoint set of `store` (or is a collection).
std::string CheckpointSetHint(const Store& store, std::string_view command, const std::string& dir,
                              const std::string& name);

// A decimal number in [0, 2^64): digits only. Otherwise InvalidArgument (empty, a sign, any
// other character) or OutOfRange (2^64 or more), the message giving the reason to follow
// the flag's name: "cannot be negative ('-1')", "'18446744073709551616' is too large (at
// most 18446744073709551615)".
absl::StatusOr<uint64_t> ParseUInt(std::string_view text);

// Paths inside a store directory, as the on-disk format lays them out.
std::string CollectionDir(const std::string& store_dir, const CollectionInfo& info);

// Names of the segment files in `dir`: the compacted ones ("c<generation, 20 digits>-<first
// seq, 20 digits>.seg") sorted, then the ordinary ones ("<first seq, 20 digits>.seg") sorted.
absl::StatusOr<std::vector<std::string>> SegmentFiles(const std::string& dir);

// Sum of the sizes of the regular files under `dir` (recursively): apparent bytes, and bytes
// actually allocated on disk.
struct DiskUsage {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t allocated = 0;
};
absl::StatusOr<DiskUsage> DirUsage(const std::string& dir);

std::string_view KindName(CollectionKind kind);

// Prints the "schema:" line and the field table of `info` (inspect.cc).
void PrintRecordSchema(const RecordSchema& schema);

// Human-readable counts: 1234567 -> "1.23M"; bytes: 1234567 -> "1.2 MiB".
std::string Count(double n);
std::string Bytes(uint64_t n);

// Commands.
int DemoCommand(int argc, char** argv);
int InfoCommand(int argc, char** argv);
int VerifyCommand(int argc, char** argv);
int DumpCommand(int argc, char** argv);
int TailCommand(int argc, char** argv);
int AppendCommand(int argc, char** argv);
int CompactCommand(int argc, char** argv);
int CheckpointCommand(int argc, char** argv);
int ShipCommand(int argc, char** argv);
int PullCommand(int argc, char** argv);

}  // namespace recstore::cli

#endif  // RECSTORE_TOOLS_CLI_CLI_H_
