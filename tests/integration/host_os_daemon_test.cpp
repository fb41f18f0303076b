// The simulated host OS in the real daemon (issue 11): it boots and keeps the firmware's OS watchdog alive through
// the host model, its crash reaches a WS-Eventing subscriber as the watchdog's alert, WS-Man power actions and the
// /host routes move it, a real program on dev/watchdog0 takes precedence, and --host-os none leaves the host alone.
// On the real clock with a short watchdog timeout and boot time.
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

constexpr int kTimeout = 2;  // --watchdog-min-timeout: the OS's watchdog daemon keeps the driver's default

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
  bool start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--watchdog-min-timeout", std::to_string(kTimeout), "--host-os-boot-time", "200ms",
                                  "--preload", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    return daemon.start(args);
  }
  Answer host() { return parse(daemon.get("/host")); }
  Answer post(const std::string& target) { return parse(daemon.post(target)); }
  // Waits until GET /host reports the OS in `state`.
  bool waitForOs(const std::string& state, std::chrono::milliseconds limit = 5s) {
    for (auto until = Clock::now() + limit; Clock::now() < until; std::this_thread::sleep_for(10ms))
      if (str(host(), "os") == state) return true;
    return false;
  }
  boost::json::object watchdogStatus() {
    auto status = parse(daemon.get("/status"));
    return status.body.is_object() ? status.body.at("watchdog").as_object() : boost::json::object{};
  }
  std::uint64_t expiries() { return watchdogStatus().at("os_expiries").to_number<std::uint64_t>(); }
  std::string firmwareWatchdog() { return std::string(watchdogStatus().at("os_state").as_string()); }
  HttpAnswer wsman(const std::string& body) { return WsmanDigestClient(daemon.httpPort()).post(body); }
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

  DaemonProcess daemon;
};

TEST_F(HostOsDaemon, BootsAndKeepsTheFirmwareWatchdogAlive) {
  ASSERT_TRUE(start({"--fuse", "off"})) << daemon.log();
  ASSERT_TRUE(waitForOs("running")) << host().text << daemon.log();
  auto h = host();
  EXPECT_EQ(str(h, "host_os"), "simulated");
  EXPECT_EQ(num(h, "power_state"), 2);
  EXPECT_EQ(str(h, "watchdog_daemon"), "heartbeating") << h.text;
  EXPECT_EQ(num(h, "watchdog_timeout"), kTimeout);
  EXPECT_FALSE(flag(h, "program_holds_watchdog"));
  std::this_thread::sleep_for(std::chrono::seconds(2 * kTimeout));  // twice the timeout: only heartbeats keep it up
  EXPECT_EQ(firmwareWatchdog(), "running") << daemon.log();
  EXPECT_EQ(expiries(), 0u);
  EXPECT_GE(num(host(), "heartbeats"), 3);
}

TEST_F(HostOsDaemon, ACrashAlertReachesASubscriberWithinTheTimeout) {
  ASSERT_TRUE(start({"--fuse", "off"})) << daemon.log();
  EventSubscriber subscriber;
  const std::string cim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
  auto subscribed = wsman(wsmanEnvelope(
      "http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe", cim + "CIM_FilterCollection",
      "<e:Subscribe xmlns:e=\"http://schemas.xmlsoap.org/ws/2004/08/eventing\"><e:Delivery Mode=\""
      "http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck\"><e:NotifyTo><a:Address>" + subscriber.url() +
          "</a:Address></e:NotifyTo></e:Delivery></e:Subscribe>",
      "1", "<w:Selector Name=\"InstanceID\">Intel(r) AMT:All</w:Selector>"));
  ASSERT_EQ(subscribed.status, 200u) << subscribed.error << subscribed.body;
  ASSERT_TRUE(waitForOs("running")) << daemon.log();
  std::this_thread::sleep_for(std::chrono::seconds(kTimeout));
  EXPECT_EQ(subscriber.count(), 0u) << "no alert while the OS runs";

  auto crashed = post("/host/os-crash");
  ASSERT_EQ(crashed.status, 200) << crashed.text;
  const auto crashedAt = Clock::now();
  EXPECT_EQ(str(crashed, "os"), "crashed");
  EXPECT_EQ(str(crashed, "done"), "os-crash");
  ASSERT_TRUE(subscriber.waitFor(1, std::chrono::seconds(kTimeout + 3))) << daemon.log();
  const auto received = subscriber.received().front();
  EXPECT_LE(received.at - crashedAt, std::chrono::seconds(kTimeout) + 1s);
  EXPECT_NE(received.body.find("CIM_AlertIndication"), std::string::npos) << received.body;
  EXPECT_NE(received.body.find("PLAT0322"), std::string::npos) << received.body;
  EXPECT_EQ(expiries(), 1u);
  auto again = post("/host/os-crash");
  EXPECT_EQ(again.status, 409) << again.text;
  EXPECT_EQ(str(again, "error"), "cannot crash the OS: the OS is crashed");
}

TEST_F(HostOsDaemon, WsmanPowerOffStopsHeartbeatsCleanlyAndPowerOnBootsAgain) {
  ASSERT_TRUE(start({"--fuse", "off"})) << daemon.log();
  ASSERT_TRUE(waitForOs("running")) << daemon.log();
  std::this_thread::sleep_for(500ms);
  auto off = wsman(wsmanRequestPowerStateChange(12));  // Off-Soft Graceful: the OS shuts down in order
  ASSERT_EQ(off.status, 200u) << off.error << off.body;
  ASSERT_NE(off.body.find("<g:ReturnValue>0</g:ReturnValue>"), std::string::npos) << off.body;
  auto h = host();
  EXPECT_EQ(str(h, "os"), "off") << h.text;
  EXPECT_EQ(num(h, "power_state"), 8);
  EXPECT_EQ(num(h, "clean_stops"), 1);
  const auto beats = num(h, "heartbeats");
  std::this_thread::sleep_for(std::chrono::seconds(kTimeout) + 1s);
  EXPECT_EQ(expiries(), 0u) << daemon.log();
  EXPECT_EQ(firmwareWatchdog(), "idle");
  EXPECT_EQ(num(host(), "heartbeats"), beats);

  auto on = wsman(wsmanRequestPowerStateChange(2));
  ASSERT_NE(on.body.find("<g:ReturnValue>0</g:ReturnValue>"), std::string::npos) << on.body;
  EXPECT_EQ(str(host(), "os"), "booting");
  ASSERT_TRUE(waitForOs("running")) << daemon.log();
  std::this_thread::sleep_for(std::chrono::seconds(kTimeout));
  EXPECT_GT(num(host(), "heartbeats"), beats);
  EXPECT_EQ(firmwareWatchdog(), "running");
  EXPECT_EQ(num(host(), "boots"), 2);

  auto hardOff = wsman(wsmanRequestPowerStateChange(8));  // Off-Soft: no shutdown, the heartbeats just stop
  ASSERT_NE(hardOff.body.find("<g:ReturnValue>0</g:ReturnValue>"), std::string::npos) << hardOff.body;
  EXPECT_EQ(str(host(), "os"), "off");
  EXPECT_EQ(num(host(), "clean_stops"), 1);
  std::this_thread::sleep_for(std::chrono::seconds(kTimeout) + 1s);
  EXPECT_EQ(expiries(), 0u) << "the firmware disarms when the host leaves S0";
}

TEST_F(HostOsDaemon, PowerButtonAndPowerLossAsWsManSeesThem) {
  ASSERT_TRUE(start({"--fuse", "off"})) << daemon.log();
  ASSERT_TRUE(waitForOs("running")) << daemon.log();
  auto pressed = post("/host/power-button");
  ASSERT_EQ(pressed.status, 200) << pressed.text;
  EXPECT_EQ(str(pressed, "effect"), "shutting down");
  EXPECT_EQ(str(pressed, "os"), "shutting-down");
  ASSERT_TRUE(waitForOs("off")) << daemon.log();  // the OS's shutdown takes 2 s, then S5
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
  ASSERT_TRUE(waitForOs("running")) << daemon.log();

  auto lost = post("/host/power-loss");
  ASSERT_EQ(lost.status, 200) << lost.text;
  EXPECT_EQ(str(lost, "os"), "off");
  EXPECT_EQ(num(lost, "power_state"), 6);
  EXPECT_EQ(wsmanPowerState(), 6);
  EXPECT_EQ(post("/host/power-loss").status, 409);

  ASSERT_EQ(post("/host/power-button?seconds=1").status, 200);  // a short press
  ASSERT_TRUE(waitForOs("running")) << daemon.log();
  ASSERT_EQ(post("/host/os-hang").status, 200);
  auto ignored = post("/host/power-button");
  EXPECT_EQ(ignored.status, 200);
  EXPECT_EQ(str(ignored, "effect").rfind("ignored: the OS is hung", 0), 0u) << ignored.text;
  auto forced = post("/host/power-button?seconds=4.5");
  ASSERT_EQ(forced.status, 200) << forced.text;
  EXPECT_EQ(str(forced, "effect"), "forced off");
  EXPECT_EQ(wsmanPowerState(), 8);

  EXPECT_EQ(post("/host/power-button?seconds=soon").status, 400);
  EXPECT_EQ(post("/host/power-button?hold=2").status, 400);
  auto unknown = post("/host/power-loss?now=1");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(str(unknown, "error"), "unknown parameter now");
  EXPECT_EQ(parse(daemon.get("/host/os-crash")).status, 405);
  EXPECT_EQ(expiries(), 0u) << daemon.log();
}

TEST_F(HostOsDaemon, ARealProgramOnDevWatchdog0TakesPrecedence) {
  if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
  ASSERT_TRUE(start({"--fuse", "on"})) << daemon.log();
  ASSERT_TRUE(waitForOs("running")) << daemon.log();
  ASSERT_EQ(str(host(), "watchdog_daemon"), "heartbeating");
  const std::string device = (daemon.runtimeDir() / "dev" / "watchdog0").string();
  pid_t program = ::fork();
  if (program == 0) {
    ::execl(MESIM_WDT_HEARTBEAT, MESIM_WDT_HEARTBEAT, device.c_str(), std::to_string(kTimeout).c_str(), "300", nullptr);
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
  std::this_thread::sleep_for(std::chrono::seconds(kTimeout) + 500ms);
  int status = 0;
  EXPECT_EQ(::waitpid(program, &status, WNOHANG), 0) << "the program runs: it got the device, not EBUSY";
  EXPECT_EQ(expiries(), 0u);
  const auto beats = num(host(), "heartbeats");

  ASSERT_EQ(::kill(program, SIGKILL), 0);  // the program dies; the simulated OS stays aside
  ::waitpid(program, &status, 0);
  const auto killedAt = Clock::now();
  while (Clock::now() - killedAt < std::chrono::seconds(kTimeout + 3) && expiries() == 0)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(expiries(), 1u) << daemon.log();
  EXPECT_LE(Clock::now() - killedAt, std::chrono::seconds(kTimeout + 1));
  EXPECT_EQ(num(host(), "heartbeats"), beats);
  EXPECT_FALSE(flag(host(), "program_holds_watchdog"));

  // After a reboot, with the device free, the simulated OS heartbeats again.
  ASSERT_EQ(post("/host/reboot").status, 200);
  ASSERT_TRUE(waitForOs("running", 6s)) << daemon.log();
  EXPECT_EQ(str(host(), "watchdog_daemon"), "heartbeating");
  std::this_thread::sleep_for(std::chrono::seconds(kTimeout) + 500ms);
  EXPECT_EQ(firmwareWatchdog(), "running");
  EXPECT_EQ(expiries(), 1u);
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
  std::this_thread::sleep_for(std::chrono::seconds(kTimeout));
  EXPECT_EQ(firmwareWatchdog(), "idle") << "nothing heartbeats on its own";
  EXPECT_EQ(post("/host/power-button?hold=1").status, 200);
  EXPECT_EQ(wsmanPowerState(), 8);
  EXPECT_EQ(str(post("/host/power-button"), "effect"), "powered on");
}

// On the manual firmware clock (--clock manual, POST /clock/advance): the real mei_wdt timeout of 120 s, and time
// only moves when told. An unharmed OS keeps the watchdog alive through any advance; a crash, then 120 s, and the
// alert is at the subscriber in well under a second of real time.
class HostOsManualClock : public HostOsDaemon {
 protected:
  void SetUp() override {
    if (!daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) {
      if (daemon.log().find("clock") != std::string::npos && daemon.log().find("unrecognised") != std::string::npos)
        GTEST_SKIP() << "this build has no --clock manual";
      FAIL() << daemon.log();
    }
  }
  Answer advance(double seconds) { return post("/clock/advance?seconds=" + std::to_string(seconds)); }
};

TEST_F(HostOsManualClock, AnUnharmedOsKeepsTheWatchdogAliveThroughAnyAdvanceAndACrashAlertsAtOnce) {
  EventSubscriber subscriber;
  const std::string cim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
  auto subscribed = wsman(wsmanEnvelope(
      "http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe", cim + "CIM_FilterCollection",
      "<e:Subscribe xmlns:e=\"http://schemas.xmlsoap.org/ws/2004/08/eventing\"><e:Delivery Mode=\""
      "http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck\"><e:NotifyTo><a:Address>" + subscriber.url() +
          "</a:Address></e:NotifyTo></e:Delivery></e:Subscribe>",
      "1", "<w:Selector Name=\"InstanceID\">Intel(r) AMT:All</w:Selector>"));
  ASSERT_EQ(subscribed.status, 200u) << subscribed.error << subscribed.body;
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(str(host(), "os"), "booting") << "the boot waits for firmware time";
  ASSERT_EQ(advance(5).status, 200);
  ASSERT_TRUE(waitForOs("running", 2s)) << host().text << daemon.log();
  for (auto until = Clock::now() + 2s; Clock::now() < until && firmwareWatchdog() != "running";)
    std::this_thread::sleep_for(5ms);
  ASSERT_EQ(firmwareWatchdog(), "running") << daemon.log();
  EXPECT_EQ(num(host(), "watchdog_timeout"), 120);

  for (double span : {600.0, 3600.0, 59.5, 86400.0}) {
    ASSERT_EQ(advance(span).status, 200);
    EXPECT_EQ(expiries(), 0u) << "after advancing " << span << " s\n" << daemon.log();
  }
  EXPECT_EQ(firmwareWatchdog(), "running");
  EXPECT_GE(num(host(), "heartbeats"), (600 + 3600 + 59 + 86400) / 60 - 2);
  EXPECT_EQ(subscriber.count(), 0u);

  const auto crashedAt = Clock::now();
  ASSERT_EQ(post("/host/os-crash").status, 200);
  ASSERT_EQ(advance(120).status, 200);  // the last heartbeat was less than a minute ago: it expires within this
  ASSERT_TRUE(subscriber.waitFor(1, 5s)) << daemon.log();
  const auto took = subscriber.received().front().at - crashedAt;
  EXPECT_LT(took, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  RecordProperty("crash_to_alert_ms", static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_EQ(expiries(), 1u);
}

TEST(HostOsConfig, RejectsUnknownModes) {
  DaemonProcess daemon;
  EXPECT_FALSE(daemon.start({"--host-os", "windows"}, 5s));
  EXPECT_NE(daemon.log().find("--host-os takes simulated or none"), std::string::npos) << daemon.log();
}

}  // namespace
}  // namespace mesim::test
