// IDE redirection (wsman/redirection/ider_*): the codec on bytes as MeshCentral's module builds them, the session on
// a manual firmware clock with the test console (tests/support/ider_console.h) serving an ISO built in memory, the
// media reads and the simulated BIOS's boot, and the NBD protocol (hostif/nbd) over that media.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_model.h"
#include "hostif/nbd/nbd_protocol.h"
#include "tests/support/ider_console.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/http/digest_auth.h"
#include "wsman/redirection/ider_codec.h"
#include "wsman/redirection/ider_session.h"
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

IderDecoded decodeOne(const Bytes& in) {
  auto decoded = decodeIderMessage(in);
  EXPECT_TRUE(decoded) << decoded.error().message;
  EXPECT_TRUE(decoded && *decoded) << "needs more bytes";
  if (!decoded || !*decoded) return {};
  EXPECT_EQ((*decoded)->length, in.size());
  return **decoded;
}

// ------------------------------------------------------------------------------------------------
// Codec
// ------------------------------------------------------------------------------------------------

TEST(IderCodec, ReadsTheConsoleMessagesAsMeshCentralBuildsThem) {
  // 0x40: rx 30000, tx 0, heartbeat 20000, version 1.
  auto open = decodeOne(bytes({0x40, 0, 0, 0, 0, 0, 0, 0, 0x30, 0x75, 0, 0, 0x20, 0x4E, 1, 0, 0, 0}));
  const auto& o = std::get<IderOpenSession>(open.message.body);
  EXPECT_EQ(o.rxTimeout, 30000);
  EXPECT_EQ(o.heartbeat, 20000);
  EXPECT_EQ(o.version, 1u);
  // 0x48 set: enable | OnReboot.
  auto set = decodeOne(bytes({0x48, 0, 0, 0, 1, 0, 0, 0, 3, 0x09, 0, 0, 0}));
  EXPECT_EQ(set.message.sequence, 1u);
  const auto& f = std::get<IderFeatures>(set.message.body);
  EXPECT_EQ(f.kind, IderFeatureKind::Set);
  EXPECT_EQ(f.value, kIderFeatureEnable | kIderStartOnReboot);
  // 0x51, sense form: 12 x 0, 87, key<<4, 03 00 00 00, dev, 51, key, asc, ascq.
  auto sense = decodeOne(bytes({0x51, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x87, 0x20, 3, 0, 0, 0,
                                0xB0, 0x51, 0x02, 0x3A, 0x00}));
  const auto& s = std::get<IderCommandEnd>(sense.message.body);
  EXPECT_EQ(s.status, kAtaStatusError);
  EXPECT_EQ(s.senseKey, 2);
  EXPECT_EQ(s.asc, 0x3A);
  EXPECT_EQ(s.device, kIderDeviceCdrom);
  // 0x51, good form: 12 x 0, C5 00 03 00 00 00 dev 50 00 00 00.
  auto good = decodeOne(bytes({0x51, 0, 0, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC5, 0, 3, 0, 0, 0,
                               0xB0, 0x50, 0, 0, 0}));
  EXPECT_EQ(std::get<IderCommandEnd>(good.message.body).status, kAtaStatusGood);
  // 0x54, last chunk of 4 bytes (PIO): 00 len16 00 B5 00 02 00 len16 dev 58 85 00 03 00 00 00 dev 50 + 6 x 0.
  Bytes data = bytes({0x54, 0, 0, 2, 4, 0, 0, 0, 0, 4, 0, 0, 0xB5, 0, 2, 0, 4, 0, 0xB0, 0x58, 0x85, 0, 3, 0, 0, 0,
                      0xB0, 0x50, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c', 'd'});
  auto chunk = decodeOne(data);
  EXPECT_EQ(chunk.message.attributes, kIderAttrCompleted);
  const auto& d = std::get<IderDataToHost>(chunk.message.body);
  EXPECT_EQ(d.data, bytes({'a', 'b', 'c', 'd'}));
  EXPECT_EQ(d.status, kAtaStatusGood);
  EXPECT_EQ(encodeIder(chunk.message), data) << "the same bytes back";
  EXPECT_TRUE(std::holds_alternative<IderResetOccurredReply>(decodeOne(bytes({0x47, 0, 0, 0, 5, 0, 0, 0})).message.body));
  EXPECT_FALSE(std::get<IderKeepAlive>(decodeOne(bytes({0x44, 0, 0, 0, 6, 0, 0, 0})).message.body).pong);
}

TEST(IderCodec, WritesAmtsMessagesWhereConsolesReadThem) {
  IderOpenSessionReply reply;
  reply.firmwareMajor = 16;
  reply.firmwareMinor = 1;
  const auto open = encodeIder(IderMessage{0, 0, reply});
  ASSERT_EQ(open.size(), 30u);
  EXPECT_EQ(open[0], 0x41);
  EXPECT_EQ(open[8], 1) << "protocol major";
  EXPECT_EQ(open[16] | open[17] << 8, 8192) << "read buffer";
  EXPECT_EQ(open[21], 0) << "MeshCentral refuses anything else";
  EXPECT_EQ(open[25] | open[26] << 8, 0x157) << "Intel's IANA number";
  EXPECT_EQ(open[29], 0) << "no OEM data";

  IderCommandWritten packet;
  packet.cdb = cdbRead10(0x01020304, 2);
  packet.byteCount = 4096;
  const auto command = encodeIder(IderMessage{0, 7, packet});
  ASSERT_EQ(command.size(), 28u);
  EXPECT_EQ(command[4], 7) << "sequence";
  EXPECT_EQ(command[12] | command[13] << 8, 4096);
  EXPECT_EQ(command[14], 0xB0) << "the CD";
  EXPECT_EQ(command[15], 0xA0) << "ATA PACKET";
  EXPECT_EQ(Bytes(command.begin() + 16, command.end()), bytes({0x28, 0, 1, 2, 3, 4, 0, 0, 2, 0, 0, 0}));
  EXPECT_EQ(encodeIder(IderMessage{0, 9, IderResetOccurred{1}}), bytes({0x46, 0, 0, 0, 9, 0, 0, 0, 1}));
  EXPECT_EQ(encodeIder(IderMessage{0, 1, IderFeatures{true, IderFeatureKind::Set, 1}}),
            bytes({0x49, 0, 0, 0, 1, 0, 0, 0, 3, 1, 0, 0, 0}));
  EXPECT_EQ(encodeIder(IderMessage{0, 2, IderHeartbeat{}}), bytes({0x4B, 0, 0, 0, 2, 0, 0, 0}));
}

TEST(IderCodec, EveryMessageSurvivesARoundTripAndEveryCutNeedsMore) {
  const std::vector<IderBody> all = {
      IderOpenSession{1000, 2, 3000, 1},
      IderOpenSessionReply{1, 0, 11, 8, 4096, 2048, 0, 0x157, {0xAB, 0xCD}},
      IderCloseSession{},
      IderCloseSessionReply{},
      IderKeepAlive{false},
      IderKeepAlive{true},
      IderResetOccurred{1},
      IderResetOccurredReply{},
      IderFeatures{false, IderFeatureKind::Supported, 0},
      IderFeatures{true, IderFeatureKind::GetState, 2},
      IderErrorOccurred{{1, 2, 3}},
      IderHeartbeat{},
      IderCommandWritten{1, 2048, 0xB0, 0xA0, cdbReadCapacity()},
      IderCommandEnd{kAtaStatusError, 5, 0x20, 0, 0xA0},
      IderGetDataFromHost{0xA0, 512},
      IderDataFromHost{0xA0, Bytes(512, 0x5A)},
      IderDataToHost{0xB0, 0, Bytes(2048, 0x33)},
  };
  std::uint32_t sequence = 0;
  for (const auto& body : all) {
    const auto wire = encodeIder(IderMessage{kIderAttrCompleted, sequence++, body});
    auto decoded = decodeOne(wire);
    EXPECT_EQ(encodeIder(decoded.message), wire) << iderMessageName(iderTypeOf(body));
    for (std::size_t cut = 0; cut < wire.size(); ++cut) {
      auto partial = decodeIderMessage(std::span(wire).first(cut));
      ASSERT_TRUE(partial) << partial.error().message;
      EXPECT_FALSE(*partial) << iderMessageName(iderTypeOf(body)) << " cut at " << cut;
    }
  }
}

TEST(IderCodec, UnknownTypesAndKindsAreErrors) {
  auto unknown = decodeIderMessage(bytes({0x4C, 0, 0, 0, 0, 0, 0, 0}));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown IDE-R message type 0x4C"), std::string::npos);
  EXPECT_FALSE(decodeIderMessage(bytes({0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0})));
  auto kind = decodeIderMessage(bytes({0x48, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0}));
  ASSERT_FALSE(kind);
  EXPECT_NE(kind.error().message.find("kind 9"), std::string::npos);
}

TEST(IderAtapi, CdbsCapacityAndSense) {
  EXPECT_EQ(cdbReadCapacity()[0], 0x25);
  EXPECT_EQ(cdbRequestSense()[4], 18);
  auto capacity = parseReadCapacity(bytes({0, 0, 0x01, 0x3F, 0, 0, 0x08, 0}));
  ASSERT_TRUE(capacity);
  EXPECT_EQ(capacity->lastLba, 319u);
  EXPECT_EQ(capacity->blockSize, 2048u);
  EXPECT_FALSE(parseReadCapacity(bytes({0, 0, 0})));
  EXPECT_FALSE(parseReadCapacity(bytes({0, 0, 0, 1, 0, 0, 0x10, 0}))) << "4096-byte blocks";
  EXPECT_EQ(describeSense(2, 0x3A, 0), "NOT READY / MEDIUM NOT PRESENT (02/3A/00)");
}

// ------------------------------------------------------------------------------------------------
// Sessions on a manual clock, with the test console
// ------------------------------------------------------------------------------------------------

class IderSessionTest : public ::testing::Test {
 protected:
  struct Console {
    std::vector<Bytes> toConsole;
    bool closed = false;
    std::unique_ptr<RedirectionSession> session;
    std::unique_ptr<test::IderConsoleMedia> media;
  };

  IderSessionTest()
      : quiet_(log::Level::Error), clock_(core::FirmwareClock::time_point(std::chrono::seconds(1'800'000'000))),
        timers_(io_, clock_) {
    platform::PlatformDefaults defaults;
    defaults.adminPassword = kPassword;
    auto opened = platform::PlatformModel::open(dir_.path(), defaults);
    EXPECT_TRUE(opened) << opened.error().message;
    platform_ = std::move(*opened);
    auth_ = std::make_unique<http::DigestAuthenticator>(*platform_, clock_, http::DigestOptions{});
    service_ = std::make_unique<RedirectionService>(*platform_, timers_, *auth_);
  }

  std::unique_ptr<Console> connect(const std::string& volumeId = "MESIM_TEST") {
    auto c = std::make_unique<Console>();
    auto* raw = c.get();
    c->session = service_->open({[raw](Bytes m) { raw->toConsole.push_back(std::move(m)); }, [raw] { raw->closed = true; }},
                                "192.0.2.9");
    c->media = std::make_unique<test::IderConsoleMedia>(test::makeIsoImage(volumeId, 80), 2048);
    return c;
  }

  // Delivers what AMT wrote to the console and the console's answers to AMT until both are quiet.
  void exchange(Console& c) {
    for (int rounds = 0; rounds < 10000 && !c.toConsole.empty(); ++rounds) {
      auto batch = std::exchange(c.toConsole, {});
      for (const auto& m : batch)
        for (const auto& answer : c.media->receive(m)) c.session->receive(answer);
    }
  }

  Bytes raw(const Message& message) { return encode(message); }

  // 0x10 IDER and a cleartext login; the first write is 0x11, the second 0x14.
  std::unique_ptr<Console> login(const std::string& volumeId = "MESIM_TEST") {
    auto c = connect(volumeId);
    c->session->receive(raw(StartSession{0, kTagIder}));
    c->session->receive(raw(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", kPassword})}));
    return c;
  }

  std::unique_ptr<Console> openSession(std::uint32_t startMode, const std::string& volumeId = "MESIM_TEST") {
    auto c = login(volumeId);
    c->toConsole.clear();
    for (const auto& m : c->media->open(startMode)) c->session->receive(m);
    exchange(*c);
    return c;
  }

  void setBoot(bool useIder, std::uint32_t device) {
    ASSERT_EQ(platform_->update([&](platform::PlatformState& s) {
      s.boot.useIder = useIder;
      s.boot.iderBootDevice = device;
    }),
              platform::ChangeResult::Ok);
  }

  IderHub& hub() { return service_->ider(); }

  test::LogThreshold quiet_;
  test::TempDir dir_{"ider"};
  boost::asio::io_context io_;
  core::ManualFirmwareClock clock_;
  core::FirmwareTimerQueue timers_;
  std::unique_ptr<platform::PlatformModel> platform_;
  std::unique_ptr<http::DigestAuthenticator> auth_;
  std::unique_ptr<RedirectionService> service_;
};

TEST_F(IderSessionTest, LoginOpenAndStartModeNowAttachesAndProbesTheMedia) {
  auto c = connect();
  c->session->receive(raw(StartSession{0, kTagIder}));
  ASSERT_EQ(c->toConsole.size(), 1u);
  EXPECT_EQ(c->toConsole[0][1], 0) << "status ok";
  c->session->receive(raw(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", kPassword})}));
  EXPECT_EQ(c->toConsole.back(), bytes({0x14, 0, 0, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(c->session->state(), RedirectionSession::State::Ider);
  c->toConsole.clear();

  const auto auditBefore = platform_->state().logs.auditLog.size();
  for (const auto& m : c->media->open(kIderStartNow)) c->session->receive(m);
  exchange(*c);
  EXPECT_TRUE(c->media->error.empty()) << c->media->error;
  EXPECT_TRUE(c->media->opened);
  EXPECT_EQ(c->media->readBuffer, 8192);
  EXPECT_TRUE(c->media->registered);
  ASSERT_NE(hub().session(), nullptr);
  EXPECT_TRUE(hub().session()->attached()) << "start mode now";
  EXPECT_STREQ(startModeName(hub().session()->startMode()), "now");
  ASSERT_TRUE(hub().media().known) << hub().media().error;
  EXPECT_EQ(hub().media().blocks, 80u);
  EXPECT_EQ(hub().media().blockSize, 2048u);
  ASSERT_GE(c->media->commands.size(), 3u);
  EXPECT_EQ(c->media->commands[0][0], 0x00) << "TEST UNIT READY: unit attention";
  EXPECT_EQ(c->media->commands[1][0], 0x00) << "TEST UNIT READY again";
  EXPECT_EQ(c->media->commands[2][0], 0x25) << "READ CAPACITY";
  EXPECT_EQ(hub().stats().checkConditions, 1u);
  EXPECT_TRUE(platform_->state().features.iderSessionOpen);

  // Recorded: audit event (Redirection Manager, IDE-R session opened) and message-log AA 30 02.
  ASSERT_GT(platform_->state().logs.auditLog.size(), auditBefore);
  const auto& log = platform_->state().logs.messageLog;
  ASSERT_FALSE(log.empty());
  auto started = platform::decodeMessageLogRecord(log.back());
  ASSERT_TRUE(started);
  EXPECT_EQ(started->event.sensorType, platform::kSensorTypeRedirection);
  EXPECT_EQ(started->event.eventData[2], platform::kRedirectionIderStarted);
  EXPECT_EQ(platform::auditEventName(18, 0), "IDER Session Opened");

  for (const auto& m : c->media->close()) c->session->receive(m);
  exchange(*c);
  EXPECT_TRUE(c->media->closed) << "0x42 is answered 0x43";
  EXPECT_TRUE(c->closed);
  EXPECT_EQ(hub().session(), nullptr);
  EXPECT_FALSE(platform_->state().features.iderSessionOpen);
  auto ended = platform::decodeMessageLogRecord(platform_->state().logs.messageLog.back());
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->event.eventData[2], platform::kRedirectionIderEnded);
}

TEST_F(IderSessionTest, ReadsGoToTheConsoleAsRead10AndComeBackWhole) {
  auto c = openSession(kIderStartNow);
  std::optional<Result<Bytes>> got;
  hub().read(20 * 2048 + 100, 5000, [&](Result<Bytes> r) { got = std::move(r); });
  exchange(*c);
  ASSERT_TRUE(got && *got) << (got ? got->error().message : "no answer");
  ASSERT_EQ((*got)->size(), 5000u);
  const auto image = test::makeIsoImage("MESIM_TEST", 80);
  EXPECT_TRUE(std::equal((*got)->begin(), (*got)->end(), image.begin() + 20 * 2048 + 100));
  EXPECT_EQ(c->media->readLbas, std::vector<std::uint32_t>({20})) << "one READ(10) of 3 blocks";

  // A read of 64 KiB is split into 32 KiB READ(10)s; data arrives in 8 KiB chunks.
  got.reset();
  hub().read(0, 65536, [&](Result<Bytes> r) { got = std::move(r); });
  exchange(*c);
  ASSERT_TRUE(got && *got);
  EXPECT_TRUE(std::equal((*got)->begin(), (*got)->end(), image.begin()));
  EXPECT_EQ(c->media->readLbas.size(), 3u);

  got.reset();
  hub().read(80 * 2048 - 10, 20, [&](Result<Bytes> r) { got = std::move(r); });
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got) << "beyond the media";
}

TEST_F(IderSessionTest, OnRebootWaitsForTheHostAndTheBiosBootsTheCd) {
  auto c = openSession(kIderStartOnReboot, "UBUNTU_24_04");
  ASSERT_NE(hub().session(), nullptr);
  EXPECT_TRUE(hub().session()->enabled());
  EXPECT_FALSE(hub().session()->attached()) << "not before the host reboots";
  EXPECT_TRUE(c->media->commands.empty());
  std::optional<Result<Bytes>> got;
  hub().read(0, 2048, [&](Result<Bytes> r) { got = std::move(r); });
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);

  setBoot(true, 1);
  EXPECT_TRUE(IderHub::isHostBoot({platform::power::kOffSoft, platform::power::kOn, 2}));
  EXPECT_TRUE(IderHub::isHostBoot({platform::power::kOn, platform::power::kOn, 10}));
  EXPECT_FALSE(IderHub::isHostBoot({platform::power::kOn, platform::power::kOffSoft, 8}));
  hub().hostBooted();
  exchange(*c);
  EXPECT_TRUE(hub().session()->attached());
  const auto& boot = hub().lastBoot();
  EXPECT_EQ(boot.state, "booted") << boot.error;
  EXPECT_EQ(boot.device, "cd");
  EXPECT_EQ(boot.volumeId, "UBUNTU_24_04");
  EXPECT_TRUE(boot.elTorito);
  EXPECT_EQ(boot.bootCatalogLba, 19u);
  EXPECT_EQ(c->media->readLbas, std::vector<std::uint32_t>({16})) << "LBA 16 and 17 in one READ(10)";

  // The next reset: the bus reset (0x46/0x47), a fresh unit attention, and the boot again.
  hub().hostBooted();
  exchange(*c);
  EXPECT_EQ(c->media->resets, 1);
  EXPECT_EQ(hub().lastBoot().state, "booted");
  EXPECT_EQ(hub().lastBoot().boots, 2u);
}

TEST_F(IderSessionTest, ARegisteredDeviceSwitchedToNowAttachesAtOnce) {
  auto c = openSession(kIderStartOnReboot);
  ASSERT_NE(hub().session(), nullptr);
  EXPECT_FALSE(hub().session()->attached());
  for (const auto& m : c->media->setFeatures(kIderFeatureEnable | kIderStartNow)) c->session->receive(m);
  exchange(*c);
  EXPECT_TRUE(hub().session()->attached());
  EXPECT_TRUE(hub().media().known) << hub().media().error;
  for (const auto& m : c->media->setFeatures(0)) c->session->receive(m);
  exchange(*c);
  EXPECT_FALSE(hub().session()->enabled());
  EXPECT_FALSE(hub().session()->attached());
}

TEST_F(IderSessionTest, TheBiosReportsWhyItDidNotBoot) {
  setBoot(true, 1);
  hub().hostBooted();
  EXPECT_EQ(hub().lastBoot().state, "failed");
  EXPECT_EQ(hub().lastBoot().error, "no IDE-R session is open");

  auto c = connect();
  c->media = std::make_unique<test::IderConsoleMedia>(test::makeIsoImage("PLAIN", 40, false), 2048);
  c->session->receive(raw(StartSession{0, kTagIder}));
  c->session->receive(raw(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", kPassword})}));
  for (const auto& m : c->media->open(kIderStartOnReboot)) c->session->receive(m);
  exchange(*c);
  hub().hostBooted();
  exchange(*c);
  EXPECT_EQ(hub().lastBoot().state, "failed");
  EXPECT_EQ(hub().lastBoot().volumeId, "PLAIN");
  EXPECT_NE(hub().lastBoot().error.find("no El Torito boot record"), std::string::npos) << hub().lastBoot().error;

  c->media->noMedia = true;
  hub().hostBooted();
  exchange(*c);
  EXPECT_EQ(hub().lastBoot().state, "failed");
  EXPECT_NE(hub().lastBoot().error.find("MEDIUM NOT PRESENT"), std::string::npos) << hub().lastBoot().error;
}

TEST_F(IderSessionTest, OneIderSessionAtATimeAndDisabledIderIsRefused) {
  auto first = openSession(kIderStartNow);
  auto second = connect();
  second->session->receive(raw(StartSession{0, kTagIder}));
  EXPECT_EQ(second->toConsole.back()[1], static_cast<std::uint8_t>(SessionStatus::Busy));
  EXPECT_EQ(hub().stats().busy, 1u);
  // SOL is a different slot.
  auto sol = connect();
  sol->session->receive(raw(StartSession{0, kTagSol}));
  EXPECT_EQ(sol->toConsole.back()[1], static_cast<std::uint8_t>(SessionStatus::Ok));

  first->session->end("peer closed");
  EXPECT_EQ(hub().session(), nullptr);
  ASSERT_EQ(platform_->update([](platform::PlatformState& s) { s.redirection.enabledState = 32770; }),  // SOL only
            platform::ChangeResult::Ok);
  auto third = connect();
  third->session->receive(raw(StartSession{0, kTagIder}));
  EXPECT_EQ(third->toConsole.back()[1], static_cast<std::uint8_t>(SessionStatus::Error));
  EXPECT_EQ(hub().stats().refused, 1u);
}

TEST_F(IderSessionTest, HeartbeatsPingsAndSilenceOnTheFirmwareClock) {
  auto c = login();
  c->toConsole.clear();
  for (const auto& m : c->media->open(kIderStartNow, 5000)) c->session->receive(m);
  exchange(*c);
  const auto pingsBefore = c->media->pings;
  clock_.advance(5s);
  exchange(*c);
  EXPECT_EQ(c->media->heartbeats, 1) << "AMT's 0x4B every 5 s";
  EXPECT_EQ(c->media->pings, pingsBefore + 1) << "a silent console is pinged; it answers 0x45";
  EXPECT_FALSE(c->closed);
  for (int i = 0; i < 12; ++i) {  // a minute: the test console answers each ping, so it stays
    clock_.advance(5s);
    exchange(*c);
  }
  EXPECT_FALSE(c->closed);
  EXPECT_GE(c->media->heartbeats, 12);

  // A console that answers nothing: pinged after one period of silence, closed two periods later.
  clock_.advance(5s);
  ASSERT_FALSE(c->toConsole.empty());
  EXPECT_EQ(c->toConsole.back()[0], 0x44) << "the ping";
  c->toConsole.clear();
  clock_.advance(9s);
  EXPECT_FALSE(c->closed);
  clock_.advance(1s);
  EXPECT_TRUE(c->closed);
  EXPECT_EQ(hub().stats().idleTimeouts, 1u);
  EXPECT_EQ(hub().session(), nullptr);
}

TEST_F(IderSessionTest, AnUnansweredCommandTimesOutAndEndsTheSession) {
  auto c = openSession(kIderStartNow);
  std::optional<Result<Bytes>> got;
  hub().read(0, 2048, [&](Result<Bytes> r) { got = std::move(r); });
  EXPECT_FALSE(got) << "waiting for the console";
  clock_.advance(30s);  // the console's rx timeout
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
  EXPECT_NE(got->error().message.find("did not answer"), std::string::npos);
  EXPECT_TRUE(c->closed);
  EXPECT_EQ(hub().stats().commandTimeouts, 1u);
}

TEST_F(IderSessionTest, OutOfSequenceUnknownAndOutOfPlaceMessagesCloseTheConnection) {
  {
    auto c = login();
    c->session->receive(encodeIder(IderMessage{0, 5, IderOpenSession{}}));
    EXPECT_TRUE(c->closed) << "sequence 5 where 0 was due";
  }
  {
    auto c = login();
    c->session->receive(bytes({0x4F, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_TRUE(c->closed) << "unknown type";
  }
  {
    auto c = login();
    c->session->receive(encodeIder(IderMessage{0, 0, IderFeatures{}}));
    EXPECT_TRUE(c->closed) << "features before open";
  }
  {
    auto c = openSession(kIderStartNow);
    c->session->receive(encodeIder(IderMessage{kIderAttrCompleted, 100, IderCommandEnd{}}));
    EXPECT_TRUE(c->closed);
  }
  EXPECT_EQ(hub().stats().protocolErrors, 4u);
  EXPECT_EQ(hub().session(), nullptr);
}

TEST_F(IderSessionTest, UnregisteringTheDeviceFailsWaitingReads) {
  auto c = openSession(kIderStartNow);
  std::optional<Result<Bytes>> got;
  hub().read(0, 2048, [&](Result<Bytes> r) { got = std::move(r); });
  // The console unregisters instead of answering.
  std::uint32_t seq = 0;
  {  // its next sequence: count what the test console sent so far by re-encoding through it
    auto probe = c->media->close();
    seq = probe[0][4] | probe[0][5] << 8;
  }
  c->session->receive(encodeIder(IderMessage{0, seq, IderFeatures{false, IderFeatureKind::Set, 0}}));
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
  EXPECT_FALSE(hub().session()->enabled());
  EXPECT_FALSE(hub().session()->attached());
}

// ------------------------------------------------------------------------------------------------
// NBD over the IDE-R media
// ------------------------------------------------------------------------------------------------

void put16(Bytes& o, std::uint16_t v) {
  o.push_back(static_cast<std::uint8_t>(v >> 8));
  o.push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes& o, std::uint32_t v) {
  put16(o, static_cast<std::uint16_t>(v >> 16));
  put16(o, static_cast<std::uint16_t>(v));
}
void put64(Bytes& o, std::uint64_t v) {
  put32(o, static_cast<std::uint32_t>(v >> 32));
  put32(o, static_cast<std::uint32_t>(v));
}
std::uint32_t get32(const Bytes& b, std::size_t at) {
  return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 | std::uint32_t(b[at + 2]) << 8 | b[at + 3];
}
std::uint64_t get64(const Bytes& b, std::size_t at) { return std::uint64_t(get32(b, at)) << 32 | get32(b, at + 4); }

Bytes option(std::uint32_t opt, const Bytes& data) {
  Bytes o;
  put64(o, hostif::nbd::kNbdOptMagic);
  put32(o, opt);
  put32(o, static_cast<std::uint32_t>(data.size()));
  o.insert(o.end(), data.begin(), data.end());
  return o;
}
Bytes nbdRequest(std::uint16_t type, std::uint64_t cookie, std::uint64_t offset, std::uint32_t length) {
  Bytes r;
  put32(r, hostif::nbd::kNbdRequestMagic);
  put16(r, 0);
  put16(r, type);
  put64(r, cookie);
  put64(r, offset);
  put32(r, length);
  return r;
}
Bytes goOption(bool blockSize) {
  Bytes data;
  put32(data, 0);  // export name ""
  put16(data, blockSize ? 1 : 0);
  if (blockSize) put16(data, hostif::nbd::kNbdInfoBlockSize);
  return option(hostif::nbd::kNbdOptGo, data);
}

TEST_F(IderSessionTest, NbdServesTheMediaReadOnlyThroughTheConsole) {
  using namespace hostif::nbd;
  auto c = openSession(kIderStartNow);
  NbdSource source;
  source.size = [this]() -> std::optional<std::uint64_t> {
    if (!hub().media().known) return std::nullopt;
    return hub().media().bytes();
  };
  source.unavailableReason = [] { return std::string("no media"); };
  source.blockSize = [] { return 2048u; };
  source.read = [this](std::uint64_t offset, std::uint32_t length, std::function<void(Result<Bytes>)> done) {
    hub().read(offset, length, std::move(done));
  };
  Bytes out;
  bool closed = false;
  NbdStats stats;
  NbdConnection nbd(source, {[&](Bytes b) { out.insert(out.end(), b.begin(), b.end()); },
                             [&](const std::string&) { closed = true; }},
                    &stats);
  nbd.start();
  ASSERT_EQ(out.size(), 18u);
  EXPECT_EQ(get64(out, 0), kNbdMagic);
  EXPECT_EQ(get64(out, 8), kNbdOptMagic);
  out.clear();
  Bytes flags;
  put32(flags, 3);
  nbd.receive(flags);
  nbd.receive(goOption(true));
  // NBD_REP_INFO export (size, flags), NBD_REP_INFO block size, NBD_REP_ACK.
  ASSERT_GE(out.size(), 20u + 12 + 20 + 14 + 20);
  EXPECT_EQ(get32(out, 12), kNbdRepInfo);
  EXPECT_EQ(get64(out, 22), 80u * 2048) << "the export's size";
  EXPECT_EQ(out[31] & kNbdFlagReadOnly, kNbdFlagReadOnly);
  EXPECT_EQ(get32(out, 32 + 12), kNbdRepInfo);
  EXPECT_EQ(get32(out, 32 + 20 + 2 + 4), 2048u) << "preferred block size";
  EXPECT_EQ(get32(out, 32 + 34 + 12), kNbdRepAck);
  EXPECT_EQ(nbd.state(), NbdConnection::State::Transmission);
  out.clear();

  // READ of the PVD: the bytes come from the console.
  nbd.receive(nbdRequest(kNbdCmdRead, 0x1234, 16 * 2048, 2048));
  exchange(*c);
  ASSERT_EQ(out.size(), 16u + 2048);
  EXPECT_EQ(get32(out, 4), 0u) << "no error";
  EXPECT_EQ(get64(out, 8), 0x1234u);
  EXPECT_EQ(std::string(out.begin() + 17, out.begin() + 22), "CD001");
  out.clear();

  // A write is read in full and refused with EPERM; the next request is understood.
  Bytes write = nbdRequest(kNbdCmdWrite, 7, 0, 512);
  write.resize(write.size() + 512, 0xEE);
  nbd.receive(write);
  ASSERT_EQ(out.size(), 16u);
  EXPECT_EQ(get32(out, 4), kNbdEperm);
  out.clear();
  nbd.receive(nbdRequest(kNbdCmdRead, 8, 80 * 2048, 2048));
  EXPECT_EQ(get32(out, 4), kNbdEinval) << "beyond the end";
  out.clear();
  nbd.receive(nbdRequest(kNbdCmdDisc, 9, 0, 0));
  EXPECT_TRUE(closed);
  EXPECT_EQ(stats.reads, 1u);
  EXPECT_EQ(stats.refusedWrites, 1u);
}

TEST(NbdProtocol, WithoutMediaGoIsRefusedAndExportNameCloses) {
  using namespace hostif::nbd;
  NbdSource none;
  none.size = [] { return std::optional<std::uint64_t>(); };
  none.unavailableReason = [] { return std::string("no IDE-R session is open"); };
  Bytes out;
  bool closed = false;
  NbdConnection nbd(none, {[&](Bytes b) { out.insert(out.end(), b.begin(), b.end()); },
                           [&](const std::string&) { closed = true; }});
  nbd.start();
  out.clear();
  Bytes flags;
  put32(flags, 1);
  nbd.receive(flags);
  nbd.receive(goOption(false));
  ASSERT_GE(out.size(), 20u);
  EXPECT_EQ(get32(out, 12), kNbdRepErrUnknown);
  EXPECT_EQ(std::string(out.begin() + 20, out.end()), "no IDE-R session is open");
  out.clear();
  nbd.receive(option(99, {}));
  EXPECT_EQ(get32(out, 12), kNbdRepErrUnsup);
  EXPECT_FALSE(closed);
  nbd.receive(option(kNbdOptExportName, {}));
  EXPECT_TRUE(closed) << "EXPORT_NAME has no error reply";
}

TEST(NbdProtocol, GarbageAndOversizedOptionsClose) {
  using namespace hostif::nbd;
  NbdSource none;
  for (const Bytes& garbage : {bytes({0, 0, 0, 0}), bytes({0, 0, 0, 1, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 0, 0,
                                                           0, 1, 0, 0, 0, 0})}) {
    bool closed = false;
    NbdConnection nbd(none, {[](Bytes) {}, [&](const std::string&) { closed = true; }});
    nbd.start();
    nbd.receive(garbage);
    EXPECT_TRUE(closed);
  }
  bool closed = false;
  NbdConnection nbd(none, {[](Bytes) {}, [&](const std::string&) { closed = true; }});
  Bytes big;
  put32(big, 1);
  put64(big, kNbdOptMagic);
  put32(big, kNbdOptGo);
  put32(big, 1u << 30);
  nbd.receive(big);
  EXPECT_TRUE(closed) << "1 GiB of option data is never buffered";
}

}  // namespace
}  // namespace mesim::wsman::redirection
