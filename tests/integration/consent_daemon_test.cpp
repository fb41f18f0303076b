// User consent in the real daemon (issue 13 item 5, docs/user-consent.md): a device in client control mode refuses
// SOL until the console has asked for consent over WS-Man, read the code the host's screen shows (GET /consent, as
// the host's user would) and sent it back; the session then holds the consent (state 4), which ends OptInCodeTimeout
// after the session does. The shown code goes away after OptInDisplayTimeout. Time is the manual firmware clock.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/program_run.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"
#include "wsman/redirection/redirection_codec.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
using namespace wsman::redirection;
using Bytes = std::vector<std::uint8_t>;
constexpr char kPassword[] = "P@ssw0rd";
const std::string kOptIn = "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_OptInService";

boost::json::value jsonOf(const std::string& answer) {
  if (answer.size() < 4) return {};
  boost::system::error_code ec;
  auto value = boost::json::parse(answer.substr(4), ec);
  return ec ? boost::json::value() : value;
}

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  const auto at = text.find(open);
  if (at == std::string::npos) return "<none>";
  const auto end = text.find(close, at + open.size());
  return text.substr(at + open.size(), end - at - open.size());
}

// A plain-TCP redirection console: one message at a time.
class Console {
 public:
  ~Console() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connect(std::uint16_t port) { return (fd_ = connectLoopback(port)) >= 0; }
  void send(const Message& message) {
    const auto bytes = encode(message);
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  template <class T>
  std::optional<T> nextOf(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto decoded = decodeMessage(buffer_);
      if (!decoded) return std::nullopt;
      if (*decoded) {
        Message m = (*decoded)->message;
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>((*decoded)->length));
        if (auto* t = std::get_if<T>(&m)) return *t;
        continue;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      std::uint8_t buf[4096];
      const auto n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) {
        closed_ = true;
        return std::nullopt;
      }
      buffer_.insert(buffer_.end(), buf, buf + n);
    }
    return std::nullopt;
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  Bytes buffer_;
  bool closed_ = false;
};

class ConsentDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(daemon.start({"--provisioning", "ccm", "--clock", "manual", "--host-os", "none", "--fuse", "off",
                              "--preload", "off"}))
        << daemon.log();
    ASSERT_NE(daemon.redirectionPort(), 0) << daemon.log();
    ASSERT_NE(daemon.httpPort(), 0) << daemon.log();
    wsman.emplace(daemon.httpPort(), "admin", kPassword);
  }

  // An IPS_OptInService method's ReturnValue.
  std::string invoke(const std::string& method, const std::string& args = {}) {
    auto answer = wsman->post(wsmanEnvelope(kOptIn + "/" + method, kOptIn,
                                            "<h:" + method + "_INPUT xmlns:h=\"" + kOptIn + "\">" + args + "</h:" +
                                                method + "_INPUT>"));
    EXPECT_EQ(answer.status, 200u) << answer.body;
    return between(answer.body, "ReturnValue>", "</");
  }
  std::string optInState() {
    auto answer = wsman->post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", kOptIn));
    EXPECT_EQ(answer.status, 200u) << answer.body;
    return between(answer.body, "OptInState>", "</");
  }
  boost::json::object consent() {
    auto value = jsonOf(daemon.get("/consent"));
    EXPECT_TRUE(value.is_object()) << daemon.get("/consent");
    return value.is_object() ? value.as_object() : boost::json::object();
  }
  void advance(int seconds) {
    ASSERT_EQ(daemon.post("/clock/advance?seconds=" + std::to_string(seconds)).substr(0, 3), "200");
  }

  DaemonProcess daemon;
  std::optional<WsmanDigestClient> wsman;
};

TEST_F(ConsentDaemonTest, SolWaitsForTheCodeTheHostShowsAndHoldsTheConsentWhileItRuns) {
  auto state = consent();
  EXPECT_EQ(state.at("state").to_number<int>(), 0);
  EXPECT_TRUE(state.at("code").is_null());
  EXPECT_TRUE(state.at("policy").at("required_for").at("sol").as_bool()) << "client control mode";

  // Logged in, but no consent: StartSOL is refused (status FF) and the console may try again.
  Console console;
  ASSERT_TRUE(console.connect(daemon.redirectionPort()));
  console.send(StartSession{0, kTagSol});
  auto started = console.nextOf<StartSessionReply>();
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, SessionStatus::Ok);
  console.send(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", kPassword})});
  auto auth = console.nextOf<AuthenticateReply>();
  ASSERT_TRUE(auth);
  ASSERT_EQ(auth->status, AuthStatus::Ok);
  console.send(StartSol{});
  auto refused = console.nextOf<StartSolReply>();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 0xFF);

  // The console asks for consent; the host's user reads the code; the console sends it.
  EXPECT_EQ(invoke("StartOptIn"), "0");
  EXPECT_EQ(optInState(), "2");
  state = consent();
  EXPECT_EQ(state.at("state").to_number<int>(), 2);
  ASSERT_TRUE(state.at("code").is_string()) << state;
  const std::string code(state.at("code").as_string());
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(state.at("display_seconds_left").to_number<double>(), 300.0);
  const std::string wrong = std::to_string((std::stoul(code) + 1) % 1000000);
  EXPECT_EQ(invoke("SendOptInCode", "<h:OptInCode>" + wrong + "</h:OptInCode>"), "2066");
  EXPECT_EQ(consent().at("wrong_codes").to_number<int>(), 1);
  EXPECT_EQ(invoke("SendOptInCode", "<h:OptInCode>" + std::to_string(std::stoul(code)) + "</h:OptInCode>"), "0");
  EXPECT_EQ(optInState(), "3");
  EXPECT_EQ(consent().at("code_seconds_left").to_number<double>(), 120.0);

  // Now SOL starts and holds the consent however long it runs.
  console.send(StartSol{});
  auto sol = console.nextOf<StartSolReply>();
  ASSERT_TRUE(sol);
  EXPECT_EQ(sol->status, 0);
  EXPECT_EQ(optInState(), "4");
  for (int step = 0; step < 5; ++step) {  // past OptInCodeTimeout; a ping answered keeps the session alive
    advance(50);
    console.send(KeepAlive{false, static_cast<std::uint32_t>(step)});
    ASSERT_TRUE(console.nextOf<KeepAlive>());
  }
  EXPECT_EQ(optInState(), "4");

  // The session ends: consent stays for OptInCodeTimeout, then ends.
  console.send(EndSol{1});
  EXPECT_TRUE(console.nextOf<EndSolReply>());
  console.send(EndSession{});
  EXPECT_FALSE(console.nextOf<StartSolReply>(2s));
  EXPECT_TRUE(console.closed());
  for (int i = 0; i < 50 && consent().at("state").to_number<int>() == 4; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(optInState(), "3");
  advance(119);
  EXPECT_EQ(optInState(), "3");
  advance(1);
  EXPECT_EQ(optInState(), "0");

  auto status = jsonOf(daemon.get("/status"));
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status.at("consent").as_string(), "not-started");
  EXPECT_EQ(status.at("redirection").at("consent_required").to_number<int>(), 1);
  EXPECT_EQ(status.at("redirection").at("sol_sessions").to_number<int>(), 1);
  state = consent();
  EXPECT_EQ(state.at("stats").at("granted").to_number<int>(), 1);
  EXPECT_EQ(state.at("stats").at("code_timeouts").to_number<int>(), 1);
  EXPECT_EQ(state.at("stats").at("refused").to_number<int>(), 1);
  // The right code is audited (User Opt-In 3001).
  EXPECT_NE(daemon.get("/logs/audit").find("Send Consent Code Event"), std::string::npos) << daemon.get("/logs/audit");
}

TEST_F(ConsentDaemonTest, TheCodeIsShownForOptInDisplayTimeoutOnly) {
  EXPECT_EQ(invoke("StartOptIn"), "0");
  const std::string code(consent().at("code").as_string());
  advance(299);
  EXPECT_EQ(consent().at("state").to_number<int>(), 2);
  EXPECT_EQ(consent().at("display_seconds_left").to_number<double>(), 1.0);
  advance(1);
  auto state = consent();
  EXPECT_EQ(state.at("state").to_number<int>(), 0);
  EXPECT_TRUE(state.at("code").is_null());
  EXPECT_EQ(state.at("stats").at("display_timeouts").to_number<int>(), 1);
  EXPECT_EQ(invoke("SendOptInCode", "<h:OptInCode>" + std::to_string(std::stoul(code)) + "</h:OptInCode>"), "2");
  EXPECT_EQ(daemon.get("/consent?x=1").substr(0, 3), "400");
  // mesimctl reads the same.
  const auto ctl = runProgram({MESIMCTL_BINARY, "consent"},
                              {"MESIMCTL_URL=http://127.0.0.1:" + std::to_string(daemon.controlPort())}, 30s,
                              {"MESIMCTL_"});
  EXPECT_EQ(ctl.status, 0) << ctl.output;
  EXPECT_NE(ctl.output.find("\"state_name\": \"not-started\""), std::string::npos) << ctl.output;
}

}  // namespace
}  // namespace mesim::test
