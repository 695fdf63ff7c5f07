#include "web/request_framer.h"

#include <algorithm>
#include <cstring>

namespace regd::web {
namespace {

// A chunk size line ("1a;name=value") may take this many bytes, and all the
// chunk framing of one body (size lines, CRLFs, trailers) this many more
// than its data: a body of one-byte chunks cannot cost unbounded bytes.
constexpr size_t kMaxChunkLine = 1024;
constexpr size_t kMaxChunkOverhead = 16 * 1024;

bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A line without its LF and the CR before it.
std::string_view WithoutEol(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = Lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

void RequestFramer::Reset() { *this = RequestFramer(limits_); }

RequestFramer::State RequestFramer::Refuse(int status, size_t length) {
  state_ = State::kRefused;
  refusal_ = status;
  length_ = std::max(length, skip_);
  return state_;
}

RequestFramer::State RequestFramer::Scan(std::string_view data) {
  if (state_ != State::kNeedMore) return state_;
  if (head_len_ == 0) {
    if (ScanHead(data) != State::kNeedMore || head_len_ == 0) return state_;
  }
  switch (body_) {
    case Body::kNone:
      state_ = State::kComplete;
      length_ = head_len_;
      return state_;
    case Body::kLength:
      if (data.size() - head_len_ >= content_length_) {
        state_ = State::kComplete;
        length_ = head_len_ + content_length_;
      }
      return state_;
    case Body::kChunked:
      return ScanChunks(data);
  }
  return state_;
}

RequestFramer::State RequestFramer::ScanHead(std::string_view data) {
  if (!started_) {
    // Empty lines before the request line are ignored (RFC 9112 §2.2).
    while (pos_ < data.size()) {
      if (data[pos_] == '\n') {
        skip_ = ++pos_;
      } else if (data[pos_] == '\r' && pos_ + 1 < data.size() && data[pos_ + 1] == '\n') {
        pos_ += 2;
        skip_ = pos_;
      } else if (data[pos_] == '\r' && pos_ + 1 == data.size()) {
        return state_;  // a CR whose LF is still on its way
      } else {
        started_ = true;
        break;
      }
      if (skip_ > limits_.max_head_bytes) return Refuse(431, data.size());
    }
    if (!started_) return state_;
  }
  // pos_ is at the start of a line of the head (scanning resumes there).
  while (true) {
    size_t nl = data.find('\n', pos_);
    const size_t line_bytes = (nl == std::string_view::npos ? data.size() : nl + 1) - pos_;
    if (line_bytes > limits_.max_line_bytes) return Refuse(pos_ == skip_ ? 414 : 431, data.size());
    if (nl == std::string_view::npos) {
      if (data.size() - skip_ > limits_.max_head_bytes) return Refuse(431, data.size());
      return state_;
    }
    if (nl + 1 - skip_ > limits_.max_head_bytes) return Refuse(431, data.size());
    std::string_view line = WithoutEol(data.substr(pos_, nl + 1 - pos_));
    pos_ = nl + 1;
    if (line.empty()) {
      head_len_ = pos_;
      return ParseHead(data.substr(skip_, head_len_ - skip_));
    }
  }
}

RequestFramer::State RequestFramer::ParseHead(std::string_view head) {
  bool have_length = false, chunked = false;
  std::string transfer_encoding;
  size_t start = head.find('\n') + 1;  // after the request line (httplib checks that one)
  while (start < head.size()) {
    size_t nl = head.find('\n', start);
    std::string_view line = WithoutEol(head.substr(start, nl + 1 - start));
    start = nl + 1;
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') return Refuse(400, head_len_);  // obs-fold
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Refuse(400, head_len_);
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(static_cast<unsigned char>(c))) return Refuse(400, head_len_);
    }
    std::string_view value = TrimSpaces(line.substr(colon + 1));
    if (value.find('\r') != std::string_view::npos || value.find('\0') != std::string_view::npos) {
      return Refuse(400, head_len_);
    }
    headers_.push_back({std::string(name), std::string(value)});
    if (EqualsNoCase(name, "Content-Length")) {
      // A list of equal values ("5, 5", or repeated lines) is one length
      // (RFC 9110 §8.6); anything else is refused.
      size_t from = 0;
      while (from <= value.size()) {
        size_t comma = std::min(value.find(',', from), value.size());
        std::string_view item = TrimSpaces(value.substr(from, comma - from));
        from = comma + 1;
        if (item.empty()) return Refuse(400, head_len_);
        uint64_t n = 0;
        bool huge = false;
        for (char c : item) {
          if (c < '0' || c > '9') return Refuse(400, head_len_);
          if (n > (UINT64_MAX - 9) / 10) huge = true;
          if (!huge) n = n * 10 + static_cast<uint64_t>(c - '0');
        }
        if (huge) n = UINT64_MAX;
        if (have_length && n != content_length_) return Refuse(400, head_len_);
        have_length = true;
        content_length_ = n;
      }
    } else if (EqualsNoCase(name, "Expect")) {
      expect_continue_ = EqualsNoCase(value, "100-continue");
    } else if (EqualsNoCase(name, "Transfer-Encoding")) {
      if (!transfer_encoding.empty()) transfer_encoding += ", ";
      transfer_encoding += value;
      chunked = true;
    }
  }
  if (chunked) {
    // Only a plain "chunked": no other coding, no second "chunked".
    if (have_length || !EqualsNoCase(transfer_encoding, "chunked")) return Refuse(400, head_len_);
    body_ = Body::kChunked;
    return state_;
  }
  if (have_length) {
    if (content_length_ > limits_.max_body_bytes) return Refuse(413, head_len_);
    body_ = content_length_ > 0 ? Body::kLength : Body::kNone;
  }
  return state_;
}

RequestFramer::State RequestFramer::ScanChunks(std::string_view data) {
  if (pos_ < head_len_) pos_ = head_len_;
  while (state_ == State::kNeedMore) {
    if ((pos_ - head_len_) > decoded_ + kMaxChunkOverhead) return Refuse(413, head_len_);
    switch (chunk_) {
      case Chunk::kSizeLine:
      case Chunk::kTrailer: {
        size_t nl = data.find('\n', pos_);
        if (nl == std::string_view::npos) {
          if (data.size() - pos_ > kMaxChunkLine) return Refuse(400, head_len_);
          return state_;
        }
        std::string_view line = data.substr(pos_, nl + 1 - pos_);
        if (line.size() < 2 || line[line.size() - 2] != '\r') return Refuse(400, head_len_);
        line = WithoutEol(line);
        pos_ = nl + 1;
        if (chunk_ == Chunk::kTrailer) {
          if (line.empty()) {
            state_ = State::kComplete;
            length_ = pos_;
          } else if (line.front() == ' ' || line.front() == '\t' ||
                     line.find(':') == std::string_view::npos) {
            return Refuse(400, head_len_);
          }
          break;
        }
        // chunk-size [ chunk-ext ]: hex digits, then nothing or ';'.
        uint64_t size = 0;
        size_t i = 0;
        for (; i < line.size() && HexValue(line[i]) >= 0; ++i) {
          if (i >= 8) return Refuse(413, head_len_);  // over 4 GiB
          size = size * 16 + static_cast<uint64_t>(HexValue(line[i]));
        }
        std::string_view rest = TrimSpaces(line.substr(i));
        if (i == 0 || (!rest.empty() && rest.front() != ';')) return Refuse(400, head_len_);
        if (size == 0) {
          chunk_ = Chunk::kTrailer;
          break;
        }
        decoded_ += size;
        if (decoded_ > limits_.max_body_bytes) return Refuse(413, head_len_);
        chunk_left_ = size;
        chunk_ = Chunk::kData;
        break;
      }
      case Chunk::kData: {
        size_t have = data.size() - pos_;
        if (have < chunk_left_) return state_;
        pos_ += chunk_left_;
        chunk_left_ = 0;
        chunk_ = Chunk::kDataEnd;
        break;
      }
      case Chunk::kDataEnd:
        if (data.size() - pos_ < 2) return state_;
        if (data[pos_] != '\r' || data[pos_ + 1] != '\n') return Refuse(400, head_len_);
        pos_ += 2;
        chunk_ = Chunk::kSizeLine;
        break;
    }
  }
  return state_;
}

}  // namespace regd::web
