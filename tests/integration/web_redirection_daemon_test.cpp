// The firmware's web variant of redirection in the real daemon (docs/redirection.md, "The web variant"): a Beast
// WebSocket client of our own opens /ws-redirection on 16992 after Digest (401 before), logs in with the empty
// Kerberos auth MeshCommander's firmware build sends, and types on the simulated OS's console over SOL; over TLS on
// 16993 the same login opens KVM up to RFB's ServerInit; the plain redirection port refuses that login.
#include <gtest/gtest.h>
#include <poll.h>

#include <optional>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/websocket_console.h"
#include "wsman/redirection/redirection_codec.h"
#include "wsman/redirection/rfb_codec.h"
#include "wsman/redirection/web_redirection.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
using namespace wsman::redirection;
using Bytes = std::vector<std::uint8_t>;
constexpr char kPassword[] = "P@ssw0rd";
const Bytes kEmptyKerberos{0x13, 0, 0, 0, 0x02, 0, 0, 0, 0};

boost::json::value statusOf(DaemonProcess& daemon) {
  const std::string raw = daemon.get("/status");
  boost::system::error_code ec;
  auto value = raw.size() > 4 ? boost::json::parse(raw.substr(4), ec) : boost::json::value();
  return ec ? boost::json::value() : value;
}

// Redirection messages from the frames of a WebSocket, reassembled (a frame holds one here, but need not).
template <class Console>
class Messages {
 public:
  explicit Messages(Console& console) : console_(console) {}
  std::optional<Message> next(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto decoded = decodeMessage(buffer_);
      if (!decoded) return std::nullopt;
      if (*decoded) {
        Message m = (*decoded)->message;
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>((*decoded)->length));
        return m;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      auto frame = console_.next(left);
      if (!frame) return std::nullopt;
      buffer_.insert(buffer_.end(), frame->begin(), frame->end());
    }
  }
  template <class T>
  std::optional<T> nextOf() {
    while (auto m = next())
      if (auto* t = std::get_if<T>(&*m)) return *t;
    return std::nullopt;
  }
  std::string hostOutputUntil(const std::string& text) {
    while (output_.find(text) == std::string::npos) {
      auto m = next();
      if (!m) break;
      if (auto* data = std::get_if<SolData>(&*m)) output_ += data->bytes;
    }
    return output_;
  }
  // Raw bytes after the login (KVM's RFB), `n` of them.
  std::optional<Bytes> read(std::size_t n) {
    while (buffer_.size() < n) {
      auto frame = console_.next();
      if (!frame) return std::nullopt;
      buffer_.insert(buffer_.end(), frame->begin(), frame->end());
    }
    Bytes out(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
  }

 private:
  Console& console_;
  Bytes buffer_;
  std::string output_;
};

void bootToLogin(DaemonProcess& daemon) {
  ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
  ASSERT_NE(daemon.httpPort(), 0) << daemon.log();
  ASSERT_EQ(daemon.post("/clock/advance?seconds=6").substr(0, 3), "200");  // the 5 s boot
}

TEST(WebRedirectionDaemon, DigestThenSolOnTheSimulatedConsole) {
  DaemonProcess daemon;
  bootToLogin(daemon);
  if (HasFatalFailure()) return;
  WebSocketConsole anonymous;
  EXPECT_EQ(anonymous.open(daemon.httpPort(), kWebRedirectionPath), 401u) << "Digest first, as on every path";

  WebSocketConsole ws;
  ASSERT_EQ(ws.open(daemon.httpPort(), kWebRedirectionPath, "admin", kPassword), 101u) << daemon.log();
  Messages console(ws);
  ASSERT_TRUE(ws.send(encode(StartSession{0, kTagSol})));
  auto started = console.nextOf<StartSessionReply>();
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, SessionStatus::Ok);
  ASSERT_TRUE(ws.send(kEmptyKerberos));
  auto login = console.nextOf<AuthenticateReply>();
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, AuthStatus::Ok);
  EXPECT_EQ(login->type, AuthType::Kerberos);
  SolSettings meshCommander{1, 10000, 100, 0, 10000, 100, 0};
  ASSERT_TRUE(ws.send(encode(StartSol{meshCommander})));
  auto sol = console.nextOf<StartSolReply>();
  ASSERT_TRUE(sol);
  ASSERT_EQ(sol->status, 0);
  ASSERT_TRUE(ws.send(encode(SolData{true, 2, "\r"})));
  EXPECT_NE(console.hostOutputUntil("login: ").find("login: "), std::string::npos);
  ASSERT_TRUE(ws.send(encode(SolData{true, 3, "qa\r"})));
  EXPECT_NE(console.hostOutputUntil("qa@").find("qa@"), std::string::npos);

  auto status = statusOf(daemon);
  ASSERT_TRUE(status.is_object()) << daemon.get("/status");
  const auto& redirection = status.at("redirection");
  EXPECT_EQ(redirection.at("sol_session").at("user").as_string(), "admin");
  EXPECT_EQ(redirection.at("web_sessions").to_number<unsigned>(), 1u);
  EXPECT_EQ(redirection.at("web_logins").to_number<unsigned>(), 1u);
  EXPECT_EQ(status.at("wsman").at("websockets").to_number<unsigned>(), 1u);
}

TEST(WebRedirectionDaemon, KvmOverTlsReachesRfbServerInit) {
  DaemonProcess daemon;
  bootToLogin(daemon);
  if (HasFatalFailure()) return;
  ASSERT_NE(daemon.httpsPort(), 0) << daemon.log();
  TlsWebSocketConsole ws;
  ASSERT_EQ(ws.open(daemon.httpsPort(), kWebRedirectionPath, "admin", kPassword), 101u) << daemon.log();
  Messages kvm(ws);
  ASSERT_TRUE(ws.send(encode(StartSession{1, kTagKvm})));
  auto started = kvm.nextOf<StartSessionReply>();
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, SessionStatus::Ok);
  ASSERT_TRUE(ws.send(kEmptyKerberos));
  auto login = kvm.nextOf<AuthenticateReply>();
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, AuthStatus::Ok);
  ASSERT_TRUE(ws.send(Bytes{0x40, 0, 0, 0, 0, 0, 0, 0}));
  auto opened = kvm.read(8);
  ASSERT_TRUE(opened);
  EXPECT_EQ((*opened)[0], 0x41);
  auto version = kvm.read(12);
  ASSERT_TRUE(version);
  EXPECT_EQ(std::string(version->begin(), version->end()), "RFB 003.008\n");
  ASSERT_TRUE(ws.send(Bytes{'R', 'F', 'B', ' ', '0', '0', '3', '.', '0', '0', '8', '\n'}));
  EXPECT_EQ(kvm.read(2), (Bytes{1, 1})) << "one security type: None";
  ASSERT_TRUE(ws.send(Bytes{1}));
  EXPECT_EQ(kvm.read(4), (Bytes{0, 0, 0, 0}));
  ASSERT_TRUE(ws.send(Bytes{1}));  // ClientInit, shared
  auto init = kvm.read(24);
  ASSERT_TRUE(init);
  EXPECT_EQ(unsigned((*init)[0]) << 8 | (*init)[1], 640u);
  EXPECT_EQ(unsigned((*init)[2]) << 8 | (*init)[3], 400u);
  EXPECT_EQ(rfb::decodePixelFormat(std::span<const std::uint8_t, 16>(init->data() + 4, 16)),
            rfb::PixelFormat::rgb565());
  auto status = statusOf(daemon);
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status.at("redirection").at("kvm_sessions").to_number<unsigned>(), 1u);
  EXPECT_EQ(status.at("redirection").at("web_logins").to_number<unsigned>(), 1u);
}

// The plain redirection port has no HTTP login behind it: the empty Kerberos auth is "not supported" there.
TEST(WebRedirectionDaemon, ThePlainRedirectionPortRefusesTheEmptyKerberosLogin) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--host-os", "none", "--fuse", "off", "--preload", "off"})) << daemon.log();
  const int fd = connectLoopback(daemon.redirectionPort());
  ASSERT_GE(fd, 0);
  auto exchange = [fd](const Bytes& out, std::size_t want) {
    EXPECT_EQ(::write(fd, out.data(), out.size()), static_cast<ssize_t>(out.size()));
    Bytes in;
    while (in.size() < want) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) break;
      std::uint8_t buf[256];
      const auto n = ::read(fd, buf, std::min(sizeof buf, want - in.size()));
      if (n <= 0) break;
      in.insert(in.end(), buf, buf + n);
    }
    return in;
  };
  const auto started = exchange(encode(StartSession{0, kTagSol}), 13);
  ASSERT_EQ(started.size(), 13u);
  EXPECT_EQ(started[1], 0);
  EXPECT_EQ(exchange(kEmptyKerberos, 9), (Bytes{0x14, 2, 0, 0, 2, 0, 0, 0, 0})) << "status 2: not supported";
  const auto query = exchange(encode(Authenticate{AuthType::Query, {}}), 11);
  EXPECT_EQ(query, (Bytes{0x14, 0, 0, 0, 0, 2, 0, 0, 0, 1, 4})) << "no type 2 in the query answer here";
  ::close(fd);
  EXPECT_EQ(statusOf(daemon).at("redirection").at("web_logins").to_number<unsigned>(), 0u);
}

}  // namespace
}  // namespace mesim::test
