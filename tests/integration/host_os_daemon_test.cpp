// The simulated host OS in the real daemon (issue 11): it boots and keeps the firmware's OS watchdog alive through
// the host model, its crash reaches a WS-Eventing subscriber as the watchdog's alert, WS-Man power actions and the
// /host routes move it, a real program on dev/watchdog0 takes precedence, and --host-os none leaves the host alone.
// On the manual firmware clock with Linux's 120 s watchdog timeout and a 5 s boot, so nothing sleeps for firmware
// time; one case on the real clock, with a short timeout and boot.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <regex>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/event_subscriber.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kShortTimeout = 2;  // the real-clock case's --watchdog-min-timeout (the daemon keeps the default)

// "STATUS BODY" -> status and parsed body (null when not JSON).
struct Answer {
  int status = 0;
  boost::json::value body;
  std::string text;
};
Answer parse(const std::string& raw) {
  Answer a;
  a.text = raw;
  if (raw.size() < 4) return a;
  a.status = std::stoi(raw.substr(0, 3));
  boost::system::error_code ec;
  a.body = boost::json::parse(raw.substr(4), ec);
  return a;
}
std::string str(const Answer& a, const char* key) {
  if (!a.body.is_object() || !a.body.as_object().contains(key) || !a.body.at(key).is_string()) return "";
  return std::string(a.body.at(key).as_string());
}
std::int64_t num(const Answer& a, const char* key) {
  if (!a.body.is_object() || !a.body.as_object().contains(key)) return -1;
  return a.body.at(key).to_number<std::int64_t>();
}
bool flag(const Answer& a, const char* key) {
  return a.body.is_object() && a.body.as_object().contains(key) && a.body.at(key).is_bool() && a.body.at(key).as_bool();
}

class HostOsDaemon : public ::testing::Test {
 protected:
  // On the manual clock: mei_wdt's 120 s timeout, a 5 s boot.
  bool start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--clock", "manual", "--preload", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    return daemon.start(args);
  }
  Answer host() { return parse(daemon.get("/host")); }
  Answer post(const std::string& target) { return parse(daemon.post(target)); }
  // Moves the firmware clock; what it set going (heartbeats over HBM, alerts) is done when the answer comes.
  void advance(double seconds) {
    auto moved = post("/clock/advance?seconds=" + std::to_string(seconds));
    ASSERT_EQ(moved.status, 200) << moved.text;
  }
  std::string os() { return str(host(), "os"); }
  // Boots the OS (5 s of firmware time) and checks that its daemon armed the firmware's watchdog.
  void bootToRunning() {
    ASSERT_EQ(os(), "booting");
    advance(5);
    ASSERT_EQ(os(), "running") << host().text << daemon.log();
    ASSERT_EQ(str(host(), "watchdog_daemon"), "heartbeating");
    ASSERT_EQ(firmwareWatchdog(), "running") << daemon.log();
  }
  // Waits (real time) until GET /host reports the OS in `state`: for the real-clock case.
  bool waitForOs(const std::string& state, std::chrono::milliseconds limit = 5s) {
    for (auto until = Clock::now() + limit; Clock::now() < until; std::this_thread::sleep_for(10ms))
      if (os() == state) return true;
    return false;
  }
  boost::json::object watchdogStatus() {
    auto status = parse(daemon.get("/status"));
    return status.body.is_object() ? status.body.at("watchdog").as_object() : boost::json::object{};
  }
  std::uint64_t expiries() { return watchdogStatus().at("os_expiries").to_number<std::uint64_t>(); }
  std::string firmwareWatchdog() { return std::string(watchdogStatus().at("os_state").as_string()); }
  HttpAnswer wsman(const std::string& body) { return WsmanDigestClient(daemon.httpPort()).post(body); }
  bool requestPower(int code) {
    auto answer = wsman(wsmanRequestPowerStateChange(code));
    return answer.status == 200 && answer.body.find("<g:ReturnValue>0</g:ReturnValue>") != std::string::npos;
  }
  // CIM_AssociatedPowerManagementService.PowerState, as a console reads it.
  int wsmanPowerState() {
    const std::string cim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
    auto answer = wsman(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
                                      cim + "CIM_AssociatedPowerManagementService",
                                      "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\">"
                                      "<w:OptimizeEnumeration/><w:MaxElements>20</w:MaxElements></Enumerate>"));
    std::smatch m;
    if (answer.status != 200 || !std::regex_search(answer.body, m, std::regex(R"(PowerState>(\d+)<)"))) return -1;
    return std::stoi(m[1]);
  }
  // A PushWithAck subscription to every alert.
  void subscribe(EventSubscriber& subscriber) {
    const std::string cim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
    auto subscribed = wsman(wsmanEnvelope(
        "http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe", cim + "CIM_FilterCollection",
        "<e:Subscribe xmlns:e=\"http://schemas.xmlsoap.org/ws/2004/08/eventing\"><e:Delivery Mode=\""
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck\"><e:NotifyTo><a:Address>" + subscriber.url() +
            "</a:Address></e:NotifyTo></e:Delivery></e:Subscribe>",
        "1", "<w:Selector Name=\"InstanceID\">Intel(r) AMT:All</w:Selector>"));
    ASSERT_EQ(subscribed.status, 200u) << subscribed.error << subscribed.body;
  }

  DaemonProcess daemon;
};

TEST_F(HostOsDaemon, OnTheRealClockItBootsAndKeepsTheFirmwareWatchdogAlive) {
  ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off", "--watchdog-min-timeout", std::to_string(kShortTimeout),
                            "--host-os-boot-time", "200ms"}))
      << daemon.log();
  ASSERT_TRUE(waitForOs("running")) << host().text << daemon.log();
  auto h = host();
  EXPECT_EQ(str(h, "host_os"), "simulated");
  EXPECT_EQ(num(h, "power_state"), 2);
  EXPECT_EQ(str(h, "watchdog_daemon"), "heartbeating") << h.text;
  EXPECT_EQ(num(h, "watchdog_timeout"), kShortTimeout);
  EXPECT_FALSE(flag(h, "program_holds_watchdog"));
  std::this_thread::sleep_for(std::chrono::seconds(2 * kShortTimeout));  // twice the timeout: only heartbeats keep it up
  EXPECT_EQ(firmwareWatchdog(), "running") << daemon.log();
  EXPECT_EQ(expiries(), 0u);
  EXPECT_GE(num(host(), "heartbeats"), 3);
}

TEST_F(HostOsDaemon, AnUnharmedOsKeepsTheWatchdogAliveThroughAnyAdvanceAndACrashAlertsAtOnce) {
  ASSERT_TRUE(start({"--fuse", "off"})) << daemon.log();
  EventSubscriber subscriber;
  subscribe(subscriber);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(os(), "booting") << "the boot waits for firmware time";
  bootToRunning();
  EXPECT_EQ(num(host(), "watchdog_timeout"), 120);
  EXPECT_EQ(num(host(), "heartbeat_interval_ms"), 60000);
  for (double span : {600.0, 3600.0, 59.5, 86400.0}) {
    advance(span);
    EXPECT_EQ(expiries(), 0u) << "after advancing " << span << " s\n" << daemon.log();
  }
  EXPECT_EQ(firmwareWatchdog(), "running");
  EXPECT_EQ(num(host(), "heartbeats"), (600 + 3600 + 59 + 86400) / 60);
  EXPECT_EQ(subscriber.count(), 0u);

  const auto crashedAt = Clock::now();
  auto crashed = post("/host/os-crash");
  ASSERT_EQ(crashed.status, 200) << crashed.text;
  EXPECT_EQ(str(crashed, "os"), "crashed");
  EXPECT_EQ(str(crashed, "done"), "os-crash");
  advance(120);  // the last heartbeat was less than a minute ago: the firmware's watchdog expires within this
  ASSERT_TRUE(subscriber.waitFor(1, 5s)) << daemon.log();
  const auto received = subscriber.received().front();
  const auto took = received.at - crashedAt;
  EXPECT_LT(took, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  RecordProperty("crash_to_alert_ms", static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_NE(received.body.find("CIM_AlertIndication"), std::string::npos) << received.body;
  EXPECT_NE(received.body.find("PLAT0322"), std::string::npos) << received.body;
  EXPECT_EQ(expiries(), 1u);
  auto again = post("/host/os-crash");
  EXPECT_EQ(again.status, 409) << again.text;
  EXPECT_EQ(str(again, "error"), "cannot crash the OS: the OS is crashed");
}

TEST_F(HostOsDaemon, WsmanPowerOffStopsHeartbeatsCleanlyAndPowerOnBootsAgain) {
  ASSERT_TRUE(start({"--fuse", "off"})) << daemon.log();
  bootToRunning();
  advance(60);
  ASSERT_TRUE(requestPower(12));  // Off-Soft Graceful: the OS shuts down in order
  auto h = host();
  EXPECT_EQ(str(h, "os"), "off") << h.text;
  EXPECT_EQ(num(h, "power_state"), 8);
  EXPECT_EQ(num(h, "clean_stops"), 1);
  EXPECT_EQ(firmwareWatchdog(), "idle");
  const auto beats = num(h, "heartbeats");
  EXPECT_GE(beats, 1);
  advance(3600);
  EXPECT_EQ(expiries(), 0u) << daemon.log();
  EXPECT_EQ(num(host(), "heartbeats"), beats);

  ASSERT_TRUE(requestPower(2));
  bootToRunning();
  advance(600);
  EXPECT_EQ(num(host(), "heartbeats"), beats + 10);
  EXPECT_EQ(num(host(), "boots"), 2);

  ASSERT_TRUE(requestPower(8));  // Off-Soft: no shutdown, the heartbeats just stop
  EXPECT_EQ(os(), "off");
  EXPECT_EQ(num(host(), "clean_stops"), 1);
  advance(3600);
  EXPECT_EQ(expiries(), 0u) << "the firmware disarms when the host leaves S0";

  ASSERT_TRUE(requestPower(2));
  bootToRunning();
  ASSERT_TRUE(requestPower(10));  // Master Bus Reset: no shutdown, a new boot
  EXPECT_EQ(os(), "booting");
  bootToRunning();
  EXPECT_EQ(num(host(), "boots"), 4);
  advance(600);
  EXPECT_EQ(expiries(), 0u);
}

TEST_F(HostOsDaemon, PowerButtonAndPowerLossAsWsManSeesThem) {
  ASSERT_TRUE(start({"--fuse", "off"})) << daemon.log();
  bootToRunning();
  auto pressed = post("/host/power-button");
  ASSERT_EQ(pressed.status, 200) << pressed.text;
  EXPECT_EQ(str(pressed, "effect"), "shutting down");
  EXPECT_EQ(str(pressed, "os"), "shutting-down");
  EXPECT_EQ(firmwareWatchdog(), "idle") << "the watchdog daemon stopped it first";
  advance(2);  // the OS's shutdown, then S5
  EXPECT_EQ(os(), "off");
  EXPECT_EQ(num(host(), "power_state"), 8);
  EXPECT_EQ(wsmanPowerState(), 8);
  EXPECT_EQ(expiries(), 0u);

  auto crashOff = post("/host/os-crash");
  EXPECT_EQ(crashOff.status, 409);
  EXPECT_EQ(str(crashOff, "error"), "cannot crash the OS: the OS is off");
  auto holdOff = post("/host/power-button?hold=1");
  EXPECT_EQ(holdOff.status, 409);
  EXPECT_EQ(str(holdOff, "error"), "the host is already off; a short press powers it on");

  auto on = post("/host/power-button");
  ASSERT_EQ(on.status, 200) << on.text;
  EXPECT_EQ(str(on, "effect"), "powered on");
  EXPECT_EQ(wsmanPowerState(), 2);
  bootToRunning();

  auto lost = post("/host/power-loss");
  ASSERT_EQ(lost.status, 200) << lost.text;
  EXPECT_EQ(str(lost, "os"), "off");
  EXPECT_EQ(num(lost, "power_state"), 6);
  EXPECT_EQ(wsmanPowerState(), 6);
  EXPECT_EQ(post("/host/power-loss").status, 409);

  ASSERT_EQ(post("/host/power-button?seconds=1").status, 200);  // a short press
  bootToRunning();
  ASSERT_EQ(post("/host/os-hang").status, 200);
  auto ignored = post("/host/power-button");
  EXPECT_EQ(ignored.status, 200);
  EXPECT_EQ(str(ignored, "effect").rfind("ignored: the OS is hung", 0), 0u) << ignored.text;
  auto forced = post("/host/power-button?seconds=4.5");
  ASSERT_EQ(forced.status, 200) << forced.text;
  EXPECT_EQ(str(forced, "effect"), "forced off");
  EXPECT_EQ(wsmanPowerState(), 8);
  advance(3600);
  EXPECT_EQ(expiries(), 0u) << "forced off before the hung OS's watchdog ran out\n" << daemon.log();

  EXPECT_EQ(post("/host/power-button?seconds=soon").status, 400);
  EXPECT_EQ(post("/host/power-button?hold=2").status, 400);
  auto unknown = post("/host/power-loss?now=1");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(str(unknown, "error"), "unknown parameter now");
  EXPECT_EQ(parse(daemon.get("/host/os-crash")).status, 405);
}

TEST_F(HostOsDaemon, AnOrderlyRebootAndAHangThatAnNmiTurnsIntoACrash) {
  ASSERT_TRUE(start({"--fuse", "off"})) << daemon.log();
  bootToRunning();
  auto rebooting = post("/host/reboot");
  ASSERT_EQ(rebooting.status, 200) << rebooting.text;
  EXPECT_EQ(str(rebooting, "os"), "shutting-down");
  advance(2);
  bootToRunning();
  EXPECT_EQ(num(host(), "boots"), 2);
  EXPECT_EQ(num(host(), "clean_stops"), 1);
  EXPECT_EQ(wsmanPowerState(), 2) << "a warm reset is no power change";

  ASSERT_EQ(post("/host/os-hang").status, 200);
  EXPECT_EQ(os(), "hung");
  EXPECT_EQ(post("/host/os-hang").status, 409);
  ASSERT_TRUE(requestPower(11));  // NMI
  EXPECT_EQ(os(), "crashed");
  EXPECT_EQ(num(host(), "crashes"), 1);
  advance(120);
  EXPECT_EQ(expiries(), 1u);
  EXPECT_EQ(post("/host/shutdown").status, 409);
}

TEST_F(HostOsDaemon, ARealProgramOnDevWatchdog0TakesPrecedence) {
  if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
  ASSERT_TRUE(start({"--fuse", "on"})) << daemon.log();
  bootToRunning();
  const std::string device = (daemon.runtimeDir() / "dev" / "watchdog0").string();
  pid_t program = ::fork();
  if (program == 0) {
    ::execl(MESIM_WDT_HEARTBEAT, MESIM_WDT_HEARTBEAT, device.c_str(), "120", "300", nullptr);
    ::_exit(127);
  }
  ASSERT_GT(program, 0);
  Answer h;
  for (auto until = Clock::now() + 3s; Clock::now() < until; std::this_thread::sleep_for(10ms)) {
    h = host();
    if (flag(h, "program_holds_watchdog")) break;
  }
  EXPECT_TRUE(flag(h, "program_holds_watchdog")) << h.text << daemon.log();
  EXPECT_EQ(str(h, "watchdog_daemon"), "yielded");
  const auto beats = num(h, "heartbeats");
  std::this_thread::sleep_for(700ms);  // the program pings (in real time) on the firmware's present minute
  int status = 0;
  EXPECT_EQ(::waitpid(program, &status, WNOHANG), 0) << "the program runs: it got the device, not EBUSY";
  advance(60);
  EXPECT_EQ(expiries(), 0u);
  EXPECT_EQ(num(host(), "heartbeats"), beats) << "the simulated daemon stays aside";

  ASSERT_EQ(::kill(program, SIGKILL), 0);  // the program dies; the simulated OS stays aside
  ::waitpid(program, &status, 0);
  for (auto until = Clock::now() + 3s; Clock::now() < until && flag(host(), "program_holds_watchdog");)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(flag(host(), "program_holds_watchdog"));
  advance(121);
  EXPECT_EQ(expiries(), 1u) << daemon.log();
  EXPECT_EQ(num(host(), "heartbeats"), beats);

  // After a reboot, with the device free, the simulated OS heartbeats again.
  ASSERT_EQ(post("/host/reboot").status, 200);
  advance(2);
  bootToRunning();
  advance(3600);
  EXPECT_EQ(expiries(), 1u);
  EXPECT_GT(num(host(), "heartbeats"), beats);
}

TEST_F(HostOsDaemon, HostOsNoneLeavesTheHostToYourPrograms) {
  ASSERT_TRUE(start({"--fuse", "off", "--host-os", "none"})) << daemon.log();
  auto h = host();
  ASSERT_EQ(h.status, 200) << h.text;
  EXPECT_EQ(str(h, "host_os"), "none");
  EXPECT_EQ(str(h, "os"), "none");
  EXPECT_EQ(num(h, "power_state"), 2);
  EXPECT_FALSE(h.body.as_object().contains("heartbeats"));
  for (const char* route : {"/host/os-crash", "/host/os-hang", "/host/shutdown", "/host/reboot"}) {
    auto refused = post(route);
    EXPECT_EQ(refused.status, 409) << route;
    EXPECT_EQ(str(refused, "error"), "no simulated host OS on this device (--host-os none, or --hbm-listen: the host is yours)");
  }
  auto press = post("/host/power-button");
  EXPECT_EQ(press.status, 409);
  EXPECT_NE(str(press, "error").find("--host-os none"), std::string::npos) << press.text;
  advance(3600);
  EXPECT_EQ(firmwareWatchdog(), "idle") << "nothing heartbeats on its own";
  EXPECT_EQ(post("/host/power-button?hold=1").status, 200);
  EXPECT_EQ(wsmanPowerState(), 8);
  EXPECT_EQ(str(post("/host/power-button"), "effect"), "powered on");
}

TEST(HostOsConfig, RejectsUnknownModes) {
  DaemonProcess daemon;
  EXPECT_FALSE(daemon.start({"--host-os", "windows"}, 5s));
  EXPECT_NE(daemon.log().find("--host-os takes simulated or none"), std::string::npos) << daemon.log();
}

}  // namespace
}  // namespace mesim::test
