#include "app/backup_cli.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/config.h"
#include "app/data_check.h"
#include "app/version.h"
#include "storage/backup.h"
#include "storage/clock.h"
#include "storage/data_dir.h"
#include "storage/dir_lock.h"
#include "storage/files.h"

namespace regd::app {
namespace {

constexpr const char* kManifest = "backup.json";
constexpr const char* kManifestKind = "regd-backup";
constexpr int kManifestFormat = 1;

struct Args {
  std::vector<std::string> words;  // positional
  std::string data_dir;
  bool force = false;
};

// Reads the server's settings (the data dir) as ParseCommandConfig does,
// --force when allowed, and positional words. Returns why the arguments are
// wrong, or "".
std::string ParseArgs(const std::vector<std::string>& args, const std::vector<std::string>& env,
                      bool allow_force, Args* out) {
  std::vector<std::string> words;
  auto config = ParseCommandConfig(args, env, &words);
  if (!config.ok()) return config.status().message();
  out->data_dir = config->data_dir;
  for (const std::string& a : words) {
    if (allow_force && a == "--force") {
      out->force = true;
    } else if (a.rfind("--", 0) == 0) {
      return "unknown flag " + a;
    } else {
      out->words.push_back(a);
    }
  }
  return "";
}

int Usage(const char* command, const std::string& why) {
  std::fprintf(stderr,
               "regd %s: %s\n"
               "usage: regd backup DEST [--data-dir DIR|--config FILE]\n"
               "       regd restore SRC [--data-dir DIR|--config FILE] [--force]\n",
               command, why.c_str());
  return 2;
}

int Fail(const char* command, const std::string& why) {
  std::fprintf(stderr, "regd %s: %s\n", command, why.c_str());
  return 1;
}

std::string WithoutTrailingSlash(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += (out.empty() ? "" : "; ") + l;
  return out;
}

std::string AbsolutePath(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return path;
  std::string out = real;
  std::free(real);
  return out;
}

// Copies, checks, describes and flushes the backup in partial, then renames
// it to dest.
Status WriteBackup(const std::string& data_dir, const std::string& partial, const std::string& dest,
                   CheckReport* report) {
  int64_t started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  Status s = storage::CopyStores(data_dir, partial);
  if (!s.ok()) return s;
  *report = CheckDataDir(partial, CheckOptions{/*private_copy=*/true});
  if (!report->healthy()) {
    return Status::Unavailable("the copy fails its check (is " + data_dir +
                               " damaged? see regd check): " + Joined(report->problems));
  }
  nlohmann::json manifest = {{"kind", kManifestKind},
                             {"format", kManifestFormat},
                             {"regd_version", Version()},
                             {"git_commit", GitCommit()},
                             {"started_at", IsoUtc(started_ms)},
                             {"started_at_ms", started_ms},
                             {"data_dir", AbsolutePath(data_dir)},
                             {"users", report->users},
                             {"pending_jobs", report->pending_jobs},
                             {"dead_jobs", report->dead_jobs}};
  s = storage::WriteNewFile(partial + "/" + kManifest, manifest.dump(2) + "\n");
  if (s.ok()) s = storage::SyncPath(partial);
  // The rename is what makes the backup visible under its name; an empty
  // directory dest is replaced by it.
  if (s.ok()) s = storage::RenamePath(partial, dest);
  if (s.ok()) s = storage::SyncPath(storage::ParentDir(dest));
  return s;
}

Result<nlohmann::json> ReadManifest(const std::string& src) {
  std::string path = src + "/" + kManifest;
  std::ifstream in(path);
  if (!in) return Status::NotFound(src + " is not a regd backup (it has no " + kManifest + ")");
  std::stringstream text;
  text << in.rdbuf();
  auto m = nlohmann::json::parse(text.str(), nullptr, false);
  if (!m.is_object() || m.value("kind", "") != kManifestKind) {
    return Status::Invalid(path + " is not a regd backup manifest");
  }
  if (!m["format"].is_number_integer() || m["format"].get<int>() != kManifestFormat) {
    return Status::Invalid(path + ": backup format " + m["format"].dump() +
                           " is not one this regd reads (" + std::to_string(kManifestFormat) + ")");
  }
  for (const std::string& file : {storage::UsersDbPath(src), storage::LmdbDataPath(src)}) {
    if (!storage::PathExists(file)) return Status::NotFound("the backup lacks " + file);
  }
  return m;
}

// The regd files of a data dir, which restore replaces.
std::vector<std::string> RegdFiles(const std::string& dir) {
  std::string db = storage::UsersDbPath(dir);
  return {db, db + "-wal", db + "-shm", db + "-journal", storage::LmdbDirPath(dir)};
}

// Copies the backup src into dir/.restore.partial, checks it there, then
// moves it into place. dir is locked and holds nothing we may not replace.
Status InstallBackup(const std::string& src, const std::string& dir, CheckReport* report) {
  std::string staging = dir + "/.restore.partial";
  Status s = storage::RemoveTree(staging);  // left by an interrupted restore
  if (s.ok()) s = storage::MakeDir(staging);
  if (s.ok()) s = storage::MakeDir(storage::LmdbDirPath(staging));
  if (s.ok()) s = storage::CopyFile(storage::UsersDbPath(src), storage::UsersDbPath(staging));
  if (s.ok()) s = storage::CopyFile(storage::LmdbDataPath(src), storage::LmdbDataPath(staging));
  if (s.ok()) s = storage::CopySecret(src, staging);
  if (s.ok()) s = storage::SyncPath(storage::LmdbDirPath(staging));
  if (s.ok()) s = storage::SyncPath(staging);
  if (s.ok()) {
    *report = CheckDataDir(staging, CheckOptions{/*private_copy=*/true});
    if (!report->healthy()) {
      s = Status::Unavailable("the backup " + src +
                              " fails its check: " + Joined(report->problems));
    }
  }
  if (!s.ok()) {
    storage::RemoveTree(staging);  // dir is as it was
    return s;
  }
  // A stale -wal beside the restored database would be replayed into it:
  // every old regd file goes before the new ones come.
  for (const std::string& old : RegdFiles(dir)) {
    s = storage::RemoveTree(old);
    if (!s.ok()) return s;
  }
  s = storage::RenamePath(storage::UsersDbPath(staging), storage::UsersDbPath(dir));
  if (s.ok()) s = storage::RenamePath(storage::LmdbDirPath(staging), storage::LmdbDirPath(dir));
  // A backup from before the secret existed has none; the dir keeps its own.
  if (s.ok() && storage::PathExists(storage::SecretPath(staging))) {
    s = storage::RenamePath(storage::SecretPath(staging), storage::SecretPath(dir));
  }
  if (s.ok()) s = storage::SyncPath(dir);
  if (s.ok()) s = storage::RemoveTree(staging);
  if (!s.ok()) return s;
  // Run as root for a service user's dir: the files become the dir owner's.
  if (::geteuid() == 0) {
    for (const std::string& p :
         {storage::UsersDbPath(dir), storage::LmdbDirPath(dir), storage::LmdbDataPath(dir),
          storage::DirLockPath(dir), storage::SecretPath(dir)}) {
      if (!storage::PathExists(p)) continue;
      s = storage::OwnLike(p, dir);
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

}  // namespace

int RunBackupCli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  Args a;
  if (std::string why = ParseArgs(args, env, /*allow_force=*/false, &a); !why.empty()) {
    return Usage("backup", why);
  }
  if (a.words.size() != 1) return Usage("backup", "give one destination directory, DEST");
  std::string dest = WithoutTrailingSlash(a.words[0]);
  if (storage::PathExists(dest)) {
    if (!storage::IsDir(dest)) return Fail("backup", dest + " exists and is not a directory");
    auto names = storage::ListDir(dest);
    if (!names.ok()) return Fail("backup", names.status().message());
    if (!names->empty()) return Fail("backup", dest + " exists and is not empty");
  }
  std::string partial = dest + ".partial";
  Status s = storage::MakeDir(partial);
  if (s.code() == Status::Code::kConflict) {
    return Fail("backup", partial + " exists: a backup to " + dest +
                              " is running or was interrupted (remove it to start again)");
  }
  if (!s.ok()) return Fail("backup", s.message());
  CheckReport report;
  s = WriteBackup(a.data_dir, partial, dest, &report);
  if (!s.ok()) {
    storage::RemoveTree(partial);
    return Fail("backup", s.message());
  }
  std::printf("backup of %s written to %s: %lld users, %lld pending jobs, %lld dead\n",
              a.data_dir.c_str(), dest.c_str(), static_cast<long long>(report.users),
              static_cast<long long>(report.pending_jobs),
              static_cast<long long>(report.dead_jobs));
  return 0;
}

int RunRestoreCli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  Args a;
  if (std::string why = ParseArgs(args, env, /*allow_force=*/true, &a); !why.empty()) {
    return Usage("restore", why);
  }
  if (a.words.size() != 1) return Usage("restore", "give one backup directory, SRC");
  std::string src = WithoutTrailingSlash(a.words[0]);
  std::string dir = WithoutTrailingSlash(a.data_dir);
  auto manifest = ReadManifest(src);
  if (!manifest.ok()) return Fail("restore", manifest.status().message());

  if (!storage::PathExists(dir)) {
    Status s = storage::MakeDir(dir);
    if (!s.ok()) return Fail("restore", s.message());
  } else if (!storage::IsDir(dir)) {
    return Fail("restore", dir + " is not a directory");
  }
  // A running server holds the DirLock; holding it here also keeps a server
  // from starting until the restore is done.
  auto lock = storage::DirLock::Acquire(dir);
  if (!lock.ok()) {
    return Fail(
        "restore",
        lock.status().message() +
            (lock.status().code() == Status::Code::kConflict ? ": stop the server first" : ""));
  }
  auto user = storage::LmdbEnvUser(dir);
  if (!user.ok()) return Fail("restore", user.status().message());
  if (*user != 0) {
    return Fail("restore", storage::LmdbDirPath(dir) + " is open in process " +
                               std::to_string(*user) + " (a regd command?): wait for it to end");
  }
  auto names = storage::ListDir(dir);
  if (!names.ok()) return Fail("restore", names.status().message());
  std::string present;
  for (const std::string& n : *names) {
    if (n != "regd.lock" && n != ".restore.partial") present += (present.empty() ? "" : ", ") + n;
  }
  if (!present.empty() && !a.force) {
    return Fail("restore", dir + " is not empty (" + present +
                               "); --force replaces its regd data with the backup");
  }
  CheckReport report;
  Status s = InstallBackup(src, dir, &report);
  if (!s.ok()) return Fail("restore", s.message());
  std::printf(
      "restored %s (backup of %s, started %s) into %s: %lld users, %lld pending jobs, "
      "%lld dead\n",
      src.c_str(), (*manifest).value("data_dir", "?").c_str(),
      (*manifest).value("started_at", "?").c_str(), dir.c_str(),
      static_cast<long long>(report.users), static_cast<long long>(report.pending_jobs),
      static_cast<long long>(report.dead_jobs));
  return 0;
}

}  // namespace regd::app
