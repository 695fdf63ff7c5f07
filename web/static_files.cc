#include "web/static_files.h"

#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace regd::web {
namespace {

std::string ETagOf(std::string_view data) {
  unsigned char h[16];
  crypto_generichash(h, sizeof(h), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                     nullptr, 0);
  char hex[33];
  sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
  return std::string("\"") + hex + "\"";
}

// True when path is "/a/b.c" with no empty, ".", ".." or hidden components.
bool IsSafePath(std::string_view path) {
  if (path.size() < 2 || path.size() > 256 || path[0] != '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part[0] == '.') return false;
    for (char c : part) {
      if (c == '\\' || c == '\0' || static_cast<unsigned char>(c) < 0x20) return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace

std::string StaticFiles::ContentTypeFor(std::string_view path) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext) {
      return std::string(type);
    }
  }
  return "application/octet-stream";
}

namespace {

std::string EscapeAttribute(std::string_view v) {
  std::string out;
  for (char c : v) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// html with site's meta tags after its <head>; unchanged without one.
std::string WithSite(std::string_view html, const SiteOptions& site) {
  std::string out(html);
  size_t head = out.find("<head>");
  if (head == std::string::npos) return out;
  std::string meta =
      "\n  <meta name=\"regd-site-name\" content=\"" + EscapeAttribute(site.name) + "\">";
  if (!site.terms_url.empty()) {
    meta +=
        "\n  <meta name=\"regd-terms-url\" content=\"" + EscapeAttribute(site.terms_url) + "\">";
  }
  out.insert(head + 6, meta);
  return out;
}

}  // namespace

std::unique_ptr<StaticFiles> StaticFiles::Embedded(const SiteOptions& site) {
  std::unique_ptr<StaticFiles> files(new StaticFiles());
  for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
    const EmbeddedFile& f = kEmbeddedFiles[i];
    std::string type = ContentTypeFor(f.path);
    std::string data =
        type.rfind("text/html", 0) == 0 ? WithSite(f.data, site) : std::string(f.data);
    std::string etag = ETagOf(data);
    files->embedded_[f.path] = StaticFile{std::move(data), std::move(type), std::move(etag)};
  }
  return files;
}

std::unique_ptr<StaticFiles> StaticFiles::FromDirectory(std::string dir) {
  std::unique_ptr<StaticFiles> files(new StaticFiles());
  char real[PATH_MAX];
  files->dir_ = realpath(dir.c_str(), real) ? std::string(real) : dir;
  return files;
}

std::optional<StaticFile> StaticFiles::Find(std::string_view url_path) const {
  if (!IsSafePath(url_path)) return std::nullopt;
  if (dir_.empty()) {
    auto it = embedded_.find(url_path);
    if (it == embedded_.end()) return std::nullopt;
    return it->second;
  }
  std::string full = dir_ + std::string(url_path);
  char real[PATH_MAX];
  if (realpath(full.c_str(), real) == nullptr) return std::nullopt;
  std::string resolved(real);
  if (resolved.compare(0, dir_.size() + 1, dir_ + "/") != 0) return std::nullopt;
  struct stat st;
  if (stat(real, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (8 << 20)) {
    return std::nullopt;
  }
  std::ifstream in(real, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string data = buf.str();
  std::string etag = ETagOf(data);
  return StaticFile{std::move(data), ContentTypeFor(url_path), std::move(etag)};
}

}  // namespace regd::web
