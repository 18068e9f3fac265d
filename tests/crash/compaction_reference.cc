// The uninterrupted run of the compaction case (compaction_reference.h).
#include "tests/crash/compaction_reference.h"

#include <filesystem>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/testing/fault_env.h"

namespace recstore::crash {

namespace fs = std::filesystem;

void CopyTree(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::create_directories(fs::path(to).parent_path(), ec);
  fs::copy(from, to, fs::copy_options::recursive, ec);
}

absl::Status PrepareCase(const CaseOpSpec& spec, const std::string& work_dir, CaseReference* ref) {
  ref->spec = spec;
  ref->template_store = work_dir + "/template/store";
  if (absl::Status s = BuildTemplate(spec.base, ref->template_store); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("building the template: ", s.message()));
  }
  absl::StatusOr<uint64_t> arg = OpArgument(spec.op, ref->template_store);
  if (!arg.ok()) return arg.status();
  ref->arg = *arg;
  std::vector<std::string> problems;
  const std::string copy = work_dir + "/reference/store";
  CopyTree(ref->template_store, copy);
  {
    absl::StatusOr<CaseHandles> h = OpenCase(Env::Default(), copy);
    if (!h.ok()) return h.status();
    for (int c : {kFixed, kBytes}) ref->want.before[c] = Capture(*h, c, copy, &problems);
  }
  CopyTree(ref->template_store, copy);
  CollectionState in_memory[2];
  {
    ClockEnv<testing::FaultEnv> env;
    absl::StatusOr<CaseHandles> h = OpenCase(&env, copy);
    if (!h.ok()) return h.status();
    const int calls_before = env.Calls(testing::FaultEnv::kAnyCall);
    if (absl::Status s = RunOp(spec.op, ref->arg, *h); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(spec.name, ": ", s.message()));
    }
    ref->calls = env.Calls(testing::FaultEnv::kAnyCall) - calls_before;
    for (int c : {kFixed, kBytes}) in_memory[c] = Capture(*h, c, copy, &problems);
  }
  {
    absl::StatusOr<CaseHandles> h = OpenCase(Env::Default(), copy);
    if (!h.ok()) return h.status();
    for (int c : {kFixed, kBytes}) ref->want.after[c] = Capture(*h, c, copy, &problems);
  }
  for (int c : {kFixed, kBytes}) {
    if (!in_memory[c].SameContent(ref->want.after[c])) {
      problems.push_back(absl::StrCat("collection ", c, ": the handle showed {",
                                      in_memory[c].Summary(), "} after the call, a reopen {",
                                      ref->want.after[c].Summary(), "}"));
    }
  }
  const int other = 1 - spec.collection;
  if (!ref->want.after[other].SameContent(ref->want.before[other]) ||
      ref->want.after[other].files != ref->want.before[other].files) {
    problems.push_back(absl::StrCat(spec.name, " changed the other collection"));
  }
  if (ref->want.after[spec.collection].SameContent(ref->want.before[spec.collection])) {
    problems.push_back(absl::StrCat(spec.name, " changed nothing: {",
                                    ref->want.before[spec.collection].Summary(), "}"));
  }
  if (ref->calls == 0) problems.push_back(absl::StrCat(spec.name, " made no Env call"));
  if (!problems.empty()) return absl::InternalError(absl::StrJoin(problems, "\n"));
  return absl::OkStatus();
}

}  // namespace recstore::crash
