// ServerSecret: the data dir's key file and the keyed hashes and sealing
// built on it, on a real TempDir.
#include "storage/server_secret.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

using regd::storage::ServerSecret;
using regd::testing::TempDir;

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("the secret is created once with mode 0600 and read back the same", "[server_secret]") {
  TempDir dir;
  auto first = ServerSecret::LoadOrCreate(dir.path());
  REQUIRE(first.ok());
  const std::string path = dir.Join(ServerSecret::kFileName);
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == 32);
  std::string bytes = ReadFile(path);
  auto second = ServerSecret::LoadOrCreate(dir.path());
  REQUIRE(second.ok());
  CHECK(ReadFile(path) == bytes);
  CHECK(first->Mac("cap", "x") == second->Mac("cap", "x"));
  auto opened = second->Open(first->Seal("123456"));
  REQUIRE(opened.ok());
  CHECK(*opened == "123456");
}

TEST_CASE("two data dirs get different secrets", "[server_secret]") {
  TempDir a, b;
  auto sa = ServerSecret::LoadOrCreate(a.path());
  auto sb = ServerSecret::LoadOrCreate(b.path());
  REQUIRE(sa.ok());
  REQUIRE(sb.ok());
  CHECK(sa->Mac("sms", "13800138000:123456") != sb->Mac("sms", "13800138000:123456"));
  CHECK_FALSE(sb->Open(sa->Seal("123456")).ok());
}

TEST_CASE("a secret file of the wrong size is refused, not replaced", "[server_secret]") {
  TempDir dir;
  const std::string path = dir.Join(ServerSecret::kFileName);
  {
    std::ofstream out(path, std::ios::binary);
    out << "short";
  }
  chmod(path.c_str(), 0600);
  auto s = ServerSecret::LoadOrCreate(dir.path());
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("32-byte") != std::string::npos);
  CHECK(ReadFile(path) == "short");
}

TEST_CASE("a secret readable by others is made 0600", "[server_secret]") {
  TempDir dir;
  REQUIRE(ServerSecret::LoadOrCreate(dir.path()).ok());
  const std::string path = dir.Join(ServerSecret::kFileName);
  REQUIRE(chmod(path.c_str(), 0644) == 0);
  REQUIRE(ServerSecret::LoadOrCreate(dir.path()).ok());
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("macs are keyed, 32 bytes, and separated by domain", "[server_secret]") {
  ServerSecret s = ServerSecret::FromBytes("0123456789abcdef0123456789abcdef");
  ServerSecret t = ServerSecret::FromBytes("fedcba9876543210fedcba9876543210");
  CHECK(s.Mac("cap", "ABCD").size() == 32);
  CHECK(s.Mac("cap", "ABCD") == s.Mac("cap", "ABCD"));
  CHECK(s.Mac("cap", "ABCD") != s.Mac("sms", "ABCD"));
  CHECK(s.Mac("cap", "ABCD") != t.Mac("cap", "ABCD"));
  CHECK(s.Mac("ca", "pABCD") != s.Mac("cap", "ABCD"));  // no domain/message ambiguity
  CHECK(s.Mac("cap", "ABCD").find("ABCD") == std::string::npos);
}

TEST_CASE("a sealed value opens only unchanged and with the same secret", "[server_secret]") {
  ServerSecret s = ServerSecret::FromBytes("0123456789abcdef0123456789abcdef");
  std::string sealed = s.Seal("123456");
  CHECK(sealed.find("123456") == std::string::npos);
  CHECK(s.Seal("123456") != sealed);  // a fresh nonce each time
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 1);
    CHECK_FALSE(s.Open(bad).ok());
  }
  CHECK_FALSE(s.Open(sealed.substr(0, 10)).ok());
  CHECK_FALSE(s.Open("").ok());
}
