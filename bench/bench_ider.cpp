// IDE-R read throughput: the redirected ISO read through the console protocol and through the NBD export, next to
// reading the same ISO file directly, measured in the same run.
//  1. reference: the ISO as a file, read() in 1 MiB calls (page cache), and `qemu-img convert` of the file;
//  2. the console protocol alone, in-process: IderHub::read in 1 MiB reads (READ(10)s of 32 KiB to a console the
//     bench plays in memory, tests/support/ider_console.h; data in 8 KiB 0x54 chunks), no sockets;
//  3. the real daemon (--host-os none): the bench's console serves the ISO on the redirection port (start mode Now,
//     a thread of its own) and the media is read through RUNTIME_DIR/ider.nbd: by a minimal NBD client of the
//     bench (sequential 1 MiB NBD_CMD_READs, one at a time) and by `qemu-img convert` (Debian's qemu-utils).
// Every read is compared with the image. Target (issue 13): >= 100 MB/s. MB = 10^6 bytes.
// Run by hand: build/bin/bench_ider [MiB]
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/platform_model.h"
#include "tests/support/daemon_process.h"
#include "tests/support/ider_console.h"
#include "tests/support/program_run.h"
#include "wsman/http/digest_auth.h"
#include "wsman/redirection/redirection_codec.h"
#include "wsman/redirection/redirection_session.h"

namespace {

using namespace mesim;
using namespace wsman::redirection;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;
constexpr char kPassword[] = "P@ssw0rd";
constexpr std::uint32_t kReadSize = 1 << 20;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

double seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }
double mbps(std::size_t bytes, double s) { return static_cast<double>(bytes) / 1e6 / s; }

void writeAll(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  while (n > 0) {
    const auto k = ::write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) throw Failure("write failed");
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

void readExactly(int fd, void* data, std::size_t n) {
  auto* p = static_cast<std::uint8_t*>(data);
  while (n > 0) {
    const auto k = ::read(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) throw Failure("read failed or the peer closed");
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

// 1. The ISO file, read directly.
double readFile(const std::string& path, const Bytes& image) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Failure("cannot open " + path);
  std::vector<std::uint8_t> buf(kReadSize);
  std::size_t total = 0;
  bool same = true;
  const auto start = Clock::now();
  for (;;) {
    const auto k = ::read(fd, buf.data(), buf.size());
    if (k <= 0) break;
    same = same && std::memcmp(buf.data(), image.data() + total, static_cast<std::size_t>(k)) == 0;
    total += static_cast<std::size_t>(k);
  }
  const double s = seconds(start);
  ::close(fd);
  if (total != image.size() || !same) throw Failure("the ISO file reads back wrong");
  return mbps(total, s);
}

// `qemu-img convert` of `source` to a raw file; MB/s of the image, or 0 without qemu-img.
double qemuConvert(const std::string& source, const std::string& target, const Bytes& image) {
  if (std::system("command -v qemu-img >/dev/null 2>&1") != 0) return 0;
  ::unlink(target.c_str());
  const auto start = Clock::now();
  auto run = test::runProgram({"/usr/bin/qemu-img", "convert", "-f", "raw", "-O", "raw", source, target}, {}, 300s);
  const double s = seconds(start);
  if (run.status != 0) throw Failure("qemu-img convert " + source + ": " + run.output);
  std::ifstream in(target, std::ios::binary);
  const Bytes copied((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(target.c_str());
  if (copied != image) throw Failure("qemu-img's copy of " + source + " differs from the image");
  return mbps(image.size(), s);
}

// 2. The console protocol in-process: a RedirectionService, an IDE-R login, IderHub::read.
double inProcess(const Bytes& image, const std::filesystem::path& dir) {
  boost::asio::io_context io;
  core::ManualFirmwareClock clock(core::FirmwareClock::time_point(std::chrono::seconds(1'800'000'000)));
  core::FirmwareTimerQueue timers(io, clock);
  platform::PlatformDefaults defaults;
  defaults.adminPassword = kPassword;
  auto opened = platform::PlatformModel::open(dir, defaults);
  if (!opened) throw Failure(opened.error().message);
  auto platform = std::move(*opened);
  wsman::http::DigestAuthenticator auth(*platform, clock, wsman::http::DigestOptions{});
  RedirectionService service(*platform, timers, auth);
  test::IderConsoleMedia media(image, 2048);
  std::vector<Bytes> toConsole;
  auto session = service.open({[&](Bytes m) { toConsole.push_back(std::move(m)); }, [] {}}, "192.0.2.9");
  auto exchange = [&] {
    while (!toConsole.empty()) {
      auto batch = std::exchange(toConsole, {});
      for (const auto& m : batch)
        for (const auto& answer : media.receive(m)) session->receive(answer);
    }
  };
  session->receive(encode(StartSession{0, kTagIder}));
  session->receive(encode(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", kPassword})}));
  toConsole.clear();
  for (const auto& m : media.open(kIderStartNow)) session->receive(m);
  exchange();
  auto& hub = service.ider();
  if (!hub.media().known) throw Failure("in-process: the media was not probed: " + hub.media().error);

  bool same = true;
  std::string error;
  const auto start = Clock::now();
  for (std::uint64_t at = 0; at < image.size(); at += kReadSize) {
    const auto length = static_cast<std::uint32_t>(std::min<std::uint64_t>(kReadSize, image.size() - at));
    hub.read(at, length, [&](Result<Bytes> r) {
      if (!r) error = r.error().message;
      else same = same && std::equal(r->begin(), r->end(), image.begin() + static_cast<std::ptrdiff_t>(at));
    });
    exchange();
    if (!error.empty()) throw Failure("in-process read: " + error);
  }
  const double s = seconds(start);
  if (!same) throw Failure("in-process: the data differs from the image");
  return mbps(image.size(), s);
}

// 3. A console on the daemon's redirection port serving the ISO from a thread of its own.
class SocketConsole {
 public:
  SocketConsole(std::uint16_t port, const Bytes& image) : media_(image, 2048) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw Failure("cannot connect");
    auto sendMessage = [&](const Message& m) {
      const auto bytes = encode(m);
      writeAll(fd_, bytes.data(), bytes.size());
    };
    sendMessage(StartSession{0, kTagIder});
    expect<StartSessionReply>();
    sendMessage(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", kPassword})});
    if (expect<AuthenticateReply>().status != AuthStatus::Ok) throw Failure("IDE-R login refused");
    for (const auto& m : media_.open(kIderStartNow)) writeAll(fd_, m.data(), m.size());
    thread_ = std::thread([this] { serve(); });
  }
  ~SocketConsole() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }

 private:
  template <class T>
  T expect() {
    for (;;) {
      auto decoded = decodeMessage(buffer_);
      if (!decoded) throw Failure("bad reply: " + decoded.error().message);
      if (*decoded) {
        auto m = (*decoded)->message;
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>((*decoded)->length));
        if (auto* t = std::get_if<T>(&m)) return *t;
        throw Failure("unexpected reply");
      }
      std::uint8_t buf[4096];
      const auto k = ::read(fd_, buf, sizeof buf);
      if (k <= 0) throw Failure("the daemon closed the connection");
      buffer_.insert(buffer_.end(), buf, buf + k);
    }
  }
  void serve() {
    if (!buffer_.empty()) answer(std::exchange(buffer_, {}));
    std::vector<std::uint8_t> buf(1 << 16);
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      const auto k = ::read(fd_, buf.data(), buf.size());
      if (k <= 0) return;
      answer(Bytes(buf.begin(), buf.begin() + k));
    }
  }
  void answer(const Bytes& bytes) {
    // Gathered into one write per batch, as a console with a socket buffer of its own sends them.
    Bytes out;
    for (const auto& m : media_.receive(bytes)) out.insert(out.end(), m.begin(), m.end());
    if (!out.empty()) writeAll(fd_, out.data(), out.size());
  }

  test::IderConsoleMedia media_;
  int fd_ = -1;
  Bytes buffer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

// A minimal NBD client (fixed newstyle, NBD_OPT_EXPORT_NAME, simple replies): sequential reads, one at a time.
double nbdRead(const std::string& socketPath, const Bytes& image) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, socketPath.c_str(), sizeof a.sun_path - 1);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw Failure("cannot connect NBD");
  auto be = [](const std::uint8_t* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | p[i];
    return v;
  };
  auto put = [](Bytes& out, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  std::uint8_t hello[18];
  readExactly(fd, hello, sizeof hello);
  if (std::memcmp(hello, "NBDMAGICIHAVEOPT", 16) != 0) throw Failure("not an NBD newstyle server");
  const auto serverFlags = static_cast<std::uint32_t>(be(hello + 16, 2));
  const std::uint32_t clientFlags = serverFlags & 3;  // fixed newstyle, and no zeroes when offered
  Bytes option;
  put(option, clientFlags, 4);
  option.insert(option.end(), {'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T'});
  put(option, 1, 4);  // NBD_OPT_EXPORT_NAME, the default export
  put(option, 0, 4);
  writeAll(fd, option.data(), option.size());
  std::uint8_t info[10 + 124];
  readExactly(fd, info, (clientFlags & 2) ? 10 : sizeof info);
  if (be(info, 8) != image.size()) throw Failure("NBD export size differs from the image");

  Bytes data(kReadSize);
  bool same = true;
  const auto start = Clock::now();
  for (std::uint64_t at = 0, handle = 1; at < image.size(); at += kReadSize, ++handle) {
    const auto length = static_cast<std::uint32_t>(std::min<std::uint64_t>(kReadSize, image.size() - at));
    Bytes request;
    put(request, 0x25609513, 4);
    put(request, 0, 2);  // flags
    put(request, 0, 2);  // NBD_CMD_READ
    put(request, handle, 8);
    put(request, at, 8);
    put(request, length, 4);
    writeAll(fd, request.data(), request.size());
    std::uint8_t reply[16];
    readExactly(fd, reply, sizeof reply);
    if (be(reply, 4) != 0x67446698 || be(reply + 4, 4) != 0 || be(reply + 8, 8) != handle)
      throw Failure("NBD read failed at " + std::to_string(at) + ": error " + std::to_string(be(reply + 4, 4)));
    readExactly(fd, data.data(), length);
    same = same && std::memcmp(data.data(), image.data() + at, length) == 0;
  }
  const double s = seconds(start);
  Bytes disconnect;
  put(disconnect, 0x25609513, 4);
  put(disconnect, 0, 2);
  put(disconnect, 2, 2);  // NBD_CMD_DISC
  put(disconnect, 0, 20);
  writeAll(fd, disconnect.data(), disconnect.size());
  ::close(fd);
  if (!same) throw Failure("NBD: the data differs from the image");
  return mbps(image.size(), s);
}

boost::json::value iderStatus(test::DaemonProcess& daemon) {
  const std::string raw = daemon.get("/status");
  boost::system::error_code ec;
  auto value = raw.size() > 4 ? boost::json::parse(raw.substr(4), ec) : boost::json::value();
  if (ec || !value.is_object() || !value.as_object().if_contains("ider")) return {};
  return value.at("ider");
}

void row(const char* name, double value, double reference) {
  if (value <= 0) return (void)std::printf("| %-52s | %10s | %8s |\n", name, "n/a", "");
  std::printf("| %-52s | %10.1f | %7.3fx |\n", name, value, value / reference);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? static_cast<std::size_t>(std::atoi(argv[1])) : 64;
  try {
    const auto blocks = static_cast<std::uint32_t>(mib * 512);
    const Bytes image = test::makeIsoImage("MESIM_BENCH", blocks);
    test::DaemonProcess daemon;
    const auto workDir = test::makeTempDir("bench-ider");
    const auto isoPath = (workDir / "media.iso").string();
    // qemu-img's copies go to tmpfs when there is one, so that the disk does not time the copy.
    std::string shm = "/dev/shm/mesim-bench-ider-XXXXXX";
    const auto copyDir = std::filesystem::exists("/dev/shm") && ::mkdtemp(shm.data()) ? std::filesystem::path(shm) : workDir;
    const std::string copyPath = (copyDir / "copy.raw").string();
    {
      std::ofstream out(isoPath, std::ios::binary);
      out.write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));
    }
    readFile(isoPath, image);  // warm the page cache
    const double file = readFile(isoPath, image);
    const double fileQemu = qemuConvert(isoPath, copyPath, image);
    const auto inProcessDir = workDir / "state";
    std::filesystem::create_directories(inProcessDir);
    const double protocol = inProcess(image, inProcessDir);

    if (!daemon.start({"--host-os", "none", "--fuse", "off", "--preload", "off"}))
      throw Failure("mesim did not start: " + daemon.log());
    double nbd = 0, nbdQemu = 0;
    {
      SocketConsole console(daemon.redirectionPort(), image);
      boost::json::value status;
      for (int i = 0; i < 200; ++i) {
        status = iderStatus(daemon);
        if (status.is_object() && status.at("session").is_object() && status.at("session").at("attached").as_bool() &&
            status.at("media").is_object() && status.at("media").at("blocks").to_number<std::uint64_t>() == blocks)
          break;
        std::this_thread::sleep_for(50ms);
      }
      if (!status.is_object() || !status.at("media").is_object()) throw Failure("the media never showed: " + daemon.log());
      const std::string socket(status.at("nbd").at("socket").as_string());
      nbd = nbdRead(socket, image);
      nbdQemu = qemuConvert("nbd+unix:///?socket=" + socket, copyPath, image);
    }
    std::filesystem::remove_all(workDir);
    std::filesystem::remove_all(copyDir);

    std::printf("IDE-R read throughput, a %zu MiB ISO (ratios: against reading the ISO file)\n\n", mib);
    std::printf("| %-52s | MB/s       | x ref    |\n", "path");
    std::printf("|------------------------------------------------------|------------|----------|\n");
    row("ISO file, read() 1 MiB (reference)", file, file);
    row("ISO file, qemu-img convert", fileQemu, file);
    row("console protocol in-process (IderHub::read 1 MiB)", protocol, file);
    row("daemon: console on 16994 -> NBD, 1 MiB reads", nbd, file);
    row("daemon: console on 16994 -> NBD, qemu-img convert", nbdQemu, file);
    if (fileQemu > 0 && nbdQemu > 0)
      std::printf("\nqemu-img through NBD against qemu-img on the file: %.3fx\n", nbdQemu / fileQemu);
    std::printf("Target (issue 13): >= 100 MB/s through the console protocol and through NBD.\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ider: %s\n", e.what());
    return 1;
  }
  return 0;
}
