// A Syscalls table (src/os/syscalls.h) over the real calls that can interrupt calls with
// EINTR, cut reads and writes short, and fail one chosen call with a chosen errno, so tests
// can watch PosixEnv's retry loops from below. The settings are process-wide (the table is
// plain function pointers); FlakySyscalls::Reset() restores pass-through.
#ifndef RECSTORE_TESTS_FAULTS_FLAKY_SYSCALLS_H_
#define RECSTORE_TESTS_FAULTS_FLAKY_SYSCALLS_H_

#include <string_view>

#include "src/os/syscalls.h"

namespace recstore::faults {

// The calls of the table, by kind.
enum class Sys {
  kOpen,
  kClose,
  kFstat,
  kStat,
  kPosixFallocate,
  kFallocate,
  kFtruncate,
  kPwrite,
  kPread,
  kFdatasync,
  kFsync,
  kMmap,
  kMunmap,
  kMadvise,
  kFcntl,
  kDupfd,
  kMkdir,
  kRename,
  kUnlink,
  kRmdir,
  kFdopendir,
  kReaddir,
  kClosedir,
  kCount,
};

std::string_view SysName(Sys s);

class FlakySyscalls {
 public:
  // Pass-through, counters at zero.
  static void Reset();
  // Interrupts calls with EINTR (doing nothing, except close, which closes as Linux does):
  // the first `k` calls of each kind, or with `repeat` every call: each call is then refused
  // `k` times before an attempt goes through. Applies to every kind that can return EINTR.
  static void Interrupt(int k, bool repeat);
  // pread and pwrite move at most half of what they are asked for (at least one byte).
  static void ShortTransfers(bool on);
  // Attempt number `nth` (0-based, counted since Reset) of `sys` fails with `err` without
  // doing anything; the attempts before and after it go through.
  static void FailOnce(Sys sys, int nth, int err);

  // Attempts of `sys` since Reset, and how many of them were refused with EINTR.
  static int Calls(Sys sys);
  static int Interrupted(Sys sys);
  // Whether the FailOnce fault has fired.
  static bool Failed();

  static const os::Syscalls& Table();
};

}  // namespace recstore::faults

#endif  // RECSTORE_TESTS_FAULTS_FLAKY_SYSCALLS_H_
