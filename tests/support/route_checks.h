// The public contract's checks and requests, shared by the route tests in
// tests/web/ (*_route_test.cc, *_routes_test.cc, ...): each of those starts
// a regd App on an ephemeral port (TestServer) and talks to it with
// httplib::Client or, where the exact bytes matter, a raw socket
// (tests/support/raw_http.h).
//
// Each test starts its own server with empty stores. A mobile gets at most
// one code per test unless the test is about the 60 s send interval, so no
// test waits for it.
//
// Thread-safety: the functions that check (Check*, CookieOf, GetCaptcha,
// CodeFor, SignUp, Count) make Catch assertions, so call them only on the
// test's thread; the others (PostJson, RegisterForm, Login, SmsCodes,
// RawPost, ParseSetCookie, ...) are safe on any thread.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tests/support/test_server.h"

namespace regd::testing {

inline constexpr const char* kPassword = "password_1";  // RegisterForm's and SignUp's
inline constexpr int kTwoWeeks = 1209600;               // a remembered cookie's Max-Age

// A fresh lower-case UUID (TestServer::NewUuid).
std::string Uuid();

// --- response checks ---

// The body as JSON; discarded (is_discarded()) when it is not JSON.
nlohmann::json BodyJson(const httplib::Response& res);
// The response exists, has status `status` and the contract's error shape:
// a JSON object {"code": status, "errmsg": "<non-empty>"} served as
// application/json (never HTML, never a 500).
void CheckJsonError(const httplib::Result& res, int status);
// The response is 200 {"code":0,"errmsg":"ok", ...}; returns the body.
nlohmann::json CheckOk(const httplib::Result& res);

// --- cookies ---

struct SetCookie {
  std::string name;
  std::string value;
  std::set<std::string> attributes;  // "HttpOnly", "Path=/", ...
};

// One Set-Cookie header value, split into name, value and attributes.
SetCookie ParseSetCookie(const std::string& header);
// The response's Set-Cookie for name; fails the test if there is none.
SetCookie CookieOf(const httplib::Response& res, const std::string& name);
// How many Set-Cookie headers the response has.
size_t SetCookieCount(const httplib::Response& res);
// Whether the cookie has a Max-Age or Expires attribute (any case).
bool HasLifetime(const SetCookie& c);
// The cookies a remembered session sets, attribute for attribute.
void CheckRememberedCookies(const httplib::Response& res, const std::string& username);
// A Cookie header carrying session_id as sessionid.
httplib::Headers SessionHeaders(const std::string& session_id);

// --- requests ---

// POST body as application/json to path.
httplib::Result PostJson(TestServer& server, const std::string& path, const std::string& body);
// A valid /register/ form (password kPassword, allow true).
nlohmann::json RegisterForm(const std::string& username, const std::string& mobile,
                            const std::string& code);
// POST /login/ with login (a username or a mobile) and password.
httplib::Result Login(TestServer& server, const std::string& login, const std::string& password,
                      nlohmann::json remembered = true);
// GET /image_codes/<uuid>/ and require a 200.
void GetCaptcha(TestServer& server, const std::string& uuid);
// GET /sms_codes/<mobile>/<query>.
httplib::Result SmsCodes(TestServer& server, const std::string& mobile, const std::string& query);
// A code for mobile, read from the fake phone; fails the test if none arrives.
std::string CodeFor(TestServer& server, const std::string& mobile);
// The whole sign-up (TestServer::SignUp); returns the session, fails the
// test if sign-up failed.
std::string SignUp(TestServer& server, const std::string& username, const std::string& mobile);
// A 6-digit code that differs from code.
std::string WrongCode(const std::string& code);
// A second code to one mobile within the minute is what some tests are
// about: a TestServer tweak that lifts the resend wait.
void NoResendWait(app::Config& c);
// GET /info/ with session's cookie; the status (-1 without an answer).
int InfoStatus(TestServer& server, const std::string& session);
// The "field" of a JSON error body ("" if it names none).
std::string ErrorField(const httplib::Result& res);
// POST /login/sms/ {mobile, sms_code, remembered}, with extra headers.
httplib::Result SmsLogin(TestServer& server, const std::string& mobile, const std::string& code,
                         nlohmann::json remembered = true, const httplib::Headers& headers = {});
// POST /password/reset/ {mobile, sms_code, password, password2 = password}.
httplib::Result ResetPassword(TestServer& server, const std::string& mobile,
                              const std::string& code, const std::string& password);
// method (GET, PUT, DELETE) path with session as the sessionid cookie
// (none if empty) and body (application/json) unless empty.
httplib::Result WithSession(TestServer& server, const std::string& method, const std::string& path,
                            const std::string& session, const std::string& body = "",
                            httplib::Headers headers = {});
// GET /<what>/<value>/count/ (what: usernames or mobiles), required 200;
// returns the count.
int Count(TestServer& server, const std::string& what, const std::string& value);

// --- raw HTTP, for request lines httplib::Client would rewrite ---

// A complete POST of a JSON body that asks the server to close afterwards.
std::string RawPost(const std::string& path, const std::string& body);

}  // namespace regd::testing
