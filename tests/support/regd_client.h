// Requests against a regd started as a process (RegdProcess), for the tests
// that run the real binary: a client with short timeouts, and the whole
// sign-up through the API (captcha with --dev-fixed-captcha ABCD, the code
// read from the fake phone). Make Catch assertions: the test's thread only.
#pragma once

#include <httplib.h>

#include <string>

#include "tests/support/fake_sms_server.h"
#include "tests/support/regd_process.h"

namespace regd::testing {

httplib::Client ClientOf(const RegdProcess& regd);
// The 11-digit mobile prefix + i, zero-padded between (prefix "139", 7:
// "13900000007"): many distinct mobiles for one test.
std::string NumberedMobile(const std::string& prefix, int i);
// GET /sms_codes/<mobile>/ for purpose after a captcha, with the session
// cookie pair ("sessionid=...") when given; the status, -1 when the
// connection failed. Safe on any thread.
int AskCode(httplib::Client& cli, const std::string& mobile, const std::string& purpose = "",
            const std::string& cookie = "");
// AskCode, then the code from the fake phone; fails the test if either fails.
std::string CodeVia(httplib::Client& cli, FakeSmsServer& sms, const std::string& mobile,
                    const std::string& purpose = "", const std::string& cookie = "");
// Registers username on mobile (password "password_1"); returns the
// "sessionid=..." cookie pair.
std::string RegisterVia(httplib::Client& cli, FakeSmsServer& sms, const std::string& username,
                        const std::string& mobile);
// POST /login/ with username (or mobile) and password; the status.
int LoginStatus(httplib::Client& cli, const std::string& login, const std::string& password);
// GET /info/ with the cookie pair ("sessionid=..."); the status.
int InfoStatus(httplib::Client& cli, const std::string& cookie);

}  // namespace regd::testing
