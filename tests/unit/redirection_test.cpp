// The redirection protocol (wsman/redirection): the codec on bytes, the session state machine on a manual firmware
// clock with a recording transport and serial host, the PTY host and the simulated OS's serial console.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/credentials.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/user_consent.h"
#include "firmware/platform/platform_model.h"
#include "hostif/os/serial_console.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/http/digest_auth.h"
#include "wsman/redirection/pty_serial_host.h"
#include "wsman/redirection/redirection_codec.h"
#include "wsman/redirection/redirection_session.h"

namespace mesim::wsman::redirection {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

constexpr char kPassword[] = "P@ssw0rd";

Bytes bytes(std::initializer_list<int> list) {
  Bytes out;
  for (int b : list) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

Decoded decodeOne(const Bytes& in) {
  auto decoded = decodeMessage(in);
  EXPECT_TRUE(decoded) << decoded.error().message;
  EXPECT_TRUE(decoded && *decoded) << "needs more bytes";
  if (!decoded || !*decoded) return {};
  EXPECT_EQ((*decoded)->length, in.size());
  return **decoded;
}

// ------------------------------------------------------------------------------------------------
// Codec
// ------------------------------------------------------------------------------------------------

TEST(RedirectionCodec, ReadsTheConsoleMessagesAsAmttermAndMeshCentralSendThem) {
  auto start = decodeOne(bytes({0x10, 0x00, 0x00, 0x00, 'S', 'O', 'L', ' '}));
  ASSERT_TRUE(std::holds_alternative<StartSession>(start.message));
  EXPECT_EQ(std::get<StartSession>(start.message).tag, "SOL ");
  auto kvm = decodeOne(bytes({0x10, 0x01, 0x00, 0x00, 'K', 'V', 'M', 'R'}));
  EXPECT_EQ(std::get<StartSession>(kvm.message).flags, 1);

  // amtterm 1.4's cleartext login: 13 00 00 00 01 <L> <ul>user <pl>pass.
  Bytes login = bytes({0x13, 0, 0, 0, 0x01, 15, 0, 0, 0, 5, 'a', 'd', 'm', 'i', 'n', 8});
  for (char c : std::string(kPassword)) login.push_back(static_cast<std::uint8_t>(c));
  auto auth = decodeOne(login);
  const auto& a = std::get<Authenticate>(auth.message);
  EXPECT_EQ(a.type, AuthType::Cleartext);
  auto credentials = decodeCleartext(a.data);
  ASSERT_TRUE(credentials) << credentials.error().message;
  EXPECT_EQ(credentials->user, "admin");
  EXPECT_EQ(credentials->password, kPassword);

  // amtterm's 0x20: 1000/100/0/10000/0/5000.
  auto sol = decodeOne(bytes({0x20, 0, 0, 0, 1, 0, 0, 0, 0xE8, 0x03, 100, 0, 0, 0, 0x10, 0x27, 0, 0, 0x88, 0x13,
                              0, 0, 0, 0}));
  const auto& s = std::get<StartSol>(sol.message).settings;
  EXPECT_EQ(s.sequence, 1u);
  EXPECT_EQ(s.maxTxBuffer, 1000);
  EXPECT_EQ(s.txTimeout, 100);
  EXPECT_EQ(s.rxTimeout, 10000);
  EXPECT_EQ(s.heartbeat, 5000);

  auto data = decodeOne(bytes({0x28, 0, 0, 0, 7, 0, 0, 0, 3, 0, 'l', 's', '\r'}));
  const auto& d = std::get<SolData>(data.message);
  EXPECT_TRUE(d.toHost);
  EXPECT_EQ(d.sequence, 7u);
  EXPECT_EQ(d.bytes, "ls\r");

  auto control = decodeOne(bytes({0x29, 0, 0, 0, 2, 0, 0, 0, kControlRts | kControlDtr, 0}));
  EXPECT_EQ(std::get<SolControl>(control.message).control, kControlRts | kControlDtr);
  EXPECT_TRUE(std::holds_alternative<SolUndocumented>(
      decodeOne(bytes({0x27, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0x1B, 0, 0, 0})).message));
  EXPECT_TRUE(std::holds_alternative<SolHeartbeat>(decodeOne(bytes({0x2B, 0, 0, 0, 9, 0, 0, 0})).message));
  EXPECT_TRUE(std::holds_alternative<EndSol>(decodeOne(bytes({0x22, 0, 0, 0, 9, 0, 0, 0})).message));
  EXPECT_TRUE(std::holds_alternative<EndSession>(decodeOne(bytes({0x12, 0, 0, 0})).message));
  auto ping = decodeOne(bytes({0x24, 0, 0, 0, 4, 0, 0, 0}));
  EXPECT_FALSE(std::get<KeepAlive>(ping.message).pong);
}

TEST(RedirectionCodec, WritesAmtsRepliesInTheirDocumentedShapes) {
  StartSessionReply start;
  start.firmwareMajor = 11;
  start.firmwareMinor = 8;
  EXPECT_EQ(encode(start), bytes({0x11, 0, 0, 0, 1, 0, 0x0B, 0x08, 0x57, 0x01, 0, 0, 0}))
      << "the cira-client-simulator capture (features.md §1.1)";
  StartSolReply sol;
  sol.firmwareMajor = 11;
  sol.firmwareMinor = 8;
  EXPECT_EQ(encode(sol), bytes({0x21, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0x0B, 0x08, 0x00, 0x20, 0x00, 0x01, 0, 0, 0x57,
                                0x01, 0, 0, 0}))
      << "23 bytes as captured (features.md §1.2)";
  EXPECT_EQ(encode(AuthenticateReply{AuthStatus::Ok, AuthType::Cleartext, {}}), bytes({0x14, 0, 0, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(encode(AuthenticateReply{AuthStatus::Ok, AuthType::Query, {1, 4}}),
            bytes({0x14, 0, 0, 0, 0, 2, 0, 0, 0, 1, 4}));
  EXPECT_EQ(encode(EndSolReply{5}), bytes({0x23, 0, 0, 0, 5, 0, 0, 0}));
  EXPECT_EQ(encode(SolData{false, 2, "hi"}), bytes({0x2A, 0, 0, 0, 2, 0, 0, 0, 2, 0, 'h', 'i'}));
  EXPECT_EQ(encode(SolControl{1, 0, kStatusPoweredOn}), bytes({0x29, 0, 0, 0, 1, 0, 0, 0, 0, 4}));
  EXPECT_EQ(encode(SolHeartbeat{3}), bytes({0x2B, 0, 0, 0, 3, 0, 0, 0}));
  EXPECT_EQ(encode(KeepAlive{true, 3}), bytes({0x25, 0, 0, 0, 3, 0, 0, 0}));
}

TEST(RedirectionCodec, EveryMessageSurvivesARoundTrip) {
  SolSettings settings{4, 10000, 100, 0, 10000, 100, 0};
  const std::vector<Message> all = {StartSession{0, "IDER"},
                                    EndSession{},
                                    Authenticate{AuthType::Digest, {1, 2, 3}},
                                    StartSol{settings},
                                    EndSol{8},
                                    SolUndocumented{9},
                                    StartSessionReply{SessionStatus::Busy, 1, 0, 16, 1, kIanaIntel, {0xAB, 0xCD}},
                                    AuthenticateReply{AuthStatus::Failed, AuthType::Digest, {7, 7}},
                                    StartSolReply{},
                                    EndSolReply{3},
                                    KeepAlive{false, 11},
                                    SolData{true, 12, std::string(300, 'x')},
                                    SolData{false, 13, ""},
                                    SolControl{14, kControlBreak, kStatusPoweredOn},
                                    SolHeartbeat{15}};
  for (const auto& message : all) {
    const auto wire = encode(message);
    auto decoded = decodeOne(wire);
    EXPECT_EQ(encode(decoded.message), wire) << "type 0x" << std::hex << int(wire[0]);
  }
}

TEST(RedirectionCodec, ACutMessageWaitsForMoreAndNonsenseIsAnError) {
  const std::vector<Bytes> whole = {encode(StartSession{0, "SOL "}), encode(Authenticate{AuthType::Cleartext, {1, 'a', 1, 'b'}}),
                                    encode(StartSol{}), encode(SolData{true, 1, "abc"}), encode(SolControl{}),
                                    encode(StartSessionReply{SessionStatus::Ok, 1, 0, 1, 1, kIanaIntel, {1, 2, 3}})};
  for (const auto& message : whole) {
    for (std::size_t cut = 0; cut < message.size(); ++cut) {
      auto decoded = decodeMessage(std::span(message).first(cut));
      ASSERT_TRUE(decoded) << decoded.error().message;
      EXPECT_FALSE(*decoded) << "type 0x" << std::hex << int(message[0]) << " cut at " << std::dec << cut;
    }
  }
  auto unknown = decodeMessage(bytes({0x77, 0, 0, 0}));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("0x77"), std::string::npos) << unknown.error().message;
  auto huge = decodeMessage(bytes({0x13, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0x7F}));
  ASSERT_FALSE(huge) << "a 2 GB AuthenticateSession is never buffered";
  EXPECT_NE(huge.error().message.find("more than"), std::string::npos);
  // Two messages in one read: the first is taken alone.
  Bytes two = encode(SolHeartbeat{1});
  const auto second = encode(EndSol{2});
  two.insert(two.end(), second.begin(), second.end());
  auto first = decodeMessage(two);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->length, 8u);
}

TEST(RedirectionCodec, AuthenticationDataIsCheckedField_by_field) {
  EXPECT_FALSE(decodeCleartext(bytes({5, 'a', 'd'})));
  EXPECT_FALSE(decodeCleartext(bytes({1, 'a'}))) << "no password field";
  EXPECT_FALSE(decodeCleartext(bytes({1, 'a', 1, 'b', 0})));
  // The Digest first step: <l>user 00 00 <l>uri 00 00 00 00, L = user + uri + 8.
  auto step1 = encodeDigest(DigestFields{"admin", "", "", kDigestUri, "", "", "", ""});
  EXPECT_EQ(step1.size(), 5 + std::string(kDigestUri).size() + 8);
  auto fields = decodeDigest(step1);
  ASSERT_TRUE(fields) << fields.error().message;
  EXPECT_EQ(fields->user, "admin");
  EXPECT_EQ(fields->uri, kDigestUri);
  EXPECT_TRUE(fields->response.empty());
  step1.pop_back();
  EXPECT_FALSE(decodeDigest(step1)) << "the qop field is missing";
  auto challenge = decodeDigestChallenge(encodeDigestChallenge({"Digest:ABC", "nonce", "auth"}));
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->realm, "Digest:ABC");
  EXPECT_EQ(challenge->qop, "auth");
}

// ------------------------------------------------------------------------------------------------
// Sessions on a manual clock
// ------------------------------------------------------------------------------------------------

class RecordingSerialHost final : public SerialPortHost {
 public:
  void toHost(std::string_view bytes) override { received += bytes; }
  void setFromHost(Sink sink) override { sink_ = std::move(sink); }
  std::string describe() const override { return "recording"; }
  bool attached() const { return static_cast<bool>(sink_); }
  void hostWrites(std::string_view bytes) {
    if (sink_) sink_(bytes);
  }
  std::string received;

 private:
  Sink sink_;
};

// A host that reads only when told: full from `capacity` unread bytes on; reading all calls the drained callback.
class SlowSerialHost final : public SerialPortHost {
 public:
  void toHost(std::string_view bytes) override { unread += bytes; }
  void setFromHost(Sink) override {}
  std::string describe() const override { return "slow"; }
  bool full() const override { return unread.size() >= capacity; }
  void setOnDrained(std::function<void()> callback) override { drained_ = std::move(callback); }
  void readAll() {
    taken += unread;
    unread.clear();
    if (drained_) drained_();
  }
  bool listening() const { return static_cast<bool>(drained_); }
  std::size_t capacity = 100;
  std::string unread;
  std::string taken;

 private:
  std::function<void()> drained_;
};

// One console's connection: what AMT wrote to it, message by message, and whether it was closed.
struct Console {
  std::vector<Bytes> writes;
  bool closed = false;
  int resumed = 0;  // transport.resume calls: the owner would read the socket again
  std::unique_ptr<RedirectionSession> session;

  void send(const Message& message) { session->receive(encode(message)); }
  Message last() const {
    auto decoded = decodeMessage(writes.back());
    return decoded && *decoded ? (*decoded)->message : Message{EndSession{}};
  }
  template <class T>
  const T& lastAs() const {
    static thread_local Message held;
    held = last();
    EXPECT_TRUE(std::holds_alternative<T>(held)) << "last message type 0x" << std::hex << int(writes.back()[0]);
    static const T none{};
    return std::holds_alternative<T>(held) ? std::get<T>(held) : none;
  }
};

class RedirectionSessionTest : public ::testing::Test {
 protected:
  RedirectionSessionTest()
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

  std::unique_ptr<Console> connect() {
    auto console = std::make_unique<Console>();
    auto* c = console.get();
    console->session = service_->open({[c](Bytes m) { c->writes.push_back(std::move(m)); }, [c] { c->closed = true; },
                                       [c] { ++c->resumed; }},
                                      "192.0.2.7");
    return console;
  }

  // 0x10 SOL, cleartext login, 0x20 with `heartbeat` ms.
  std::unique_ptr<Console> solSession(std::uint16_t heartbeat = 0, const std::string& password = kPassword) {
    auto c = connect();
    c->send(StartSession{0, kTagSol});
    c->send(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", password})});
    SolSettings settings;
    settings.heartbeat = heartbeat;
    c->send(StartSol{settings});
    return c;
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
  test::TempDir dir_{"redirection"};
  boost::asio::io_context io_;
  core::ManualFirmwareClock clock_;
  core::FirmwareTimerQueue timers_;
  std::unique_ptr<platform::PlatformModel> platform_;
  std::unique_ptr<http::DigestAuthenticator> auth_;
  RecordingSerialHost serial_;
  std::unique_ptr<platform::UserConsent> consent_;  // outlives service_, which may hold it
  std::unique_ptr<RedirectionService> service_;
};

TEST_F(RedirectionSessionTest, AmttermsCleartextSolSessionCarriesBytesBothWaysAndIsRecorded) {
  auto c = connect();
  c->send(StartSession{0, kTagSol});
  ASSERT_EQ(c->writes.size(), 1u);
  EXPECT_EQ(c->lastAs<StartSessionReply>().status, SessionStatus::Ok);
  EXPECT_EQ(c->lastAs<StartSessionReply>().firmwareMajor, platform_->firmware().code.major);

  c->send(Authenticate{AuthType::Query, {}});
  EXPECT_EQ(c->lastAs<AuthenticateReply>().data, bytes({1, 4})) << "cleartext and Digest";

  c->send(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", kPassword})});
  EXPECT_EQ(c->writes.back(), bytes({0x14, 0, 0, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(c->session->state(), RedirectionSession::State::Authenticated);

  const auto auditBefore = platform_->state().logs.auditLog.size();
  c->send(StartSol{});
  EXPECT_EQ(c->writes.back().size(), 23u);
  EXPECT_EQ(c->lastAs<StartSolReply>().status, 0);
  EXPECT_EQ(c->session->state(), RedirectionSession::State::Sol);
  EXPECT_TRUE(serial_.attached());

  c->send(SolData{true, 2, "uname\r"});
  EXPECT_EQ(serial_.received, "uname\r");
  serial_.hostWrites("Linux\r\n");
  EXPECT_EQ(c->lastAs<SolData>().bytes, "Linux\r\n");
  EXPECT_FALSE(c->lastAs<SolData>().toHost);

  c->send(SolControl{3, kControlRts | kControlDtr, 0});
  EXPECT_EQ(c->session->controlBits(), kControlRts | kControlDtr);
  c->send(SolUndocumented{4});  // ignored
  c->send(KeepAlive{false, 5});
  EXPECT_TRUE(c->lastAs<KeepAlive>().pong);

  c->send(EndSol{6});
  EXPECT_EQ(c->writes.back()[0], 0x23);
  EXPECT_FALSE(serial_.attached());
  EXPECT_EQ(c->session->state(), RedirectionSession::State::Authenticated);
  c->send(EndSession{});
  EXPECT_TRUE(c->closed);

  // Audit: SOL Session Opened (1804) and Closed (1805) by admin from its address; message log 0xC0 AA 30 00/01.
  const auto& audit = platform_->state().logs.auditLog;
  std::vector<std::uint16_t> events;
  for (std::size_t i = auditBefore; i < audit.size(); ++i) {
    auto record = platform::decodeAuditRecord(audit[i]);
    ASSERT_TRUE(record);
    if (record->app == platform::audit::kRedirectionManager) {
      events.push_back(record->event);
      EXPECT_EQ(record->user, "admin");
      EXPECT_EQ(record->netAddress, "192.0.2.7");
      EXPECT_EQ(record->timestamp, 1'800'000'000u);
    }
  }
  EXPECT_EQ(events, (std::vector<std::uint16_t>{4, 5}));
  EXPECT_EQ(platform::auditEventName(18, 4), "SOL Session Opened");
  const auto& log = platform_->state().logs.messageLog;
  ASSERT_GE(log.size(), 2u);
  auto started = platform::decodeMessageLogRecord(log[log.size() - 2]);
  auto ended = platform::decodeMessageLogRecord(log.back());
  ASSERT_TRUE(started && ended);
  EXPECT_EQ(started->event.sensorType, 0xC0);
  EXPECT_EQ(platform::describeMessageLogEvent(started->event), "SOL session started");
  EXPECT_EQ(platform::describeMessageLogEvent(ended->event), "SOL session ended");
}

TEST_F(RedirectionSessionTest, DigestLoginAsMeshCentralDoesIt) {
  auto c = connect();
  c->send(StartSession{1, kTagSol});
  c->send(Authenticate{AuthType::Digest, encodeDigest({"admin", "", "", kDigestUri, "", "", "", ""})});
  const auto reply = c->lastAs<AuthenticateReply>();
  EXPECT_EQ(reply.status, AuthStatus::Failed) << "the challenge";
  EXPECT_EQ(reply.type, AuthType::Digest);
  auto challenge = decodeDigestChallenge(reply.data);
  ASSERT_TRUE(challenge) << challenge.error().message;
  EXPECT_EQ(challenge->realm, platform_->digestRealm());
  EXPECT_EQ(challenge->qop, "auth");
  EXPECT_LE(challenge->nonce.size(), 32u) << "amtterm caps the nonce at 32";

  auto answer = [&](const std::string& password, const std::string& nc) {
    DigestFields f{"admin", challenge->realm, challenge->nonce, kDigestUri, "0a4f113b9d", nc, "", "auth"};
    f.response = http::digestResponse(platform::digestHa1("admin", challenge->realm, password), f.nonce, f.nc,
                                      f.cnonce, f.qop, "POST", kDigestUri);
    return encodeDigest(f);
  };
  c->send(Authenticate{AuthType::Digest, answer("wrong", "00000001")});
  EXPECT_EQ(c->lastAs<AuthenticateReply>().status, AuthStatus::Failed);
  EXPECT_TRUE(c->lastAs<AuthenticateReply>().data.empty()) << "a refusal, not a new challenge";
  c->send(Authenticate{AuthType::Digest, answer(kPassword, "00000002")});
  EXPECT_EQ(c->writes.back(), bytes({0x14, 0, 0, 0, 4, 0, 0, 0, 0}));
  EXPECT_EQ(c->session->state(), RedirectionSession::State::Authenticated);
}

TEST_F(RedirectionSessionTest, WrongPasswordsAreRefusedThenTheConnectionCloses) {
  auto c = connect();
  c->send(StartSession{0, kTagSol});
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(c->closed);
    c->send(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", "nope"})});
    EXPECT_EQ(c->lastAs<AuthenticateReply>().status, AuthStatus::Failed);
  }
  EXPECT_TRUE(c->closed) << "after three failures";
  EXPECT_EQ(service_->stats().authFailures, 3u);
  // The failures are audited like WS-Man's (1605) and count on the same back-off.
  auto record = platform::decodeAuditRecord(platform_->state().logs.auditLog.back());
  ASSERT_TRUE(record);
  EXPECT_EQ(record->app, 16);
  EXPECT_EQ(record->event, 5);
  EXPECT_EQ(auth_->stats().failures, 3u);
  // Unknown users, Kerberos and garbage are refused cleanly too.
  auto d = connect();
  d->send(StartSession{0, kTagSol});
  d->send(Authenticate{AuthType::Kerberos, {}});
  EXPECT_EQ(d->lastAs<AuthenticateReply>().status, AuthStatus::NotSupported);
  d->send(Authenticate{AuthType::Cleartext, {9, 'x'}});
  EXPECT_EQ(d->lastAs<AuthenticateReply>().status, AuthStatus::Failed);
  d->send(Authenticate{AuthType::Cleartext, encodeCleartext({"nobody", kPassword})});
  EXPECT_EQ(d->lastAs<AuthenticateReply>().status, AuthStatus::Failed);
  EXPECT_FALSE(d->closed) << "Kerberos not supported is no failed login";
  d->send(Authenticate{AuthType::Digest, {1}});
  EXPECT_EQ(d->lastAs<AuthenticateReply>().status, AuthStatus::Failed);
  EXPECT_TRUE(d->closed);
}

TEST_F(RedirectionSessionTest, AnAclUserNeedsTheRedirectionRealm) {
  addAclUser("operator", {5});      // Remote Control only
  addAclUser("redirector", {2});    // Redirection
  auto c = connect();
  c->send(StartSession{0, kTagSol});
  c->send(Authenticate{AuthType::Cleartext, encodeCleartext({"operator", "Secret1!"})});
  EXPECT_EQ(c->lastAs<AuthenticateReply>().status, AuthStatus::Failed);
  c->send(Authenticate{AuthType::Cleartext, encodeCleartext({"redirector", "Secret1!"})});
  EXPECT_EQ(c->lastAs<AuthenticateReply>().status, AuthStatus::Ok);
  EXPECT_EQ(c->session->user(), "redirector");
}

TEST_F(RedirectionSessionTest, OneSolSessionAtATimeTheNextIsBusy) {
  auto first = solSession();
  ASSERT_EQ(first->session->state(), RedirectionSession::State::Sol);
  auto second = connect();
  second->send(StartSession{0, kTagSol});
  EXPECT_EQ(second->lastAs<StartSessionReply>().status, SessionStatus::Busy);
  EXPECT_EQ(service_->stats().busy, 1u);
  // Logged in before the first started SOL: its 0x20 gets busy in 0x21.
  auto early = connect();
  first->send(EndSol{1});
  early->send(StartSession{0, kTagSol});
  early->send(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", kPassword})});
  first->send(StartSol{});
  early->send(StartSol{});
  EXPECT_EQ(early->lastAs<StartSolReply>().status, 2);
  // The first closes: the slot is free again.
  first->session->end("peer closed");
  auto third = solSession();
  EXPECT_EQ(third->session->state(), RedirectionSession::State::Sol);
  EXPECT_EQ(service_->solSession(), third->session.get());
}

TEST_F(RedirectionSessionTest, IderAndKvmAreUnsupportedForNowAndUnknownTagsUnknown) {
  auto c = connect();  // IDER is served now: tests/unit/ider_test.cpp
  c->send(StartSession{1, kTagKvm});
  EXPECT_EQ(c->lastAs<StartSessionReply>().status, SessionStatus::Unsupported);
  c->send(StartSession{0, "FOO "});
  EXPECT_EQ(c->lastAs<StartSessionReply>().status, SessionStatus::UnknownType);
  EXPECT_FALSE(c->closed);
}

TEST_F(RedirectionSessionTest, DisabledSolIsRefused) {
  ASSERT_EQ(platform_->update([](platform::PlatformState& s) { s.redirection.enabledState = 32769; }),  // IDER only
            platform::ChangeResult::Ok);
  EXPECT_FALSE(service_->solEnabled());
  auto c = connect();
  c->send(StartSession{0, kTagSol});
  EXPECT_EQ(c->lastAs<StartSessionReply>().status, SessionStatus::Error);
  EXPECT_EQ(c->session->state(), RedirectionSession::State::AwaitStart);
  ASSERT_EQ(platform_->update([](platform::PlatformState& s) {
    s.redirection.enabledState = 32771;
    s.redirection.listenerEnabled = false;
  }),
            platform::ChangeResult::Ok);
  EXPECT_FALSE(service_->accepting()) << "the listener closes connections at accept";
  // Not provisioned: the daemon test (redirection_daemon_test) sees the connection closed at accept.
}

TEST_F(RedirectionSessionTest, SolWaitsForUserConsentWhenThePolicyAsksForIt) {
  ASSERT_EQ(platform_->update([](platform::PlatformState& s) { s.optIn.optInRequired = platform::kOptInRequiredAll; }),
            platform::ChangeResult::Ok);
  consent_ = std::make_unique<platform::UserConsent>(*platform_, timers_);
  auto& consent = *consent_;
  service_->setUserConsent(&consent);
  // No consent: 0x21 status FF, the console stays logged in and may try again.
  auto c = solSession();
  EXPECT_EQ(c->lastAs<StartSolReply>().status, 0xFF);
  EXPECT_EQ(c->session->state(), RedirectionSession::State::Authenticated);
  EXPECT_EQ(service_->stats().consentRequired, 1u);
  EXPECT_FALSE(service_->solSession());
  EXPECT_FALSE(serial_.attached());

  const platform::AuditInitiator who{"admin", false, {}};
  ASSERT_EQ(consent.start(who), platform::ConsentResult::Ok);
  ASSERT_EQ(consent.sendCode(std::stoul(*consent.code()), who), platform::ConsentResult::Ok);
  c->send(StartSol{});
  EXPECT_EQ(c->lastAs<StartSolReply>().status, 0);
  EXPECT_EQ(consent.state(), platform::ConsentState::InSession);
  c->send(EndSol{1});
  EXPECT_EQ(consent.state(), platform::ConsentState::Received);  // valid for OptInCodeTimeout more

  // Cancelling the consent of a running session closes it.
  c->send(StartSol{});
  ASSERT_EQ(c->session->state(), RedirectionSession::State::Sol);
  ASSERT_EQ(consent.cancel(who), platform::ConsentResult::Ok);
  EXPECT_TRUE(c->closed);
  EXPECT_EQ(c->session->state(), RedirectionSession::State::Ended);
  EXPECT_FALSE(service_->solSession());
  EXPECT_EQ(consent.sessions(), 0u);
}

TEST_F(RedirectionSessionTest, AFullHostHoldsTheConsoleBackInsteadOfDropping) {
  SlowSerialHost slow;
  service_->setSerialHost(&slow);
  auto c = solSession();
  ASSERT_TRUE(slow.listening());
  // Five 60-byte messages in one read: the host is full after the second; the rest waits, unread.
  Bytes burst;
  for (char letter : std::string("ABCDE")) {
    auto m = encode(SolData{true, 0, std::string(60, letter)});
    burst.insert(burst.end(), m.begin(), m.end());
  }
  c->session->receive(burst);
  EXPECT_EQ(slow.unread, std::string(60, 'A') + std::string(60, 'B'));
  EXPECT_TRUE(c->session->readingPaused());
  EXPECT_EQ(service_->stats().pauses, 1u);
  EXPECT_EQ(c->resumed, 0);
  clock_.advance(120s);  // twice the idle limit: a held-back console is not silent
  EXPECT_FALSE(c->closed);

  slow.readAll();  // C and D now fill it again: still paused, not resumed
  EXPECT_EQ(slow.unread, std::string(60, 'C') + std::string(60, 'D'));
  EXPECT_TRUE(c->session->readingPaused());
  EXPECT_EQ(c->resumed, 0);
  slow.readAll();
  EXPECT_EQ(slow.unread, std::string(60, 'E'));
  EXPECT_FALSE(c->session->readingPaused());
  EXPECT_EQ(c->resumed, 1) << "the owner reads the socket again";
  slow.readAll();
  EXPECT_EQ(slow.taken, std::string(60, 'A') + std::string(60, 'B') + std::string(60, 'C') + std::string(60, 'D') +
                            std::string(60, 'E'));
  EXPECT_EQ(c->resumed, 1) << "drained while not paused: nothing to resume";
  EXPECT_EQ(service_->stats().bytesToHost, 300u);

  // Reading again re-armed the silence limit.
  clock_.advance(60s);
  EXPECT_TRUE(c->closed);
  EXPECT_FALSE(slow.listening()) << "the session let go of the host";
}

TEST_F(RedirectionSessionTest, AConsoleWithoutFlowControlIsNeverPaused) {
  SlowSerialHost slow;
  slow.capacity = 10;
  service_->setSerialHost(&slow);
  Console console;
  auto* c = &console;
  console.session = service_->open({[c](Bytes m) { c->writes.push_back(std::move(m)); }, [c] { c->closed = true; }},
                                   "192.0.2.8");  // no resume: e.g. a transport that cannot stop reading
  console.send(StartSession{0, kTagSol});
  console.send(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", kPassword})});
  console.send(StartSol{});
  console.send(SolData{true, 0, std::string(40, 'x')});
  console.send(SolData{true, 0, std::string(40, 'y')});
  EXPECT_FALSE(console.session->readingPaused());
  EXPECT_EQ(slow.unread, std::string(40, 'x') + std::string(40, 'y'));
}

TEST_F(RedirectionSessionTest, TheSolConsoleHearsOfTheHostsPowerThrough0x29) {
  auto c = solSession();
  auto setPower = [&](std::uint32_t state) {
    ASSERT_EQ(platform_->update([&](platform::PlatformState& s) { s.hostPower.powerState = state; }),
              platform::ChangeResult::Ok);
  };
  const auto before = c->writes.size();
  setPower(8);  // off-soft
  ASSERT_EQ(c->writes.size(), before + 1);
  EXPECT_EQ(c->writes.back().size(), 10u) << "its own write (amtterm)";
  EXPECT_EQ(c->lastAs<SolControl>().status & kStatusPoweredOn, 0);
  setPower(6);  // off-hard: still off, nothing to say
  EXPECT_EQ(c->writes.size(), before + 1);
  setPower(2);
  ASSERT_EQ(c->writes.size(), before + 2);
  EXPECT_EQ(c->lastAs<SolControl>().status, kStatusPoweredOn);
  EXPECT_EQ(service_->stats().powerNotices, 2u);
  // Outside SOL nobody is told.
  c->send(EndSol{1});
  const auto after = c->writes.size();
  setPower(8);
  EXPECT_EQ(c->writes.size(), after);
}

TEST_F(RedirectionSessionTest, SilenceEndsASessionOnTheFirmwareClock) {
  auto c = connect();
  clock_.advance(59s);
  EXPECT_FALSE(c->closed);
  c->send(StartSession{0, kTagSol});  // anything heard re-arms the limit
  clock_.advance(59s);
  EXPECT_FALSE(c->closed);
  clock_.advance(1s);
  EXPECT_TRUE(c->closed);
  EXPECT_EQ(service_->stats().idleTimeouts, 1u);
}

TEST_F(RedirectionSessionTest, HeartbeatsGoOutEveryIntervalAndThreeMissedEndTheSession) {
  auto c = solSession(5000);  // amtterm's 5 s
  const auto before = c->writes.size();
  clock_.advance(5s);
  ASSERT_EQ(c->writes.size(), before + 1);
  EXPECT_EQ(c->writes.back()[0], 0x2B);
  c->send(SolHeartbeat{1});  // amtterm echoes it
  clock_.advance(10s);
  EXPECT_FALSE(c->closed);
  EXPECT_EQ(service_->solSession(), c->session.get());
  clock_.advance(5s);  // 15 s since the console was last heard
  EXPECT_TRUE(c->closed);
  EXPECT_EQ(service_->solSession(), nullptr) << "the slot is free";
  EXPECT_FALSE(serial_.attached());
}

TEST_F(RedirectionSessionTest, OutOfPlaceMessagesAndGarbageCloseTheConnection) {
  auto early = connect();
  early->send(SolData{true, 1, "x"});
  EXPECT_TRUE(early->closed) << "data before a session";
  auto reply = connect();
  reply->send(StartSessionReply{});
  EXPECT_TRUE(reply->closed) << "AMT's own message";
  auto garbage = connect();
  garbage->session->receive(bytes({0xEE, 1, 2, 3}));
  EXPECT_TRUE(garbage->closed);
  EXPECT_EQ(service_->stats().protocolErrors, 3u);
  // A message split over many reads is whole when its last byte arrives.
  auto split = connect();
  for (auto b : encode(StartSession{0, kTagSol})) split->session->receive(bytes({b}));
  EXPECT_EQ(split->lastAs<StartSessionReply>().status, SessionStatus::Ok);
}

TEST_F(RedirectionSessionTest, TheServiceGoingAwayEndsItsSessions) {
  auto c = solSession();
  service_.reset();
  EXPECT_TRUE(c->closed);
  EXPECT_EQ(c->session->state(), RedirectionSession::State::Ended);
  c->session->receive(encode(SolData{true, 1, "x"}));  // nothing happens
  EXPECT_TRUE(serial_.received.empty());
}

// AMT_RedirectionService.TerminateSession: the sessions of the kind asked for close, the others stay.
TEST_F(RedirectionSessionTest, TerminateSessionClosesTheSessionsOfItsKindOnly) {
  auto sol = solSession();
  ASSERT_EQ(sol->session->state(), RedirectionSession::State::Sol);
  auto waiting = connect();
  waiting->send(StartSession{0, kTagSol});
  EXPECT_EQ(service_->closeSessions(RedirectionSession::State::Ider, "terminated"), 0u);
  EXPECT_FALSE(sol->closed);
  EXPECT_EQ(service_->closeSessions(RedirectionSession::State::Sol, "terminated"), 1u);
  EXPECT_TRUE(sol->closed);
  EXPECT_EQ(sol->session->state(), RedirectionSession::State::Ended);
  EXPECT_EQ(service_->solSession(), nullptr) << "the SOL slot is free again";
  EXPECT_FALSE(waiting->closed);
  EXPECT_EQ(service_->closeSessions(RedirectionSession::State::Sol, "terminated"), 0u);
}

// ------------------------------------------------------------------------------------------------
// Host sides
// ------------------------------------------------------------------------------------------------

TEST(PtySerialHost, BytesCrossThePtyBothWays) {
  boost::asio::io_context io;
  test::LogThreshold quiet(log::Level::Error);
  auto pty = PtySerialHost::open(io);
  ASSERT_TRUE(pty) << pty.error().message;
  EXPECT_EQ((*pty)->describe(), "pty " + (*pty)->slavePath());
  const int slave = ::open((*pty)->slavePath().c_str(), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0);
  std::string fromHost;
  (*pty)->setFromHost([&](std::string_view b) { fromHost += b; });
  (*pty)->toHost("typed\r");
  std::string atHost;
  for (int i = 0; i < 200 && atHost.size() < 6; ++i) {
    io.run_for(5ms);
    pollfd p{slave, POLLIN, 0};
    if (::poll(&p, 1, 0) == 1) {
      char buf[64];
      const auto n = ::read(slave, buf, sizeof buf);
      if (n > 0) atHost.append(buf, static_cast<std::size_t>(n));
    }
  }
  EXPECT_EQ(atHost, "typed\r") << "raw: no echo, no CR translation";
  ASSERT_EQ(::write(slave, "login: ", 7), 7);
  for (int i = 0; i < 200 && fromHost.size() < 7; ++i) io.run_for(5ms);
  EXPECT_EQ(fromHost, "login: ");
  ::close(slave);
}

TEST(PtySerialHost, AFullQueueSaysSoAndDrainsInOrder) {
  boost::asio::io_context io;
  test::LogThreshold quiet(log::Level::Error);
  auto opened = PtySerialHost::open(io);
  ASSERT_TRUE(opened) << opened.error().message;
  auto& pty = **opened;
  const int slave = ::open(pty.slavePath().c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
  ASSERT_GE(slave, 0);
  int drained = 0;
  pty.setOnDrained([&] { ++drained; });
  // 256 KiB with nobody reading: the kernel's buffer takes some, then the queue reaches its high-water mark.
  std::string sent;
  for (int i = 0; sent.size() < 256 * 1024 && !pty.full(); ++i) {
    std::string chunk(1000, static_cast<char>('a' + i % 26));
    chunk[0] = static_cast<char>('0' + i % 10);
    pty.toHost(chunk);
    sent += chunk;
    io.poll();
  }
  ASSERT_TRUE(pty.full()) << "nobody reads: the queue must fill";
  EXPECT_EQ(drained, 0);
  std::string atHost;
  for (int i = 0; i < 2000 && atHost.size() < sent.size(); ++i) {
    io.run_for(1ms);
    char buf[8192];
    const auto n = ::read(slave, buf, sizeof buf);
    if (n > 0) atHost.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_FALSE(pty.full());
  EXPECT_EQ(drained, 1) << "once, when it fell to the low-water mark";
  EXPECT_EQ(atHost.size(), sent.size());
  EXPECT_TRUE(atHost == sent) << "every byte, in order";
  ::close(slave);
}

TEST(SerialConsole, ARecoveryImageTheBiosBootedNamesItselfInTheBanner) {
  std::string image = "mesim recovery 2.1";
  hostos::SerialConsole console({"host1", "BIOS 1.0", {}, [&] { return image; }});
  std::string screen;
  console.setOutput([&](std::string_view b) { screen += b; });
  console.osStateChanged(hostos::SimulatedOs::State::Booting);
  console.osStateChanged(hostos::SimulatedOs::State::Running);
  EXPECT_NE(screen.find("mesim recovery 2.1 (One Click Recovery) host1 ttyS0"), std::string::npos) << screen;
  image.clear();  // the next boot runs the host's own OS
  screen.clear();
  console.osStateChanged(hostos::SimulatedOs::State::Booting);
  console.osStateChanged(hostos::SimulatedOs::State::Running);
  EXPECT_NE(screen.find("mesim simulated OS host1 ttyS0"), std::string::npos) << screen;
}

TEST(SerialConsole, BootsToALoginPromptEchoesAndAnswers) {
  std::int64_t now = 1000;
  hostos::SerialConsole console({"host1", "BIOS 1.0", [&] { return now; }, {}});
  std::string screen;
  console.setOutput([&](std::string_view b) { screen += b; });
  console.input("ignored while off");
  EXPECT_TRUE(screen.empty());
  console.osStateChanged(hostos::SimulatedOs::State::Booting);
  EXPECT_NE(screen.find("BIOS 1.0"), std::string::npos);
  EXPECT_NE(screen.find("Linux version"), std::string::npos);
  console.osStateChanged(hostos::SimulatedOs::State::Running);
  EXPECT_EQ(screen.substr(screen.size() - 13), "host1 login: ");
  screen.clear();
  console.input("qa\r");
  EXPECT_EQ(screen, "qa\r\nLast login: on ttyS0\r\nqa@host1:~$ ");
  EXPECT_TRUE(console.loggedIn());
  screen.clear();
  console.input("echo hello world\r\n");  // CR LF is one Enter
  EXPECT_EQ(screen, "echo hello world\r\nhello world\r\nqa@host1:~$ ");
  screen.clear();
  console.input("frob\r");
  EXPECT_NE(screen.find("frob: command not found"), std::string::npos);
  screen.clear();
  now += 3720;
  console.input("uptime\r");
  EXPECT_NE(screen.find("up 1:02"), std::string::npos) << screen;
  screen.clear();
  console.input("unamx\x7f" "e\r");
  EXPECT_NE(screen.find("\r\nLinux\r\n"), std::string::npos) << "DEL erased the x: " << screen;
  console.input("exit\r");
  EXPECT_FALSE(console.loggedIn());
  screen.clear();
  console.osStateChanged(hostos::SimulatedOs::State::Crashed);
  EXPECT_NE(screen.find("Kernel panic"), std::string::npos);
  screen.clear();
  console.input("x\r");
  EXPECT_TRUE(screen.empty()) << "a crashed OS echoes nothing";
}

}  // namespace
}  // namespace mesim::wsman::redirection
