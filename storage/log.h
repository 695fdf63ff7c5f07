// Log: regd's one log sink. Each call writes one line to stderr:
//   2026-11-26T21:40:00.123Z LEVEL message
// The line is written with a single write(2), so lines from different threads
// never interleave.
//
// Thread-safety: safe from any thread.
#pragma once

namespace regd {

void LogInfo(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogWarn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogError(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace regd
