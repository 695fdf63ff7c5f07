// StaticFiles: the page's files (HTML, CSS, JS, icons), served from the copy
// built into the binary or, with --web-root DIR, from DIR.
//
// Only files that exist below the root are served: request paths are
// normalised first and any path with "..", a NUL, a backslash or a hidden
// component is refused, and a DIR file must resolve (realpath) inside DIR, so
// no request can read a file outside the page's assets.
// Each file carries its content type and an ETag (a hash of its bytes) for
// conditional GETs.
//
// Thread-safety: immutable after construction; Find is safe from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace regd::web {

struct EmbeddedFile {
  const char* path;  // "/register.html"
  std::string_view data;
};
extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kEmbeddedFileCount;

struct StaticFile {
  std::string data;
  std::string content_type;
  std::string etag;  // quoted, e.g. "\"3f2a...\""
};

class StaticFiles {
 public:
  // Files built into the binary.
  static std::unique_ptr<StaticFiles> Embedded();
  // Files read from dir on each request (so a shop can edit its page live).
  static std::unique_ptr<StaticFiles> FromDirectory(std::string dir);

  // The file for a URL path such as "/css/main.css"; nullopt if none.
  std::optional<StaticFile> Find(std::string_view url_path) const;

  static std::string ContentTypeFor(std::string_view path);

 private:
  StaticFiles() = default;
  std::map<std::string, StaticFile, std::less<>> embedded_;
  std::string dir_;  // non-empty: serve from here instead
};

}  // namespace regd::web
