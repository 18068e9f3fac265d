// recstore: command-line tool for recstore stores.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "fmt/core.h"
#include "src/base/checksum.h"

namespace {

int Usage() {
  fmt::print(stderr, "usage: recstore checksum FILE...\n");
  return 2;
}

int Checksum(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      fmt::print(stderr, "recstore: cannot open {}\n", argv[i]);
      return 2;
    }
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fmt::print("{:016x}  {}\n", recstore::base::StringChecksum64(data), argv[i]);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Under `bazel run`, resolve relative paths against the directory the user ran it from.
  if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY"); wd != nullptr && chdir(wd) != 0) {
    fmt::print(stderr, "recstore: cannot enter {}\n", wd);
    return 2;
  }
  if (argc < 2) return Usage();
  const std::string cmd = argv[1];
  if (cmd == "checksum" && argc > 2) return Checksum(argc - 2, argv + 2);
  return Usage();
}
