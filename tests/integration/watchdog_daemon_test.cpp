// End to end through the real daemon: a heartbeat loop on the FUSE dev/watchdog0 (host mei_wdt model ->
// HBM -> WD firmware client -> OS watchdog on the firmware clock). Killing the loop must raise the OS-hang
// event and its alert; closing with the magic 'V' must not. One test runs on the real clock (the alert within
// timeout + 1 s of real time); the others on a manual clock (--clock manual): the heartbeats come in real time
// from a real program and each re-arms the firmware timer at the firmware's now, and the test moves firmware time
// past the timeout instead of sleeping through it.
#include <gtest/gtest.h>
#include <linux/watchdog.h>
#include <sys/ioctl.h>

#include <cstring>
#include <fstream>
#include <functional>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/event_subscriber.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct WatchdogStatus {
  std::uint64_t expiries = 0, alerts = 0, records = 0;
  std::string osState, hostWdt;
  std::string osDeadline;  // ISO-8601 UTC, while the OS watchdog runs
};

WatchdogStatus watchdogStatus(DaemonProcess& d) {
  WatchdogStatus s;
  std::string r = d.get("/status");
  if (r.rfind("200 ", 0) != 0) return s;
  boost::system::error_code ec;
  auto v = boost::json::parse(r.substr(4), ec);
  if (ec || !v.is_object() || !v.as_object().contains("watchdog")) return s;
  auto& w = v.at("watchdog").as_object();
  s.expiries = w.at("os_expiries").to_number<std::uint64_t>();
  s.alerts = w.at("alerts").to_number<std::uint64_t>();
  s.records = w.at("records").to_number<std::uint64_t>();
  s.osState = std::string(w.at("os_state").as_string());
  if (w.contains("host_wdt")) s.hostWdt = std::string(w.at("host_wdt").as_string());
  if (w.contains("os_deadline")) s.osDeadline = std::string(w.at("os_deadline").as_string());
  return s;
}

// Polls the status (real time) until `done` holds; the last status seen.
WatchdogStatus waitForStatus(DaemonProcess& d, const std::function<bool(const WatchdogStatus&)>& done,
                             std::chrono::milliseconds limit = 5s) {
  const auto deadline = Clock::now() + limit;
  WatchdogStatus s = watchdogStatus(d);
  while (!done(s) && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    s = watchdogStatus(d);
  }
  return s;
}

// Moves the daemon's manual firmware clock; the answer's "now".
std::string advance(DaemonProcess& d, int seconds) {
  std::string r = d.post("/clock/advance?seconds=" + std::to_string(seconds));
  EXPECT_EQ(r.substr(0, 3), "200") << r;
  boost::system::error_code ec;
  auto v = boost::json::parse(r.size() > 4 ? r.substr(4) : "", ec);
  return !ec && v.is_object() && v.as_object().contains("now") ? std::string(v.at("now").as_string()) : "";
}

pid_t spawn(std::vector<std::string> args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// The firmware clock of the manual-clock tests starts here (no advance happens before the test's own).
constexpr const char* kClockStart = "2030-01-01T00:00:00Z";

class WatchdogDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
  }
  // The daemon on the real clock, or on a manual one starting at kClockStart.
  void startDaemon(bool manualClock) {
    std::vector<std::string> args{"--fuse", "on", "--watchdog-min-timeout", "1"};
    if (manualClock) args.insert(args.end(), {"--clock", "manual", "--clock-start", kClockStart});
    ASSERT_TRUE(daemon.start(args)) << daemon.log();
    device = (daemon.runtimeDir() / "dev" / "watchdog0").string();
    ASSERT_TRUE(daemon.waitForLog("iamt_wdt registered", 5s)) << daemon.log();
  }
  DaemonProcess daemon;
  std::string device;
};

// On the real clock: the expiry comes within timeout + 1 s of real time after the heartbeats stop, not before.
TEST_F(WatchdogDaemon, KilledHeartbeatLoopRaisesTheAlertWithinTimeoutPlusOneSecond) {
  startDaemon(false);
  constexpr int kTimeout = 2;
  pid_t loop = spawn({MESIM_WDT_HEARTBEAT, device, std::to_string(kTimeout), "300"});
  ASSERT_GT(loop, 0);
  std::this_thread::sleep_for(3500ms);  // longer than the timeout: the heartbeats keep it alive
  auto alive = watchdogStatus(daemon);
  EXPECT_EQ(alive.osState, "running") << daemon.log();
  EXPECT_EQ(alive.expiries, 0u);
  EXPECT_EQ(alive.hostWdt, "RUNNING");

  ASSERT_EQ(::kill(loop, SIGKILL), 0);  // the watchdog daemon dies; the kernel's release pings once more
  const auto killedAt = Clock::now();
  int status = 0;
  ::waitpid(loop, &status, 0);
  WatchdogStatus after;
  while (Clock::now() - killedAt < std::chrono::seconds(kTimeout + 3)) {
    after = watchdogStatus(daemon);
    if (after.expiries > 0 && after.alerts > 0) break;
    std::this_thread::sleep_for(20ms);
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killedAt);
  ASSERT_EQ(after.expiries, 1u) << daemon.log();
  EXPECT_GE(after.alerts, 1u);
  EXPECT_EQ(after.records, 1u);
  EXPECT_LE(elapsed, std::chrono::seconds(kTimeout + 1)) << elapsed.count() << " ms";
  EXPECT_GE(elapsed, std::chrono::seconds(kTimeout) - 400ms) << elapsed.count() << " ms";  // not before its time
  RecordProperty("expiry_after_kill_ms", static_cast<int>(elapsed.count()));
}

// The whole crash-alert flow on a manual clock with AMT's usual 120 s timeout: heartbeats on dev/watchdog0 keep
// the firmware watchdog alive across more firmware time than the timeout, then stop; a WS-Eventing subscriber
// (PushWithAck) receives the alert, stamped with the moment the watchdog expired inside the advance, not with the
// advance's end. Two minutes of watchdog time pass in well under a second of real time.
TEST_F(WatchdogDaemon, KilledHeartbeatLoopAlertReachesASubscriberStampedWithItsExpiryTime) {
  startDaemon(true);
  EventSubscriber subscriber;
  const std::string cim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
  std::string subscribe = wsmanEnvelope(
      "http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe", cim + "CIM_FilterCollection",
      "<e:Subscribe xmlns:e=\"http://schemas.xmlsoap.org/ws/2004/08/eventing\"><e:Delivery Mode=\""
      "http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck\"><e:NotifyTo><a:Address>" + subscriber.url() +
      "</a:Address></e:NotifyTo></e:Delivery></e:Subscribe>");
  // the selector goes in the header, after ResourceURI
  subscribe.replace(subscribe.find("</w:ResourceURI>") + 16, 0,
                    "<w:SelectorSet><w:Selector Name=\"InstanceID\">Intel(r) AMT:All</w:Selector></w:SelectorSet>");
  WsmanDigestClient client(daemon.httpPort());
  auto subscribed = client.post(subscribe);
  ASSERT_EQ(subscribed.status, 200u) << subscribed.error << subscribed.body;

  constexpr int kTimeout = 120;
  pid_t loop = spawn({MESIM_WDT_HEARTBEAT, device, std::to_string(kTimeout), "100"});
  ASSERT_GT(loop, 0);
  // Firmware time stands at kClockStart: every heartbeat so far set the deadline to kClockStart + 120 s.
  auto s = waitForStatus(daemon, [](auto& st) { return st.osDeadline == "2030-01-01T00:02:00.000000Z"; });
  ASSERT_EQ(s.osState, "running") << daemon.log();
  ASSERT_EQ(s.osDeadline, "2030-01-01T00:02:00.000000Z");
  // 100 s pass; the next heartbeat (real time) re-arms the watchdog for 120 s from the firmware's new now.
  EXPECT_EQ(advance(daemon, 100), "2030-01-01T00:01:40.000000Z");
  s = waitForStatus(daemon, [](auto& st) { return st.osDeadline == "2030-01-01T00:03:40.000000Z"; });
  ASSERT_EQ(s.osDeadline, "2030-01-01T00:03:40.000000Z") << "a heartbeat after the advance re-arms it";
  EXPECT_EQ(advance(daemon, 100), "2030-01-01T00:03:20.000000Z");
  s = waitForStatus(daemon, [](auto& st) { return st.osDeadline == "2030-01-01T00:05:20.000000Z"; });
  ASSERT_EQ(s.osDeadline, "2030-01-01T00:05:20.000000Z");
  EXPECT_EQ(s.osState, "running");
  EXPECT_EQ(s.expiries, 0u) << "200 s of firmware time, more than the timeout, and the heartbeats kept it alive";
  EXPECT_EQ(subscriber.count(), 0u) << "no alert while the heartbeats go on";

  ASSERT_EQ(::kill(loop, SIGKILL), 0);  // the watchdog daemon dies; the kernel's release pings once more (at 00:03:20)
  int status = 0;
  ::waitpid(loop, &status, 0);
  EXPECT_EQ(advance(daemon, 119), "2030-01-01T00:05:19.000000Z");
  EXPECT_EQ(watchdogStatus(daemon).expiries, 0u) << "a second before its deadline";
  const auto advancedAt = Clock::now();
  EXPECT_EQ(advance(daemon, 40), "2030-01-01T00:05:59.000000Z");  // the deadline, 00:05:20, is inside this span
  ASSERT_TRUE(subscriber.waitFor(1, 5s)) << daemon.log();
  const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(subscriber.received().front().at - advancedAt);
  EXPECT_LT(latency, 1s) << "the alert follows the advance at once";
  const auto body = subscriber.received().front().body;
  EXPECT_NE(body.find("CIM_AlertIndication"), std::string::npos) << body;
  EXPECT_NE(body.find("2030-01-01T00:05:20.000Z"), std::string::npos) << "stamped with its expiry time: " << body;
  s = watchdogStatus(daemon);
  EXPECT_EQ(s.expiries, 1u);
  EXPECT_EQ(s.records, 1u);
  EXPECT_EQ(s.osState, "expired");
  RecordProperty("alert_received_after_advance_ms", static_cast<int>(latency.count()));
}

// Debian's watchdog daemon (package `watchdog`) keeps dev/watchdog0 alive; killing it fires the alert after the
// timeout (firmware time, on a manual clock). scripts/test.sh does not install that package (on a machine with a
// hardware watchdog its service would take /dev/watchdog), so this runs where it is present.
TEST_F(WatchdogDaemon, DebianWatchdogDaemonKeepsItAliveAndItsDeathFiresTheAlert) {
  const char* daemonBinary = "/usr/sbin/watchdog";
  if (::access(daemonBinary, X_OK) != 0) GTEST_SKIP() << "Debian's watchdog daemon is not installed";
  startDaemon(true);
  constexpr int kTimeout = 3;
  auto conf = daemon.runtimeDir() / "watchdog.conf";
  {
    std::ofstream out(conf);
    out << "watchdog-device = " << device << "\nwatchdog-timeout = " << kTimeout << "\ninterval = 1\nrealtime = no\n";
  }
  pid_t wd = spawn({daemonBinary, "-F", "-c", conf.string()});
  ASSERT_GT(wd, 0);
  auto s = waitForStatus(daemon, [](auto& st) { return st.osDeadline == "2030-01-01T00:00:03.000000Z"; });
  ASSERT_EQ(s.osState, "running") << daemon.log();
  // Twice 2 s of firmware time, more than the timeout, with its pings (once a real second) in between.
  advance(daemon, 2);
  s = waitForStatus(daemon, [](auto& st) { return st.osDeadline == "2030-01-01T00:00:05.000000Z"; });
  ASSERT_EQ(s.osDeadline, "2030-01-01T00:00:05.000000Z") << "its ping re-armed the firmware timer";
  advance(daemon, 2);
  s = waitForStatus(daemon, [](auto& st) { return st.osDeadline == "2030-01-01T00:00:07.000000Z"; });
  EXPECT_EQ(s.osState, "running") << daemon.log();
  EXPECT_EQ(s.expiries, 0u);
  ASSERT_EQ(::kill(wd, SIGKILL), 0);
  ::waitpid(wd, nullptr, 0);
  advance(daemon, kTimeout);
  s = waitForStatus(daemon, [](auto& st) { return st.expiries > 0; });
  EXPECT_EQ(s.expiries, 1u) << daemon.log();
}

// On a manual clock: after the magic close, firmware time well past the timeout raises nothing. The same advance
// with the loop killed instead expires the watchdog (the control case keeps this test able to fail).
TEST_F(WatchdogDaemon, MagicCloseStopsTheFirmwareTimer) {
  startDaemon(true);
  pid_t loop = spawn({MESIM_WDT_HEARTBEAT, device, "1", "50", "magic", "5"});
  int status = 0;
  ASSERT_EQ(::waitpid(loop, &status, 0), loop);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << daemon.log();
  auto s = waitForStatus(daemon, [](auto& st) { return st.osState == "idle"; });
  EXPECT_EQ(s.osState, "idle") << daemon.log();
  advance(daemon, 10);
  s = watchdogStatus(daemon);
  EXPECT_EQ(s.osState, "idle") << daemon.log();
  EXPECT_EQ(s.expiries, 0u);

  loop = spawn({MESIM_WDT_HEARTBEAT, device, "1", "50"});
  ASSERT_TRUE(waitForStatus(daemon, [](auto& st) { return st.osState == "running"; }).osState == "running");
  ASSERT_EQ(::kill(loop, SIGKILL), 0);
  ::waitpid(loop, &status, 0);
  advance(daemon, 10);
  EXPECT_EQ(watchdogStatus(daemon).expiries, 1u) << "without the magic close the same advance expires it";
}

TEST_F(WatchdogDaemon, OneOpenerAndTheWatchdogIoctls) {
  startDaemon(false);
  int fd = ::open(device.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  EXPECT_LT(::open(device.c_str(), O_WRONLY), 0);
  EXPECT_EQ(errno, EBUSY);
  int t = 0;
  EXPECT_EQ(::ioctl(fd, WDIOC_SETTIMEOUT, &(t = 70000)), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(::ioctl(fd, WDIOC_SETTIMEOUT, &(t = 30)), 0);
  EXPECT_EQ(t, 30);
  EXPECT_EQ(::ioctl(fd, WDIOC_GETTIMEOUT, &t), 0);
  EXPECT_EQ(t, 30);
  EXPECT_EQ(::ioctl(fd, WDIOC_GETTIMELEFT, &t), 0);
  EXPECT_GT(t, 25);
  EXPECT_EQ(::ioctl(fd, 0x80045799, &t), -1);
  EXPECT_EQ(errno, ENOTTY);
  char buf[4];
  EXPECT_EQ(::read(fd, buf, sizeof buf), -1);
  EXPECT_EQ(::write(fd, "V", 1), 1);
  ::close(fd);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(watchdogStatus(daemon).osState, "idle");
}

}  // namespace
}  // namespace mesim::test
