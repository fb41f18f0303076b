// The LMS path (spec/apf.md §2) next to the network path, measured in the same run:
//  1. WS-Man Get AMT_GeneralSettings latency (p50/p99, keep-alive, Digest) on the network port and through an
//     LMS-like APF host forwarding a local TCP port over the LME client: against the real daemon (FUSE
//     dev/mei0) when /dev/fuse is usable, and in one process (host model over MeiFile) always.
//  2. Bulk throughput of one channel, ME -> host, through the in-process host model with LMS's 1024-byte
//     window and with a 64 KiB window (the ME side is an in-memory source instead of WS-Man), next to the
//     same bytes over a plain loopback TCP connection.
// Run by hand: build/bin/bench_apf [requests] [bulk MiB]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>

#include "bench/support/get_loop.h"
#include "common/log.h"
#include "tests/support/daemon_process.h"
#include "tests/support/lms_machine.h"
#include "tests/support/wsman_digest_client.h"

namespace {

using namespace mesim;
using Clock = std::chrono::steady_clock;

struct Latency {
  std::string path;
  double p50 = 0, p99 = 0, perSecond = 0;
  std::string note;
};

Latency measureGets(const std::string& path, std::uint16_t port, int count) {
  Latency r;
  r.path = path;
  test::WsmanDigestClient client(port);
  for (int i = 0; i < std::max(count / 10, 20); ++i) client.post(test::wsmanGetGeneralSettings());
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(count));
  auto start = Clock::now();
  if (auto failed = bench::timeGets(client, count, us); !failed.empty()) {
    r.note = "FAILED: " + failed;
    return r;
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto p = bench::percentiles(std::move(us));
  r.p50 = p.p50;
  r.p99 = p.p99;
  r.perSecond = static_cast<double>(p.count) / seconds;
  return r;
}

// An in-memory ME-side source of `total` bytes, then end of stream; completions posted like a socket's.
class SourcePeer : public lme::ChannelPeer, public std::enable_shared_from_this<SourcePeer> {
 public:
  SourcePeer(boost::asio::io_context& io, std::size_t total) : io_(io), left_(total), chunk_(16384, 0x5A) {}
  void read(std::size_t maxBytes, ReadHandler handler) override {
    boost::asio::post(io_, [self = shared_from_this(), maxBytes, handler = std::move(handler)] {
      if (self->closed_) return;
      std::size_t n = std::min({maxBytes, self->left_, self->chunk_.size()});
      self->left_ -= n;
      handler(hbm::ByteView(self->chunk_.data(), n));
    });
  }
  void write(hbm::Bytes, WriteHandler handler) override {
    boost::asio::post(io_, [self = shared_from_this(), handler = std::move(handler)] {
      if (!self->closed_) handler(true);
    });
  }
  void close() override { closed_ = true; }

 private:
  boost::asio::io_context& io_;
  std::size_t left_;
  hbm::Bytes chunk_;
  bool closed_ = false;
};

// Reads until EOF; returns bytes.
std::size_t drain(int fd) {
  std::vector<char> buf(1 << 16);
  std::size_t total = 0;
  ssize_t n;
  while ((n = ::recv(fd, buf.data(), buf.size(), 0)) > 0) total += static_cast<std::size_t>(n);
  return total;
}

struct Throughput {
  std::string path;
  double mbPerSecond = 0;
  std::string note;
};

// A machine whose channels are in-memory sources of `bytes` bytes instead of WS-Man connections.
std::unique_ptr<test::LmsMachine> bulkMachine(std::size_t bytes) {
  auto io = std::make_shared<boost::asio::io_context*>(nullptr);
  auto machine = std::make_unique<test::LmsMachine>([io, bytes](std::uint32_t) -> std::shared_ptr<lme::ChannelPeer> {
    return std::make_shared<SourcePeer>(**io, bytes);
  });
  *io = &machine->machine.io;
  return machine;
}

// Reads one channel to its end through the host's local port.
Throughput drainChannel(std::string path, std::uint16_t port, std::size_t bytes) {
  int fd = mesim::test::connectLoopback(port);
  if (fd < 0) return {std::move(path), 0, "FAILED: local connect"};
  auto start = Clock::now();
  std::size_t got = drain(fd);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  Throughput r{std::move(path), static_cast<double>(got) / (1 << 20) / seconds, ""};
  if (got != bytes) r.note = "FAILED: got " + std::to_string(got) + " of " + std::to_string(bytes) + " bytes";
  return r;
}

void noteViolations(Throughput& r, std::uint64_t violations) {
  if (violations) r.note += " window violations: " + std::to_string(violations);
}

// Through the APF host on the firmware's loop: what the ME side costs per byte.
Throughput bulkThroughLoopHost(std::uint32_t window, std::size_t bytes) {
  std::string path = "host on the loop, window " + std::to_string(window) + " B";
  auto machine = bulkMachine(bytes);
  auto host = machine->startLoopHost(window);
  if (!host) return {path, 0, "FAILED: connect"};
  Throughput r = drainChannel(path, machine->machine.run([&] { return host->localPort(16992); }), bytes);
  auto stats = machine->machine.run([&] { return host->stats(); });
  machine->stopLoopHost(host);
  noteViolations(r, stats.windowViolations + stats.oversizedData);
  return r;
}

// Through the threaded LMS-like host (LMS's own model: an RX thread, a thread per client, blocking MEI calls).
Throughput bulkThroughLms(std::uint32_t window, std::size_t bytes) {
  std::string path = "threaded LMS-like host, window " + std::to_string(window) + " B";
  auto machine = bulkMachine(bytes);
  test::LmsHostOptions options;
  options.window = window;
  test::LmsHost host(machine->transports(), options);
  if (host.start() != 0) return {path, 0, "FAILED: connect"};
  Throughput r = drainChannel(path, host.localPort(16992), bytes);
  std::uint64_t violations;
  {
    std::lock_guard lock(host.mutex());
    violations = host.windowViolations() + host.oversizedData();
  }
  host.stop();
  noteViolations(r, violations);
  return r;
}

// The same bytes over a loopback TCP connection (a writer thread, a reader): the machine's reference.
Throughput bulkOverTcp(std::size_t bytes) {
  Throughput r;
  r.path = "loopback TCP (reference)";
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listener, 1);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread writer([listener, bytes] {
    int fd = ::accept(listener, nullptr, nullptr);
    std::vector<char> chunk(16384, 0x5A);
    std::size_t left = bytes;
    while (left > 0) {
      ssize_t n = ::send(fd, chunk.data(), std::min(left, chunk.size()), MSG_NOSIGNAL);
      if (n <= 0) break;
      left -= static_cast<std::size_t>(n);
    }
    ::close(fd);
  });
  int fd = mesim::test::connectLoopback(ntohs(addr.sin_port));
  auto start = Clock::now();
  std::size_t got = drain(fd);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  writer.join();
  ::close(listener);
  r.mbPerSecond = static_cast<double>(got) / (1 << 20) / seconds;
  return r;
}

void printLatency(const std::vector<Latency>& rows, const Latency& reference) {
  std::printf("  %-52s %10s %10s %10s %9s\n", "path", "p50 us", "p99 us", "req/s", "p50 ratio");
  for (auto& r : rows) {
    if (!r.note.empty()) {
      std::printf("  %-52s %s\n", r.path.c_str(), r.note.c_str());
      continue;
    }
    const double ratio = reference.p50 > 0 ? r.p50 / reference.p50 : 0.0;
    const bool lmsPath = r.path.find("LMS path") != std::string::npos;
    std::printf("  %-52s %10.1f %10.1f %10.0f %8.2fx %s\n", r.path.c_str(), r.p50, r.p99, r.perSecond, ratio,
                !lmsPath ? "" : ratio <= 2.0 ? "within 2x" : "over 2x");
  }
}

}  // namespace

int main(int argc, char** argv) {
  int requests = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::size_t bulkMiB = argc > 2 ? static_cast<std::size_t>(std::atoi(argv[2])) : 64;
  log::setThreshold(log::Level::Warn);

  std::printf("WS-Man Get AMT_GeneralSettings, %d sequential requests on one keep-alive connection, Digest\n", requests);
  if (::access("/dev/fuse", R_OK | W_OK) == 0) {
    test::DaemonProcess daemon;
    if (daemon.start({"--fuse", "on"})) {
      test::LmsHost host([&] { return std::make_unique<test::FdMeiTransport>(daemon.meiDevice().string()); });
      std::vector<Latency> rows;
      rows.push_back(measureGets("daemon: network port (TCP)", daemon.httpPort(), requests));
      if (host.start() == 0) {
        rows.push_back(measureGets("daemon: LMS path (FUSE dev/mei0, window 1024)", host.localPort(16992), requests));
        host.stop();
      } else {
        rows.push_back({"daemon: LMS path", 0, 0, 0, "FAILED: cannot connect to LME"});
      }
      printLatency(rows, rows[0]);
      daemon.stop();
    } else {
      std::printf("  daemon did not start: %s\n", daemon.log().c_str());
    }
  } else {
    std::printf("  (no usable /dev/fuse: the daemon rows are skipped)\n");
  }
  {
    test::LmsMachine machine;
    std::vector<Latency> rows;
    rows.push_back(measureGets("in-process: network port (TCP)", machine.networkPort(), requests));
    for (std::uint32_t window : {1024u, 65536u}) {
      auto loopHost = machine.startLoopHost(window);
      std::string path = "in-process: LMS path, host on the loop, window " + std::string(window == 1024 ? "1024" : "64 KiB");
      if (!loopHost) {
        rows.push_back({path, 0, 0, 0, "FAILED: cannot connect to LME"});
        continue;
      }
      rows.push_back(measureGets(path, machine.machine.run([&] { return loopHost->localPort(16992); }), requests));
      machine.stopLoopHost(loopHost);
    }
    for (std::uint32_t window : {1024u, 65536u}) {
      test::LmsHostOptions options;
      options.window = window;
      test::LmsHost host(machine.transports(), options);
      std::string path = "in-process: LMS path, threaded host, window " + std::string(window == 1024 ? "1024" : "64 KiB");
      if (host.start() == 0) {
        rows.push_back(measureGets(path, host.localPort(16992), requests));
        host.stop();
      }
    }
    printLatency(rows, rows[0]);
  }
  std::printf("  target: LMS-path latency within 2x of the network path\n\n");

  const std::size_t bytes = bulkMiB << 20;
  std::printf("Bulk ME -> host through one channel, %zu MiB, in-process host model, LMS-like hosts\n", bulkMiB);
  std::vector<Throughput> rows{bulkOverTcp(bytes), bulkThroughLoopHost(1024, bytes), bulkThroughLoopHost(65536, bytes),
                               bulkThroughLms(1024, bytes), bulkThroughLms(65536, bytes)};
  std::printf("  %-52s %10s %10s\n", "path", "MB/s", "vs TCP");
  for (auto& r : rows)
    std::printf("  %-52s %10.1f %9.3fx %s%s\n", r.path.c_str(), r.mbPerSecond,
                rows[0].mbPerSecond > 0 ? r.mbPerSecond / rows[0].mbPerSecond : 0.0,
                r.path.find("window 1024 B") == std::string::npos ? ""
                : r.mbPerSecond >= 20                           ? ">= 20 MB/s met "
                                                                : ">= 20 MB/s MISSED ",
                r.note.c_str());
  std::printf("  target: >= 20 MB/s with the 1024-byte window\n");
  return 0;
}
