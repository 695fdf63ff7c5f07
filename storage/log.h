// Log: regd's one log sink. Each call writes one line, to stderr or to the
// file named by ConfigureLog, in one of two formats:
//   text (default)  2026-11-26T21:40:00.123Z INFO message
//   json            {"ts":"2026-11-26T21:40:00.123Z","level":"info","msg":"message"}
// LogEvent adds named fields: JSON lines carry them as members after "msg";
// text lines show only the message (the caller writes the fields into it).
//
// Invariants: a line is written with a single write(2) (the file is opened
// O_APPEND), so lines from different threads never interleave. Control
// characters in a message are escaped in both formats (a request path cannot
// forge a log line), and a JSON line is always valid JSON and valid UTF-8
// (bytes that are not UTF-8 become U+FFFD).
//
// ReopenLog (on SIGHUP, after logrotate moved the file) opens the file again
// by name and puts it in place of the old one with dup2: a thread logging at
// that moment writes its whole line to the old file or to the new one, never
// to a closed descriptor.
//
// Thread-safety: LogInfo/LogWarn/LogError/LogEvent and ReopenLog are safe
// from any thread. ConfigureLog is called once at start, before other
// threads log.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "storage/status.h"

namespace regd {

enum class LogLevel { kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

// Chooses the format and the destination (file empty: stderr). A file is
// created if missing (mode 0640) and appended to. Returns kUnavailable if the
// file cannot be opened; the sink is then unchanged.
Status ConfigureLog(LogFormat format, const std::string& file);
// Reopens the log file by name. Ok and does nothing when logging to stderr;
// kUnavailable if the file cannot be opened (logging goes on to the old one).
Status ReopenLog();
// The file logged to ("" for stderr).
std::string LogFilePath();

void LogInfo(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogWarn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogError(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// One named value of a structured log line.
struct LogField {
  std::string_view key;
  std::variant<std::string_view, int64_t, double> value;
};
// Logs msg with fields (see above). Keys must be plain ASCII names.
void LogEvent(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields);

}  // namespace regd
