#include "tools/cli/cli.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>

namespace recstore::cli {

int ExitCodeFor(const absl::Status& status) {
  return status.code() == absl::StatusCode::kDataLoss ? kExitDataProblem : kExitError;
}

int FailStatus(const absl::Status& status, std::string_view context) {
  return Fail(ExitCodeFor(status), "{}: {}", context, std::string(status.message()));
}

std::optional<Args> Args::Parse(std::string_view command, int argc, char** argv,
                                const std::vector<FlagSpec>& flags, size_t min_positional,
                                size_t max_positional) {
  Args args;
  args.command_ = std::string(command);
  bool flags_done = false;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (flags_done || !arg.starts_with("-") || arg == "-") {
      args.positional_.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      Fail(kExitError, "{}: unknown flag '{}' (see recstore --help)", command, arg);
      return std::nullopt;
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string_view::npos) {
      value = std::string(name.substr(eq + 1));
      name = name.substr(0, eq);
    }
    auto spec =
        std::find_if(flags.begin(), flags.end(), [&](const FlagSpec& f) { return f.name == name; });
    if (spec == flags.end()) {
      Fail(kExitError, "{}: unknown flag '--{}' (see recstore --help)", command, name);
      return std::nullopt;
    }
    if (spec->takes_value && !value.has_value()) {
      if (i + 1 >= argc) {
        Fail(kExitError, "{}: flag --{} needs a value", command, name);
        return std::nullopt;
      }
      value = argv[++i];
    } else if (!spec->takes_value && value.has_value()) {
      Fail(kExitError, "{}: flag --{} takes no value", command, name);
      return std::nullopt;
    }
    args.flags_[std::string(name)] = value.value_or("");
  }
  if (args.positional_.size() < min_positional || args.positional_.size() > max_positional) {
    Fail(kExitError, "{}: wrong number of arguments (see recstore --help)", command);
    return std::nullopt;
  }
  return args;
}

std::optional<uint64_t> Args::UInt(const std::string& flag, uint64_t fallback) const {
  auto it = flags_.find(flag);
  if (it == flags_.end()) return fallback;
  absl::StatusOr<uint64_t> v = ParseUInt(it->second);
  if (!v.ok()) {
    Fail(kExitError, "{}: --{} {}", command_, flag, std::string(v.status().message()));
    return std::nullopt;
  }
  return *v;
}

absl::StatusOr<uint64_t> ParseUInt(std::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError("needs a non-negative integer, got an empty value");
  }
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const bool sign = text[0] == '-' || text[0] == '+';
  if (sign && text.size() > 1 && std::all_of(text.begin() + 1, text.end(), is_digit)) {
    return absl::InvalidArgumentError(
        text[0] == '-' ? fmt::format("cannot be negative ('{}')", text)
                       : fmt::format("takes digits without a sign ('{}')", text));
  }
  if (!std::all_of(text.begin(), text.end(), is_digit)) {
    return absl::InvalidArgumentError(
        fmt::format("needs a non-negative integer (decimal digits only), not '{}'", text));
  }
  uint64_t v = 0;
  for (char c : text) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return absl::OutOfRangeError(fmt::format("'{}' is too large (at most {})", text,
                                               std::numeric_limits<uint64_t>::max()));
    }
    v = v * 10 + digit;
  }
  return v;
}

std::string Args::Str(const std::string& flag, const std::string& fallback) const {
  auto it = flags_.find(flag);
  return it == flags_.end() ? fallback : it->second;
}

std::string CheckpointSetHint(const Store& store, std::string_view command, const std::string& dir,
                              const std::string& name) {
  const std::string log_name = "checkpoint." + name;
  bool is_collection = false, is_checkpoint_set = false;
  for (const CollectionInfo& c : store.ListCollections()) {
    is_collection |= c.name == name;
    is_checkpoint_set |= c.name == log_name;
  }
  if (is_collection || !is_checkpoint_set) return "";
  return fmt::format("'{}' is a checkpoint set: use `recstore checkpoint {} {} --show`, or {} '{}'",
                     name, dir, name, command, log_name);
}

int FailCollectionOpen(const absl::Status& status, const Store& store, std::string_view command,
                       const std::string& dir, const std::string& name) {
  if (status.code() == absl::StatusCode::kNotFound) {
    if (std::string hint = CheckpointSetHint(store, command, dir, name); !hint.empty()) {
      return Fail(kExitError, "{}: no collection '{}' in store {}; {}", command, name, dir, hint);
    }
  }
  return FailStatus(status, command);
}

std::string CollectionDir(const std::string& store_dir, const CollectionInfo& info) {
  return fmt::format("{}/{:06}-{}", store_dir, info.id, info.name);
}

absl::StatusOr<std::vector<std::string>> SegmentFiles(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return absl::NotFoundError(fmt::format("cannot list {}: {}", dir, ec.message()));
  auto digits = [](const std::string& s, size_t pos) {
    return std::all_of(s.begin() + pos, s.begin() + pos + 20,
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  std::vector<std::string> names;
  std::vector<std::string> compacted;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() == 24 && name.ends_with(".seg") && digits(name, 0)) {
      names.push_back(std::move(name));
    } else if (name.size() == 46 && name[0] == 'c' && name[21] == '-' && name.ends_with(".seg") &&
               digits(name, 1) && digits(name, 22)) {
      compacted.push_back(std::move(name));
    }
  }
  if (ec) return absl::UnknownError(fmt::format("cannot list {}: {}", dir, ec.message()));
  std::sort(names.begin(), names.end());
  std::sort(compacted.begin(), compacted.end());
  // Compacted segments hold the records below the ordinary ones: list them first.
  compacted.insert(compacted.end(), names.begin(), names.end());
  return compacted;
}

absl::StatusOr<DiskUsage> DirUsage(const std::string& dir) {
  DiskUsage usage;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (lstat(it->path().c_str(), &st) != 0) {
      return absl::UnknownError(
          fmt::format("cannot stat {}: {}", it->path().string(), std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) continue;
    ++usage.files;
    usage.bytes += static_cast<uint64_t>(st.st_size);
    usage.allocated += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  if (ec) return absl::UnknownError(fmt::format("cannot list {}: {}", dir, ec.message()));
  return usage;
}

std::string_view KindName(CollectionKind kind) {
  switch (kind) {
    case CollectionKind::kFixed:
      return "fixed";
    case CollectionKind::kVariable:
      return "variable";
  }
  return "unknown";
}

std::string Count(double n) {
  if (n >= 1e9) return fmt::format("{:.2f}G", n / 1e9);
  if (n >= 1e6) return fmt::format("{:.2f}M", n / 1e6);
  if (n >= 1e3) return fmt::format("{:.1f}k", n / 1e3);
  return fmt::format("{:.0f}", n);
}

std::string Bytes(uint64_t n) {
  const double d = static_cast<double>(n);
  if (n >= (uint64_t{1} << 30)) return fmt::format("{:.1f} GiB", d / (1 << 30));
  if (n >= (uint64_t{1} << 20)) return fmt::format("{:.1f} MiB", d / (1 << 20));
  if (n >= (uint64_t{1} << 10)) return fmt::format("{:.1f} KiB", d / (1 << 10));
  return fmt::format("{} B", n);
}

}  // namespace recstore::cli
