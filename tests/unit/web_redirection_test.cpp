// The web variant of the redirection protocol (docs/redirection.md, "The web variant"): a RedirectionSession opened
// for an HTTP-authenticated user takes the empty Kerberos login MeshCommander's firmware build sends, the redirection
// port's never does; and /ws-redirection on the WS-Man server (port 0, one loop shared with a Beast WebSocket client
// of our own): 401 before Digest, then the protocol in binary frames that may split or merge its messages, one
// message per frame back, 503 while the listener is disabled, 400 for a GET that is no upgrade, the connection
// closed for a frame over the cap.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/credentials.h"
#include "firmware/platform/platform_model.h"
#include "tests/support/websocket_console.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/http/digest_auth.h"
#include "wsman/http/wsman_http_server.h"
#include "wsman/redirection/redirection_codec.h"
#include "wsman/redirection/redirection_session.h"
#include "wsman/redirection/web_redirection.h"

namespace mesim::wsman::redirection {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;
constexpr char kPassword[] = "P@ssw0rd";
const Bytes kEmptyKerberos{0x13, 0, 0, 0, 0x02, 0, 0, 0, 0};  // MeshCommander's firmware build, after 0x11

class RecordingSerialHost final : public SerialPortHost {
 public:
  void toHost(std::string_view bytes) override { received += bytes; }
  void setFromHost(Sink sink) override { sink_ = std::move(sink); }
  std::string describe() const override { return "recording"; }
  void hostWrites(std::string_view bytes) {
    if (sink_) sink_(bytes);
  }
  std::string received;

 private:
  Sink sink_;
};

Message decodeWhole(const Bytes& frame) {
  auto decoded = decodeMessage(frame);
  EXPECT_TRUE(decoded && *decoded && (*decoded)->length == frame.size()) << "one whole message per frame";
  return decoded && *decoded ? (*decoded)->message : Message{EndSession{}};
}

class WebRedirectionTest : public ::testing::Test {
 protected:
  WebRedirectionTest()
      : quiet_(log::Level::Error), clock_(core::FirmwareClock::time_point(std::chrono::seconds(1'800'000'000))),
        timers_(io_, clock_) {
    platform::PlatformDefaults defaults;
    defaults.adminPassword = kPassword;
    auto opened = platform::PlatformModel::open(dir_.path(), defaults);
    EXPECT_TRUE(opened) << opened.error().message;
    platform_ = std::move(*opened);
    auth_ = std::make_unique<http::DigestAuthenticator>(*platform_, clock_, http::DigestOptions{});
    service_ = std::make_unique<RedirectionService>(*platform_, timers_, *auth_);
    service_->setSerialHost(&serial_);
  }

  struct Console {
    std::vector<Bytes> writes;
    bool closed = false;
    std::unique_ptr<RedirectionSession> session;
    void send(const Bytes& bytes) { session->receive(bytes); }
    void send(const Message& message) { session->receive(encode(message)); }
    Message last() const { return decodeWhole(writes.back()); }
  };

  std::unique_ptr<Console> connect(RedirectionSessionOptions options) {
    auto console = std::make_unique<Console>();
    auto* c = console.get();
    c->session = service_->open({[c](Bytes m) { c->writes.push_back(std::move(m)); }, [c] { c->closed = true; }},
                                "192.0.2.9", std::move(options));
    return console;
  }

  void addAclUser(const std::string& name, std::vector<std::uint32_t> realms) {
    ASSERT_EQ(platform_->update([&](platform::PlatformState& s) {
      platform::AclUser u;
      u.handle = static_cast<std::uint32_t>(s.aclUsers.size() + 1);
      u.user = name;
      u.ha1 = platform::digestHa1(name, s.digestRealm, "Secret1!");
      u.realms = std::move(realms);
      s.aclUsers.push_back(u);
    }),
              platform::ChangeResult::Ok);
  }

  test::LogThreshold quiet_;
  test::TempDir dir_{"web-redirection"};
  boost::asio::io_context io_;
  core::ManualFirmwareClock clock_;
  core::FirmwareTimerQueue timers_;
  std::unique_ptr<platform::PlatformModel> platform_;
  std::unique_ptr<http::DigestAuthenticator> auth_;
  RecordingSerialHost serial_;
  std::unique_ptr<RedirectionService> service_;
};

TEST_F(WebRedirectionTest, TheWebVariantTakesTheEmptyKerberosLoginAsItsHttpUser) {
  auto c = connect({.httpUser = "admin"});
  c->send(StartSession{0, kTagSol});
  ASSERT_EQ(std::get<StartSessionReply>(c->last()).status, SessionStatus::Ok);
  c->send(Authenticate{AuthType::Query, {}});
  EXPECT_EQ(std::get<AuthenticateReply>(c->last()).data, (Bytes{1, 2, 4})) << "type 2 listed on the web variant";
  c->send(kEmptyKerberos);
  EXPECT_EQ(c->writes.back(), (Bytes{0x14, 0, 0, 0, 2, 0, 0, 0, 0})) << "status 0 for type 2";
  EXPECT_EQ(c->session->state(), RedirectionSession::State::Authenticated);
  EXPECT_EQ(c->session->user(), "admin");
  c->send(StartSol{});
  EXPECT_EQ(std::get<StartSolReply>(c->last()).status, 0);
  c->send(SolData{true, 2, "ls\r"});
  EXPECT_EQ(serial_.received, "ls\r");
  EXPECT_EQ(service_->stats().webSessions, 1u);
  EXPECT_EQ(service_->stats().webLogins, 1u);
}

TEST_F(WebRedirectionTest, TheRedirectionPortAnswersKerberosNotSupported) {
  auto c = connect({});
  c->send(StartSession{0, kTagSol});
  c->send(Authenticate{AuthType::Query, {}});
  EXPECT_EQ(std::get<AuthenticateReply>(c->last()).data, (Bytes{1, 4})) << "no type 2 without an HTTP login";
  c->send(kEmptyKerberos);
  const auto reply = std::get<AuthenticateReply>(c->last());
  EXPECT_EQ(reply.status, AuthStatus::NotSupported);
  EXPECT_EQ(reply.type, AuthType::Kerberos);
  EXPECT_EQ(c->session->state(), RedirectionSession::State::AwaitAuth) << "the console may log in another way";
  c->send(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", kPassword})});
  EXPECT_EQ(c->session->state(), RedirectionSession::State::Authenticated);
  EXPECT_EQ(service_->stats().webSessions, 0u);
  EXPECT_EQ(service_->stats().webLogins, 0u);
}

TEST_F(WebRedirectionTest, ATicketOrAUserWithoutTheRedirectionRealmIsNoLogin) {
  auto ticket = connect({.httpUser = "admin"});
  ticket->send(StartSession{0, kTagSol});
  ticket->send(Authenticate{AuthType::Kerberos, {0x60, 0x82, 0x01}});
  EXPECT_EQ(std::get<AuthenticateReply>(ticket->last()).status, AuthStatus::NotSupported) << "no Kerberos tickets";
  EXPECT_EQ(ticket->session->state(), RedirectionSession::State::AwaitAuth);

  addAclUser("auditor", {1});  // not Redirection (2) nor PT Administration (3)
  auto c = connect({.httpUser = "auditor"});
  c->send(StartSession{0, kTagSol});
  c->send(kEmptyKerberos);
  EXPECT_EQ(std::get<AuthenticateReply>(c->last()).status, AuthStatus::Failed);
  EXPECT_EQ(c->session->state(), RedirectionSession::State::AwaitAuth);
  EXPECT_EQ(service_->stats().authFailures, 1u);
}

// ------------------------------------------------------------------------------------------------
// /ws-redirection on the WS-Man server
// ------------------------------------------------------------------------------------------------

class WebSocketPathTest : public WebRedirectionTest {
 protected:
  WebSocketPathTest() {
    http::WsmanHttpOptions options;
    options.httpPort = 0;
    options.httpsPort = -1;
    options.stateDir = dir_.path();
    options.clock = &clock_;
    server_ = std::make_unique<http::WsmanHttpServer>(io_, *platform_, options);
    server_->setWebSocket(kWebRedirectionPath, webRedirectionService(*service_));
    auto started = server_->start();
    EXPECT_TRUE(started) << started.error().message;
    port_ = server_->ports().http;
  }
  ~WebSocketPathTest() override {
    server_->stop();
    io_.restart();
    io_.run_for(20ms);
  }

  // Runs the shared loop until `done` or `limit` passes.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 3000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      io_.restart();
      io_.run_for(2ms);
    }
    return true;
  }

  // A plain HTTP request to /ws-redirection on the shared loop, answering a 401 with Digest when `password` is
  // given: the last answer's status.
  unsigned plainRequest(boost::beast::http::verb method, const std::string& password = {}) {
    namespace bhttp = boost::beast::http;
    std::string authorization;
    for (int attempt = 0; attempt < 2; ++attempt) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
      if (ec) return 0;
      bhttp::request<bhttp::string_body> request(method, kWebRedirectionPath, 11);
      request.set(bhttp::field::host, "127.0.0.1");
      if (!authorization.empty()) request.set(bhttp::field::authorization, authorization);
      request.prepare_payload();
      bhttp::response<bhttp::string_body> response;
      boost::beast::flat_buffer buffer;
      bool done = false;
      bhttp::async_write(socket, request, [&](boost::system::error_code wec, std::size_t) {
        if (wec) {
          done = true;
          return;
        }
        bhttp::async_read(socket, buffer, response, [&](boost::system::error_code, std::size_t) { done = true; });
      });
      if (!runUntil([&] { return done; })) return 0;
      if (response.result_int() != 401 || password.empty() || attempt == 1) return response.result_int();
      authorization = eventing::digestAuthorization(response[bhttp::field::www_authenticate],
                                                    std::string(bhttp::to_string(method)), kWebRedirectionPath,
                                                    "admin", password, "c0ffee");
    }
    return 0;
  }

  std::unique_ptr<http::WsmanHttpServer> server_;
  std::uint16_t port_ = 0;
};

TEST_F(WebSocketPathTest, DigestThenTheProtocolInFramesThatSplitAndMergeMessages) {
  test::WebSocketConsole anonymous(&io_);
  EXPECT_EQ(anonymous.open(port_, kWebRedirectionPath), 401u);
  EXPECT_NE(std::string(anonymous.lastResponse()[boost::beast::http::field::www_authenticate]).find("Digest realm="),
            std::string::npos);
  test::WebSocketConsole wrong(&io_);
  EXPECT_EQ(wrong.open(port_, kWebRedirectionPath, "admin", "not-it"), 401u);

  test::WebSocketConsole console(&io_);
  ASSERT_EQ(console.open(port_, kWebRedirectionPath, "admin", kPassword), 101u);
  const Bytes start = encode(StartSession{0, kTagSol});
  ASSERT_TRUE(console.send(Bytes(start.begin(), start.begin() + 3)));  // a message cut across two frames
  ASSERT_TRUE(console.send(Bytes(start.begin() + 3, start.end())));
  auto reply = console.next();
  ASSERT_TRUE(reply);
  EXPECT_EQ(std::get<StartSessionReply>(decodeWhole(*reply)).status, SessionStatus::Ok);

  Bytes merged = kEmptyKerberos;  // two messages in one frame
  const Bytes startSol = encode(StartSol{});
  merged.insert(merged.end(), startSol.begin(), startSol.end());
  ASSERT_TRUE(console.send(merged));
  auto login = console.next();
  ASSERT_TRUE(login);
  EXPECT_EQ(*login, (Bytes{0x14, 0, 0, 0, 2, 0, 0, 0, 0}));
  auto sol = console.next();
  ASSERT_TRUE(sol);
  EXPECT_EQ(sol->size(), 23u) << "0x21 alone in its frame";
  EXPECT_EQ(std::get<StartSolReply>(decodeWhole(*sol)).status, 0);

  ASSERT_TRUE(console.send(encode(SolData{true, 2, "uname\r"})));
  ASSERT_TRUE(runUntil([&] { return serial_.received == "uname\r"; })) << serial_.received;
  serial_.hostWrites("Linux\r\n");
  auto output = console.next();
  ASSERT_TRUE(output);
  EXPECT_EQ(std::get<SolData>(decodeWhole(*output)).bytes, "Linux\r\n");
  EXPECT_EQ(server_->stats().webSockets, 1u);
  EXPECT_EQ(service_->solSession()->user(), "admin");

  ASSERT_TRUE(console.send(encode(EndSession{})));
  EXPECT_TRUE(console.closedByPeer());
  EXPECT_EQ(console.closeCode(), 1000u) << "a close frame, not a dropped connection";
  EXPECT_TRUE(runUntil([&] { return service_->sessionCount() == 0 && !service_->solSession(); }));
}

TEST_F(WebSocketPathTest, ADisabledListenerRefusesTheUpgradeAndAPlainGetIsNoUpgrade) {
  ASSERT_EQ(platform_->update([](platform::PlatformState& s) { s.redirection.listenerEnabled = false; }),
            platform::ChangeResult::Ok);
  test::WebSocketConsole refused(&io_);
  EXPECT_EQ(refused.open(port_, kWebRedirectionPath, "admin", kPassword), 503u);
  EXPECT_NE(refused.lastResponse().body().find("ListenerEnabled"), std::string::npos) << refused.lastResponse().body();
  EXPECT_EQ(server_->stats().webSocketsRefused, 1u);
  EXPECT_EQ(service_->stats().sessions, 0u);

  ASSERT_EQ(platform_->update([](platform::PlatformState& s) { s.redirection.listenerEnabled = true; }),
            platform::ChangeResult::Ok);
  test::WebSocketConsole query(&io_);
  EXPECT_EQ(query.open(port_, std::string(kWebRedirectionPath) + "?host=127.0.0.1&port=16994", "admin", kPassword),
            101u)
      << "a query string is not part of the path";
  EXPECT_EQ(plainRequest(boost::beast::http::verb::get), 401u) << "Digest first";
  EXPECT_EQ(plainRequest(boost::beast::http::verb::get, kPassword), 400u) << "a GET that is no upgrade";
  EXPECT_EQ(plainRequest(boost::beast::http::verb::post, kPassword), 405u);
}

TEST_F(WebSocketPathTest, AFrameOverTheCapClosesWith1009AndTheSessionEnds) {
  test::WebSocketConsole console(&io_);
  ASSERT_EQ(console.open(port_, kWebRedirectionPath, "admin", kPassword), 101u);
  ASSERT_TRUE(console.send(encode(StartSession{0, kTagSol})));
  ASSERT_TRUE(console.next());
  EXPECT_EQ(service_->sessionCount(), 1u);
  // Beast sends close 1009 and tears down; its teardown (1.81) stops draining after one read, so a client still
  // sending may see the connection reset before it reads the close frame.
  console.send(Bytes(200 * 1024, 0x28));
  EXPECT_TRUE(console.closedByPeer());
  if (console.closeCode() != 0) {
    EXPECT_EQ(console.closeCode(), 1009u);
  }
  EXPECT_TRUE(runUntil([&] { return service_->sessionCount() == 0; }));
}

TEST_F(WebSocketPathTest, TheServerStoppingEndsAnOpenSession) {
  test::WebSocketConsole console(&io_);
  ASSERT_EQ(console.open(port_, kWebRedirectionPath, "admin", kPassword), 101u);
  ASSERT_TRUE(console.send(encode(StartSession{0, kTagSol})));
  ASSERT_TRUE(console.next());
  EXPECT_EQ(server_->activeConnections(), 1u) << "the WebSocket counts as a connection";
  server_->stop();
  EXPECT_EQ(service_->sessionCount(), 0u);
  EXPECT_TRUE(console.closedByPeer());
}

}  // namespace
}  // namespace mesim::wsman::redirection
