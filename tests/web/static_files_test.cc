#include "web/static_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

using regd::testing::TempDir;
using regd::web::StaticFiles;

namespace {

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out);
  out << data;
}

void MakeDir(const std::string& path) { REQUIRE(mkdir(path.c_str(), 0700) == 0); }

void MakeSymlink(const std::string& target, const std::string& link) {
  REQUIRE(symlink(target.c_str(), link.c_str()) == 0);
}

// A web root "www" in a TempDir, with a secret file next to it (outside).
struct WebRoot {
  TempDir dir;
  std::string root = dir.Join("www");
  WebRoot() {
    MakeDir(root);
    MakeDir(root + "/css");
    WriteFile(root + "/index.html", "<!doctype html><title>shop</title>");
    WriteFile(root + "/css/shop.css", "body { color: red }");
    WriteFile(dir.Join("secret.txt"), "top secret");
  }
};

}  // namespace

TEST_CASE("embedded files include the register, login and user pages", "[static_files]") {
  auto files = StaticFiles::Embedded();
  for (const char* page : {"/register.html", "/login.html", "/user.html"}) {
    INFO(page);
    auto f = files->Find(page);
    REQUIRE(f.has_value());
    CHECK_FALSE(f->data.empty());
    CHECK(f->data.find("<html") != std::string::npos);
    CHECK(f->content_type.rfind("text/html", 0) == 0);
  }
}

TEST_CASE("every embedded file is found under its own path with a quoted etag", "[static_files]") {
  REQUIRE(regd::web::kEmbeddedFileCount > 0);
  auto files = StaticFiles::Embedded();
  for (size_t i = 0; i < regd::web::kEmbeddedFileCount; ++i) {
    const auto& e = regd::web::kEmbeddedFiles[i];
    INFO(e.path);
    auto f = files->Find(e.path);
    REQUIRE(f.has_value());
    if (f->content_type.rfind("text/html", 0) == 0) {  // the site's meta tags added
      CHECK(f->data.find("<meta name=\"regd-site-name\" content=\"regd\">") != std::string::npos);
      CHECK(f->data.size() > e.data.size());
    } else {
      CHECK(f->data == std::string(e.data));
    }
    CHECK(f->content_type == StaticFiles::ContentTypeFor(e.path));
    REQUIRE(f->etag.size() > 2);
    CHECK(f->etag.front() == '"');
    CHECK(f->etag.back() == '"');
  }
}

TEST_CASE("the shop's name and terms link reach every page's head, escaped", "[static_files]") {
  auto files = StaticFiles::Embedded({"Tea & \"Co\" <b>", "https://shop.example/terms?a=1&b=2"});
  for (const char* page : {"/register.html", "/login.html", "/reset.html", "/user.html"}) {
    INFO(page);
    auto f = files->Find(page);
    REQUIRE(f.has_value());
    size_t head = f->data.find("<head>");
    size_t name = f->data.find(
        "<meta name=\"regd-site-name\" content=\"Tea &amp; &quot;Co&quot; &lt;b&gt;\">");
    REQUIRE(head != std::string::npos);
    REQUIRE(name != std::string::npos);
    CHECK(name > head);
    CHECK(name < f->data.find("<title"));
    CHECK(f->data.find("<meta name=\"regd-terms-url\" "
                       "content=\"https://shop.example/terms?a=1&amp;b=2\">") != std::string::npos);
  }
  auto plain = StaticFiles::Embedded();
  CHECK(plain->Find("/register.html")->data.find("regd-terms-url") == std::string::npos);
  CHECK(plain->Find("/css/main.css")->data == files->Find("/css/main.css")->data);
  CHECK(plain->Find("/register.html")->etag != files->Find("/register.html")->etag);
}

TEST_CASE("embedded lookup of an unknown file finds nothing", "[static_files]") {
  auto files = StaticFiles::Embedded();
  CHECK_FALSE(files->Find("/nope.html").has_value());
  CHECK_FALSE(files->Find("/").has_value());
  CHECK_FALSE(files->Find("").has_value());
}

TEST_CASE("content types follow the file extension", "[static_files]") {
  CHECK(StaticFiles::ContentTypeFor("/register.html").rfind("text/html", 0) == 0);
  CHECK(StaticFiles::ContentTypeFor("/css/main.css").rfind("text/css", 0) == 0);
  std::string js = StaticFiles::ContentTypeFor("/js/register.js");
  CHECK((js.rfind("text/javascript", 0) == 0 || js.rfind("application/javascript", 0) == 0));
  CHECK(StaticFiles::ContentTypeFor("/favicon.svg") == "image/svg+xml");
  CHECK(StaticFiles::ContentTypeFor("/logo.png") == "image/png");
  CHECK(StaticFiles::ContentTypeFor("/rules.json").rfind("application/json", 0) == 0);
  CHECK(StaticFiles::ContentTypeFor("/archive.bin") == "application/octet-stream");
  CHECK(StaticFiles::ContentTypeFor("/no_extension") == "application/octet-stream");
}

TEST_CASE("embedded lookup refuses unsafe paths", "[static_files]") {
  auto files = StaticFiles::Embedded();
  for (const std::string& p :
       {std::string("/../register.html"), std::string("/css/../register.html"),
        std::string("/./register.html"), std::string("//register.html"),
        std::string("register.html"), std::string("/register.html/"),
        std::string("/.register.html"), std::string("\\register.html"),
        std::string("/register.html\0.png", 19), std::string("/css\\..\\register.html")}) {
    INFO(p);
    CHECK_FALSE(files->Find(p).has_value());
  }
}

TEST_CASE("directory root serves a file inside it with its content type", "[static_files]") {
  WebRoot w;
  auto files = StaticFiles::FromDirectory(w.root);
  auto page = files->Find("/index.html");
  REQUIRE(page.has_value());
  CHECK(page->data == "<!doctype html><title>shop</title>");
  CHECK(page->content_type.rfind("text/html", 0) == 0);
  auto css = files->Find("/css/shop.css");
  REQUIRE(css.has_value());
  CHECK(css->data == "body { color: red }");
  CHECK(css->content_type.rfind("text/css", 0) == 0);
}

TEST_CASE("directory root reads files on each request so edits show at once", "[static_files]") {
  WebRoot w;
  auto files = StaticFiles::FromDirectory(w.root);
  auto before = files->Find("/index.html");
  REQUIRE(before.has_value());
  WriteFile(w.root + "/index.html", "<!doctype html><title>new</title>");
  auto after = files->Find("/index.html");
  REQUIRE(after.has_value());
  CHECK(after->data == "<!doctype html><title>new</title>");
  CHECK(after->etag != before->etag);
  WriteFile(w.root + "/late.html", "added later");
  CHECK(files->Find("/late.html").has_value());
}

TEST_CASE("directory root does not serve a missing file or a directory", "[static_files]") {
  WebRoot w;
  auto files = StaticFiles::FromDirectory(w.root);
  CHECK_FALSE(files->Find("/missing.html").has_value());
  CHECK_FALSE(files->Find("/css").has_value());
  CHECK_FALSE(files->Find("/").has_value());
}

TEST_CASE("directory root refuses '..' that would leave the root", "[static_files]") {
  WebRoot w;
  auto files = StaticFiles::FromDirectory(w.root);
  CHECK_FALSE(files->Find("/../secret.txt").has_value());
  CHECK_FALSE(files->Find("/css/../../secret.txt").has_value());
  CHECK_FALSE(files->Find("/css/../index.html").has_value());  // even when it stays inside
}

TEST_CASE("directory root refuses a symlink that points outside the root", "[static_files]") {
  WebRoot w;
  MakeSymlink(w.dir.Join("secret.txt"), w.root + "/abs_link.txt");
  MakeSymlink("../secret.txt", w.root + "/rel_link.txt");
  MakeSymlink(w.dir.path(), w.root + "/up");  // a directory link out of the root
  auto files = StaticFiles::FromDirectory(w.root);
  CHECK_FALSE(files->Find("/abs_link.txt").has_value());
  CHECK_FALSE(files->Find("/rel_link.txt").has_value());
  CHECK_FALSE(files->Find("/up/secret.txt").has_value());
}

TEST_CASE("directory root refuses a symlink into a sibling whose name extends the root's",
          "[static_files]") {
  // "www2" starts with "www": a plain prefix comparison would let it through.
  WebRoot w;
  MakeDir(w.dir.Join("www2"));
  WriteFile(w.dir.Join("www2/secret.txt"), "sibling secret");
  MakeSymlink("../www2/secret.txt", w.root + "/sibling.txt");
  auto files = StaticFiles::FromDirectory(w.root);
  CHECK_FALSE(files->Find("/sibling.txt").has_value());
}

TEST_CASE("directory root given through a symlink still serves its own files", "[static_files]") {
  WebRoot w;
  MakeSymlink(w.root, w.dir.Join("www_link"));
  auto files = StaticFiles::FromDirectory(w.dir.Join("www_link"));
  auto page = files->Find("/index.html");
  REQUIRE(page.has_value());
  CHECK(page->data == "<!doctype html><title>shop</title>");
  CHECK_FALSE(files->Find("/../secret.txt").has_value());
}

TEST_CASE("directory root refuses hidden files", "[static_files]") {
  WebRoot w;
  WriteFile(w.root + "/.env", "PASSWORD=x");
  MakeDir(w.root + "/.git");
  WriteFile(w.root + "/.git/config", "[core]");
  auto files = StaticFiles::FromDirectory(w.root);
  CHECK_FALSE(files->Find("/.env").has_value());
  CHECK_FALSE(files->Find("/.git/config").has_value());
}
