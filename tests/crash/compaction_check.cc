// The checks of a store left by an interrupted retention or compaction call
// (compaction_check.h).
#include "tests/crash/compaction_check.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "recstore/env.h"
#include "tests/testing/state_page.h"

namespace recstore::crash {

namespace {

namespace fs = std::filesystem;

std::atomic<uint64_t> gets_checked{0};

std::vector<std::string> ListFolder(const std::string& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool Digits(const std::string& s, size_t from, size_t n, uint64_t* v) {
  if (s.size() < from + n) return false;
  for (size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  *v = std::stoull(s.substr(from, n));
  return true;
}

// What the manifest's state allows in the folder: compacted segments of its generation only
// (c<gen>-<first>.seg), ordinary segments (<first>.seg) at or after compacted_end that are not
// wholly below begin, nothing else.
void CheckFileRules(const std::string& what, const CollectionState& s,
                    std::vector<std::string>* problems) {
  std::vector<uint64_t> ordinary;
  for (const std::string& name : s.files) {
    uint64_t gen = 0, first = 0;
    if (name.size() == 24 && name.ends_with(".seg") && Digits(name, 0, 20, &first)) {
      ordinary.push_back(first);
      if (first < s.compacted_end) {
        problems->push_back(
            absl::StrCat(what, ": ", name, " lies below compacted_end ", s.compacted_end));
      }
    } else if (name.size() == 46 && name[0] == 'c' && name[21] == '-' && name.ends_with(".seg") &&
               Digits(name, 1, 20, &gen) && Digits(name, 22, 20, &first)) {
      if (gen != s.generation) {
        problems->push_back(absl::StrCat(what, ": ", name, " is of generation ", gen,
                                         ", the manifest's is ", s.generation));
      }
    } else if (!::recstore::testing::IsStatePage(name)) {
      problems->push_back(absl::StrCat(what, ": unexpected file ", name));
    }
  }
  std::sort(ordinary.begin(), ordinary.end());
  for (size_t i = 0; i + 1 < ordinary.size(); ++i) {
    if (ordinary[i + 1] <= s.begin) {
      problems->push_back(
          absl::StrCat(what, ": segment ", ordinary[i], " lies wholly below begin ", s.begin));
    }
  }
}

absl::StatusOr<std::string> GetAt(const CaseHandles& h, int c, uint64_t seq) {
  gets_checked.fetch_add(1, std::memory_order_relaxed);
  if (c == kFixed) {
    absl::StatusOr<const KeyedRecord*> r = h.fixed.Get(seq);
    if (!r.ok()) return r.status();
    return std::string(reinterpret_cast<const char*>(*r), sizeof(KeyedRecord));
  }
  absl::StatusOr<std::span<const std::byte>> r = h.bytes.Get(seq);
  if (!r.ok()) return r.status();
  return std::string(AsString(*r));
}

// Get agrees with `s` for every `stride`-th sequence number in [0, end + 2) and the last five.
void CheckGets(const std::string& what, const CaseHandles& h, int c, const CollectionState& s,
               uint64_t stride, std::vector<std::string>* problems) {
  size_t next = 0;
  for (uint64_t seq = 0; seq < s.end + 2; ++seq) {
    if (seq % stride != 0 && seq + 3 < s.end) continue;
    absl::StatusOr<std::string> got = GetAt(h, c, seq);
    while (next < s.records.size() && s.records[next].first < seq) ++next;
    const bool present = next < s.records.size() && s.records[next].first == seq;
    std::string bad;
    if (present) {
      if (!got.ok()) {
        bad = got.status().ToString();
      } else if (*got != s.records[next].second) {
        bad = "wrong bytes";
      }
    } else {
      const absl::StatusCode want = seq < s.begin || seq >= s.end ? absl::StatusCode::kOutOfRange
                                                                  : absl::StatusCode::kNotFound;
      if (got.ok()) {
        bad = "found, but the state has no such record";
      } else if (got.status().code() != want) {
        bad = absl::StrCat(got.status().ToString(), ", want ", absl::StatusCodeToString(want));
      }
    }
    if (!bad.empty()) {
      problems->push_back(absl::StrCat(what, ": Get(", seq, "): ", bad));
      return;  // one is enough
    }
  }
}

void CheckVerify(const std::string& what, const LogBase& log, std::vector<std::string>* problems) {
  absl::StatusOr<VerifyReport> v = log.Verify();
  if (!v.ok()) {
    problems->push_back(absl::StrCat(what, ": Verify: ", v.status().ToString()));
  } else if (!v->ok) {
    problems->push_back(absl::StrCat(what, ": Verify found ", v->first_bad.file, " offset ",
                                     v->first_bad.offset, ": ", v->first_bad.reason));
  }
}

}  // namespace

std::string CollectionState::Summary() const {
  return absl::StrCat("begin ", begin, " end ", end, " generation ", generation, " compacted_end ",
                      compacted_end, " retention.max_records ", retention.max_records, " records ",
                      records.size());
}

CollectionState Capture(const CaseHandles& h, int c, const std::string& store_dir,
                        std::vector<std::string>* problems) {
  const LogBase& log = h.log(c);
  CollectionState s;
  s.begin = log.begin();
  s.end = log.end();
  const CollectionInfo info = log.info();
  s.generation = info.generation;
  s.compacted_end = info.compacted_end;
  s.retention = info.retention;
  absl::Status status;
  if (c == kFixed) {
    auto scan = h.fixed.Scan();
    for (const auto& [seq, r] : scan) {
      s.records.emplace_back(seq, std::string(reinterpret_cast<const char*>(&r), sizeof(r)));
    }
    status = scan.status();
  } else {
    auto scan = h.bytes.Scan();
    for (const auto& [seq, r] : scan) s.records.emplace_back(seq, std::string(AsString(r)));
    status = scan.status();
  }
  if (!status.ok()) problems->push_back(absl::StrCat(info.name, ": scan: ", status.ToString()));
  s.files = ListFolder(CollectionFolder(store_dir, log));
  return s;
}

Match MatchState(const CollectionState& got, const CollectionState& before,
                 const CollectionState& after, std::string* why) {
  if (got.SameContent(before)) return Match::kBefore;
  if (got.SameContent(after)) return Match::kAfter;
  auto diff = [&](const CollectionState& want) {
    size_t i = 0;
    while (i < got.records.size() && i < want.records.size() && got.records[i] == want.records[i])
      ++i;
    std::string at = "same records";
    if (i < got.records.size() || i < want.records.size()) {
      at = absl::StrCat("first difference at scan position ", i, ": got seq ",
                        i < got.records.size() ? absl::StrCat(got.records[i].first) : "none",
                        ", want seq ",
                        i < want.records.size() ? absl::StrCat(want.records[i].first) : "none");
    }
    return absl::StrCat("{", want.Summary(), "; ", at, "}");
  };
  *why = absl::StrCat("got {", got.Summary(), "}, before ", diff(before), ", after ", diff(after));
  return Match::kNone;
}

std::vector<std::string> CheckReopened(const std::string& store_dir, const CaseExpectation& want,
                                       int target_collection, Match* target) {
  std::vector<std::string> problems;
  if (target != nullptr) *target = Match::kNone;
  CollectionState matched[2];
  {
    absl::StatusOr<CaseHandles> h = OpenCase(Env::Default(), store_dir);
    if (!h.ok()) return {absl::StrCat("open: ", h.status().ToString())};
    for (int c : {kFixed, kBytes}) {
      const std::string what = c == kFixed ? kFixedName : kBytesName;
      CollectionState got = Capture(*h, c, store_dir, &problems);
      std::string why;
      const Match m = MatchState(got, want.before[c], want.after[c], &why);
      if (c == target_collection && target != nullptr) *target = m;
      if (m == Match::kNone) {
        problems.push_back(absl::StrCat(what, ": neither the state before nor after: ", why));
        continue;
      }
      const CollectionState& w = m == Match::kBefore ? want.before[c] : want.after[c];
      matched[c] = w;
      const char* label = m == Match::kBefore ? "before" : "after";
      // Every sequence number of the collection the operation changed; one in 31 of the other.
      CheckGets(absl::StrCat(what, " (", label, ")"), *h, c, w, c == target_collection ? 1 : 31,
                &problems);
      CheckFileRules(absl::StrCat(what, " (", label, ") folder"), got, &problems);
      if (got.files != w.files) {
        problems.push_back(absl::StrCat(what, " (", label, ") folder holds [",
                                        absl::StrJoin(got.files, " "), "], want [",
                                        absl::StrJoin(w.files, " "), "]"));
      }
      CheckVerify(what, h->log(c), &problems);
    }
    if (!problems.empty()) return problems;
    // The store still takes writes.
    if (auto s = h->fixed.Append(FixedRecordAt(matched[kFixed].end)); !s.ok()) {
      problems.push_back(absl::StrCat("append to fixed: ", s.status().ToString()));
    }
    if (auto s = h->bytes.Append(ByteRecordAt(matched[kBytes].end)); !s.ok()) {
      problems.push_back(absl::StrCat("append to bytes: ", s.status().ToString()));
    }
    for (int c : {kFixed, kBytes}) {
      if (auto s = h->log(c).Sync(); !s.ok()) {
        problems.push_back(absl::StrCat("sync: ", s.status().ToString()));
      }
    }
    if (!problems.empty()) return problems;
  }
  absl::StatusOr<CaseHandles> h = OpenCase(Env::Default(), store_dir);
  if (!h.ok()) return {absl::StrCat("reopen after an append: ", h.status().ToString())};
  for (int c : {kFixed, kBytes}) {
    CollectionState got = Capture(*h, c, store_dir, &problems);
    CollectionState w = matched[c];
    w.records.emplace_back(w.end, RecordAt(c, w.end));
    ++w.end;
    // The reopen applies a record-count retention policy again.
    if (w.retention.max_records > 0 && w.end - w.begin > w.retention.max_records) {
      w.begin = w.end - w.retention.max_records;
      std::erase_if(w.records, [&](const auto& r) { return r.first < w.begin; });
    }
    if (got.records != w.records || got.end != w.end || got.begin != w.begin) {
      problems.push_back(absl::StrCat(c == kFixed ? kFixedName : kBytesName,
                                      ": after an append and a reopen: got {", got.Summary(),
                                      "}, want {", w.Summary(), "}"));
    }
    CheckVerify("after an append and a reopen", h->log(c), &problems);
  }
  return problems;
}

std::vector<std::string> CheckReopenedInChild(const std::string& store_dir,
                                              const CaseExpectation& want, int target_collection,
                                              Match* target) {
  int fds[2];
  if (pipe(fds) != 0) return {"pipe failed"};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    Match m = Match::kNone;
    const uint64_t gets_before = GetsChecked();
    const std::vector<std::string> problems = CheckReopened(store_dir, want, target_collection, &m);
    // The match, the Gets made, then the problems, each after its length.
    std::string out(1, static_cast<char>(m));
    const uint64_t gets = GetsChecked() - gets_before;
    out.append(reinterpret_cast<const char*>(&gets), sizeof(gets));
    for (const std::string& p : problems) {
      const uint64_t n = p.size();
      out.append(reinterpret_cast<const char*>(&n), sizeof(n));
      out += p;
    }
    for (size_t done = 0; done < out.size();) {
      const ssize_t w = write(fds[1], out.data() + done, out.size() - done);
      if (w <= 0) _exit(2);
      done += static_cast<size_t>(w);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string in;
  char buf[65536];
  for (ssize_t r; (r = read(fds[0], buf, sizeof(buf))) > 0;) in.append(buf, static_cast<size_t>(r));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (target != nullptr) *target = Match::kNone;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || in.size() < 9) {
    return {absl::StrCat("the checks ended with ",
                         WIFSIGNALED(status) ? absl::StrCat("signal ", WTERMSIG(status))
                                             : absl::StrCat("exit code ", WEXITSTATUS(status)),
                         " (run them in this process to see where)")};
  }
  if (target != nullptr) *target = static_cast<Match>(in[0]);
  uint64_t gets = 0;
  std::memcpy(&gets, in.data() + 1, sizeof(gets));
  gets_checked.fetch_add(gets);
  std::vector<std::string> problems;
  for (size_t at = 9; at + 8 <= in.size();) {
    uint64_t n = 0;
    std::memcpy(&n, in.data() + at, sizeof(n));
    problems.push_back(in.substr(at + 8, n));
    at += 8 + n;
  }
  return problems;
}

uint64_t GetsChecked() { return gets_checked.load(); }

}  // namespace recstore::crash
