// KVM in the real daemon (issue 13, docs/kvm.md): the simulated OS's console as a 640x400 text screen served on
// the RFB port (5900) once WS-Man enabled it and set RFBPassword, to a viewer of our own (VNC auth, ZRLE, the
// picture checked against the renderer, keys typed reaching the console and SOL) and to Debian's vncsnapshot (its
// JPEG compared with the rendered console); and over the redirection port as KVMR (AMT login, 0x40/0x41, RFB 3.8
// with None, RGB565), one KVM session at a time.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <optional>

#include <boost/json.hpp>

#ifdef MESIM_HAVE_JPEG
#include <jpeglib.h>
#endif

#include "tests/support/daemon_process.h"
#include "tests/support/rfb_test_client.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"
#include "wsman/redirection/console_screen.h"
#include "wsman/redirection/psf_font.h"
#include "wsman/redirection/redirection_codec.h"
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

boost::json::value getJson(DaemonProcess& daemon, const std::string& target) {
  const std::string raw = daemon.get(target);
  boost::system::error_code ec;
  auto value = raw.size() > 4 ? boost::json::parse(raw.substr(4), ec) : boost::json::value();
  return ec ? boost::json::value() : value;
}

// The screen's text from the control API, until it holds `text`.
boost::json::value screenUntil(DaemonProcess& daemon, const std::string& text, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  boost::json::value screen;
  while (std::chrono::steady_clock::now() < deadline) {
    screen = getJson(daemon, "/kvm/screen");
    if (screen.is_object() && boost::json::serialize(screen.at("text")).find(text) != std::string::npos) return screen;
    std::this_thread::sleep_for(20ms);
  }
  return screen;
}

// What the screen should look like: the control API's text drawn by the renderer (without the cursor, whose
// cell the comparisons skip).
std::vector<std::uint32_t> rendered(const boost::json::value& screen) {
  wr::TerminalGrid grid(80, 25);
  std::string text;
  const auto& rows = screen.at("text").as_array();
  for (std::size_t i = 0; i < rows.size(); ++i) text += std::string(rows[i].as_string()) + (i + 1 < rows.size() ? "\r\n" : "");
  grid.write(text);
  auto font = wr::PsfFont::load(std::string(screen.at("font").as_string()));
  EXPECT_TRUE(font) << "the daemon's font: " << screen.at("font");
  return wr::renderText(grid, font ? *font : wr::PsfFont::fallback(), {}, std::string(screen.at("overlay").as_string()), false);
}

bool inCursorCell(const boost::json::value& screen, unsigned x, unsigned y) {
  const auto& c = screen.at("cursor");
  return x / 8 == c.at("column").to_number<unsigned>() && y / 16 == c.at("row").to_number<unsigned>();
}

// A blocking TCP client with deadlines.
class Wire {
 public:
  explicit Wire(std::uint16_t port) : fd_(connectLoopback(port)) {}
  ~Wire() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  void send(const Bytes& b) { ASSERT_EQ(::write(fd_, b.data(), b.size()), static_cast<ssize_t>(b.size())); }
  void send(const std::string& s) { send(Bytes(s.begin(), s.end())); }
  // Exactly n bytes, or nothing when the peer closed or the time ran out.
  std::optional<Bytes> read(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buffer_.size() < n) {
      if (!fill(deadline)) return std::nullopt;
    }
    Bytes out(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
  }
  // Reads one FramebufferUpdate into `picture`.
  bool update(RfbPicture& picture, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto used = picture.applyUpdate(buffer_);
      if (used) {
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(*used));
        return true;
      }
      if (!fill(deadline)) return false;
    }
  }
  bool closedByPeer(std::chrono::milliseconds timeout = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) {
    }
    return closed_;
  }
  Bytes& buffer() { return buffer_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (closed_) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    std::uint8_t buf[65536];
    const auto n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.insert(buffer_.end(), buf, buf + n);
    return true;
  }
  int fd_;
  Bytes buffer_;
  bool closed_ = false;
};

// WS-Man Put of IPS_KVMRedirectionSettingData; the HTTP status.
unsigned putKvmSettings(DaemonProcess& daemon, const std::string& properties) {
  WsmanDigestClient client(daemon.httpPort(), "admin", kPassword);
  const std::string body = "<h:IPS_KVMRedirectionSettingData xmlns:h=\"" + std::string(kKvmSettings) +
                           "\"><h:InstanceID>Intel(r) KVM Redirection Settings</h:InstanceID>" + properties +
                           "</h:IPS_KVMRedirectionSettingData>";
  auto answer = client.post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", kKvmSettings, body, "1",
                                          "<w:Selector Name=\"InstanceID\">Intel(r) KVM Redirection Settings</w:Selector>"));
  return answer.status;
}

// RFB 3.8 with VNC authentication up to ServerInit; the ServerInit's size and format.
struct Init {
  unsigned width = 0, height = 0;
  rfb::PixelFormat format;
};
std::optional<Init> vncLogin(Wire& wire, const std::string& password) {
  auto version = wire.read(12);
  if (!version || std::string(version->begin(), version->end()) != "RFB 003.008\n") return std::nullopt;
  wire.send("RFB 003.008\n");
  auto types = wire.read(2);
  if (!types || *types != Bytes{1, 2}) return std::nullopt;
  wire.send(Bytes{2});
  auto challenge = wire.read(16);
  if (!challenge) return std::nullopt;
  wr::VncChallenge c;
  std::copy(challenge->begin(), challenge->end(), c.begin());
  auto response = wr::vncAuthResponse(c, password);
  wire.send(Bytes(response->begin(), response->end()));
  auto result = wire.read(4);
  if (!result || *result != Bytes{0, 0, 0, 0}) return std::nullopt;
  wire.send(Bytes{1});
  auto init = wire.read(24);
  if (!init) return std::nullopt;
  const std::size_t nameLength = std::size_t((*init)[20]) << 24 | (*init)[21] << 16 | (*init)[22] << 8 | (*init)[23];
  wire.read(nameLength);
  return Init{unsigned((*init)[0]) << 8 | (*init)[1], unsigned((*init)[2]) << 8 | (*init)[3],
              rfb::decodePixelFormat(std::span<const std::uint8_t, 16>(init->data() + 4, 16))};
}

// Counts pixels of `picture` that differ from `expected` (cursor cell skipped).
unsigned differing(const std::vector<std::uint32_t>& picture, const std::vector<std::uint32_t>& expected,
                   const boost::json::value& screen) {
  unsigned wrong = 0;
  for (unsigned y = 0; y < 400; ++y)
    for (unsigned x = 0; x < 640; ++x)
      if (!inCursorCell(screen, x, y) && picture[y * 640 + x] != expected[y * 640 + x]) ++wrong;
  return wrong;
}

// The simulated OS booted on the manual clock, its login prompt on the screen.
void bootToLogin(DaemonProcess& daemon) {
  ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
  ASSERT_NE(daemon.rfbPort(), 0) << daemon.log();
  ASSERT_EQ(daemon.post("/clock/advance?seconds=6").substr(0, 3), "200");  // the 5 s boot
  auto screen = screenUntil(daemon, "login:");
  ASSERT_NE(boost::json::serialize(screen).find("login:"), std::string::npos) << screen;
}

TEST(KvmDaemon, Port5900ServesTheConsoleOnceWsmanEnablesIt) {
  DaemonProcess daemon;
  bootToLogin(daemon);
  if (HasFatalFailure()) return;
  auto status = getJson(daemon, "/status");
  ASSERT_TRUE(status.is_object()) << daemon.get("/status");
  auto kvm = status.at("kvm");
  EXPECT_EQ(kvm.at("rfb_port").to_number<unsigned>(), daemon.rfbPort());
  EXPECT_FALSE(kvm.at("serving_5900").as_bool()) << "Is5900PortEnabled is false by default";
  {
    Wire early(daemon.rfbPort());
    ASSERT_TRUE(early.ok());
    EXPECT_TRUE(early.closedByPeer()) << "closed at accept while 5900 is off";
  }
  EXPECT_GE(putKvmSettings(daemon, "<h:RFBPassword>password</h:RFBPassword>"), 400u) << "too weak for RFBPassword";
  ASSERT_EQ(putKvmSettings(daemon, "<h:Is5900PortEnabled>true</h:Is5900PortEnabled><h:RFBPassword>" +
                                       std::string(kRfbPassword) + "</h:RFBPassword>"),
            200u);
  EXPECT_TRUE(getJson(daemon, "/kvm").at("serving_5900").as_bool());

  {
    Wire wrong(daemon.rfbPort());
    EXPECT_FALSE(vncLogin(wrong, "Wrong-Pa55")) << "a wrong password fails";
    EXPECT_TRUE(wrong.closedByPeer());
  }
  Wire viewer(daemon.rfbPort());
  auto init = vncLogin(viewer, kRfbPassword);
  ASSERT_TRUE(init) << daemon.log();
  EXPECT_EQ(init->width, 640u);
  EXPECT_EQ(init->height, 400u);
  EXPECT_EQ(init->format, rfb::PixelFormat::rgb888());
  viewer.send(rfb::encodeClientMessage(rfb::SetEncodings{{rfb::kEncodingZrle, rfb::kEncodingRaw}}));
  viewer.send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{false, 0, 0, 640, 400}));
  RfbPicture picture(640, 400, init->format);
  ASSERT_TRUE(viewer.update(picture));
  EXPECT_LE(picture.maxRectSide, 64u);
  auto screen = getJson(daemon, "/kvm/screen");
  EXPECT_EQ(differing(picture.pixels(), rendered(screen), screen), 0u) << "the login prompt as the renderer draws it";

  // Keys typed in the viewer reach the console: it echoes them and logs in; SOL sees the same.
  const std::string typed = "qa\r";
  for (char c : typed) {
    const std::uint32_t keysym = c == '\r' ? 0xFF0D : static_cast<std::uint8_t>(c);
    viewer.send(rfb::encodeClientMessage(rfb::KeyEvent{true, keysym}));
    viewer.send(rfb::encodeClientMessage(rfb::KeyEvent{false, keysym}));
  }
  screen = screenUntil(daemon, "qa@");
  ASSERT_NE(boost::json::serialize(screen).find("qa@"), std::string::npos) << screen;
  // Incremental updates until the picture shows it.
  bool same = false;
  for (int i = 0; i < 20 && !same; ++i) {
    viewer.send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{true, 0, 0, 640, 400}));
    if (!viewer.update(picture, 2s)) break;
    screen = getJson(daemon, "/kvm/screen");
    same = differing(picture.pixels(), rendered(screen), screen) == 0;
  }
  EXPECT_TRUE(same) << "the viewer's picture follows the console";
  kvm = getJson(daemon, "/kvm");
  EXPECT_EQ(kvm.at("sessions_5900").to_number<unsigned>(), 1u);
  EXPECT_EQ(kvm.at("key_events").to_number<unsigned>(), 6u);
  EXPECT_EQ(kvm.at("auth_failures").to_number<unsigned>(), 1u);
  EXPECT_EQ(kvm.at("session").at("encoding").as_string(), "zrle");

  // SOL on the same console sees what KVM types.
  Wire sol(daemon.redirectionPort());
  sol.send(wr::encode(wr::StartSession{0, wr::kTagSol}));
  ASSERT_TRUE(sol.read(13));
  sol.send(wr::encode(wr::Authenticate{wr::AuthType::Cleartext, wr::encodeCleartext({"admin", kPassword})}));
  ASSERT_TRUE(sol.read(9));
  sol.send(wr::encode(wr::StartSol{}));
  ASSERT_TRUE(sol.read(23));
  for (char c : std::string("echo via-kvm\r")) {
    const std::uint32_t keysym = c == '\r' ? 0xFF0D : static_cast<std::uint8_t>(c);
    viewer.send(rfb::encodeClientMessage(rfb::KeyEvent{true, keysym}));
  }
  std::string solText;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (solText.find("\r\nvia-kvm\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    auto header = sol.read(10, 1s);
    if (!header) continue;
    ASSERT_EQ((*header)[0], 0x2A);
    auto data = sol.read(std::size_t((*header)[8]) | std::size_t((*header)[9]) << 8);
    ASSERT_TRUE(data);
    solText.append(data->begin(), data->end());
  }
  EXPECT_NE(solText.find("echo via-kvm"), std::string::npos) << solText;
  EXPECT_NE(solText.find("\r\nvia-kvm\r\n"), std::string::npos) << solText;

  // One KVM session at a time: KVMR is busy now.
  Wire kvmr(daemon.redirectionPort());
  kvmr.send(wr::encode(wr::StartSession{1, wr::kTagKvm}));
  auto busy = kvmr.read(13);
  ASSERT_TRUE(busy);
  EXPECT_EQ((*busy)[1], 2) << "status busy";
}

#ifdef MESIM_HAVE_JPEG
// Decodes a JPEG into 0x00RRGGBB pixels.
std::optional<std::vector<std::uint32_t>> readJpeg(const std::string& path, unsigned& width, unsigned& height) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return std::nullopt;
  jpeg_decompress_struct info{};
  jpeg_error_mgr err{};
  info.err = jpeg_std_error(&err);
  jpeg_create_decompress(&info);
  jpeg_stdio_src(&info, file);
  jpeg_read_header(&info, TRUE);
  info.out_color_space = JCS_RGB;
  jpeg_start_decompress(&info);
  width = info.output_width;
  height = info.output_height;
  std::vector<std::uint32_t> pixels;
  std::vector<std::uint8_t> row(std::size_t(width) * 3);
  while (info.output_scanline < info.output_height) {
    JSAMPROW rows[1] = {row.data()};
    jpeg_read_scanlines(&info, rows, 1);
    for (unsigned x = 0; x < width; ++x) pixels.push_back(std::uint32_t(row[3 * x]) << 16 | row[3 * x + 1] << 8 | row[3 * x + 2]);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  std::fclose(file);
  return pixels;
}

double meanDifference(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b, const boost::json::value& screen) {
  double sum = 0;
  unsigned n = 0;
  for (unsigned y = 0; y < 400; ++y)
    for (unsigned x = 0; x < 640; ++x) {
      if (inCursorCell(screen, x, y)) continue;
      const auto p = a[y * 640 + x], q = b[y * 640 + x];
      for (int shift : {16, 8, 0}) sum += std::abs(int((p >> shift) & 0xFF) - int((q >> shift) & 0xFF));
      n += 3;
    }
  return sum / n;
}
#endif

bool haveVncsnapshot() { return std::system("command -v vncsnapshot >/dev/null 2>&1") == 0; }

// IPS_KVMRedirectionSettingData.TerminateSession (a local user ending a remote session for privacy) closes the
// viewer on 5900: 0, then 3 (no session left, as Intel LMS reads it).
TEST(KvmDaemon, TerminateSessionClosesTheViewer) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
  ASSERT_NE(daemon.rfbPort(), 0) << daemon.log();
  ASSERT_EQ(putKvmSettings(daemon, "<h:Is5900PortEnabled>true</h:Is5900PortEnabled><h:RFBPassword>" +
                                       std::string(kRfbPassword) + "</h:RFBPassword>"),
            200u);
  Wire viewer(daemon.rfbPort());
  ASSERT_TRUE(vncLogin(viewer, kRfbPassword)) << daemon.log();
  WsmanDigestClient client(daemon.httpPort(), "admin", kPassword);
  const auto terminate = [&] {
    auto answer = client.post(wsmanEnvelope(std::string(kKvmSettings) + "/TerminateSession", kKvmSettings,
                                            "<h:TerminateSession_INPUT xmlns:h=\"" + std::string(kKvmSettings) +
                                                "\"></h:TerminateSession_INPUT>"));
    EXPECT_EQ(answer.status, 200u) << answer.body;
    const auto at = answer.body.find("ReturnValue>");
    return at == std::string::npos ? std::string("none") : answer.body.substr(at + 12, 1);
  };
  EXPECT_EQ(terminate(), "0");
  EXPECT_TRUE(viewer.closedByPeer());
  EXPECT_EQ(terminate(), "3");
}

// Debian's vncsnapshot (RFB 3.3, VNC auth from a vncpasswd file, 32 bpp) saves the screen; the JPEG matches the
// console as rendered, and not a blank screen. The picture stays in the build dir as kvm_vncsnapshot.jpg.
TEST(KvmDaemon, DebiansVncsnapshotSavesTheConsole) {
  if (!haveVncsnapshot()) GTEST_SKIP() << "vncsnapshot is not installed (scripts/test.sh installs it)";
  DaemonProcess daemon;
  bootToLogin(daemon);
  if (HasFatalFailure()) return;
  ASSERT_EQ(putKvmSettings(daemon, "<h:Is5900PortEnabled>true</h:Is5900PortEnabled><h:RFBPassword>" +
                                       std::string(kRfbPassword) + "</h:RFBPassword>"),
            200u);
  const std::string dir = MESIM_BUILD_DIR;
  const std::string passwdFile = dir + "/kvm_vncsnapshot.passwd";
  const std::string jpeg = dir + "/kvm_vncsnapshot.jpg";
  {
    auto stored = wr::vncPasswordFile(kRfbPassword);
    ASSERT_TRUE(stored);
    std::ofstream out(passwdFile, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(stored->data()), 8);
  }
  std::remove(jpeg.c_str());
  const std::string command = "vncsnapshot -quiet -passwd '" + passwdFile + "' -quality 100 127.0.0.1::" +
                              std::to_string(daemon.rfbPort()) + " '" + jpeg + "' >/dev/null 2>&1";
  const int rc = std::system(command.c_str());
  ASSERT_EQ(WEXITSTATUS(rc), 0) << command << "\n" << daemon.log();
  auto kvm = getJson(daemon, "/kvm");
  EXPECT_EQ(kvm.at("sessions_5900").to_number<unsigned>(), 1u);
#ifdef MESIM_HAVE_JPEG
  unsigned width = 0, height = 0;
  auto picture = readJpeg(jpeg, width, height);
  ASSERT_TRUE(picture) << jpeg;
  ASSERT_EQ(width, 640u);
  ASSERT_EQ(height, 400u);
  auto screen = getJson(daemon, "/kvm/screen");
  const auto expected = rendered(screen);
  const std::vector<std::uint32_t> blank(640 * 400, 0);
  const double toScreen = meanDifference(*picture, expected, screen);
  const double toBlank = meanDifference(*picture, blank, screen);
  RecordProperty("mean_difference_to_screen", std::to_string(toScreen));
  RecordProperty("mean_difference_to_blank", std::to_string(toBlank));
  EXPECT_LT(toScreen, 3.0) << "JPEG noise only";
  EXPECT_GT(toBlank, 4 * toScreen) << "the text is there";
#else
  GTEST_SKIP() << "no libjpeg: the screenshot's contents are not compared";
#endif
}

// KVMR on the redirection port: the AMT login, 0x40/0x41, then RFB 3.8 with None and an RGB565 picture of the
// console; garbage ends it.
TEST(KvmDaemon, KvmrOverTheRedirectionPortSpeaksRgb565) {
  DaemonProcess daemon;
  bootToLogin(daemon);
  if (HasFatalFailure()) return;
  Wire kvmr(daemon.redirectionPort());
  kvmr.send(wr::encode(wr::StartSession{1, wr::kTagKvm}));
  auto started = kvmr.read(13);
  ASSERT_TRUE(started);
  ASSERT_EQ((*started)[1], 0) << "status ok";
  kvmr.send(wr::encode(wr::Authenticate{wr::AuthType::Cleartext, wr::encodeCleartext({"admin", kPassword})}));
  auto auth = kvmr.read(9);
  ASSERT_TRUE(auth);
  ASSERT_EQ((*auth)[1], 0) << "logged in";
  kvmr.send(Bytes{0x40, 0, 0, 0, 0, 0, 0, 0});
  auto opened = kvmr.read(8);
  ASSERT_TRUE(opened);
  EXPECT_EQ((*opened)[0], 0x41);
  auto version = kvmr.read(12);
  ASSERT_TRUE(version);
  EXPECT_EQ(std::string(version->begin(), version->end()), "RFB 003.008\n");
  kvmr.send("RFB 003.008\n");
  EXPECT_EQ(kvmr.read(2), (Bytes{1, 1})) << "one type: None";
  kvmr.send(Bytes{1});
  EXPECT_EQ(kvmr.read(4), (Bytes{0, 0, 0, 0}));
  kvmr.send(Bytes{1});
  auto init = kvmr.read(24);
  ASSERT_TRUE(init);
  const auto format = rfb::decodePixelFormat(std::span<const std::uint8_t, 16>(init->data() + 4, 16));
  EXPECT_EQ(format, rfb::PixelFormat::rgb565());
  kvmr.read(std::size_t((*init)[23]));
  kvmr.send(rfb::encodeClientMessage(rfb::SetEncodings{{16, 0, 1092, -223}}));
  kvmr.send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{false, 0, 0, 640, 400}));
  RfbPicture picture(640, 400, format);
  ASSERT_TRUE(kvmr.update(picture));
  EXPECT_LE(picture.maxRectSide, 64u);
  auto screen = getJson(daemon, "/kvm/screen");
  auto expected = rendered(screen);
  for (auto& p : expected) p = rfb::unpackPixel(format, rfb::packPixel(format, p));
  EXPECT_EQ(differing(picture.pixels(), expected, screen), 0u);
  auto kvm = getJson(daemon, "/kvm");
  EXPECT_EQ(kvm.at("session").at("mode").as_string(), "redirection");
  EXPECT_EQ(kvm.at("session").at("bits_per_pixel").to_number<unsigned>(), 16u);
  // A second KVMR is busy.
  {
    Wire second(daemon.redirectionPort());
    second.send(wr::encode(wr::StartSession{1, wr::kTagKvm}));
    auto reply = second.read(13);
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)[1], 2);
  }
  kvmr.send(Bytes{0xEE, 1, 2, 3});
  EXPECT_TRUE(kvmr.closedByPeer()) << "an unknown RFB message ends the session";
  kvm = getJson(daemon, "/kvm");
  EXPECT_TRUE(kvm.at("session").is_null());
  EXPECT_EQ(kvm.at("protocol_errors").to_number<unsigned>(), 1u);
  // The same counts in /metrics (docs/metrics.md).
  EXPECT_EQ(daemon.metricSample("mesim_redirection_sessions_total", R"(kind="kvm",port="redirection")"), 1);
  EXPECT_EQ(daemon.metricSample("mesim_redirection_sessions_total", R"(kind="kvm",port="5900")"), 0);
  EXPECT_EQ(daemon.metricSample("mesim_redirection_refused_total", R"(kind="redirection",reason="busy")"), 1);
  EXPECT_EQ(daemon.metricSample("mesim_redirection_sessions_ended_total", R"(kind="kvm",reason="protocol_error")"), 1);
  EXPECT_EQ(daemon.metricSample("mesim_redirection_sessions_active", R"(kind="kvm")"), 0);
  EXPECT_GE(daemon.metricSample("mesim_kvm_updates_total", "device="), 1);
  EXPECT_GE(daemon.metricSample("mesim_kvm_rectangles_total", "device="), 40) << "640x400 in tiles of 64x64";
  // The overlay hook (the consent code's place) shows on the screen.
  EXPECT_EQ(daemon.post("/kvm/overlay?text=123456").substr(0, 3), "200");
  EXPECT_EQ(getJson(daemon, "/kvm/screen").at("overlay").as_string(), "123456");
  EXPECT_EQ(daemon.post("/kvm/overlay?text=%01").substr(0, 3), "400");
  EXPECT_EQ(daemon.post("/kvm/overlay").substr(0, 3), "400");
}

// User consent (docs/user-consent.md) in client control mode: a 5900 viewer is refused with the RFB reason until
// the code StartOptIn draws on the host's screen (read there, as the host's user would) comes back over WS-Man; then
// it is served and holds the consent (OptInState 4).
TEST(KvmDaemon, AViewerWaitsForUserConsentAndTheCodeIsOnTheHostScreen) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--provisioning", "ccm", "--clock", "manual", "--fuse", "off", "--preload", "off"}))
      << daemon.log();
  ASSERT_EQ(daemon.post("/clock/advance?seconds=6").substr(0, 3), "200");
  ASSERT_NE(boost::json::serialize(screenUntil(daemon, "login:")).find("login:"), std::string::npos);
  ASSERT_EQ(putKvmSettings(daemon, "<h:Is5900PortEnabled>true</h:Is5900PortEnabled><h:RFBPassword>" +
                                       std::string(kRfbPassword) + "</h:RFBPassword>"),
            200u);
  {
    Wire viewer(daemon.rfbPort());
    auto version = viewer.read(12);
    ASSERT_TRUE(version);
    viewer.send("RFB 003.008\n");
    auto none = viewer.read(5);  // no security types, then the reason's length and text
    ASSERT_TRUE(none);
    EXPECT_EQ((*none)[0], 0);
    const std::size_t length = std::size_t((*none)[3]) << 8 | (*none)[4];
    auto reason = viewer.read(length);
    ASSERT_TRUE(reason);
    EXPECT_NE(std::string(reason->begin(), reason->end()).find("user consent is required"), std::string::npos);
    EXPECT_TRUE(viewer.closedByPeer());
  }

  const std::string optIn = "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_OptInService";
  WsmanDigestClient wsman(daemon.httpPort(), "admin", kPassword);
  auto invoke = [&](const std::string& method, const std::string& args) {
    auto answer = wsman.post(wsmanEnvelope(optIn + "/" + method, optIn,
                                           "<h:" + method + "_INPUT xmlns:h=\"" + optIn + "\">" + args + "</h:" +
                                               method + "_INPUT>"));
    const auto at = answer.body.find("ReturnValue>");
    return at == std::string::npos ? answer.body : answer.body.substr(at + 12, answer.body.find('<', at) - at - 12);
  };
  ASSERT_EQ(invoke("StartOptIn", ""), "0");
  auto consent = getJson(daemon, "/consent");
  ASSERT_TRUE(consent.at("code").is_string()) << consent;
  const std::string code(consent.at("code").as_string());
  auto screen = getJson(daemon, "/kvm/screen");
  EXPECT_NE(std::string(screen.at("overlay").as_string()).find(code), std::string::npos) << screen;
  ASSERT_EQ(invoke("SendOptInCode", "<h:OptInCode>" + std::to_string(std::stoul(code)) + "</h:OptInCode>"), "0");
  screen = getJson(daemon, "/kvm/screen");
  EXPECT_EQ(screen.at("overlay").as_string(), "") << "the code goes once it was accepted";

  Wire viewer(daemon.rfbPort());
  auto init = vncLogin(viewer, kRfbPassword);
  ASSERT_TRUE(init) << daemon.log();
  EXPECT_EQ(init->width, 640u);
  EXPECT_EQ(getJson(daemon, "/consent").at("state").to_number<int>(), 4) << "the viewer holds the consent";
  EXPECT_EQ(getJson(daemon, "/kvm").at("consent_required").to_number<int>(), 1);
}

}  // namespace
}  // namespace mesim::test
