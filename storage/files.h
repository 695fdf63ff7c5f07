// Files: the few POSIX file-system steps that backup and restore are built
// from, each reporting failure as a Status that names the path (kNotFound
// for a missing path, kUnavailable for any other I/O error).
//
// Durability: CopyFile flushes the copy (fsync) before returning; a rename
// or a new directory entry is durable only after SyncPath on the directory
// that holds it.
//
// Thread-safety: plain functions; safe from any thread (the file system is
// shared, so callers own the paths they work on).
#pragma once

#include <string>
#include <vector>

#include "storage/status.h"

namespace regd::storage {

// fsync(2) on a file or a directory.
Status SyncPath(const std::string& path);
// The names in directory path (without "." and ".."), sorted.
Result<std::vector<std::string>> ListDir(const std::string& path);
// True when path exists (any kind of file).
bool PathExists(const std::string& path);
// True when path is a directory.
bool IsDir(const std::string& path);
// mkdir with mode 0700; kConflict if path exists.
Status MakeDir(const std::string& path);
// Copies the regular file src to dst (which must not exist), mode 0600, and
// flushes it.
Status CopyFile(const std::string& src, const std::string& dst);
// Removes path and, for a directory, everything in it (symbolic links are
// removed, never followed). A missing path is not an error.
Status RemoveTree(const std::string& path);
// Creates the file path (which must not exist), mode 0600, with content,
// and flushes it.
Status WriteNewFile(const std::string& path, const std::string& content);
// Gives the existing file path mode 0600 (chmod). kNotFound if it is missing.
Status MakeOwnerOnly(const std::string& path);
// Gives path the owner and group of reference (for a file written by root
// into a directory a service user owns). Does nothing when they match.
Status OwnLike(const std::string& path, const std::string& reference);
// rename(2).
Status RenamePath(const std::string& from, const std::string& to);
// The directory part of path ("." if it has none).
std::string ParentDir(const std::string& path);

}  // namespace regd::storage
