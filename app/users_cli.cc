#include "app/users_cli.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "account/account_admin.h"
#include "app/config.h"
#include "queue/job_queue.h"
#include "storage/clock.h"
#include "storage/data_dir.h"
#include "storage/expiring_kv.h"
#include "storage/lmdb_env.h"
#include "storage/server_secret.h"
#include "storage/user_store.h"

namespace regd::app {
namespace {

struct Options {
  std::string data_dir;
  std::string command;
  std::string who;
  bool json = false;
  long limit = 50;
};

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "regd users: %s\n"
               "usage: regd users list [--json] [--limit N]\n"
               "       regd users show|disable|enable|delete|unlock USER [--json]\n"
               "       (USER: a username or a mobile; the data of --data-dir DIR, default ./data,\n"
               "       or of the server's --config FILE)\n",
               why.c_str());
  return 2;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "regd users: %s\n", s.message().c_str());
  return 1;
}

std::string When(int64_t ms) { return ms == 0 ? "never" : IsoUtc(ms); }

nlohmann::json UserJson(const storage::User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"mobile", u.mobile},
          {"created_at", IsoUtc(u.created_at_ms)},
          {"disabled", u.disabled}};
}

int List(account::AccountAdmin& admin, const Options& o) {
  auto users = admin.List(static_cast<size_t>(o.limit));
  if (!users.ok()) return Fail(users.status());
  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& u : *users) out.push_back(UserJson(u));
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("%-8s %-20s %-14s %-20s  %s\n", "ID", "USERNAME", "MOBILE", "CREATED", "STATUS");
  for (const auto& u : *users) {
    std::printf("%-8lld %-20s %-14s %-20s  %s\n", static_cast<long long>(u.id), u.username.c_str(),
                u.mobile.c_str(), IsoUtc(u.created_at_ms).c_str(),
                u.disabled ? "disabled" : "active");
  }
  return 0;
}

int Show(account::AccountAdmin& admin, const storage::User& user, const Options& o) {
  auto view = admin.Show(user, 20);
  if (!view.ok()) return Fail(view.status());
  if (o.json) {
    nlohmann::json out = UserJson(user);
    out["last_login_at"] =
        view->last_login_ms ? nlohmann::json(IsoUtc(view->last_login_ms)) : nullptr;
    out["live_sessions"] = view->live_sessions;
    out["events"] = nlohmann::json::array();
    for (const auto& e : view->events) {
      out["events"].push_back({{"type", e.type}, {"at", IsoUtc(e.at_ms)}, {"mobile", e.mobile}});
    }
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf(
      "id             %lld\nusername       %s\nmobile         %s\nstatus         %s\n"
      "created        %s\nlast login     %s\nlive sessions  %zu\nrecent events (newest first):\n",
      static_cast<long long>(user.id), user.username.c_str(), user.mobile.c_str(),
      user.disabled ? "disabled" : "active", IsoUtc(user.created_at_ms).c_str(),
      When(view->last_login_ms).c_str(), view->live_sessions);
  for (const auto& e : view->events) {
    std::printf("  %s  %-22s mobile %s\n", IsoUtc(e.at_ms).c_str(), e.type.c_str(),
                e.mobile.c_str());
  }
  return 0;
}

}  // namespace

int RunUsersCli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> words;
  auto config = ParseCommandConfig(args, env, &words);
  if (!config.ok()) return Usage(config.status().message());
  Options o;
  o.data_dir = config->data_dir;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& a = words[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= words.size() || words[i + 1].empty()) return false;
      *out = words[++i];
      return true;
    };
    std::string v;
    if (a == "--json") {
      o.json = true;
    } else if (a == "--limit") {
      char* end = nullptr;
      if (!value(&v)) return Usage("--limit needs a number");
      o.limit = std::strtol(v.c_str(), &end, 10);
      if (*end != '\0' || o.limit < 1 || o.limit > 100000) {
        return Usage("--limit must be 1 to 100000");
      }
    } else if (o.command.empty()) {
      o.command = a;
    } else if (o.who.empty() && o.command != "list") {
      o.who = a;
    } else {
      return Usage("unexpected argument '" + a + "'");
    }
  }
  static const char* const kCommands[] = {"list", "show", "disable", "enable", "delete", "unlock"};
  bool known = false;
  for (const char* c : kCommands) known = known || o.command == c;
  if (!known) {
    return Usage(o.command.empty() ? "a command is needed" : "unknown command '" + o.command + "'");
  }
  if (o.command != "list" && o.who.empty()) return Usage(o.command + " needs a username or mobile");

  struct stat st;
  if (stat(storage::UsersDbPath(o.data_dir).c_str(), &st) != 0 ||
      stat(storage::LmdbDataPath(o.data_dir).c_str(), &st) != 0) {
    std::fprintf(stderr, "regd users: no regd data in %s\n", o.data_dir.c_str());
    return 1;
  }
  if (sodium_init() < 0) return 1;
  const Clock* clock = SystemClock::Get();
  auto secret = storage::ServerSecret::LoadOrCreate(o.data_dir);
  if (!secret.ok()) return Fail(secret.status());
  auto env_or = storage::LmdbEnv::Open({storage::LmdbDirPath(o.data_dir)});
  if (!env_or.ok()) return Fail(env_or.status());
  auto kv = storage::ExpiringKv::Open(env_or->get());
  if (!kv.ok()) return Fail(kv.status());
  auto q = queue::JobQueue::Open(env_or->get(), clock);
  if (!q.ok()) return Fail(q.status());
  auto users = storage::UserStore::Open(storage::UsersDbPath(o.data_dir));
  if (!users.ok()) return Fail(users.status());
  account::AccountAdmin admin(users->get(), kv->get(), q->get(), &*secret, clock);

  if (o.command == "list") return List(admin, o);
  auto user = admin.Find(o.who);
  if (!user.ok()) return Fail(user.status());
  if (o.command == "show") return Show(admin, *user, o);
  if (o.command == "disable" || o.command == "enable") {
    auto changed = o.command == "disable" ? admin.Disable(*user) : admin.Enable(*user);
    if (!changed.ok()) return Fail(changed.status());
    std::printf("%s %s%s\n", user->username.c_str(),
                o.command == "disable" ? "disabled" : "enabled",
                *changed ? "" : " (it already was)");
    return 0;
  }
  if (o.command == "delete") {
    auto dropped = admin.Delete(*user);
    if (!dropped.ok()) return Fail(dropped.status());
    std::printf("%s deleted (%zu queued SMS dropped); username and mobile are free\n",
                user->username.c_str(), *dropped);
    return 0;
  }
  Status s = admin.Unlock(*user);
  if (!s.ok()) return Fail(s);
  std::printf("%s unlocked: the login locks lift at the next attempt\n", user->username.c_str());
  return 0;
}

}  // namespace regd::app
