// The file-system steps of backup and restore (storage/files.h).
#include "storage/files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/require_ok.h"
#include "tests/support/temp_dir.h"

using regd::Status;
using regd::testing::RequireOk;
using regd::testing::TempDir;
namespace fs = regd::storage;

namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("removing a tree never follows a symbolic link out of it", "[files]") {
  TempDir dir;
  REQUIRE(fs::MakeDir(dir.Join("outside")).ok());
  std::ofstream(dir.Join("outside/keep")) << "keep";
  REQUIRE(fs::MakeDir(dir.Join("tree")).ok());
  REQUIRE(fs::MakeDir(dir.Join("tree/sub")).ok());
  std::ofstream(dir.Join("tree/sub/file")) << "x";
  REQUIRE(symlink(dir.Join("outside").c_str(), dir.Join("tree/link").c_str()) == 0);
  REQUIRE(fs::RemoveTree(dir.Join("tree")).ok());
  CHECK_FALSE(fs::PathExists(dir.Join("tree")));
  CHECK(Read(dir.Join("outside/keep")) == "keep");
  CHECK(fs::RemoveTree(dir.Join("tree")).ok());  // gone already: fine
}

TEST_CASE("a file copy is exact, owner-only and never replaces a file", "[files]") {
  TempDir dir;
  std::string data(200000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  std::ofstream(dir.Join("src"), std::ios::binary) << data;
  REQUIRE(fs::CopyFile(dir.Join("src"), dir.Join("dst")).ok());
  CHECK(Read(dir.Join("dst")) == data);
  struct stat st;
  REQUIRE(stat(dir.Join("dst").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(fs::CopyFile(dir.Join("src"), dir.Join("dst")).ok());
  CHECK(fs::CopyFile(dir.Join("missing"), dir.Join("d2")).code() == Status::Code::kNotFound);
}

TEST_CASE("a new file is written whole and never replaces one", "[files]") {
  TempDir dir;
  REQUIRE(fs::WriteNewFile(dir.Join("f"), "hello\n").ok());
  CHECK(Read(dir.Join("f")) == "hello\n");
  CHECK_FALSE(fs::WriteNewFile(dir.Join("f"), "other").ok());
  CHECK(Read(dir.Join("f")) == "hello\n");
}

TEST_CASE("directories are created once and listed sorted", "[files]") {
  TempDir dir;
  REQUIRE(fs::MakeDir(dir.Join("d")).ok());
  CHECK(fs::MakeDir(dir.Join("d")).code() == Status::Code::kConflict);
  std::ofstream(dir.Join("d/b")) << 1;
  std::ofstream(dir.Join("d/a")) << 1;
  CHECK(RequireOk(fs::ListDir(dir.Join("d"))) == std::vector<std::string>{"a", "b"});
  CHECK(fs::ListDir(dir.Join("nope")).status().code() == Status::Code::kNotFound);
  CHECK(fs::IsDir(dir.Join("d")));
  CHECK_FALSE(fs::IsDir(dir.Join("d/a")));
}

TEST_CASE("the parent of a path is its directory part", "[files]") {
  CHECK(fs::ParentDir("/var/backups/regd") == "/var/backups");
  CHECK(fs::ParentDir("/var/backups/regd/") == "/var/backups");
  CHECK(fs::ParentDir("regd") == ".");
  CHECK(fs::ParentDir("/regd") == "/");
  CHECK(fs::ParentDir("a/b") == "a");
}
