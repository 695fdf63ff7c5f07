// The one translator from regd's Status values to HTTP: status code, the
// {"code": <status>, "errmsg": "..."} body, and Retry-After where a retry
// makes sense. Only web/ turns errors into responses, and only here.
//
// Never a 500: an internal or storage failure is logged with its detail and
// answered 503 with a generic message (no SQL, paths or library text reaches
// a client). Client-visible texts come from the message table (messages.h),
// taken from the Status's reason: one serialisation, in the client's language.
//
// Thread-safety: pure functions.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "account/messages.h"
#include "storage/status.h"

namespace regd::web {

// The HTTP status for a non-ok Status.
int HttpStatusFor(const Status& status);
// Writes the JSON error for status (logging internal detail), its text in
// req's language (Accept-Language) when the status has a reason, with the
// reason's "field".
void ReplyError(const httplib::Request& req, httplib::Response& res, const Status& status);
// Writes {"code": http_status, "errmsg": why in req's language, "field"?}.
void ReplyError(const httplib::Request& req, httplib::Response& res, int http_status,
                const Message& why);
// Writes {"code":0,"errmsg":"ok"} merged with extra (an object), status 200.
void ReplyOk(httplib::Response& res, nlohmann::json extra = nlohmann::json::object());

}  // namespace regd::web
