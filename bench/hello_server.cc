// regd_bench_hello: a bare cpp-httplib hello-world, the "limit" workload's
// ceiling for what cpp-httplib itself serves on this machine. It answers
// every GET with "Hello World!" and does nothing else: no routing table, no
// headers beyond httplib's, no logging, no storage.
//
// For a like-for-like comparison it uses regd's default socket settings
// (web/http_server.h): the same number of request threads, keep-alive 5 s and
// 100 requests per connection, TCP_NODELAY. cpp-httplib's own defaults
// (8 threads, 5 requests per connection) would measure reconnects instead.
//
// Usage: regd_bench_hello [THREADS]   prints "listening on http://127.0.0.1:PORT"
#include <httplib.h>

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

int main(int argc, char** argv) {
  // SIGTERM stops the server: blocked here (every thread inherits the mask)
  // and taken by one thread with sigwait.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);
  int threads = argc > 1 ? std::atoi(argv[1]) : 16;
  httplib::Server server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_timeout(5);
  server.set_keep_alive_max_count(100);
  server.set_tcp_nodelay(true);
  server.Get(".*", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("Hello World!", "text/plain");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) return 1;
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&term, &sig);
    server.stop();
  });
  stopper.detach();
  std::printf("listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  return server.listen_after_bind() ? 0 : 1;
}
