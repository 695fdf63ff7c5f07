// RequestFramer: finds where one HTTP/1.1 request ends in the bytes a
// connection has received, before anything reads the request for meaning,
// and refuses the framings that could be read two ways (request smuggling,
// RFC 9112 §6.3 and §11.2) or that are over the limits.
//
// The connection code (web/event_server) buffers a connection's bytes until
// the framer says a request is complete, and only then hands exactly that
// request's bytes to httplib's parser; the framer's answer decides where the
// next request starts, never httplib's. So a body httplib does not read (an
// error answer, a 413) cannot be parsed as further requests.
//
// Algorithm, incremental (each Scan continues where the last one stopped, so
// a head trickled a byte at a time costs linear work):
//   1. Empty lines before the request line are skipped (RFC 9112 §2.2).
//   2. The head is the lines up to the first empty line; a line ends with
//      LF (a CR before it is dropped). No end within max_head_bytes: 431;
//      a line over max_line_bytes: 414 for the request line, else 431.
//   3. Each header line is checked: obsolete line folding (a line starting
//      with SP or HTAB), a line without ':', a name that is not a token
//      (e.g. "Content-Length :"), or a CR or NUL in a value: 400.
//   4. Framing (RFC 9112 §6): Transfer-Encoding together with
//      Content-Length, a Transfer-Encoding other than exactly "chunked", a
//      Content-Length that is not all digits, or Content-Length values that
//      differ: 400. A declared length over max_body_bytes: 413 at once (the
//      body is never read).
//   5. The body: Content-Length bytes, or chunks (size line, data, CRLF; a
//      last chunk of size 0; trailer lines up to an empty line). Decoded
//      chunk data over max_body_bytes: 413; a bad chunk size line or a
//      missing CRLF after chunk data: 400; chunk overhead bounded too.
//
// The header lines are kept exactly as sent (name, value with the
// surrounding spaces trimmed), for the code that must compare headers as
// the client sent them (httplib 0.11 percent-decodes header values).
//
// Thread-safety: a plain value; one per connection, used by one thread at a
// time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace regd::web {

struct FrameLimits {
  size_t max_head_bytes = 32 * 1024;  // request line + header lines
  // One line with its end (httplib's CPPHTTPLIB_HEADER_MAX_LENGTH, which it
  // would refuse with a bare 400): a longer request line is 414, a longer
  // header line 431.
  size_t max_line_bytes = 8 * 1024;
  size_t max_body_bytes = 16 * 1024;  // decoded body
};

// One header line as the client sent it.
struct RawHeader {
  std::string name;
  std::string value;  // leading and trailing SP/HTAB removed, nothing decoded
};

class RequestFramer {
 public:
  enum class State {
    kNeedMore,  // no verdict yet: more bytes are needed
    kComplete,  // a whole request: length() bytes from the start
    kRefused,   // refused with refusal(); hand length() bytes to the parser
  };

  explicit RequestFramer(FrameLimits limits) : limits_(limits) {}

  // Scans data: the bytes received for this request from its first byte on
  // (empty lines before it included); each call passes the same bytes plus
  // any more received. Returns the verdict, which stays once it is not
  // kNeedMore.
  State Scan(std::string_view data);

  // Starts over for the next request (call after consuming length() bytes).
  void Reset();

  State state() const { return state_; }
  // kComplete: the bytes this request takes (leading empty lines, head,
  // body). kRefused: the bytes to hand to the parser, so the error answer
  // can still be localised (the head when it is whole, else everything
  // received). Either way the parser gets [skip(), length()).
  size_t length() const { return length_; }
  // kRefused: the HTTP status (400, 413, 431).
  int refusal() const { return refusal_; }
  // Bytes of empty lines before the request line (not for the parser).
  size_t skip() const { return skip_; }
  // Whether any byte of a request (not only empty lines) has arrived.
  bool started() const { return started_; }
  // Whether the head (request line and header lines) is whole.
  bool has_head() const { return head_len_ > 0; }
  // The head is whole, says "Expect: 100-continue", and a body is due.
  bool expects_continue() const { return expect_continue_ && body_ != Body::kNone; }
  // Once the head is whole: its header lines as sent, in order.
  const std::vector<RawHeader>& headers() const { return headers_; }

 private:
  enum class Body { kNone, kLength, kChunked };
  enum class Chunk { kSizeLine, kData, kDataEnd, kTrailer };

  State Refuse(int status, size_t length);
  State ScanHead(std::string_view data);
  State ParseHead(std::string_view head);  // sets body_, or refuses
  State ScanChunks(std::string_view data);

  FrameLimits limits_;
  State state_ = State::kNeedMore;
  size_t length_ = 0;
  int refusal_ = 0;
  size_t skip_ = 0;       // leading empty-line bytes
  bool started_ = false;  // skip_ is final
  size_t pos_ = 0;        // next byte to scan (from the start of data)
  size_t head_len_ = 0;   // 0 until the head is whole
  Body body_ = Body::kNone;
  uint64_t content_length_ = 0;
  bool expect_continue_ = false;
  Chunk chunk_ = Chunk::kSizeLine;
  uint64_t chunk_left_ = 0;  // data bytes left in the current chunk
  uint64_t decoded_ = 0;     // chunk data so far
  std::vector<RawHeader> headers_;
};

}  // namespace regd::web
