#include "storage/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

namespace regd {
namespace {

constexpr size_t kMaxMessage = 8192;  // longer messages are cut

std::atomic<int> g_fd{STDERR_FILENO};  // the descriptor every line goes to
std::atomic<LogFormat> g_format{LogFormat::kText};
std::mutex g_path_mu;
std::string g_path;  // guarded by g_path_mu; "" while logging to stderr

int OpenLogFile(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

std::string Timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  time_t secs = system_clock::to_time_t(now);
  int ms = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];  // room for any int the compiler cannot rule out
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one.
size_t Utf8Length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xc2) return 0;                       // overlong
  if (n == 3 && c == 0xe0 && b(i + 1) < 0xa0) return 0;   // overlong
  if (n == 3 && c == 0xed && b(i + 1) >= 0xa0) return 0;  // surrogate
  if (n == 4 && (c > 0xf4 || (c == 0xf0 && b(i + 1) < 0x90) || (c == 0xf4 && b(i + 1) >= 0x90)))
    return 0;
  return n;
}

// Text: control characters become \xNN; everything else is kept.
void AppendText(std::string* out, std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char esc[5];
      std::snprintf(esc, sizeof(esc), "\\x%02x", c);
      out->append(esc);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

// JSON string contents: escapes per RFC 8259, invalid UTF-8 as U+FFFD.
void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\u%04x", c);
      out->append(esc);
      ++i;
    } else if (size_t n = Utf8Length(s, i); n > 0) {
      out->append(s.substr(i, n));
      i += n;
    } else {
      out->append("\\ufffd");
      ++i;
    }
  }
  out->push_back('"');
}

const char* LevelName(LogLevel level, bool upper) {
  switch (level) {
    case LogLevel::kWarn:
      return upper ? "WARN" : "warn";
    case LogLevel::kError:
      return upper ? "ERROR" : "error";
    case LogLevel::kInfo:
    default:
      return upper ? "INFO" : "info";
  }
}

void WriteLine(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (msg.size() > kMaxMessage) msg = msg.substr(0, kMaxMessage);
  std::string line;
  line.reserve(msg.size() + 64 + fields.size() * 24);
  if (g_format.load(std::memory_order_relaxed) == LogFormat::kText) {
    line = Timestamp();
    line += ' ';
    line += LevelName(level, true);
    line += ' ';
    AppendText(&line, msg);
  } else {
    line = "{\"ts\":\"" + Timestamp() + "\",\"level\":\"" + LevelName(level, false) + "\",\"msg\":";
    AppendJsonString(&line, msg);
    for (const LogField& f : fields) {
      line += ',';
      AppendJsonString(&line, f.key);
      line += ':';
      if (const auto* s = std::get_if<std::string_view>(&f.value)) {
        AppendJsonString(&line, *s);
      } else if (const auto* i = std::get_if<int64_t>(&f.value)) {
        line += std::to_string(*i);
      } else {
        double d = std::get<double>(f.value);
        char num[32];
        std::snprintf(num, sizeof(num), "%.3f", d);
        line += std::isfinite(d) ? num : "null";
      }
    }
    line += '}';
  }
  line += '\n';
  ssize_t ignored = ::write(g_fd.load(std::memory_order_relaxed), line.data(), line.size());
  (void)ignored;
}

void WriteFormatted(LogLevel level, const char* fmt, va_list ap) {
  char buf[1024];
  va_list copy;
  va_copy(copy, ap);
  int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  if (n < 0) {
    va_end(copy);
    return;
  }
  if (static_cast<size_t>(n) < sizeof(buf)) {
    va_end(copy);
    WriteLine(level, std::string_view(buf, n), {});
    return;
  }
  std::string big(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(big.data(), big.size(), fmt, copy);
  va_end(copy);
  big.resize(static_cast<size_t>(n));
  WriteLine(level, big, {});
}

}  // namespace

Status ConfigureLog(LogFormat format, const std::string& file) {
  std::lock_guard<std::mutex> lock(g_path_mu);
  int fd = STDERR_FILENO;
  if (!file.empty()) {
    fd = OpenLogFile(file);
    if (fd < 0) {
      return Status::Unavailable("cannot open log file " + file + ": " + std::strerror(errno));
    }
  }
  int old = g_fd.exchange(fd);
  if (old != STDERR_FILENO && old != fd) ::close(old);
  g_path = file;
  g_format.store(format);
  return Status::Ok();
}

Status ReopenLog() {
  std::lock_guard<std::mutex> lock(g_path_mu);
  if (g_path.empty()) return Status::Ok();
  int fd = OpenLogFile(g_path);
  if (fd < 0) {
    return Status::Unavailable("cannot reopen log file " + g_path + ": " + std::strerror(errno));
  }
  // dup2 replaces the descriptor in one step: a concurrent write goes to the
  // old file or to the new one.
  int rc = ::dup2(fd, g_fd.load());
  int err = errno;
  ::close(fd);
  if (rc < 0) return Status::Unavailable("cannot reopen log file " + g_path + ": " + strerror(err));
  return Status::Ok();
}

std::string LogFilePath() {
  std::lock_guard<std::mutex> lock(g_path_mu);
  return g_path;
}

void LogInfo(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  WriteFormatted(LogLevel::kInfo, fmt, ap);
  va_end(ap);
}

void LogWarn(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  WriteFormatted(LogLevel::kWarn, fmt, ap);
  va_end(ap);
}

void LogError(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  WriteFormatted(LogLevel::kError, fmt, ap);
  va_end(ap);
}

void LogEvent(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  WriteLine(level, msg, fields);
}

}  // namespace regd
