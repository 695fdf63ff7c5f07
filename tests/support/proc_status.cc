#include "tests/support/proc_status.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace regd::testing {

long ProcStatusKb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') {
      return std::atol(line.c_str() + n + 1);
    }
  }
  return -1;
}

}  // namespace regd::testing
