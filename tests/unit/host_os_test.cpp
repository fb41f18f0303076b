// The simulated host OS (hostif/os) on a manual firmware clock over the whole host path: its watchdog daemon
// drives host::MeiWdt, whose messages cross the in-process HBM link to the firmware's watchdog client and OS
// watchdog, all on one io_context that the test runs. Time moves one timer deadline at a time, and what each step
// sends over HBM is delivered before the next: as a QA advance of the firmware clock must behave.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/events/alert.h"
#include "firmware/hbm/hbm_engine.h"
#include "firmware/platform/host_power.h"
#include "hostif/host/mei_host.h"
#include "hostif/host/mei_wdt.h"
#include "hostif/link/link.h"
#include "hostif/os/host_machine.h"
#include "tests/unit/firmware_test_support.h"
#include "watchdog_fw/watchdog_feature.h"

namespace mesim::hostos {
namespace {

using namespace std::chrono_literals;
using OsState = SimulatedOs::State;
using FwState = watchdog::OsWatchdog::State;

class QueueTimers final : public OsTimers {
 public:
  explicit QueueTimers(core::FirmwareTimerQueue& timers) : timers_(timers) {}
  TimerId after(std::chrono::milliseconds delay, std::function<void()> callback) override {
    return timers_.scheduleAfter(delay, std::move(callback));
  }
  void cancel(TimerId id) override { timers_.cancel(id); }

 private:
  core::FirmwareTimerQueue& timers_;
};

class MachinePower final : public HostPower {
 public:
  explicit MachinePower(platform::HostPowerStateMachine& power) : power_(power) {}
  std::uint32_t state() const override { return power_.state(); }
  Result<> change(std::uint32_t newState) override {
    if (power_.hostChange(newState) != platform::PowerChangeStatus::Completed) return fail("refused");
    return {};
  }

 private:
  platform::HostPowerStateMachine& power_;
};

class HostOsTest : public ::testing::Test {
 protected:
  void SetUp() override { build(true); }

  // The firmware, the host model and its iamt_wdt, and the host with (or without) a simulated OS.
  void build(bool simulatedOs) {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    platform = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*platform, clock);
    alerts.subscribe([this](const events::Alert& a) { raised.push_back(a.messageId); });
    watchdog::WatchdogFeatureOptions options;
    options.stateDir = dir.path();
    auto created = watchdog::WatchdogFeature::create(io, timers, *platform, power.get(), &alerts, options);
    ASSERT_TRUE(created) << created.error().message;
    feature = std::move(*created);
    engine = std::make_unique<firmware::HbmEngine>(io, firmware::HbmEngineOptions{});
    engine->addClient(feature->client());
    auto link = link::makeInProcessLink(io);
    engine->attach(link.firmware);
    host = std::make_unique<host::MeiHost>(io, link.host, host::HostOptions{});
    wdt = std::make_unique<host::MeiWdt>(io, *host, host::MeiWdtOptions{});
    host->onStateChange([this](host::DevState s) {
      if (s == host::DevState::Enabled) wdt->start();
    });
    host->start();
    settle();
    ASSERT_TRUE(wdt->registered()) << "iamt_wdt did not register";
    osTimers = std::make_unique<QueueTimers>(timers);
    hostPower = std::make_unique<MachinePower>(*power);
    if (simulatedOs) os = std::make_unique<SimulatedOs>(*wdt, *osTimers, *hostPower, SimulatedOsOptions{});
    machine = std::make_unique<HostMachine>(*hostPower, os.get(), wdt.get());
    power->setHook([this](const platform::PowerChange& c) {
      hooked.push_back(c);
      machine->powerChanged({c.oldState, c.newState, c.requested});
    });
    if (os) os->start();
    settle();
  }

  void TearDown() override {
    machine.reset();
    os.reset();
    if (wdt) wdt->stop();
    if (host) host->stop();
    settle();
  }

  // Runs what is ready on the loop (HBM messages and their answers) until nothing is; then writes what the
  // watchdog events batched, as its 20 ms window would.
  void settle() {
    for (int rounds = 0; rounds < 10000 && io.poll() > 0; ++rounds) {
    }
    io.restart();
    if (feature) feature->events().flush();
  }
  // Moves the firmware clock by `d`, one timer deadline at a time, settling after each.
  void advance(std::chrono::milliseconds d) {
    const auto target = clock.now() + d;
    while (auto next = timers.nextDeadline()) {
      if (*next > target) break;
      clock.set(std::max(*next, clock.now()));
      settle();
    }
    clock.set(target);
    settle();
  }

  FwState firmwareWatchdog() { return feature->osWatchdog().state(); }
  std::uint64_t expiries() { return feature->osWatchdog().expiries(); }
  const WatchdogDaemon& daemon() { return os->watchdogDaemon(); }
  void bootToRunning() {
    ASSERT_EQ(os->state(), OsState::Booting);
    advance(5s);
    ASSERT_EQ(os->state(), OsState::Running);
    ASSERT_EQ(daemon().state(), WatchdogDaemon::State::Heartbeating);
    ASSERT_EQ(firmwareWatchdog(), FwState::Running);
  }

  test::LogThreshold quiet{log::Level::Warn};
  test::TempDir dir{"hostos"};
  boost::asio::io_context io;
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{1'700'000'000s}};
  core::FirmwareTimerQueue timers{io, clock};
  std::unique_ptr<platform::PlatformModel> platform;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  events::AlertBus alerts;
  std::vector<std::string> raised;
  std::vector<platform::PowerChange> hooked;
  std::unique_ptr<watchdog::WatchdogFeature> feature;
  std::unique_ptr<firmware::HbmEngine> engine;
  std::unique_ptr<host::MeiHost> host;
  std::unique_ptr<host::MeiWdt> wdt;
  std::unique_ptr<QueueTimers> osTimers;
  std::unique_ptr<MachinePower> hostPower;
  std::unique_ptr<SimulatedOs> os;
  std::unique_ptr<HostMachine> machine;
};

TEST_F(HostOsTest, BootsThenKeepsTheFirmwareWatchdogAliveThroughAnHour) {
  EXPECT_EQ(os->state(), OsState::Booting);  // the platform starts on
  EXPECT_EQ(firmwareWatchdog(), FwState::Idle);
  advance(4900ms);
  EXPECT_EQ(os->state(), OsState::Booting);
  advance(100ms);
  EXPECT_EQ(os->state(), OsState::Running);
  EXPECT_EQ(firmwareWatchdog(), FwState::Running);
  EXPECT_EQ(feature->osWatchdog().timeout(), 120);  // the driver's default, as the daemon set it
  EXPECT_EQ(daemon().interval(), 60s);
  advance(1h);
  EXPECT_EQ(expiries(), 0u);
  EXPECT_EQ(firmwareWatchdog(), FwState::Running);
  EXPECT_EQ(daemon().stats().heartbeats, 60u);
  EXPECT_EQ(daemon().stats().heartbeatErrors, 0u);
  EXPECT_TRUE(raised.empty());
}

TEST_F(HostOsTest, ACrashLetsTheFirmwareWatchdogExpireAtItsTimeout) {
  bootToRunning();
  advance(30s);
  // The last heartbeat re-armed the firmware's timer; a crash sends nothing more.
  const auto deadline = feature->osWatchdog().deadline();
  ASSERT_TRUE(deadline);
  ASSERT_TRUE(os->crash());
  EXPECT_EQ(os->state(), OsState::Crashed);
  EXPECT_EQ(daemon().state(), WatchdogDaemon::State::Frozen);
  EXPECT_FALSE(wdt->heldByProgram());
  advance(std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - clock.now()) - 1ms);
  EXPECT_EQ(expiries(), 0u);
  advance(1ms);
  EXPECT_EQ(expiries(), 1u);
  EXPECT_EQ(raised, (std::vector<std::string>{"PLAT0322"}));
  EXPECT_EQ(os->crashes(), 1u);
  // It stays down: no boot, no heartbeat, however long.
  advance(1h);
  EXPECT_EQ(os->state(), OsState::Crashed);
  EXPECT_EQ(expiries(), 1u);
}

TEST_F(HostOsTest, AHangLooksTheSameToTheFirmwareAndAnNmiPanicsIt) {
  bootToRunning();
  ASSERT_TRUE(os->hang());
  EXPECT_EQ(os->state(), OsState::Hung);
  EXPECT_EQ(machine->pressPowerButton().value().rfind("ignored", 0), 0u);  // a hung OS answers no ACPI event
  EXPECT_EQ(os->state(), OsState::Hung);
  EXPECT_EQ(platform->state().hostPower.powerState, power::kOn);
  ASSERT_EQ(power->request(platform::power::kNmi, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(os->state(), OsState::Crashed);
  advance(121s);
  EXPECT_EQ(expiries(), 1u);
  // An NMI to a running OS is logged and nothing else.
  ASSERT_EQ(power->request(platform::power::kMasterBusReset, {}), platform::PowerChangeStatus::Completed);
  bootToRunning();
  ASSERT_EQ(power->request(platform::power::kNmi, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(os->state(), OsState::Running);
}

TEST_F(HostOsTest, ThePowerButtonShutsTheOsDownInOrderThenPowersOff) {
  bootToRunning();
  const auto auditRecords = platform->state().logs.auditLog.size();
  const auto messageRecords = platform->state().logs.messageLog.size();
  auto pressed = machine->pressPowerButton();
  ASSERT_TRUE(pressed);
  EXPECT_EQ(*pressed, "shutting down");
  EXPECT_EQ(os->state(), OsState::ShuttingDown);
  settle();
  EXPECT_EQ(firmwareWatchdog(), FwState::Idle);  // the daemon stopped it before the power went
  EXPECT_EQ(daemon().stats().cleanStops, 1u);
  EXPECT_FALSE(wdt->heldByYielding());
  EXPECT_EQ(platform->state().hostPower.powerState, power::kOn);
  advance(2s);
  EXPECT_EQ(os->state(), OsState::Off);
  EXPECT_EQ(platform->state().hostPower.powerState, power::kOffSoft);  // what WS-Man reports now
  ASSERT_FALSE(hooked.empty());
  EXPECT_EQ(hooked.back().requested, 0u);  // made by the host
  EXPECT_EQ(platform->state().logs.auditLog.size(), auditRecords);  // nothing done through AMT: not audited
  EXPECT_EQ(platform->state().logs.messageLog.size(), messageRecords + 1);
  advance(1h);
  EXPECT_EQ(expiries(), 0u);
  EXPECT_TRUE(raised.empty());
  // Pressed again: on, and the OS boots.
  EXPECT_EQ(machine->pressPowerButton().value(), "powered on");
  EXPECT_EQ(platform->state().hostPower.powerState, power::kOn);
  bootToRunning();
  EXPECT_EQ(os->boots(), 2u);
}

TEST_F(HostOsTest, WsmanPowerOffStopsHeartbeatsWithoutAnAlertAndPowerOnBootsAgain) {
  bootToRunning();
  ASSERT_EQ(power->request(platform::power::kOffSoft, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(os->state(), OsState::Off);
  EXPECT_EQ(daemon().state(), WatchdogDaemon::State::Stopped);
  EXPECT_FALSE(wdt->heldByYielding());
  const auto beats = daemon().stats().heartbeats;
  advance(1h);
  EXPECT_EQ(daemon().stats().heartbeats, beats);
  EXPECT_EQ(expiries(), 0u);
  EXPECT_EQ(firmwareWatchdog(), FwState::Idle);
  ASSERT_EQ(power->request(platform::power::kOn, {}), platform::PowerChangeStatus::Completed);
  bootToRunning();
  advance(10min);
  EXPECT_GT(daemon().stats().heartbeats, beats);
  EXPECT_EQ(expiries(), 0u);
}

TEST_F(HostOsTest, AGracefulPowerOffClosesTheWatchdogCleanlyAHardResetDoesNot) {
  bootToRunning();
  ASSERT_EQ(power->request(platform::power::kOffSoftGraceful, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(daemon().stats().cleanStops, 1u);
  settle();
  EXPECT_FALSE(wdt->heldByYielding());
  EXPECT_EQ(wdt->state(), host::MeiWdt::State::Idle);  // STOP went out
  ASSERT_EQ(power->request(platform::power::kOn, {}), platform::PowerChangeStatus::Completed);
  bootToRunning();
  ASSERT_EQ(power->request(platform::power::kMasterBusReset, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(os->state(), OsState::Booting);
  EXPECT_EQ(daemon().stats().cleanStops, 1u);
  EXPECT_EQ(os->boots(), 3u);
  bootToRunning();
  // A graceful reset shuts down in order, then boots.
  ASSERT_EQ(power->request(platform::power::kBusResetGraceful, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(os->state(), OsState::ShuttingDown);
  EXPECT_EQ(daemon().stats().cleanStops, 2u);
  advance(2s);
  bootToRunning();
  EXPECT_EQ(os->boots(), 4u);
  EXPECT_EQ(expiries(), 0u);
}

TEST_F(HostOsTest, SleepFreezesTheOsAndThePowerButtonWakesIt) {
  bootToRunning();
  ASSERT_EQ(power->request(platform::power::kSleepDeep, {}), platform::PowerChangeStatus::Completed);
  EXPECT_EQ(os->state(), OsState::Suspended);
  EXPECT_EQ(daemon().state(), WatchdogDaemon::State::Frozen);
  EXPECT_EQ(firmwareWatchdog(), FwState::Idle);  // the firmware disarms outside S0
  const auto beats = daemon().stats().heartbeats;
  advance(1h);
  EXPECT_EQ(daemon().stats().heartbeats, beats);
  EXPECT_EQ(machine->pressPowerButton().value(), "woke up");
  EXPECT_EQ(os->state(), OsState::Resuming);
  advance(1s);
  EXPECT_EQ(os->state(), OsState::Running);
  EXPECT_EQ(firmwareWatchdog(), FwState::Running);  // the first heartbeat after resume re-armed it
  EXPECT_EQ(os->boots(), 1u);                         // resumed, not booted
  advance(10min);
  EXPECT_EQ(expiries(), 0u);
}

TEST_F(HostOsTest, AProgramOnDevWatchdog0TakesPrecedence) {
  bootToRunning();
  // A program opens dev/watchdog0 (the FUSE node calls MeiWdt::open): it gets the device, not EBUSY.
  ASSERT_EQ(wdt->open(), 0);
  EXPECT_TRUE(wdt->heldByProgram());
  EXPECT_EQ(daemon().state(), WatchdogDaemon::State::Yielded);
  EXPECT_EQ(wdt->open(), EBUSY);  // one opener, as Linux
  const auto beats = daemon().stats().heartbeats;
  // The program pings for a while, then dies without a magic close: the firmware notices.
  for (int i = 0; i < 4; ++i) {
    int err = -1;
    wdt->keepalive([&](int e) { err = e; });
    settle();
    EXPECT_EQ(err, 0);
    advance(60s);
  }
  EXPECT_EQ(expiries(), 0u);
  EXPECT_EQ(daemon().stats().heartbeats, beats);  // the simulated daemon stayed aside
  wdt->release([] {});  // the kernel's last ping on a release without 'V'
  settle();
  advance(121s);
  EXPECT_EQ(expiries(), 1u);
  EXPECT_EQ(daemon().state(), WatchdogDaemon::State::Yielded);  // until the next boot
  // After a reset, with the device free again, the simulated OS heartbeats once more.
  ASSERT_EQ(power->request(platform::power::kMasterBusReset, {}), platform::PowerChangeStatus::Completed);
  bootToRunning();
  advance(10min);
  EXPECT_EQ(expiries(), 1u);
}

TEST_F(HostOsTest, AProgramThatOpensDuringBootKeepsTheDevice) {
  ASSERT_EQ(os->state(), OsState::Booting);
  ASSERT_EQ(wdt->open(), 0);
  advance(5s);
  EXPECT_EQ(os->state(), OsState::Running);
  EXPECT_EQ(daemon().state(), WatchdogDaemon::State::Yielded);
  EXPECT_TRUE(wdt->heldByProgram());
  // Closed with the magic 'V': the firmware's timer stops, and the OS leaves it so until it boots again.
  ssize_t wrote = 0;
  wdt->write("V", [&](ssize_t n) { wrote = n; });
  settle();
  EXPECT_EQ(wrote, 1);
  wdt->release([] {});
  settle();
  EXPECT_EQ(firmwareWatchdog(), FwState::Idle);
  advance(1h);
  EXPECT_EQ(firmwareWatchdog(), FwState::Idle);
  EXPECT_EQ(expiries(), 0u);
}

TEST_F(HostOsTest, PowerLossAndTheForcedOffSendNothingAndRaiseNothing) {
  bootToRunning();
  EXPECT_EQ(machine->losePower().value(), "power lost");
  EXPECT_EQ(platform->state().hostPower.powerState, power::kOffHard);
  EXPECT_EQ(os->state(), OsState::Off);
  EXPECT_EQ(daemon().stats().cleanStops, 0u);
  EXPECT_FALSE(wdt->heldByYielding());
  EXPECT_FALSE(machine->losePower());
  EXPECT_EQ(machine->holdPowerButton().error().message, "the host is already off; a short press powers it on");
  advance(1h);
  EXPECT_EQ(expiries(), 0u);
  EXPECT_EQ(machine->pressPowerButton().value(), "powered on");
  bootToRunning();
  ASSERT_TRUE(os->crash());
  EXPECT_EQ(machine->holdPowerButton().value(), "forced off");  // the override needs no OS
  EXPECT_EQ(platform->state().hostPower.powerState, power::kOffSoft);
  EXPECT_EQ(os->state(), OsState::Off);
  advance(1h);
  EXPECT_EQ(expiries(), 0u);  // off before the timeout ran out: the firmware disarmed
}

TEST_F(HostOsTest, ActionsThatMakeNoSenseSayWhy) {
  EXPECT_EQ(os->shutdown().error().message, "cannot shut the OS down: the OS is booting");
  bootToRunning();
  ASSERT_TRUE(os->crash());
  EXPECT_EQ(os->crash().error().message, "cannot crash the OS: the OS is crashed");
  EXPECT_EQ(os->hang().error().message, "cannot hang the OS: the OS is crashed");
  EXPECT_EQ(os->reboot().error().message, "cannot reboot the OS: the OS is crashed");
  ASSERT_TRUE(machine->losePower());
  EXPECT_EQ(os->crash().error().message, "cannot crash the OS: the OS is off");
}

TEST_F(HostOsTest, AnOrderlyRebootKeepsThePowerOnAndBootsAgain) {
  bootToRunning();
  const auto changes = hooked.size();
  ASSERT_TRUE(os->reboot());
  EXPECT_EQ(os->state(), OsState::ShuttingDown);
  settle();
  EXPECT_EQ(firmwareWatchdog(), FwState::Idle);
  advance(2s);
  EXPECT_EQ(os->state(), OsState::Booting);
  EXPECT_EQ(hooked.size(), changes);  // a warm reset is no power change
  bootToRunning();
  advance(1h);
  EXPECT_EQ(expiries(), 0u);
}

// The firmware loses its connection (ME reset): iamt_wdt goes away under the daemon and comes back; the daemon
// opens it again and goes on.
TEST_F(HostOsTest, TheDaemonReopensAfterAFirmwareReset) {
  bootToRunning();
  engine->reset("test");
  settle();
  for (int i = 0; i < 50 && !wdt->registered(); ++i) {
    io.run_for(20ms);  // re-probing waits on the driver's real-time retry
    io.restart();
    settle();
  }
  ASSERT_TRUE(wdt->registered());
  EXPECT_EQ(daemon().state(), WatchdogDaemon::State::Heartbeating);
  EXPECT_EQ(daemon().stats().opens, 2u);
  advance(1h);
  EXPECT_EQ(expiries(), 0u);
}

class HostWithoutOsTest : public HostOsTest {
 protected:
  void SetUp() override { build(false); }
};

TEST_F(HostWithoutOsTest, ThePowerButtonAndSupplyWorkWithoutAnOs) {
  EXPECT_EQ(machine->pressPowerButton().error().message,
            "no simulated OS (--host-os none) answers the ACPI power button of a host that is on; hold it "
            "(?hold=1) to force the power off");
  EXPECT_EQ(machine->holdPowerButton().value(), "forced off");
  EXPECT_EQ(machine->pressPowerButton().value(), "powered on");
  EXPECT_EQ(machine->losePower().value(), "power lost");
  EXPECT_EQ(platform->state().hostPower.powerState, power::kOffHard);
  advance(1h);
  EXPECT_EQ(firmwareWatchdog(), FwState::Idle);  // nothing heartbeats: the host is the user's
  EXPECT_FALSE(wdt->heldByYielding());
}

}  // namespace
}  // namespace mesim::hostos
