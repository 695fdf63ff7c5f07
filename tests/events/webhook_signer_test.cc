// The Standard Webhooks signature: the spec's own test vector, the secret's
// format, and the secret file regd makes in its data dir.
#include "events/webhook_signer.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

using regd::events::WebhookSecret;
using regd::testing::TempDir;

TEST_CASE("signing reproduces the Standard Webhooks test vector", "[webhook_signer]") {
  // From the specification's reference implementations (standardwebhooks.com).
  auto secret = WebhookSecret::Parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  REQUIRE(secret.ok());
  CHECK(secret->Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})") ==
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // Any change of id, time or body changes the signature.
  CHECK(secret->Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, R"({"test": 2432232314})") !=
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  CHECK(secret->Text() == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
}

TEST_CASE("a secret is whsec_ and the base64 of 24 to 64 bytes", "[webhook_signer]") {
  CHECK(WebhookSecret::Parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").ok());         // prefix optional
  for (const char* bad : {"", "whsec_", "whsec_not base64!", "whsec_c2hvcnQ=",  // 5 bytes
                          "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=="}) {
    INFO(bad);
    auto s = WebhookSecret::Parse(bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == regd::Status::Code::kInvalid);
    CHECK(s.status().message().find("--events-secret") != std::string::npos);
  }
}

TEST_CASE("the data dir's secret is made once, owner-only, and read back the same",
          "[webhook_signer]") {
  TempDir dir;
  auto first = WebhookSecret::LoadOrCreate(dir.path());
  REQUIRE(first.ok());
  CHECK(first->Text().rfind("whsec_", 0) == 0);
  struct stat st = {};
  REQUIRE(stat(dir.Join("events.secret").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = WebhookSecret::LoadOrCreate(dir.path());
  REQUIRE(again.ok());
  CHECK(again->Text() == first->Text());
  TempDir other;
  auto different = WebhookSecret::LoadOrCreate(other.path());
  REQUIRE(different.ok());
  CHECK(different->Text() != first->Text());
}
