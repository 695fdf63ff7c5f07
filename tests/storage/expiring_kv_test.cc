#include "storage/expiring_kv.h"

#include <catch2/catch.hpp>

#include "tests/support/fake_clock.h"
#include "tests/support/lmdb_keys.h"
#include "tests/support/rerun_batch.h"
#include "tests/support/temp_dir.h"

using regd::Status;
using regd::storage::ExpiringKv;
using regd::storage::LmdbEnv;
using regd::storage::Txn;
using regd::testing::FakeClock;
using regd::testing::Key64;
using regd::testing::TempDir;

namespace {

struct Fixture {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<LmdbEnv> env;
  std::unique_ptr<ExpiringKv> kv;
  Fixture() {
    auto e = LmdbEnv::Open({dir.Join("lmdb")});
    REQUIRE(e.ok());
    env = std::move(e).value();
    auto k = ExpiringKv::Open(env.get());
    REQUIRE(k.ok());
    kv = std::move(k).value();
  }
  Status Put(const std::string& key, const std::string& value, int64_t ttl_ms) {
    return env->Update([&](Txn& t) { return kv->Put(t, key, value, clock.NowMs() + ttl_ms); });
  }
  std::optional<std::string> Get(const std::string& key) {
    std::optional<std::string> out;
    REQUIRE(env->View([&](Txn& t) {
                 auto r = kv->Get(t, key, clock.NowMs());
                 if (!r.ok()) return r.status();
                 if (r->has_value()) out = (*r)->value;
                 return Status::Ok();
               })
                .ok());
    return out;
  }
};

}  // namespace

TEST_CASE("a live key is returned until it expires", "[expiring_kv]") {
  Fixture f;
  REQUIRE(f.Put("sms:13800138000", "123456", 300'000).ok());
  CHECK(f.Get("sms:13800138000") == std::optional<std::string>("123456"));
  f.clock.Advance(299'999);
  CHECK(f.Get("sms:13800138000").has_value());
}

TEST_CASE("expired key is not returned", "[expiring_kv]") {
  Fixture f;
  REQUIRE(f.Put("cap:x", "ABCD", 300'000).ok());
  f.clock.Advance(300'000);
  CHECK_FALSE(f.Get("cap:x").has_value());
}

TEST_CASE("put replaces the value and the expiry of an existing key", "[expiring_kv]") {
  Fixture f;
  REQUIRE(f.Put("k", "old", 1'000).ok());
  REQUIRE(f.Put("k", "new", 10'000).ok());
  f.clock.Advance(5'000);
  CHECK(f.Get("k") == std::optional<std::string>("new"));
  // The old expiry's index entry is gone: a sweep at 5 s removes nothing.
  auto swept = f.kv->SweepExpired(f.clock.NowMs(), 100);
  REQUIRE(swept.ok());
  CHECK(*swept == 0);
  CHECK(f.Get("k").has_value());
}

TEST_CASE("sweep deletes expired entries and keeps live ones", "[expiring_kv]") {
  Fixture f;
  for (int i = 0; i < 50; ++i) REQUIRE(f.Put("old:" + std::to_string(i), "v", 1'000).ok());
  REQUIRE(f.Put("live", "v", 60'000).ok());
  f.clock.Advance(2'000);
  auto first = f.kv->SweepExpired(f.clock.NowMs(), 20);  // batches are bounded
  REQUIRE(first.ok());
  CHECK(*first == 20);
  auto rest = f.kv->SweepExpired(f.clock.NowMs(), 1000);
  REQUIRE(rest.ok());
  CHECK(*rest == 30);
  auto count = f.kv->Count();
  REQUIRE(count.ok());
  CHECK(*count == 1);
  CHECK(f.Get("live").has_value());
}

TEST_CASE("a sweep that runs again after a map resize deletes and reports each entry once",
          "[expiring_kv]") {
  TempDir dir;
  LmdbEnv::Options o;
  o.path = dir.Join("lmdb");
  o.map_size = 64 * 1024;  // small: the filler makes the batch grow it, twice or more
  o.max_map_size = 16 * 1024 * 1024;
  auto env = LmdbEnv::Open(o);
  REQUIRE(env.ok());
  auto kv = ExpiringKv::Open(env->get());
  REQUIRE(kv.ok());
  auto filler = (*env)->OpenDb("filler");
  REQUIRE(filler.ok());
  FakeClock clock;
  for (int i = 0; i < 10; ++i) {
    REQUIRE((*env)
                ->Update([&](Txn& t) {
                  return (*kv)->Put(t, "old:" + std::to_string(i), "v", clock.NowMs() + 1'000);
                })
                .ok());
  }
  REQUIRE((*env)
              ->Update([&](Txn& t) { return (*kv)->Put(t, "live", "v", clock.NowMs() + 60'000); })
              .ok());
  clock.Advance(2'000);
  regd::Result<size_t> swept = Status::Internal("not run");
  int runs = regd::testing::RunInRerunBatch(
      env->get(), *filler, 256 * 1024, [&] { swept = (*kv)->SweepExpired(clock.NowMs(), 15); },
      [&](Txn& t) {
        auto gone = (*kv)->Get(t, "old:0", 0);  // at time 0 nothing has expired
        return gone.ok() && !gone->has_value();
      });
  REQUIRE(runs >= 2);  // the sweep's function ran again
  REQUIRE(swept.ok());
  CHECK(*swept == 10);
  auto count = (*kv)->Count();
  REQUIRE(count.ok());
  CHECK(*count == 1);
}

TEST_CASE("delete removes a key and deleting a missing key is fine", "[expiring_kv]") {
  Fixture f;
  REQUIRE(f.Put("k", "v", 1'000).ok());
  REQUIRE(f.env->Update([&](Txn& t) { return f.kv->Delete(t, "k"); }).ok());
  CHECK_FALSE(f.Get("k").has_value());
  CHECK(f.env->Update([&](Txn& t) { return f.kv->Delete(t, "never"); }).ok());
}

TEST_CASE("a committed put survives reopening the environment", "[expiring_kv]") {
  TempDir dir;
  FakeClock clock;
  {
    auto env = LmdbEnv::Open({dir.Join("lmdb")});
    REQUIRE(env.ok());
    auto kv = ExpiringKv::Open(env->get());
    REQUIRE(kv.ok());
    REQUIRE(
        (*env)
            ->Update([&](Txn& t) { return (*kv)->Put(t, "sess:1", "42", clock.NowMs() + 1000); })
            .ok());
  }
  auto env = LmdbEnv::Open({dir.Join("lmdb")});
  REQUIRE(env.ok());
  auto kv = ExpiringKv::Open(env->get());
  REQUIRE(kv.ok());
  std::optional<std::string> v;
  REQUIRE((*env)
              ->View([&](Txn& t) {
                auto r = (*kv)->Get(t, "sess:1", clock.NowMs());
                if (r.ok() && r->has_value()) v = (*r)->value;
                return r.status();
              })
              .ok());
  CHECK(v == std::optional<std::string>("42"));
}

namespace {

// ExpiringKv::Check on the fixture's env; returns the "kv" entry count.
size_t CheckKv(Fixture& f, regd::storage::Findings* found) {
  std::array<MDB_dbi, ExpiringKv::kDbNames.size()> dbs{};
  for (size_t i = 0; i < dbs.size(); ++i) {
    auto dbi = f.env->FindDb(ExpiringKv::kDbNames[i]);
    REQUIRE(dbi.ok());
    REQUIRE(dbi->has_value());
    dbs[i] = **dbi;
  }
  size_t n = 0;
  REQUIRE(f.env
              ->View([&](Txn& t) {
                n = ExpiringKv::Check(t, dbs, found);
                return Status::Ok();
              })
              .ok());
  return n;
}

}  // namespace

TEST_CASE("check passes a healthy store and counts its entries", "[expiring_kv]") {
  Fixture f;
  REQUIRE(f.Put("sms:13800000000", "v", 60'000).ok());
  REQUIRE(f.Put("sess:abc", "7", 1).ok());
  f.clock.Advance(10);  // expired but not swept: still an entry, still indexed
  regd::storage::Findings found;
  CHECK(CheckKv(f, &found) == 2);
  CHECK(found.problems.empty());
  CHECK(found.notes.empty());
}

TEST_CASE("check finds entries and index entries that lost their partner", "[expiring_kv]") {
  Fixture f;
  auto kv = f.env->FindDb("kv");
  auto exp = f.env->FindDb("kv_exp");
  REQUIRE((kv.ok() && kv->has_value() && exp.ok() && exp->has_value()));
  REQUIRE(f.env
              ->Update([&](Txn& t) {
                Status s = t.Put(**kv, "sess:abc", Key64(4102444800000) + "1");  // no index
                if (s.ok()) s = t.Put(**kv, "cap:x", "1234567");                 // no expiry
                if (s.ok()) s = t.Put(**exp, Key64(5) + "sms:13800000000", "");  // no entry
                if (s.ok()) s = t.Put(**exp, "short", "");
                return s;
              })
              .ok());
  regd::storage::Findings found;
  CHECK(CheckKv(f, &found) == 2);
  std::string all;
  for (const std::string& p : found.problems) all += p + "\n";
  CHECK_THAT(all,
             Catch::Matchers::Contains("kv: an entry under 'sess:' has no kv_exp index entry") &&
                 Catch::Matchers::Contains("kv: an entry under 'cap:' has no expiry") &&
                 Catch::Matchers::Contains(
                     "kv_exp: an index entry under 'sms:' has no matching kv entry") &&
                 Catch::Matchers::Contains("kv_exp: an index key is shorter than its expiry"));
  CHECK(all.find("13800000000") == std::string::npos);  // keys are not shown
}
