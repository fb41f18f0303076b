// Serial-over-LAN through the real daemon (--host-os none: the host's serial port is a PTY), next to a reference
// measured in the same run: a minimal relay that carries the same bytes between a loopback TCP connection and a PTY
// of its own with no protocol at all (one poll loop, what any SOL implementation must at least do).
//  1. keystroke round trip: the console sends one byte (0x28), the host reads it on the PTY and answers one byte,
//     the console reads it (0x2A): p50/p99;
//  2. host -> console: the host writes MiB into the PTY in 4 KiB writes, the console reads the 0x2A stream;
//  3. console -> host: the console sends 0x28 messages of 1 KiB (what a paste costs), the host reads the PTY.
//     mesim holds the console back while the host's queue is full (docs/redirection.md, flow control); the table
//     says how many bytes arrived (all of them, or something is wrong).
// Run by hand: build/bin/bench_redirection [round trips] [MiB]
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "bench/support/get_loop.h"
#include "tests/support/daemon_process.h"
#include "wsman/redirection/redirection_codec.h"

namespace {

using namespace mesim;
using namespace wsman::redirection;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int connectLoopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw Failure("cannot connect");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void writeAll(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const auto k = ::write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) throw Failure("write failed");
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

// Reads into `out` up to `n` bytes (blocking, with a 10 s limit); false on timeout or end.
bool readSome(int fd, std::string& out, std::size_t n) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 10'000) != 1) return false;
  char buf[65536];
  const auto k = ::read(fd, buf, std::min(n, sizeof buf));
  if (k <= 0) return false;
  out.append(buf, static_cast<std::size_t>(k));
  return true;
}

bool readExactly(int fd, std::string& out, std::size_t n) {
  const std::size_t want = out.size() + n;
  while (out.size() < want)
    if (!readSome(fd, out, want - out.size())) return false;
  return true;
}

// A PTY pair, raw both ways.
struct Pty {
  int master = -1, slave = -1;
  Pty() {
    master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    char name[128];
    if (master < 0 || ::grantpt(master) || ::unlockpt(master) || ::ptsname_r(master, name, sizeof name))
      throw Failure("no PTY");
    slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    rawMode(slave);
    rawMode(master);
  }
  ~Pty() {
    ::close(master);
    ::close(slave);
  }
  static void rawMode(int fd) {
    termios t{};
    ::tcgetattr(fd, &t);
    ::cfmakeraw(&t);
    ::tcsetattr(fd, TCSANOW, &t);
  }
};

// What carries bytes between the console's socket and the host's PTY, seen from the two ends.
class Path {
 public:
  virtual ~Path() = default;
  virtual void toHost(const std::string& bytes) = 0;         // the console sends
  virtual bool fromHost(std::string& out, std::size_t n) = 0;  // the console receives n bytes of host output
  virtual int hostFd() = 0;                                    // the host's end of the serial port
};

// mesim: a SOL session on the redirection port, cleartext login as amtterm does it.
class SolPath final : public Path {
 public:
  SolPath(std::uint16_t port, int hostFd) : fd_(connectLoopback(port)), host_(hostFd) {
    send(StartSession{0, kTagSol});
    expect<StartSessionReply>();
    send(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", "P@ssw0rd"})});
    if (expect<AuthenticateReply>().status != AuthStatus::Ok) throw Failure("login refused");
    SolSettings settings;
    settings.maxTxBuffer = 10000;
    send(StartSol{settings});
    if (expect<StartSolReply>().status != 0) throw Failure("SOL refused");
  }
  ~SolPath() override { ::close(fd_); }
  void toHost(const std::string& bytes) override { send(SolData{true, ++sequence_, bytes}); }
  bool fromHost(std::string& out, std::size_t n) override {
    const std::size_t want = out.size() + n;
    while (out.size() < want) {
      auto m = next();
      if (!m) return false;
      if (auto* data = std::get_if<SolData>(&*m)) out += data->bytes;
    }
    return true;
  }
  int hostFd() override { return host_; }

 private:
  void send(const Message& m) {
    const auto bytes = encode(m);
    writeAll(fd_, bytes.data(), bytes.size());
  }
  std::optional<Message> next() {
    for (;;) {
      auto decoded = decodeMessage(buffer_);
      if (!decoded) throw Failure("undecodable message from mesim: " + decoded.error().message);
      if (*decoded) {
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>((*decoded)->length));
        return std::move((*decoded)->message);
      }
      std::string chunk;
      if (!readSome(fd_, chunk, 65536)) return std::nullopt;
      buffer_.insert(buffer_.end(), chunk.begin(), chunk.end());
    }
  }
  template <class T>
  T expect() {
    for (;;) {
      auto m = next();
      if (!m) throw Failure("no answer from mesim");
      if (auto* t = std::get_if<T>(&*m)) return *t;
    }
  }

  int fd_;
  int host_;
  Bytes buffer_;
  std::uint32_t sequence_ = 0;
};

// The reference: a relay thread copies loopback TCP <-> its PTY's master with poll, nothing else.
class RelayPath final : public Path {
 public:
  RelayPath() {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) || ::listen(listener, 1) ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len))
      throw Failure("no listener");
    console_ = connectLoopback(ntohs(a.sin_port));
    relaySocket_ = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(listener);
    int one = 1;
    ::setsockopt(relaySocket_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::pipe2(stop_, O_CLOEXEC);
    relay_ = std::thread([this] { run(); });
  }
  ~RelayPath() override {
    writeAll(stop_[1], "x", 1);
    relay_.join();
    ::close(console_);
    ::close(relaySocket_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  void toHost(const std::string& bytes) override { writeAll(console_, bytes.data(), bytes.size()); }
  bool fromHost(std::string& out, std::size_t n) override { return readExactly(console_, out, n); }
  int hostFd() override { return pty_.slave; }

 private:
  void run() {
    char buf[65536];
    for (;;) {
      pollfd p[3] = {{relaySocket_, POLLIN, 0}, {pty_.master, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      ::poll(p, 3, -1);
      if (p[2].revents) return;
      if (p[0].revents & POLLIN) {
        const auto k = ::read(relaySocket_, buf, sizeof buf);
        if (k <= 0) return;
        writeAll(pty_.master, buf, static_cast<std::size_t>(k));
      }
      if (p[1].revents & POLLIN) {
        const auto k = ::read(pty_.master, buf, sizeof buf);
        if (k <= 0) return;
        writeAll(relaySocket_, buf, static_cast<std::size_t>(k));
      }
    }
  }

  Pty pty_;
  int console_ = -1, relaySocket_ = -1;
  int stop_[2] = {-1, -1};
  std::thread relay_;
};

struct Row {
  double p50 = 0, p99 = 0;                 // round trip, us
  double hostToConsole = 0;                // MiB/s
  double consoleToHost = 0;                // MiB/s
  double arrived = 0;                      // share of console -> host bytes the host read
};

Row measure(Path& path, int roundTrips, std::size_t mib) {
  Row row;
  const int host = path.hostFd();
  // 1. keystroke round trips: the host answers every byte it reads.
  std::vector<double> us;
  for (int i = 0; i < roundTrips + 20; ++i) {
    const auto start = Clock::now();
    path.toHost("k");
    std::string typed, echoed;
    if (!readExactly(host, typed, 1)) throw Failure("the host never got the keystroke");
    writeAll(host, "e", 1);
    if (!path.fromHost(echoed, 1)) throw Failure("the console never got the echo");
    if (i >= 20) us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  const auto p = bench::percentiles(std::move(us));
  row.p50 = p.p50;
  row.p99 = p.p99;

  // 2. host -> console.
  const std::size_t total = mib << 20;
  {
    std::thread writer([&] {
      const std::string chunk(4096, 'h');
      for (std::size_t sent = 0; sent < total; sent += chunk.size()) writeAll(host, chunk.data(), chunk.size());
    });
    const auto start = Clock::now();
    std::string got;
    got.reserve(total);
    const bool ok = path.fromHost(got, total);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    writer.join();
    if (!ok) throw Failure("host -> console stalled after " + std::to_string(got.size()) + " bytes");
    row.hostToConsole = static_cast<double>(total) / (1 << 20) / seconds;
  }

  // 3. console -> host: the host reads until the stream goes quiet for 500 ms after the console is done.
  {
    std::atomic<std::size_t> arrived{0};
    std::atomic<bool> sending{true};
    Clock::time_point lastByte = Clock::now();
    std::thread reader([&] {
      char buf[65536];
      for (;;) {
        pollfd p{host, POLLIN, 0};
        if (::poll(&p, 1, 500) != 1) {
          if (!sending) return;
          continue;
        }
        const auto k = ::read(host, buf, sizeof buf);
        if (k <= 0) return;
        arrived += static_cast<std::size_t>(k);
        lastByte = Clock::now();
      }
    });
    const std::string chunk(1024, 'c');
    const auto start = Clock::now();
    for (std::size_t sent = 0; sent < total; sent += chunk.size()) path.toHost(chunk);
    sending = false;
    reader.join();
    const double seconds = std::chrono::duration<double>(lastByte - start).count();
    row.consoleToHost = static_cast<double>(arrived) / (1 << 20) / seconds;
    row.arrived = static_cast<double>(arrived) / static_cast<double>(total);
  }
  return row;
}

void print(const char* name, const Row& r, const Row& ref) {
  std::printf("| %-28s | %8.1f | %8.1f | %6.2fx | %9.1f | %6.2fx | %9.1f | %6.2fx | %6.1f%% |\n", name, r.p50, r.p99,
              r.p50 / ref.p50, r.hostToConsole, r.hostToConsole / ref.hostToConsole, r.consoleToHost,
              r.consoleToHost / ref.consoleToHost, r.arrived * 100);
}

}  // namespace

int main(int argc, char** argv) {
  const int roundTrips = argc > 1 ? std::atoi(argv[1]) : 2000;
  const std::size_t mib = argc > 2 ? static_cast<std::size_t>(std::atoi(argv[2])) : 16;
  try {
    Row reference;
    {
      RelayPath relay;
      reference = measure(relay, roundTrips, mib);
    }
    test::DaemonProcess daemon;
    if (!daemon.start({"--host-os", "none", "--sol-host", "pty", "--fuse", "off", "--preload", "off"}))
      throw Failure("mesim did not start: " + daemon.log());
    const std::string raw = daemon.get("/status");  // "200 " and the body
    const auto status = boost::json::parse(raw.substr(std::min<std::size_t>(4, raw.size())));
    const std::string ptyPath(status.at("redirection").at("pty").as_string());
    const int slave = ::open(ptyPath.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) throw Failure("cannot open " + ptyPath);
    Row sol;
    {
      SolPath path(daemon.redirectionPort(), slave);
      sol = measure(path, roundTrips, mib);
    }
    ::close(slave);

    std::printf("SOL: %d keystroke round trips, %zu MiB each way (ratios: against the relay)\n\n", roundTrips, mib);
    std::printf("| %-28s | p50 us   | p99 us   | x ref   | host->con | x ref   | con->host | x ref   | arrived |\n",
                "path");
    std::printf("|------------------------------|----------|----------|---------|-----------|---------|-----------|---------|---------|\n");
    print("relay TCP<->PTY (reference)", reference, reference);
    print("mesim SOL (16994, PTY host)", sol, reference);
    std::printf("\nMiB/s columns; 'arrived': share of the console's bytes the host read (100%%: mesim holds the"
                " console back while the host's queue is full).\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_redirection: %s\n", e.what());
    return 1;
  }
  return 0;
}
