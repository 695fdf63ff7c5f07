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
// GET /sms_codes/<mobile>/ for purpose after a captcha; the status.
int AskCode(httplib::Client& cli, const std::string& mobile, const std::string& purpose = "");
// Registers username on mobile (password "password_1"); returns the
// "sessionid=..." cookie pair.
std::string RegisterVia(httplib::Client& cli, FakeSmsServer& sms, const std::string& username,
                        const std::string& mobile);
// POST /login/ with username (or mobile) and password; the status.
int LoginStatus(httplib::Client& cli, const std::string& login, const std::string& password);

}  // namespace regd::testing
