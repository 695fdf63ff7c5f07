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

// The shop's own words on the built-in pages (--site-name, --terms-url).
// Each HTML file gets them as <meta name="regd-site-name" content="...">
// and <meta name="regd-terms-url" ...> right after <head> (HTML-escaped),
// where the pages' script reads them before it writes any text: the page
// stays the files built into the binary, with no request more.
struct SiteOptions {
  std::string name = "regd";
  std::string terms_url;  // empty: the agreement is plain text
};

class StaticFiles {
 public:
  // Files built into the binary, their HTML carrying site.
  static std::unique_ptr<StaticFiles> Embedded(const SiteOptions& site = {});
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
