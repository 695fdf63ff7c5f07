// Running out of room, with the real server: the LMDB map at its maximum
// and (where the machine allows) a full filesystem under SQLite. Writes are
// refused with a JSON 503 + Retry-After; reads go on; nothing committed is
// lost or corrupted.
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::TempDir;
using regd::testing::TestServer;

namespace {

void Check503(const httplib::Result& res) {
  REQUIRE(res);
  INFO("status " << res->status << " body: " << res->body);
  REQUIRE(res->status == 503);
  json j = json::parse(res->body, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["code"] == 503);
  CHECK_FALSE(j["errmsg"].get<std::string>().empty());
  CHECK(std::atoi(res->get_header_value("Retry-After").c_str()) > 0);
}

}  // namespace

TEST_CASE("with the LMDB map at its maximum, writes get 503 and reads and sessions go on",
          "[disk_full]") {
  TestServer s([](auto& c) { c.lmdb_map_mb = 1; });
  std::string session = s.SignUp("alice_1", "13800138001");
  REQUIRE_FALSE(session.empty());
  auto cli = s.Client();
  // Captchas are LMDB writes: make them until the map is full.
  int made = 0;
  for (int i = 0; i < 100000; ++i) {
    auto r = cli.Get("/image_codes/" + TestServer::NewUuid() + "/");
    REQUIRE(r);
    if (r->status != 200) {
      Check503(r);
      break;
    }
    ++made;
  }
  INFO("captchas made: " << made);
  CHECK(made > 100);
  CHECK(made < 100000);
  // Reads go on: the signed-in user's session (an LMDB read) and SQLite.
  auto info = cli.Get("/info/", {{"Cookie", "sessionid=" + session}});
  REQUIRE(info);
  CHECK(info->status == 200);
  auto count = cli.Get("/usernames/alice_1/count/");
  REQUIRE(count);
  CHECK(json::parse(count->body)["count"] == 1);
  // Other writes are refused the same way (or fit in pages freed by the
  // refused batches): never a 500.
  json body = {{"username", "alice_1"}, {"password", "password_1"}};
  auto login = cli.Post("/login/", body.dump(), "application/json");
  REQUIRE(login);
  if (login->status != 200) Check503(login);
  auto health = cli.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
}

// SQLite on a full filesystem: a 1 MiB tmpfs when this process may mount
// one (root in a container with CAP_SYS_ADMIN); otherwise skipped with a
// message, since filling the machine's real disk is not acceptable.
TEST_CASE("with the filesystem full, registration gets 503 and existing users still log in",
          "[disk_full]") {
  TempDir dir;
  std::string mnt = dir.Join("small");
  REQUIRE(mkdir(mnt.c_str(), 0700) == 0);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0) {
    WARN("skipped: cannot mount a small tmpfs here (needs CAP_SYS_ADMIN)");
    return;
  }
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  {
    TestServer s([&](auto& c) {
      c.data_dir = mnt + "/data";
      c.lmdb_map_mb = 64;  // sparse: its pages fill the tmpfs too
    });
    REQUIRE_FALSE(s.SignUp("alice_1", "13800138001").empty());
    // Fill the filesystem around the stores with a file.
    {
      std::string filler = mnt + "/filler";
      FILE* f = fopen(filler.c_str(), "w");
      REQUIRE(f != nullptr);
      std::string block(4096, 'f');
      while (fwrite(block.data(), 1, block.size(), f) == block.size()) {
      }
      fclose(f);
    }
    // New users cannot be written; the answer is a clean 503 (or, if LMDB
    // is the store that hits the wall first, its 503): never a 500.
    int refused = 0;
    for (int i = 0; i < 20 && refused == 0; ++i) {
      std::string mobile = "1390013900" + std::to_string(i % 10);
      std::string code = s.RequestAndReadCode(mobile);
      if (code.empty()) {
        ++refused;  // the code itself could not be stored
        break;
      }
      auto r = s.Register("bob_" + std::to_string(i) + "x", mobile, code);
      REQUIRE(r);
      CHECK(r->status != 500);
      if (r->status == 503) {
        Check503(r);
        ++refused;
      }
    }
    CHECK(refused > 0);
    // The existing user still logs in (a read of SQLite; the session may or
    // may not fit in LMDB's already-allocated pages: 200 or a clean 503).
    json body = {{"username", "alice_1"}, {"password", "password_1"}};
    auto login = s.Client().Post("/login/", body.dump(), "application/json");
    REQUIRE(login);
    CHECK((login->status == 200 || login->status == 503));
    remove((mnt + "/filler").c_str());
  }
  // After room is made, the data is intact and writes work again.
  TestServer again([&](auto& c) { c.data_dir = mnt + "/data"; });
  auto count = again.Client().Get("/usernames/alice_1/count/");
  REQUIRE(count);
  CHECK(json::parse(count->body)["count"] == 1);
}
