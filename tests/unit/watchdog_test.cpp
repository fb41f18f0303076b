// The watchdog feature on a controllable firmware clock: the timer queue, the WD codec byte for byte
// (spec/mei.md §3, drivers/watchdog/mei_wdt.c), the WD firmware client and its OS watchdog, what an expiry
// raises (spec/wsman.md §3.6 record, alert, reset action), and the agent-presence state machine (§3.5).
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <map>
#include <random>
#include <set>

#include <boost/asio/io_context.hpp>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/events/alert.h"
#include "firmware/platform/host_power.h"
#include "hostif/host/mei_wdt.h"
#include "tests/support/inprocess_platform.h"
#include "tests/unit/firmware_test_support.h"
#include "watchdog_fw/watchdog_feature.h"

namespace mesim::watchdog {
namespace {

using namespace std::chrono_literals;
using hbm::Bytes;
namespace st = platform::agent_state;

// ---------------------------------------------------------------------------------------------
// FirmwareTimerQueue

TEST(FirmwareTimerQueue, ManualClockFiresInDeadlineOrderOnAdvance) {
  boost::asio::io_context io;
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{1'700'000'000s}};
  core::FirmwareTimerQueue timers(io, clock);
  std::vector<int> fired;
  timers.scheduleAfter(3s, [&] { fired.push_back(3); });
  timers.scheduleAfter(1s, [&] { fired.push_back(1); });
  auto two = timers.scheduleAfter(2s, [&] { fired.push_back(2); });
  timers.scheduleAfter(2s, [&] { fired.push_back(22); });  // same deadline: scheduling order
  EXPECT_EQ(timers.size(), 4u);
  clock.advance(999ms);
  EXPECT_TRUE(fired.empty());
  clock.advance(1ms);
  EXPECT_EQ(fired, (std::vector<int>{1}));
  EXPECT_TRUE(timers.cancel(two));
  EXPECT_FALSE(timers.cancel(two));
  clock.advance(10s);
  EXPECT_EQ(fired, (std::vector<int>{1, 22, 3}));
  EXPECT_EQ(timers.size(), 0u);
}

TEST(FirmwareTimerQueue, CallbacksMayRescheduleWithoutSpinning) {
  boost::asio::io_context io;
  core::ManualFirmwareClock clock;
  core::FirmwareTimerQueue timers(io, clock);
  int runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    timers.schedule(clock.now(), again);  // due at once: waits for the next pass
  };
  timers.schedule(clock.now(), again);  // due at once: run from the loop, never inside schedule()
  EXPECT_EQ(runs, 0);
  io.poll_one();
  EXPECT_EQ(runs, 1);
  io.poll_one();  // one pass per loop turn: other work interleaves
  EXPECT_EQ(runs, 2);
  io.poll_one();
  EXPECT_EQ(runs, 3);
}

TEST(FirmwareTimerQueue, TenThousandTimersOnTheSystemClock) {
  boost::asio::io_context io;
  core::SystemFirmwareClock clock;
  core::FirmwareTimerQueue timers(io, clock);
  const auto deadline = clock.now() + 50ms;
  int fired = 0;
  std::vector<core::FirmwareTimerQueue::TimerId> ids;
  for (int i = 0; i < 10'000; ++i) ids.push_back(timers.schedule(deadline, [&] { ++fired; }));
  for (int i = 0; i < 10'000; i += 2) timers.cancel(ids[static_cast<std::size_t>(i)]);
  io.run_for(2s);
  EXPECT_EQ(fired, 5'000);
  EXPECT_GE(clock.now(), deadline);
  EXPECT_EQ(timers.size(), 0u);
}

// ---------------------------------------------------------------------------------------------
// WD codec

TEST(WdCodec, RequestsAreWhatMeiWdtSends) {
  // mei_wdt_ping: hdr{0x02, 0x15, 0x13, 0x10} + u16 timeout + 17 zero bytes.
  Bytes start = wd::encodeStart(120);
  ASSERT_EQ(start.size(), 23u);
  EXPECT_EQ(Bytes(start.begin(), start.begin() + 6), (Bytes{0x02, 0x15, 0x13, 0x10, 120, 0}));
  EXPECT_EQ(std::count(start.begin() + 6, start.end(), 0), 17);
  EXPECT_EQ(wd::encodeStop(), (Bytes{0x02, 0x02, 0x14, 0x10}));
  EXPECT_EQ(wd::encodeLegacyStart(0x1234).size(), 20u);
  EXPECT_EQ(wd::encodeLegacyStart(0x1234)[1], 0x12);
  EXPECT_EQ(wd::encodeIsChangeToAmtEnabled(), (Bytes{0x05, 0x02, 0x51, 0x10}));
  EXPECT_EQ(wd::encodeSetAmtOperationalState(true), (Bytes{0x05, 0x03, 0x53, 0x10, 0x01}));
  EXPECT_EQ(wd::encodeStartResponse(0, 1), (Bytes{0x02, 0x04, 0x83, 0x10, 0x00, 0x01}));
}

TEST(WdCodec, DecodesAndRejects) {
  auto d = wd::decodeRequest(wd::encodeStart(65535));
  ASSERT_TRUE(std::holds_alternative<wd::StartTimer>(d));
  EXPECT_EQ(std::get<wd::StartTimer>(d).timeout, 65535);
  EXPECT_TRUE(std::get<wd::StartTimer>(wd::decodeRequest(wd::encodeLegacyStart(7))).legacy);
  EXPECT_TRUE(std::holds_alternative<wd::StopTimer>(wd::decodeRequest(wd::encodeStop())));
  EXPECT_TRUE(std::get<wd::SetAmtOperationalState>(wd::decodeRequest(wd::encodeSetAmtOperationalState(true))).enable);

  auto error = [](const Bytes& b) {
    auto r = wd::decodeRequest(b);
    return std::holds_alternative<wd::DecodeError>(r) ? std::get<wd::DecodeError>(r) : static_cast<wd::DecodeError>(-1);
  };
  EXPECT_EQ(error({}), wd::DecodeError::TooShort);
  EXPECT_EQ(error({0x02, 0x15, 0x13}), wd::DecodeError::TooShort);
  Bytes badCount = wd::encodeStart(120);
  badCount[1] = 0x14;
  EXPECT_EQ(error(badCount), wd::DecodeError::BadByteCount);
  Bytes badVersion = wd::encodeStop();
  badVersion[3] = 0x11;
  EXPECT_EQ(error(badVersion), wd::DecodeError::BadVersion);
  EXPECT_EQ(error({0x02, 0x02, 0x99, 0x10}), wd::DecodeError::UnknownCommand);
  EXPECT_EQ(error({0x07, 0x02, 0x13, 0x10}), wd::DecodeError::UnknownCommand);
  EXPECT_EQ(error({0x02, 0x03, 0x14, 0x10, 0x00}), wd::DecodeError::BadLength);
  EXPECT_EQ(error({0x05, 0x03, 0x53, 0x10, 0x02}), wd::DecodeError::BadValue);

  wd::StartResponse r;
  EXPECT_TRUE(wd::decodeStartResponse(wd::encodeStartResponse(0, 1), r));
  EXPECT_EQ(r.wdstate, 1);
  EXPECT_FALSE(wd::decodeStartResponse(Bytes{0x02, 0x04, 0x83, 0x11, 0, 0}, r));
}

// ---------------------------------------------------------------------------------------------
// The feature on a manual clock

class WatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    platform = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*platform, clock);
    alertToken = alerts.subscribe([this](const events::Alert& a) { raised.push_back(a); });
    WatchdogFeatureOptions options;
    options.stateDir = dir.path();
    auto created = WatchdogFeature::create(timers, *platform, power.get(), &alerts, options);
    ASSERT_TRUE(created) << created.error().message;
    feature = std::move(*created);
  }

  WatchdogClient& client() { return *feature->client(); }
  // One request on a connection; everything sent back.
  std::vector<Bytes> send(const std::shared_ptr<test::RecordingConnection>& c, const Bytes& request) {
    c->sent.clear();
    client().onMessage(c, request);
    return c->sent;
  }
  std::shared_ptr<test::RecordingConnection> connect(std::uint64_t id = 1) {
    auto c = std::make_shared<test::RecordingConnection>(id);
    client().onConnect(c);
    return c;
  }
  // Advance the clock and let the loop write the queued events.
  void advance(std::chrono::milliseconds d) {
    clock.advance(d);
    flush();
  }
  // Write what the events batch holds now, as the batch window would.
  void flush() {
    io.poll();
    io.restart();
    if (feature) feature->events().flush();
  }
  std::vector<std::uint8_t> lastRecord() const {
    const auto& log = platform->state().logs.messageLog;
    return log.empty() ? std::vector<std::uint8_t>{} : log.back();
  }

  test::LogThreshold quiet{log::Level::Warn};
  test::TempDir dir{"watchdog"};
  boost::asio::io_context io;
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{1'700'000'000s}};
  core::FirmwareTimerQueue timers{io, clock};
  std::unique_ptr<platform::PlatformModel> platform;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  events::AlertBus alerts;
  std::size_t alertToken = 0;
  std::vector<events::Alert> raised;
  std::unique_ptr<WatchdogFeature> feature;
};

TEST_F(WatchdogTest, ClientProperties) {
  auto p = client().properties();
  EXPECT_EQ(p.uuid, hbm::Guid::parse("05B79A6F-4628-4D7F-899D-A91514CB32AB").value());
  EXPECT_EQ(p.protocolVersion, 2);
  EXPECT_GT(p.maxConnections, 1);
}

TEST_F(WatchdogTest, StartArmsRepeatReArmsStopDisarms) {
  auto c = connect();
  auto r = send(c, wd::encodeStart(10));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], wd::encodeStartResponse(0, 0));
  EXPECT_EQ(feature->osWatchdog().state(), OsWatchdog::State::Running);
  advance(9s);
  send(c, wd::encodeStart(10));  // the heartbeat re-arms for 10 s from now
  advance(9s);
  EXPECT_EQ(feature->osWatchdog().state(), OsWatchdog::State::Running);
  send(c, wd::encodeStart(3));   // with a new timeout
  advance(2s);
  EXPECT_TRUE(send(c, wd::encodeStop()).empty());  // STOP is not answered
  EXPECT_EQ(feature->osWatchdog().state(), OsWatchdog::State::Idle);
  advance(1h);
  EXPECT_EQ(feature->osWatchdog().expiries(), 0u);
  EXPECT_TRUE(raised.empty());
}

TEST_F(WatchdogTest, ExpiryWritesTheOsHangRecordAndAlerts) {
  auto c = connect();
  send(c, wd::encodeStart(5));
  const auto before = platform->state().logs.messageLog.size();
  advance(4999ms);
  EXPECT_EQ(feature->osWatchdog().state(), OsWatchdog::State::Running);
  advance(1ms);
  EXPECT_EQ(feature->osWatchdog().state(), OsWatchdog::State::Expired);
  ASSERT_EQ(platform->state().logs.messageLog.size(), before + 1);
  auto rec = lastRecord();
  ASSERT_EQ(rec.size(), 21u);
  const std::uint32_t t = rec[0] | rec[1] << 8 | rec[2] << 16 | std::uint32_t{rec[3]} << 24;
  EXPECT_EQ(t, 1'700'000'005u);
  EXPECT_EQ(rec[4], 0xFF);
  EXPECT_EQ(rec[5], 0x20);  // PET sensor type: OS stop
  EXPECT_EQ(rec[6], 0x6F);
  EXPECT_EQ(rec[7], 0x01);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].messageId, "PLAT0322");
  EXPECT_EQ(raised[0].time, clock.now());
  EXPECT_EQ(power->state(), platform::power::kOn);  // HeciWatchDogExpirationAction 0: no reset
}

// The batch window is firmware time: the record, the alert and the reset action follow the expiry 20 ms of firmware
// time later, within the same advance, and the alert keeps the expiry's own time.
TEST_F(WatchdogTest, TheEventsBatchIsAFirmwareTimerAndKeepsTheExpiryTime) {
  auto settings = feature->agentPresence().actionSettings();
  settings.heciExpirationAction = 1;  // reset the host
  ASSERT_EQ(feature->agentPresence().setActionSettings(settings), 0u);
  auto c = connect();
  send(c, wd::encodeStart(5));
  const auto expiry = clock.now() + 5s;
  const auto before = platform->state().logs.messageLog.size();
  clock.advance(5s);
  io.poll();
  EXPECT_EQ(feature->osWatchdog().state(), OsWatchdog::State::Expired);
  EXPECT_EQ(platform->state().logs.messageLog.size(), before) << "still in the batch window";
  EXPECT_TRUE(raised.empty());
  clock.advance(19ms);
  io.poll();
  EXPECT_TRUE(raised.empty()) << "real time and 19 ms of firmware time are not the window";
  clock.advance(1ms);
  ASSERT_GT(platform->state().logs.messageLog.size(), before) << "written inside the advance";
  const auto& record = platform->state().logs.messageLog[before];
  EXPECT_EQ(record[0] | record[1] << 8 | record[2] << 16 | std::uint32_t{record[3]} << 24, core::unixSeconds(expiry));
  ASSERT_EQ(raised.size(), 2u);
  EXPECT_EQ(raised[0].messageId, "PLAT0322");
  EXPECT_EQ(raised[0].time, expiry) << "stamped when it expired, not when the batch was written";
  EXPECT_EQ(raised[1].messageId, "iAMT0070");
  EXPECT_EQ(raised[1].time, expiry + WatchdogEvents::kBatchWindow) << "the reset happened at the end of the window";
  EXPECT_EQ(feature->events().stats().resets, 1u);
}

// One long advance: a watchdog that expires 30 s into a 120 s advance stamps its record and alert with that moment.
TEST_F(WatchdogTest, AnExpiryInsideALongAdvanceSeesItsOwnTime) {
  auto c = connect();
  send(c, wd::encodeStart(30));
  const auto start = clock.now();
  clock.advance(120s);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].time, start + 30s);
  auto rec = lastRecord();
  ASSERT_EQ(rec.size(), 21u);
  const std::uint32_t t = rec[0] | rec[1] << 8 | rec[2] << 16 | std::uint32_t{rec[3]} << 24;
  EXPECT_EQ(t, core::unixSeconds(start + 30s));
}

TEST_F(WatchdogTest, ClosingWithoutStopIsACrash) {
  auto c = connect();
  send(c, wd::encodeStart(120));
  client().onDisconnect(c);  // the OS died with the connection open
  advance(120s);
  EXPECT_EQ(feature->osWatchdog().expiries(), 1u);
  EXPECT_EQ(raised.size(), 1u);
}

TEST_F(WatchdogTest, ResetActionGoesThroughThePowerStateMachine) {
  auto settings = feature->agentPresence().actionSettings();
  settings.heciExpirationAction = 1;
  ASSERT_EQ(feature->agentPresence().setActionSettings(settings), 0u);
  auto c = connect();
  send(c, wd::encodeStart(2));
  const auto audits = platform->state().logs.auditLog.size();
  advance(2s);
  EXPECT_EQ(feature->events().stats().resets, 1u);
  EXPECT_EQ(platform->state().hostPower.requestedPowerState, platform::power::kMasterBusReset);
  EXPECT_EQ(platform->state().logs.auditLog.size(), audits + 1);
  ASSERT_EQ(raised.size(), 2u);
  EXPECT_EQ(raised[1].messageId, "iAMT0070");
}

TEST_F(WatchdogTest, NotRequiredWhenUnprovisionedOrDisabledAndNotified) {
  auto c = connect();
  ASSERT_EQ(platform->unprovisionFromHost(), platform::ChangeResult::InvalidState);  // ACM: use update()
  ASSERT_EQ(platform->update([](platform::PlatformState& s) {
    s.provisioningState = platform::ProvisioningState::Pre;
    s.controlMode = platform::ControlMode::None;
  }), platform::ChangeResult::Ok);
  EXPECT_EQ(c->notifications, 1);
  auto r = send(c, wd::encodeStart(120));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], wd::encodeStartResponse(0, wd::kWdStateNotRequired));
  EXPECT_EQ(feature->osWatchdog().state(), OsWatchdog::State::Idle);  // not armed
  ASSERT_EQ(platform->update([](platform::PlatformState& s) {
    s.provisioningState = platform::ProvisioningState::Post;
    s.controlMode = platform::ControlMode::Admin;
  }), platform::ChangeResult::Ok);
  EXPECT_EQ(c->notifications, 2);

  // The manageability commands on the same client.
  EXPECT_EQ(send(c, wd::encodeIsChangeToAmtEnabled()), (std::vector<Bytes>{{0x83}}));
  auto set = send(c, wd::encodeSetAmtOperationalState(false));
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set[0], (Bytes{0x05, 0x03, 0x53, 0x10, 0, 0, 0, 0}));
  EXPECT_EQ(c->notifications, 3);
  EXPECT_EQ(send(c, wd::encodeIsChangeToAmtEnabled()), (std::vector<Bytes>{{0x81}}));
  EXPECT_EQ(send(c, wd::encodeStart(120))[0][5], wd::kWdStateNotRequired);
  send(c, wd::encodeSetAmtOperationalState(true));
  EXPECT_EQ(send(c, wd::encodeStart(120))[0][5], 0);

  // Persisted in watchdog.json.
  auto reopened = WatchdogStore::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_TRUE((*reopened)->data().amtOperational);
}

TEST_F(WatchdogTest, MalformedMessagesNeverCrashAndStartGetsAnAnswer) {
  test::LogThreshold silent(log::Level::Error);
  auto c = connect();
  EXPECT_TRUE(send(c, {}).empty());
  EXPECT_TRUE(send(c, {0x02}).empty());
  EXPECT_TRUE(send(c, {0x02, 0x02, 0x77, 0x10}).empty());
  Bytes badStart = wd::encodeStart(120);
  badStart[3] = 0x20;
  auto r = send(c, badStart);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0][4], wd::kStatusInvalidParameter);
  r = send(c, wd::encodeStart(0));  // the firmware accepts 1..65535 s
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0][4], wd::kStatusInvalidParameter);
  EXPECT_EQ(feature->osWatchdog().state(), OsWatchdog::State::Idle);
  r = send(c, wd::encodeStart(1));
  EXPECT_EQ(r[0][4], wd::kStatusSuccess);
  // A few thousand random messages.
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    Bytes m(rng() % 30);
    for (auto& b : m) b = static_cast<std::uint8_t>(rng());
    if (!m.empty() && rng() % 2) m[0] = rng() % 2 ? 0x02 : 0x05;
    client().onMessage(c, m);
  }
}

TEST_F(WatchdogTest, LinesNameThePlatformsDevice) {
  platform->setLogContext(log::Context("dev-a"));
  auto c = connect();
  auto lines = test::capturedLog(log::Level::Info, [&] { send(c, wd::encodeStart(10)); });
  EXPECT_NE(lines.find("[dev-a] watchdog: OS watchdog armed for 10 s"), std::string::npos) << lines;
}

TEST_F(WatchdogTest, LeavingS0DisarmsTheOsWatchdog) {
  auto c = connect();
  send(c, wd::encodeStart(10));
  ASSERT_EQ(power->request(platform::power::kOffSoft, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(feature->osWatchdog().state(), OsWatchdog::State::Idle);
  advance(20s);
  EXPECT_EQ(feature->osWatchdog().expiries(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Agent presence

const platform::AgentGuid kAgent{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

TEST_F(WatchdogTest, AgentPresenceLifecycleWithEvents) {
  auto& ap = feature->agentPresence();
  ASSERT_EQ(ap.create(kAgent, 60, 10, "test agent"), 0u);
  EXPECT_EQ(ap.create(kAgent, 60, 10, ""), 0x80Au);  // duplicate
  platform::AgentPresenceAction any{0, st::kAny, st::kAny, true, 0, 0};
  ASSERT_EQ(ap.addAction(kAgent, any), 0u);
  EXPECT_NE(any.id, 0u);
  auto& svc = feature->agentPresenceService();
  EXPECT_EQ(svc.state(kAgent), st::kNotStarted);

  auto reg = ap.registerAgent(kAgent);
  ASSERT_EQ(reg.status, 0u);
  EXPECT_EQ(reg.timeoutInterval, 10u);
  EXPECT_EQ(svc.state(kAgent), st::kRunning);
  flush();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].messageId, "iAMT0004");
  EXPECT_EQ(raised[0].messageArguments, (std::vector<std::string>{"03020100-0504-0706-0809-0A0B0C0D0E0F"}));
  auto rec = lastRecord();
  ASSERT_EQ(rec.size(), 21u);
  EXPECT_EQ(std::vector<std::uint8_t>(rec.begin() + 5, rec.end()),
            (std::vector<std::uint8_t>{0x12, 0x0A, 0x00, 0x58, 0x01, 0xFF, 0x26, 0x00, 0xAA, 0, 1, 2, 3, 4, 5, st::kRunning}));

  std::uint32_t seq = reg.sessionSequenceNumber;
  for (int i = 0; i < 5; ++i) {
    advance(9s);
    ASSERT_EQ(ap.assertPresence(kAgent, ++seq), 0u);
  }
  EXPECT_EQ(svc.state(kAgent), st::kRunning);
  EXPECT_EQ(svc.expiries(), 0u);
  // Wrong sequence numbers are ignored: the watchdog expires regardless.
  advance(5s);
  EXPECT_EQ(ap.assertPresence(kAgent, seq), 0u);
  EXPECT_EQ(ap.assertPresence(kAgent, seq + 5), 0u);
  advance(5s);
  EXPECT_EQ(svc.state(kAgent), st::kExpired);
  EXPECT_EQ(svc.expiries(), 1u);
  EXPECT_EQ(raised.back().messageId, "iAMT0005");
  // The right number brings it back; shutdown stops it.
  ASSERT_EQ(ap.assertPresence(kAgent, ++seq), 0u);
  EXPECT_EQ(svc.state(kAgent), st::kRunning);
  ASSERT_EQ(ap.assertShutdown(kAgent, ++seq), 0u);
  EXPECT_EQ(svc.state(kAgent), st::kStopped);
  advance(1h);
  EXPECT_EQ(svc.state(kAgent), st::kStopped);
  EXPECT_EQ(ap.assertPresence(kAgent, ++seq), 0x10u);  // no session
  EXPECT_EQ(raised.back().messageId, "iAMT0003");
  ASSERT_EQ(ap.deleteAllActions(kAgent), 0u);
  ASSERT_EQ(ap.remove(kAgent), 0u);
  EXPECT_EQ(ap.remove(kAgent), 0x814u);
  EXPECT_TRUE(ap.watchdogs().empty());
}

TEST_F(WatchdogTest, AgentStartupIntervalAndBadParameters) {
  auto& ap = feature->agentPresence();
  EXPECT_EQ(ap.create(platform::AgentGuid{}, 60, 10, ""), 0x24u);
  EXPECT_EQ(ap.create(kAgent, 0, 10, ""), 0x24u);
  EXPECT_EQ(ap.create(kAgent, 60, 0, ""), 0x24u);
  EXPECT_EQ(ap.create(kAgent, 60, 70000, ""), 0x24u);
  ASSERT_EQ(ap.create(kAgent, 30, 10, ""), 0u);
  platform::AgentPresenceAction bad{0, 0, st::kAny, true, 0, 0};
  EXPECT_EQ(ap.addAction(kAgent, bad), 0x24u);
  bad = {0, 32, st::kAny, true, 0, 0};
  EXPECT_EQ(ap.addAction(kAgent, bad), 0x24u);
  EXPECT_EQ(ap.registerAgent(platform::AgentGuid{9}).status, 0x814u);
  advance(30s);  // never registered within StartupInterval
  EXPECT_EQ(feature->agentPresenceService().state(kAgent), st::kExpired);
  EXPECT_TRUE(raised.empty());  // no action, no event
}

TEST_F(WatchdogTest, AgentTimersRunOnlyInS0) {
  auto& ap = feature->agentPresence();
  auto& svc = feature->agentPresenceService();
  ASSERT_EQ(ap.create(kAgent, 30, 10, ""), 0u);
  auto reg = ap.registerAgent(kAgent);
  ASSERT_EQ(power->request(platform::power::kSleepDeep, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(svc.state(kAgent), st::kSuspended);
  advance(1h);
  EXPECT_EQ(svc.state(kAgent), st::kSuspended);
  ASSERT_EQ(power->request(platform::power::kOn, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(svc.state(kAgent), st::kRunning);  // restored
  EXPECT_EQ(ap.assertPresence(kAgent, reg.sessionSequenceNumber + 1), 0u);
  ASSERT_EQ(power->request(platform::power::kOffSoft, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(svc.state(kAgent), st::kSuspended);
  ASSERT_EQ(power->request(platform::power::kOn, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(svc.state(kAgent), st::kNotStarted);  // S5 -> S0 starts over
  EXPECT_EQ(ap.assertPresence(kAgent, reg.sessionSequenceNumber + 2), 0x10u);
}

// Issue 10 item 11: no alert may precede its watchdog's expiry. Agents registered at staggered times (so their
// deadlines differ, as 10,000 registrations spread them in bench_watchdog), one of them re-armed by a heartbeat;
// the clock is walked up to each deadline in small steps and set to one nanosecond before it. Every Expired alert
// must be stamped, and published, at or after its own agent's current deadline, and only once it expired.
TEST_F(WatchdogTest, NoAgentAlertPrecedesItsDeadline) {
  auto& ap = feature->agentPresence();
  auto& svc = feature->agentPresenceService();
  struct Published {
    events::Alert alert;
    core::FirmwareClock::time_point at;
  };
  std::vector<Published> expiredAlerts;
  const auto token = alerts.subscribe([&](const events::Alert& a) {
    if (a.messageId == "iAMT0005") expiredAlerts.push_back({a, clock.now()});
  });
  std::map<std::string, platform::AgentGuid> agentByText;
  std::vector<platform::AgentGuid> agents;
  std::uint32_t firstSequence = 0;
  for (std::uint8_t i = 1; i <= 6; ++i) {
    platform::AgentGuid g{};
    g[0] = 0xA5;
    g[15] = i;
    ASSERT_EQ(ap.create(g, 60, 2, ""), 0u);
    platform::AgentPresenceAction onExpiry{0, st::kRunning, st::kExpired, true, 0, 0};
    ASSERT_EQ(ap.addAction(g, onExpiry), 0u);
    auto reg = ap.registerAgent(g);
    ASSERT_EQ(reg.status, 0u);
    if (i == 1) firstSequence = reg.sessionSequenceNumber;
    agents.push_back(g);
    agentByText.emplace(agentGuidText(g), g);
    advance(137ms);  // the next one registers a little later
  }
  // The first agent heartbeats a millisecond before it would expire: its deadline moves 2 s on, and an alert
  // stamped before that new deadline would be early too.
  clock.set(*svc.deadline(agents[0]) - 1ms);
  flush();
  ASSERT_EQ(ap.assertPresence(agents[0], firstSequence + 1), 0u);
  ASSERT_TRUE(expiredAlerts.empty());

  std::map<std::string, core::FirmwareClock::time_point> deadlineOf;
  for (const auto& g : agents) {
    ASSERT_TRUE(svc.deadline(g)) << agentGuidText(g);
    deadlineOf[agentGuidText(g)] = *svc.deadline(g);
  }
  // The clock stops one nanosecond before each deadline, then on it, then walks on in 7 ms steps.
  std::vector<core::FirmwareClock::time_point> stops;
  for (auto& [text, deadline] : deadlineOf) stops.push_back(deadline);
  std::sort(stops.begin(), stops.end());
  for (auto deadline : stops) {
    while (clock.now() + 7ms < deadline) advance(7ms);
    clock.set(deadline - 1ns);
    flush();
    for (const auto& p : expiredAlerts) EXPECT_GE(p.at, deadlineOf[p.alert.messageArguments.at(0)]);
    const auto before = expiredAlerts.size();
    clock.set(deadline);
    flush();
    EXPECT_GT(expiredAlerts.size(), before) << "the agent due now raised its alert";
  }
  advance(1s);

  ASSERT_EQ(expiredAlerts.size(), agents.size());
  std::set<std::string> alerted;
  for (const auto& p : expiredAlerts) {
    ASSERT_EQ(p.alert.messageArguments.size(), 1u);
    const std::string& who = p.alert.messageArguments[0];
    ASSERT_TRUE(deadlineOf.count(who)) << who;
    EXPECT_GE(p.alert.time, deadlineOf[who]) << who << " stamped before its deadline";
    EXPECT_GE(p.at, deadlineOf[who]) << who << " published before its deadline";
    EXPECT_EQ(p.alert.time, deadlineOf[who]) << "stamped when it expired (the clock stopped on each deadline)";
    EXPECT_EQ(svc.state(agentByText[who]), st::kExpired);
    alerted.insert(who);
  }
  EXPECT_EQ(alerted.size(), agents.size()) << "each agent alerted once";
  alerts.unsubscribe(token);
}

TEST_F(WatchdogTest, DefinitionsSurviveARestart) {
  auto& ap = feature->agentPresence();
  ASSERT_EQ(ap.create(kAgent, 30, 10, "persisted"), 0u);
  platform::AgentPresenceAction a{0, st::kRunning, st::kExpired, true, 0, 0};
  ASSERT_EQ(ap.addAction(kAgent, a), 0u);
  ap.registerAgent(kAgent);
  feature.reset();
  WatchdogFeatureOptions options;
  options.stateDir = dir.path();
  auto created = WatchdogFeature::create(timers, *platform, power.get(), &alerts, options);
  ASSERT_TRUE(created) << created.error().message;
  feature = std::move(*created);
  auto list = feature->agentPresence().watchdogs();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].description, "persisted");
  EXPECT_EQ(list[0].currentState, st::kNotStarted);
  ASSERT_EQ(list[0].actions.size(), 1u);
  EXPECT_EQ(list[0].actions[0].newStates, st::kExpired);
}

// ---------------------------------------------------------------------------------------------
// The host's iamt_wdt (host::MeiWdt) probing this client over HBM

// whenProbed() fires once the first probe settled: with the WD client, after dev/watchdog0 registered; without it,
// once the connect was refused. Never at start() itself.
class MeiWdtProbeTest : public ::testing::TestWithParam<bool> {};

TEST_P(MeiWdtProbeTest, WhenProbedFiresOnceTheFirstProbeSettled) {
  const bool withClient = GetParam();
  test::LogThreshold quiet{log::Level::Warn};
  test::TempDir dir{"wdprobe"};
  auto opened = platform::PlatformModel::open(dir.path(), {});
  ASSERT_TRUE(opened) << opened.error().message;
  auto platform = std::move(*opened);
  core::SystemFirmwareClock clock;
  test::InProcessMachine machine;
  core::FirmwareTimerQueue timers{machine.io, clock};
  WatchdogFeatureOptions options;
  options.stateDir = dir.path();
  auto created = WatchdogFeature::create(timers, *platform, nullptr, nullptr, options);
  ASSERT_TRUE(created) << created.error().message;
  auto feature = std::move(*created);
  if (withClient) machine.engine.addClient(feature->client());
  ASSERT_TRUE(machine.start());

  std::unique_ptr<host::MeiWdt> wdt;
  auto probed = std::make_shared<std::promise<bool>>();
  const bool atOnce = machine.run([&] {
    wdt = std::make_unique<host::MeiWdt>(machine.io, *machine.host);
    wdt->start();
    auto called = std::make_shared<bool>(false);
    wdt->whenProbed([called, &wdt, probed] {
      *called = true;
      probed->set_value(wdt->registered());
    });
    return *called;
  });
  EXPECT_FALSE(atOnce);
  auto settled = probed->get_future();
  ASSERT_EQ(settled.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(settled.get(), withClient);
  machine.run([&] { wdt.reset(); });
  machine.shutdown();
}
INSTANTIATE_TEST_SUITE_P(WithAndWithoutTheClient, MeiWdtProbeTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "WdClient" : "NoWdClient"; });

}  // namespace
}  // namespace mesim::watchdog

namespace mesim::watchdog {
namespace {
// #10 item 1: whatever bytes an agent's description holds, watchdog.json stays a file the next start reads.
TEST(WatchdogStoreText, BytesThatAreNotUtf8StillMakeAReadableFile) {
  test::TempDir dir{"wdstore"};
  {
    auto store = WatchdogStore::open(dir.path());
    ASSERT_TRUE(store) << store.error().message;
    StoredAgent agent;
    agent.description = "agent \xFF\xFE";
    ASSERT_TRUE((*store)->update([&](WatchdogStoreData& d) { d.agents.push_back(agent); }));
  }
  auto reopened = WatchdogStore::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  ASSERT_EQ((*reopened)->data().agents.size(), 1u);
  EXPECT_EQ((*reopened)->data().agents[0].description, "agent \xEF\xBF\xBD\xEF\xBF\xBD");
}
}  // namespace
}  // namespace mesim::watchdog
