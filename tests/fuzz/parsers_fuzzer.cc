// libFuzzer target: the small parsers of client text in web/ — the Cookie
// header (CookieValue), Accept-Language (PreferredLanguage) and the field
// rules (rules.h). Each must not crash on any bytes, and:
//   - CookieValue returns "" or a part of the header with no ';' in it;
//   - a value the rules accept has the shape rules.h states (checked here
//     by a second, independent scan).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "account/messages.h"
#include "account/rules.h"
#include "web/routes.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "parsers_fuzzer: %s\n", what);
  std::abort();
}

bool Digit(char c) { return c >= '0' && c <= '9'; }
bool Alnum(char c) { return Digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool Hex(char c) { return Digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

template <typename Pred>
bool All(std::string_view s, Pred p) {
  for (char c : s) {
    if (!p(c)) return false;
  }
  return true;
}

void CheckCookie(std::string_view header, std::string_view name) {
  std::string v = regd::web::CookieValue(header, name);
  if (v.empty()) return;
  if (header.find(v) == std::string_view::npos) Fail("CookieValue is not part of the header");
  if (v.find(';') != std::string::npos) Fail("CookieValue spans a ';'");
}

void CheckRules(std::string_view s) {
  using namespace regd::account;
  if (IsValidUsername(s) &&
      (s.size() < 5 || s.size() > 20 ||
       !All(s, [](char c) { return Alnum(c) || c == '_' || c == '-'; }) || All(s, Digit))) {
    Fail("IsValidUsername accepted a bad username");
  }
  if (IsValidPassword(s) &&
      (s.size() < 8 || s.size() > 20 || !All(s, [](char c) { return Alnum(c) || c == '_'; }))) {
    Fail("IsValidPassword accepted a bad password");
  }
  if (IsValidMobile(s) &&
      (s.size() != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' || !All(s, Digit))) {
    Fail("IsValidMobile accepted a bad mobile");
  }
  if (IsValidSmsCode(s) && (s.size() != 6 || !All(s, Digit))) {
    Fail("IsValidSmsCode accepted a bad code");
  }
  if (IsValidUuid(s)) {
    bool ok = s.size() == 36;
    for (size_t i = 0; ok && i < s.size(); ++i) {
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      ok = dash ? s[i] == '-' : Hex(s[i]);
    }
    if (!ok) Fail("IsValidUuid accepted a bad uuid");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  CheckCookie(s, "sessionid");
  CheckCookie(s, "username");
  // A name taken from the input itself, up to its first '=' (if any).
  CheckCookie(s, s.substr(0, s.find('=')));
  (void)regd::account::PreferredLanguage(s);
  CheckRules(s);
  return 0;
}
