// KVM from an upstream VNC server in the real daemon (issue 13, docs/kvm.md "The screen from a VM"): mesim started
// with --kvm-host unix:PATH before anything listens there shows its notice and keeps trying; a real QEMU
// (`-vnc unix:PATH`, SeaBIOS's text on the std VGA) comes up and mesim connects; a 5900 viewer that asked for
// RGB565 sees, pixel for pixel at that precision (but for the blinking cursor's cell), what a direct RFB client of
// QEMU's socket sees in RGB888; Escape
// typed in the viewer opens SeaBIOS's boot menu (the direct client sees the screen change after it had been
// still); the consent code's overlay is drawn over QEMU's picture; QEMU's end shows the notice again through
// DesktopSize. QEMU is killed at the end of the test whatever happens (and by the kernel if the test dies).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <optional>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/rfb_test_client.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"
#include "wsman/redirection/rfb_codec.h"
#include "wsman/redirection/vnc_auth.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
namespace wr = wsman::redirection;
namespace rfb = wsman::redirection::rfb;
using Bytes = std::vector<std::uint8_t>;
constexpr char kPassword[] = "P@ssw0rd";
constexpr char kRfbPassword[] = "Kvm-Pa55";
constexpr char kKvmSettings[] = "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_KVMRedirectionSettingData";
constexpr char kQemu[] = "qemu-system-x86_64";

boost::json::value getJson(DaemonProcess& daemon, const std::string& target) {
  const std::string raw = daemon.get(target);
  boost::system::error_code ec;
  auto value = raw.size() > 4 ? boost::json::parse(raw.substr(4), ec) : boost::json::value();
  return ec ? boost::json::value() : value;
}

boost::json::value upstreamStatus(DaemonProcess& daemon) {
  auto kvm = getJson(daemon, "/kvm");
  return kvm.is_object() ? kvm.at("upstream") : boost::json::value();
}

bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// A blocking stream client with deadlines, over TCP (5900) or a Unix socket (QEMU's).
class Wire {
 public:
  explicit Wire(int fd) : fd_(fd) {}
  static Wire tcp(std::uint16_t port) { return Wire(connectLoopback(port)); }
  static Wire unix(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      fd = -1;
    }
    return Wire(fd);
  }
  Wire(Wire&& other) noexcept : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}
  ~Wire() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  void send(const Bytes& b) { ASSERT_EQ(::write(fd_, b.data(), b.size()), static_cast<ssize_t>(b.size())); }
  void send(const std::string& s) { send(Bytes(s.begin(), s.end())); }
  std::optional<Bytes> read(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buffer_.size() < n)
      if (!fill(deadline)) return std::nullopt;
    Bytes out(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
  }
  // One FramebufferUpdate into `picture`; false when none came in time.
  bool update(RfbPicture& picture, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto used = picture.applyUpdate(buffer_)) {
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(*used));
        return true;
      }
      if (!fill(deadline)) return false;
    }
  }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    std::uint8_t buf[65536];
    const auto n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return false;
    buffer_.insert(buffer_.end(), buf, buf + n);
    return true;
  }
  int fd_;
  Bytes buffer_;
};

struct Init {
  unsigned width = 0, height = 0;
};
std::optional<Init> serverInit(Wire& wire) {
  auto init = wire.read(24);
  if (!init) return std::nullopt;
  const std::size_t nameLength = std::size_t((*init)[20]) << 24 | (*init)[21] << 16 | (*init)[22] << 8 | (*init)[23];
  wire.read(nameLength);
  return Init{unsigned((*init)[0]) << 8 | (*init)[1], unsigned((*init)[2]) << 8 | (*init)[3]};
}

// 5900: RFB 3.8 with VNC authentication up to ServerInit.
std::optional<Init> vncLogin(Wire& wire) {
  auto version = wire.read(12);
  if (!version) return std::nullopt;
  wire.send("RFB 003.008\n");
  auto types = wire.read(2);
  if (!types || *types != Bytes{1, 2}) return std::nullopt;
  wire.send(Bytes{2});
  auto challenge = wire.read(16);
  if (!challenge) return std::nullopt;
  wr::VncChallenge c;
  std::copy(challenge->begin(), challenge->end(), c.begin());
  auto response = wr::vncAuthResponse(c, kRfbPassword);
  wire.send(Bytes(response->begin(), response->end()));
  auto result = wire.read(4);
  if (!result || *result != Bytes{0, 0, 0, 0}) return std::nullopt;
  wire.send(Bytes{1});
  return serverInit(wire);
}

// QEMU's own socket: 3.8, None, shared.
std::optional<Init> qemuLogin(Wire& wire) {
  auto version = wire.read(12);
  if (!version) return std::nullopt;
  wire.send("RFB 003.008\n");
  auto count = wire.read(1);
  if (!count || (*count)[0] == 0) return std::nullopt;
  auto types = wire.read((*count)[0]);
  if (!types || std::find(types->begin(), types->end(), 1) == types->end()) return std::nullopt;
  wire.send(Bytes{1});
  auto result = wire.read(4);
  if (!result || *result != Bytes{0, 0, 0, 0}) return std::nullopt;
  wire.send(Bytes{1});
  return serverInit(wire);
}

unsigned putKvmSettings(DaemonProcess& daemon, const std::string& properties) {
  WsmanDigestClient client(daemon.httpPort(), "admin", kPassword);
  const std::string body = "<h:IPS_KVMRedirectionSettingData xmlns:h=\"" + std::string(kKvmSettings) +
                           "\"><h:InstanceID>Intel(r) KVM Redirection Settings</h:InstanceID>" + properties +
                           "</h:IPS_KVMRedirectionSettingData>";
  auto answer = client.post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", kKvmSettings, body, "1",
                                          "<w:Selector Name=\"InstanceID\">Intel(r) KVM Redirection Settings</w:Selector>"));
  return answer.status;
}

// QEMU for the length of a test: killed (and reaped) when this goes, and by the kernel if the test process dies.
class Qemu {
 public:
  explicit Qemu(const std::string& vncPath) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const std::string vnc = "unix:" + vncPath;
      std::vector<const char*> argv{kQemu, "-nodefaults", "-machine", "pc", "-accel", "tcg", "-vga", "std",
                                    "-display", "none", "-m", "32", "-boot", "menu=on,splash-time=60000",
                                    "-vnc", vnc.c_str(), nullptr};
      ::execvp(kQemu, const_cast<char* const*>(argv.data()));
      ::_exit(127);
    }
  }
  ~Qemu() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

 private:
  pid_t pid_ = -1;
};

bool haveQemu() { return std::system("command -v qemu-system-x86_64 >/dev/null 2>&1") == 0; }

// What an RGB565 viewer shows for a 0x00RRGGBB picture.
std::vector<std::uint32_t> asRgb565(const std::vector<std::uint32_t>& p) {
  std::vector<std::uint32_t> out;
  out.reserve(p.size());
  for (auto c : p) out.push_back(rfb::unpackPixel(rfb::PixelFormat::rgb565(), rfb::packPixel(rfb::PixelFormat::rgb565(), c)));
  return out;
}

// Whether two pictures of QEMU's text mode agree everywhere but in one 9x16 character cell: the cursor blinks
// (SeaBIOS waits at its boot menu prompt), so two reads a moment apart may differ there and nowhere else.
bool atMostTheCursorCell(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b, unsigned width) {
  if (a.size() != b.size()) return false;
  std::optional<std::pair<unsigned, unsigned>> cell;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;
    const std::pair<unsigned, unsigned> here{static_cast<unsigned>(i % width) / 9, static_cast<unsigned>(i / width) / 16};
    if (cell && *cell != here) return false;
    cell = here;
  }
  return true;
}

TEST(KvmUpstreamDaemon, ProxiesQemusScreenConvertedAndFollowsItComingAndGoing) {
  if (!haveQemu()) GTEST_SKIP() << "qemu-system-x86_64 is not installed (scripts/test.sh installs qemu-system-x86)";
  DaemonProcess daemon;
  const std::string vncPath = (daemon.runtimeDir() / "vm-vnc.sock").string();
  ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off", "--kvm-host", "unix:" + vncPath}))
      << daemon.log();
  auto upstream = upstreamStatus(daemon);
  ASSERT_TRUE(upstream.is_object()) << daemon.get("/kvm");
  EXPECT_EQ(upstream.at("path").as_string(), vncPath);
  EXPECT_FALSE(upstream.at("connected").as_bool()) << "nothing listens yet";
  ASSERT_EQ(putKvmSettings(daemon, "<h:Is5900PortEnabled>true</h:Is5900PortEnabled><h:RFBPassword>" +
                                       std::string(kRfbPassword) + "</h:RFBPassword>"),
            200u);

  // A viewer before QEMU: the notice, 640x400.
  Wire viewer = Wire::tcp(daemon.rfbPort());
  auto init = vncLogin(viewer);
  ASSERT_TRUE(init) << daemon.log();
  EXPECT_EQ(init->width, 640u);
  viewer.send(rfb::encodeClientMessage(rfb::SetPixelFormat{rfb::PixelFormat::rgb565()}));
  viewer.send(rfb::encodeClientMessage(rfb::SetEncodings{{rfb::kEncodingZrle, rfb::kEncodingRaw, rfb::kEncodingDesktopSize}}));
  viewer.send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{false, 0, 0, 640, 400}));
  RfbPicture seen(init->width, init->height, rfb::PixelFormat::rgb565());
  ASSERT_TRUE(viewer.update(seen));

  Qemu qemu(vncPath);
  ASSERT_TRUE(waitFor([&] { return upstreamStatus(daemon).at("connected").as_bool(); }, 30s))
      << daemon.get("/kvm") << daemon.log();
  ASSERT_TRUE(qemu.running());

  // QEMU's picture straight from its socket, in RGB888.
  Wire direct = Wire::unix(vncPath);
  ASSERT_TRUE(direct.ok());
  auto qemuInit = qemuLogin(direct);
  ASSERT_TRUE(qemuInit);
  direct.send(rfb::encodeClientMessage(rfb::SetPixelFormat{rfb::PixelFormat::rgb888()}));
  direct.send(rfb::encodeClientMessage(rfb::SetEncodings{{rfb::kEncodingRaw, rfb::kEncodingDesktopSize}}));
  RfbPicture truth(qemuInit->width, qemuInit->height, rfb::PixelFormat::rgb888());

  // Both follow QEMU (SeaBIOS is still writing): ask both until they agree and show text.
  bool same = false;
  unsigned lit = 0;
  for (int attempt = 0; attempt < 40 && !same; ++attempt) {
    direct.send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{attempt > 0, 0, 0, std::uint16_t(truth.width()),
                                                                       std::uint16_t(truth.height())}));
    direct.update(truth, 500ms);
    viewer.send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{true, 0, 0, std::uint16_t(seen.width()),
                                                                       std::uint16_t(seen.height())}));
    while (viewer.update(seen, 300ms)) {
      viewer.send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{true, 0, 0, std::uint16_t(seen.width()),
                                                                         std::uint16_t(seen.height())}));
    }
    lit = static_cast<unsigned>(std::count_if(truth.pixels().begin(), truth.pixels().end(), [](auto p) { return p != 0; }));
    same = seen.width() == truth.width() && seen.height() == truth.height() && lit > 0 &&
           atMostTheCursorCell(seen.pixels(), asRgb565(truth.pixels()), truth.width());
  }
  EXPECT_TRUE(same) << "viewer " << seen.width() << "x" << seen.height() << ", QEMU " << truth.width() << "x"
                    << truth.height() << ", " << lit << " lit pixels\n" << daemon.get("/kvm");
  EXPECT_GE(seen.resizes, 1u) << "the notice's 640x400 became QEMU's size through DesktopSize";
  EXPECT_GT(lit, 500u) << "SeaBIOS's text";

  // A key typed in the viewer reaches QEMU: SeaBIOS waits at "Press ESC for boot menu." (-boot menu=on with a
  // long splash time), the screen still but for the text cursor's blink, and Escape opens its boot menu, lines
  // of text the direct client sees.
  const auto follow = [&](std::chrono::milliseconds span) {  // the direct client's picture after `span` of updates
    const auto until = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < until) {
      direct.send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{true, 0, 0, std::uint16_t(truth.width()),
                                                                         std::uint16_t(truth.height())}));
      direct.update(truth, std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()));
    }
    return truth.pixels();
  };
  const auto differing = [](const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) n += a[i] != b[i];
    return n + (a.size() > b.size() ? a.size() - b.size() : b.size() - a.size());
  };
  constexpr std::size_t kCursor = 9 * 16;  // a text cell: the cursor's blink changes no more
  std::vector<std::uint32_t> beforeKey = follow(100ms);
  bool still = false;
  for (int attempt = 0; attempt < 15 && !still; ++attempt) {
    auto later = follow(1500ms);
    still = differing(beforeKey, later) <= kCursor;
    beforeKey = std::move(later);
  }
  ASSERT_TRUE(still) << "SeaBIOS never settled";
  for (std::uint32_t keysym : {0xFF1Bu, 0x61u}) {
    viewer.send(rfb::encodeClientMessage(rfb::KeyEvent{true, keysym}));
    viewer.send(rfb::encodeClientMessage(rfb::KeyEvent{false, keysym}));
  }
  ASSERT_TRUE(waitFor([&] { return upstreamStatus(daemon).at("key_events").to_number<unsigned>() == 4; }, 5s))
      << daemon.get("/kvm");
  std::size_t changed = 0;
  for (int attempt = 0; attempt < 20 && changed <= kCursor; ++attempt) changed = differing(beforeKey, follow(500ms));
  EXPECT_GT(changed, kCursor) << "Escape opened SeaBIOS's boot menu";
  upstream = upstreamStatus(daemon);
  EXPECT_EQ(upstream.at("width").to_number<unsigned>(), truth.width());
  EXPECT_EQ(upstream.at("height").to_number<unsigned>(), truth.height());
  EXPECT_GT(upstream.at("updates").to_number<unsigned>(), 0u);
  EXPECT_GT(upstream.at("zrle_rectangles").to_number<unsigned>(), 0u) << "QEMU's ZRLE, decoded by mesim";
  EXPECT_EQ(upstream.at("connections").to_number<unsigned>(), 1u);
  auto kvm = getJson(daemon, "/kvm");
  EXPECT_NE(std::string(kvm.at("screen").as_string()).find("upstream VNC unix:"), std::string::npos) << kvm;
  EXPECT_EQ(kvm.at("key_events").to_number<unsigned>(), 4u);

  // The user-consent code's place (POST /kvm/overlay, as StartOptIn draws its code) is drawn over the VM's picture.
  ASSERT_EQ(daemon.post("/kvm/overlay?text=123456").substr(0, 3), "200");
  unsigned white = 0;
  for (int attempt = 0; attempt < 10 && white == 0; ++attempt) {
    viewer.send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{true, 0, 0, std::uint16_t(seen.width()),
                                                                       std::uint16_t(seen.height())}));
    viewer.update(seen, 1s);
    for (unsigned y = 0; y < 16; ++y)
      for (unsigned x = seen.width() - 48; x < seen.width(); ++x) white += seen.rgb(x, y) == 0xFFFFFF;
  }
  EXPECT_GT(white, 200u) << "six cells black on white at the top right";

  // QEMU goes: the viewer is told the notice's size and gets the notice.
  qemu.stop();
  ASSERT_TRUE(waitFor([&] { return !upstreamStatus(daemon).at("connected").as_bool(); }, 10s)) << daemon.get("/kvm");
  bool notice = false;
  for (int attempt = 0; attempt < 10 && !notice; ++attempt) {
    viewer.send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{true, 0, 0, std::uint16_t(seen.width()),
                                                                       std::uint16_t(seen.height())}));
    viewer.update(seen, 1s);
    notice = seen.width() == 640 && seen.height() == 400;
  }
  EXPECT_TRUE(notice) << seen.width() << "x" << seen.height();
  upstream = upstreamStatus(daemon);
  EXPECT_EQ(upstream.at("disconnects").to_number<unsigned>(), 1u);
  EXPECT_FALSE(std::string(upstream.at("last_error").as_string()).empty());
}

TEST(KvmUpstreamDaemon, ABadKvmHostIsRefusedAtStart) {
  DaemonProcess daemon;
  EXPECT_FALSE(daemon.start({"--kvm-host", "vnc:somewhere"}, 5s));
  EXPECT_NE(daemon.log().find("--kvm-host takes console or unix:PATH"), std::string::npos) << daemon.log();
  DaemonProcess second;
  EXPECT_FALSE(second.start({"--kvm-host", "unix:"}, 5s));
  EXPECT_NE(second.log().find("names no socket path"), std::string::npos) << second.log();
}

}  // namespace
}  // namespace mesim::test
