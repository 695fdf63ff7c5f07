#include "storage/lmdb_env.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

using regd::Result;
using regd::Status;
using regd::storage::Cursor;
using regd::storage::GetBigEndian64;
using regd::storage::LmdbEnv;
using regd::storage::PutBigEndian64;
using regd::storage::Txn;
using regd::testing::TempDir;

namespace {

std::string Be(uint64_t v) {
  std::string s;
  PutBigEndian64(&s, v);
  return s;
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<LmdbEnv> env;
  MDB_dbi dbi = 0;
  // max_map_size 0: the map cannot grow past map_size.
  explicit Fixture(size_t map_size = size_t{1} << 30, size_t max_map_size = 0) {
    Open(map_size, max_map_size);
  }
  void Open(size_t map_size, size_t max_map_size) {
    env.reset();
    LmdbEnv::Options o;
    o.path = dir.Join("lmdb");
    o.map_size = map_size;
    o.max_map_size = max_map_size ? max_map_size : map_size;
    auto e = LmdbEnv::Open(o);
    REQUIRE(e.ok());
    env = std::move(e).value();
    auto d = env->OpenDb("test");
    REQUIRE(d.ok());
    dbi = *d;
  }
  Status Put(const std::string& key, const std::string& value) {
    return env->Update([&](Txn& t) { return t.Put(dbi, key, value); });
  }
  std::optional<std::string> Get(const std::string& key) {
    std::optional<std::string> out;
    REQUIRE(env->View([&](Txn& t) {
                 auto r = t.Get(dbi, key);
                 if (!r.ok()) return r.status();
                 if (r->has_value()) out = std::string(**r);
                 return Status::Ok();
               })
                .ok());
    return out;
  }
  // Every key in the database, in cursor order.
  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    REQUIRE(env->View([&](Txn& t) -> Status {
                 auto cur = Cursor::Open(t, dbi);
                 if (!cur.ok()) return cur.status();
                 auto more = cur->First();
                 for (; more.ok() && *more; more = cur->Next()) keys.emplace_back(cur->key());
                 return more.status();
               })
                .ok());
    return keys;
  }
};

}  // namespace

TEST_CASE("big-endian encoding writes the most significant byte first", "[lmdb_env]") {
  CHECK(Be(0x0102030405060708ULL) == std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  CHECK(Be(0) == std::string(8, '\0'));
  CHECK(Be(UINT64_MAX) == std::string(8, '\xff'));
  std::string appended = "p";
  PutBigEndian64(&appended, 1);
  CHECK(appended == std::string("p\0\0\0\0\0\0\0\x01", 9));
}

TEST_CASE("big-endian encoding round-trips", "[lmdb_env]") {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256},
                     uint64_t{1'790'000'000'000}, uint64_t{1} << 63, UINT64_MAX}) {
    CHECK(GetBigEndian64(Be(v)) == v);
  }
  // Only the first 8 bytes are read.
  CHECK(GetBigEndian64(Be(42) + "trailing") == 42);
}

TEST_CASE("big-endian byte order equals numeric order", "[lmdb_env]") {
  const std::vector<uint64_t> sorted = {0,
                                        1,
                                        127,
                                        128,
                                        255,
                                        256,
                                        65535,
                                        65536,
                                        uint64_t{1} << 32,
                                        1'790'000'000'000,
                                        uint64_t{1} << 63,
                                        UINT64_MAX};
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    INFO(sorted[i] << " < " << sorted[i + 1]);
    CHECK(Be(sorted[i]) < Be(sorted[i + 1]));
  }
}

TEST_CASE("lmdb iterates big-endian keys in numeric order", "[lmdb_env]") {
  Fixture f;
  const std::vector<uint64_t> values = {65536, 1, 255, UINT64_MAX, 256, 0, 1'790'000'000'000};
  for (uint64_t v : values) REQUIRE(f.Put(Be(v), "").ok());
  std::vector<uint64_t> seen;
  for (const std::string& k : f.Keys()) seen.push_back(GetBigEndian64(k));
  std::vector<uint64_t> expected = values;
  std::sort(expected.begin(), expected.end());
  CHECK(seen == expected);
}

TEST_CASE("a committed write is visible to later transactions", "[lmdb_env]") {
  Fixture f;
  REQUIRE(f.Put("k", "v").ok());
  CHECK(f.Get("k") == std::optional<std::string>("v"));
}

TEST_CASE("a write transaction destroyed without commit leaves no trace", "[lmdb_env]") {
  Fixture f;
  {
    auto txn = f.env->BeginWrite();
    REQUIRE(txn.ok());
    REQUIRE(txn->Put(f.dbi, "k", "v").ok());
    // Visible inside the transaction itself.
    auto inside = txn->Get(f.dbi, "k");
    REQUIRE(inside.ok());
    CHECK(inside->has_value());
  }  // destroyed: aborted
  CHECK_FALSE(f.Get("k").has_value());
  // The write lock was released: another write can begin and commit.
  CHECK(f.Put("k2", "v2").ok());
  CHECK(f.Get("k2") == std::optional<std::string>("v2"));
}

TEST_CASE("update aborts when its function fails", "[lmdb_env]") {
  Fixture f;
  Status s = f.env->Update([&](Txn& t) {
    REQUIRE(t.Put(f.dbi, "k", "v").ok());
    return Status::Invalid("changed my mind");
  });
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_FALSE(f.Get("k").has_value());
}

TEST_CASE("moving a transaction transfers ownership; assigning over one aborts it", "[lmdb_env]") {
  Fixture f;
  {
    auto first = f.env->BeginWrite();
    REQUIRE(first.ok());
    Txn moved = std::move(*first);
    CHECK(first->get() == nullptr);
    REQUIRE(moved.Put(f.dbi, "moved", "1").ok());
    REQUIRE(moved.Commit().ok());
    CHECK(moved.get() == nullptr);
  }
  CHECK(f.Get("moved").has_value());
  {
    auto w = f.env->BeginWrite();
    REQUIRE(w.ok());
    Txn t = std::move(*w);
    REQUIRE(t.Put(f.dbi, "dropped", "1").ok());
    auto r = f.env->BeginRead();  // MDB_NOTLS: a reader may coexist with the writer
    REQUIRE(r.ok());
    t = std::move(*r);  // aborts the write
  }
  CHECK_FALSE(f.Get("dropped").has_value());
}

TEST_CASE("deleting a missing key is not an error", "[lmdb_env]") {
  Fixture f;
  REQUIRE(f.Put("k", "v").ok());
  CHECK(f.env->Update([&](Txn& t) { return t.Del(f.dbi, "k"); }).ok());
  CHECK(f.env->Update([&](Txn& t) { return t.Del(f.dbi, "never"); }).ok());
  CHECK_FALSE(f.Get("k").has_value());
}

TEST_CASE("a full map gives kFull and the environment stays usable", "[lmdb_env]") {
  Fixture f(64 * 1024);
  REQUIRE(f.Put("kept", "before the map filled").ok());
  const std::string value(2000, 'x');
  Status last;
  int committed = 0;
  for (int i = 0; i < 1000 && last.ok(); ++i) {
    last = f.Put(Be(static_cast<uint64_t>(i)), value);
    if (last.ok()) ++committed;
  }
  INFO(last.ToString());
  REQUIRE_FALSE(last.ok());
  CHECK(last.code() == Status::Code::kFull);
  CHECK(committed > 0);
  CHECK(last.retry_after_s() > 0);
  // The failed transaction was aborted: earlier data is intact, reads work, and
  // a new write transaction can begin (the write lock was released).
  CHECK(f.Get("kept") == std::optional<std::string>("before the map filled"));
  CHECK(f.Keys().size() == static_cast<size_t>(committed) + 1);
  CHECK(f.env->Update([&](Txn& t) { return t.Del(f.dbi, "kept"); }).ok());
  CHECK_FALSE(f.Get("kept").has_value());
}

TEST_CASE("a full map inside one large transaction gives kFull on put", "[lmdb_env]") {
  Fixture f(64 * 1024);
  const std::string value(2000, 'y');
  Status s = f.env->Update([&](Txn& t) -> Status {
    for (int i = 0; i < 1000; ++i) {
      Status p = t.Put(f.dbi, Be(static_cast<uint64_t>(i)), value);
      if (!p.ok()) return p;
    }
    return Status::Ok();
  });
  CHECK(s.code() == Status::Code::kFull);
  CHECK(f.Keys().empty());
  CHECK(f.Put("after", "small").ok());
}

TEST_CASE("a full map doubles up to its maximum, then writes get kFull and reads go on",
          "[lmdb_env]") {
  const std::string value(2000, 'g');
  auto fill = [&](Fixture& f) {
    Status last;
    int committed = 0;
    for (int i = 0; i < 1000 && last.ok(); ++i) {
      last = f.Put(Be(static_cast<uint64_t>(i)), value);
      if (last.ok()) ++committed;
    }
    INFO(last.ToString());
    CHECK(last.code() == Status::Code::kFull);
    return committed;
  };
  Fixture fixed(64 * 1024);  // for comparison: what 64 KiB holds
  int fits_ungrown = fill(fixed);
  Fixture f(64 * 1024, 256 * 1024);
  REQUIRE(f.env->map_size() == 64 * 1024);
  int committed = fill(f);
  CHECK(f.env->map_size() == 256 * 1024);
  CHECK(committed > 3 * fits_ungrown);
  CHECK(f.Keys().size() == static_cast<size_t>(committed));
  CHECK(f.Get(Be(0)) == std::optional<std::string>(value));
  // Nothing committed is lost across a reopen at the grown size.
  f.Open(64 * 1024, 256 * 1024);
  CHECK(f.Keys().size() == static_cast<size_t>(committed));
}

TEST_CASE("a batch that hits the full map runs again whole after the map grew", "[lmdb_env]") {
  Fixture f(64 * 1024, 1024 * 1024);
  const std::string value(2000, 'b');
  // One update bigger than the initial map: it fails, the map grows, it runs
  // again from the start and commits all of its writes exactly once.
  int runs = 0;
  Status s = f.env->Update([&](Txn& t) -> Status {
    ++runs;
    for (int i = 0; i < 100; ++i) {
      Status p = t.Put(f.dbi, Be(static_cast<uint64_t>(i)), value);
      if (!p.ok()) return p;
    }
    return Status::Ok();
  });
  REQUIRE(s.ok());
  CHECK(runs >= 2);
  CHECK(f.Keys().size() == 100);
  CHECK(f.env->map_size() > 64 * 1024);
}

TEST_CASE("the map grows while other threads read", "[lmdb_env]") {
  // Readers pin old pages, so the map needs room beyond the data itself.
  Fixture f(64 * 1024, 64 * 1024 * 1024);
  REQUIRE(f.Put("anchor", "stays readable").ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        Status s = f.env->View([&](Txn& t) -> Status {
          auto v = t.Get(f.dbi, "anchor");
          if (!v.ok()) return v.status();
          if (!v->has_value() || **v != "stays readable") ++bad;
          return Status::Ok();
        });
        if (!s.ok()) ++bad;
      }
    });
  }
  const std::string value(1000, 'r');
  Status failed;
  for (int i = 0; i < 1500 && failed.ok(); ++i) failed = f.Put(Be(static_cast<uint64_t>(i)), value);
  stop = true;
  for (auto& t : readers) t.join();
  INFO(failed.ToString());
  REQUIRE(failed.ok());
  CHECK(bad == 0);
  CHECK(f.env->map_size() > 64 * 1024);
  CHECK(f.Keys().size() == 1501);
}

TEST_CASE("cursor seek finds the first key at or after the target", "[lmdb_env]") {
  Fixture f;
  for (const char* k : {"b", "d", "f"}) REQUIRE(f.Put(k, std::string("v") + k).ok());
  REQUIRE(f.env
              ->View([&](Txn& t) -> Status {
                auto cur = Cursor::Open(t, f.dbi);
                REQUIRE(cur.ok());

                auto at = cur->Seek("d");  // exact
                REQUIRE(at.ok());
                CHECK(*at);
                CHECK(cur->key() == "d");
                CHECK(cur->value() == "vd");

                at = cur->Seek("c");  // between keys
                REQUIRE(at.ok());
                CHECK(*at);
                CHECK(cur->key() == "d");

                at = cur->Seek("a");  // before all
                REQUIRE(at.ok());
                CHECK(*at);
                CHECK(cur->key() == "b");

                at = cur->Next();
                REQUIRE(at.ok());
                CHECK(*at);
                CHECK(cur->key() == "d");
                at = cur->Next();
                REQUIRE(at.ok());
                CHECK(*at);
                CHECK(cur->key() == "f");
                at = cur->Next();  // past the end
                REQUIRE(at.ok());
                CHECK_FALSE(*at);

                at = cur->Seek("g");  // after all
                REQUIRE(at.ok());
                CHECK_FALSE(*at);
                return Status::Ok();
              })
              .ok());
}

TEST_CASE("cursor seek on a big-endian time index finds the first due entry", "[lmdb_env]") {
  Fixture f;
  // Keys as in the due index: time (8 BE) ‖ id (8 BE).
  auto key = [](uint64_t ms, uint64_t id) { return Be(ms) + Be(id); };
  REQUIRE(f.Put(key(2000, 1), "").ok());
  REQUIRE(f.Put(key(1000, 7), "").ok());
  REQUIRE(f.Put(key(1000, 3), "").ok());
  REQUIRE(f.Put(key(256, 9), "").ok());
  std::vector<std::pair<uint64_t, uint64_t>> seen;
  REQUIRE(f.env
              ->View([&](Txn& t) -> Status {
                auto cur = Cursor::Open(t, f.dbi);
                REQUIRE(cur.ok());
                auto more = cur->Seek(Be(300));
                for (; more.ok() && *more; more = cur->Next()) {
                  seen.emplace_back(GetBigEndian64(cur->key()),
                                    GetBigEndian64(cur->key().substr(8)));
                }
                return more.status();
              })
              .ok());
  CHECK(seen == std::vector<std::pair<uint64_t, uint64_t>>{{1000, 3}, {1000, 7}, {2000, 1}});
}

TEST_CASE("cursor first on an empty database reports the end", "[lmdb_env]") {
  Fixture f;
  CHECK(f.Keys().empty());
  REQUIRE(f.env
              ->View([&](Txn& t) -> Status {
                auto cur = Cursor::Open(t, f.dbi);
                REQUIRE(cur.ok());
                auto at = cur->Seek("a");
                REQUIRE(at.ok());
                CHECK_FALSE(*at);
                return Status::Ok();
              })
              .ok());
}

TEST_CASE("cursor delete removes the current entry only", "[lmdb_env]") {
  Fixture f;
  for (const char* k : {"a", "b", "c"}) REQUIRE(f.Put(k, "v").ok());
  REQUIRE(f.env
              ->Update([&](Txn& t) -> Status {
                auto cur = Cursor::Open(t, f.dbi);
                REQUIRE(cur.ok());
                auto at = cur->Seek("b");
                REQUIRE(at.ok());
                REQUIRE(*at);
                return cur->DeleteCurrent();
              })
              .ok());
  CHECK(f.Keys() == std::vector<std::string>{"a", "c"});
}

TEST_CASE("data committed before closing the environment is there after reopening", "[lmdb_env]") {
  TempDir dir;
  {
    auto env = LmdbEnv::Open({dir.Join("lmdb")});
    REQUIRE(env.ok());
    auto dbi = (*env)->OpenDb("test");
    REQUIRE(dbi.ok());
    REQUIRE((*env)->Update([&](Txn& t) { return t.Put(*dbi, "k", "v"); }).ok());
  }
  auto env = LmdbEnv::Open({dir.Join("lmdb")});
  REQUIRE(env.ok());
  auto dbi = (*env)->OpenDb("test");
  REQUIRE(dbi.ok());
  std::optional<std::string> v;
  REQUIRE((*env)
              ->View([&](Txn& t) -> Status {
                auto r = t.Get(*dbi, "k");
                if (r.ok() && r->has_value()) v = std::string(**r);
                return r.status();
              })
              .ok());
  CHECK(v == std::optional<std::string>("v"));
}

namespace {

// Pids holding reader slots in env's lock file (dead ones included).
std::vector<long> ReaderPids(MDB_env* env) {
  std::vector<long> pids;
  mdb_reader_list(
      env,
      [](const char* line, void* ctx) -> int {
        long pid = 0;
        if (std::sscanf(line, "%ld", &pid) == 1)
          static_cast<std::vector<long>*>(ctx)->push_back(pid);
        return 0;
      },
      &pids);
  return pids;
}

}  // namespace

// Forks a process that opens the env at path (and begins a read
// transaction if reading) and then waits to be killed; returns its pid once
// it is ready, or -1.
pid_t ForkHolder(const std::string& path, bool reading) {
  int ready[2];
  if (pipe(ready) != 0) return -1;
  pid_t child = fork();
  if (child == 0) {
    LmdbEnv::Options o;
    o.path = path;
    auto env = LmdbEnv::Open(o);
    bool ok = env.ok();
    Result<Txn> txn = Status::Internal("no read");
    if (ok && reading) {
      txn = (*env)->BeginRead();
      ok = txn.ok();
    }
    char c = ok ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    for (;;) pause();
  }
  char c = 0;
  bool ok = child > 0 && read(ready[0], &c, 1) == 1 && c == 'y';
  close(ready[0]);
  close(ready[1]);
  return ok ? child : -1;
}

void Kill(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST_CASE("a reader slot left by a killed process is cleared at open", "[lmdb_env]") {
  TempDir dir;
  const std::string path = dir.Join("lmdb");
  { REQUIRE(LmdbEnv::Open({path}).ok()); }
  // While another process keeps the env open (so its lock file is not
  // reset), a process holding a read transaction dies.
  pid_t holder = ForkHolder(path, false);
  REQUIRE(holder > 0);
  pid_t reader = ForkHolder(path, true);
  REQUIRE(reader > 0);
  Kill(reader);
  // A bare env sees the dead process's slot...
  MDB_env* raw = nullptr;
  REQUIRE(mdb_env_create(&raw) == 0);
  REQUIRE(mdb_env_open(raw, path.c_str(), MDB_NOTLS | MDB_RDONLY, 0600) == 0);
  std::vector<long> before = ReaderPids(raw);
  mdb_env_close(raw);
  CHECK(std::find(before.begin(), before.end(), static_cast<long>(reader)) != before.end());
  // ...and LmdbEnv::Open clears it.
  {
    auto env = LmdbEnv::Open({path});
    REQUIRE(env.ok());
    std::vector<long> after = ReaderPids((*env)->get());
    CHECK(std::find(after.begin(), after.end(), static_cast<long>(reader)) == after.end());
  }
  Kill(holder);
}
