// Version: what `regd --version` prints and a backup's manifest records:
// the version from CMake's project(VERSION) (its one definition) and the git
// commit the binary was built from, when the build had one.
//
// Thread-safety: pure functions over constants.
#pragma once

#include <string>

namespace regd::app {

// "0.1.0"
std::string Version();
// The commit, e.g. "5ad0e3633db9" or "5ad0e3633db9-dirty"; "" if unknown.
std::string GitCommit();
// "regd 0.1.0 (git 5ad0e3633db9)", or "regd 0.1.0" without a commit.
std::string VersionLine();

}  // namespace regd::app
