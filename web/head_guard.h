// HeadGuard: limits on the request head (request line + headers) that the
// cpp-httplib build of Debian 12 (0.11) does not have. httplib checks each
// line's length (8 KiB) and times out each read (5 s), but reads any number
// of header lines and never bounds the head's total time: one client can
// make it buffer 100 MB of headers, or hold a request thread forever by
// sending a byte every few seconds (slowloris). HeadGuard bounds both:
//   - a head larger than max_head_bytes is answered 431 and closed;
//   - a head not complete head_timeout_ms after its first byte is answered
//     408 and closed.
//
// How: httplib's library calls accept, recv, send and close through the
// dynamic linker, and an executable's own definitions come first, so this
// file defines those four (as thin wrappers over the system calls). A socket
// returned by accept is a server connection; recv on it counts the head's
// bytes and scans for the empty line that ends it; the body that follows is
// not looked at (its own limits are the server's); the next send (the
// response) makes the next recv start a new head. Every other socket (SMS
// provider clients, SQLite's and LMDB's files) passes straight through.
// Until Install is called every call passes through.
//
// Thread-safety: Install once before serving. The per-socket state is
// touched by the one thread serving that connection (httplib runs a
// connection on one thread), plus accept and close; it is kept in atomics.
#pragma once

#include <cstddef>
#include <cstdint>

namespace regd::web {

struct HeadLimits {
  size_t max_head_bytes = 32 * 1024;
  int64_t head_timeout_ms = 10'000;
};

// Turns the limits on for connections accepted from now on (process-wide).
void InstallHeadLimits(HeadLimits limits);
// Heads refused so far, for /metrics: too large, too slow.
uint64_t HeadsRefusedTooLarge();
uint64_t HeadsRefusedTooSlow();

}  // namespace regd::web
