// The firmware clock modes through the real daemon (issue 11 item 2): --clock real / scaled:N / manual with
// --clock-start, per device in [device.NAME] sections; GET /clock, POST /clock/advance and /clock/set, and their
// errors (400 for a bad value, 409 for a clock that is not manual); a login lockout that ends with firmware time.
// Other timers on the clock are covered by watchdog_daemon_test (OS watchdog expiry and its alert's time) and
// events_daemon_test (retries, subscription expiry).
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;

// 2030-01-02T03:04:05Z
constexpr double kStartUnix = 1'893'553'445;

struct Answer {
  int status = 0;
  boost::json::object body;
};

Answer call(DaemonProcess& d, const std::string& method, const std::string& target) {
  Answer a;
  auto r = httpRequest(d.controlPort(), method, target);
  if (r.size() < 4) return a;
  a.status = std::stoi(r.substr(0, 3));
  boost::system::error_code ec;
  auto v = boost::json::parse(r.substr(4), ec);
  if (!ec && v.is_object()) a.body = v.as_object();
  return a;
}

std::string text(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
double number(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : -1;
}

class ClockDaemonTest : public ::testing::Test {
 protected:
  bool start(std::vector<std::string> extra) {
    std::vector<std::string> args{"--fuse", "off", "--preload", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    return daemon.start(args);
  }
  DaemonProcess daemon;
};

TEST_F(ClockDaemonTest, AManualClockStandsStillUntilAdvancedByFractionsOfASecond) {
  ASSERT_TRUE(start({"--clock", "manual", "--clock-start", "2030-01-02T03:04:05Z"})) << daemon.log();
  auto clock = call(daemon, "GET", "/clock");
  ASSERT_EQ(clock.status, 200);
  EXPECT_EQ(text(clock.body, "mode"), "manual");
  EXPECT_EQ(text(clock.body, "now"), "2030-01-02T03:04:05.000000Z");
  EXPECT_EQ(number(clock.body, "unix"), kStartUnix);
  EXPECT_FALSE(clock.body.contains("scale"));
  EXPECT_TRUE(clock.body.contains("pending_timers"));
  EXPECT_TRUE(clock.body.contains("next_deadline"));

  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(text(call(daemon, "GET", "/clock").body, "now"), "2030-01-02T03:04:05.000000Z") << "real time does not move it";

  auto advanced = call(daemon, "POST", "/clock/advance?seconds=0.25");
  ASSERT_EQ(advanced.status, 200) << advanced.body;
  EXPECT_EQ(text(advanced.body, "now"), "2030-01-02T03:04:05.250000Z");
  EXPECT_EQ(number(advanced.body, "moved_seconds"), 0.25);
  EXPECT_TRUE(advanced.body.contains("fired"));
  advanced = call(daemon, "POST", "/clock/advance?seconds=3600");
  EXPECT_EQ(text(advanced.body, "now"), "2030-01-02T04:04:05.250000Z");
  EXPECT_EQ(number(advanced.body, "unix"), kStartUnix + 3600.25);

  auto set = call(daemon, "POST", "/clock/set?time=2031-06-01T00:00:00.5Z");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(text(set.body, "now"), "2031-06-01T00:00:00.500000Z");
  set = call(daemon, "POST", "/clock/set?time=2030-01-01T00:00:00Z");
  ASSERT_EQ(set.status, 200) << "back in time too";
  EXPECT_EQ(text(call(daemon, "GET", "/clock").body, "now"), "2030-01-01T00:00:00.000000Z");

  // WS-Man answers carry the firmware's time (the HTTP Date header of an anonymous Identify).
  int fd = connectLoopback(daemon.httpPort());
  ASSERT_GE(fd, 0);
  const std::string identify =
      "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
      "xmlns:i=\"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd\"><s:Header/><s:Body><i:Identify/>"
      "</s:Body></s:Envelope>";
  std::string request = "POST /wsman HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/soap+xml\r\nContent-Length: " +
                        std::to_string(identify.size()) + "\r\nConnection: close\r\n\r\n" + identify;
  ASSERT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  EXPECT_NE(response.find("Date: Tue, 01 Jan 2030 00:00:00 GMT"), std::string::npos) << response;
}

TEST_F(ClockDaemonTest, BadValuesAre400AndAClockThatIsNotManual409) {
  ASSERT_TRUE(start({"--clock", "manual"})) << daemon.log();
  const auto before = text(call(daemon, "GET", "/clock").body, "now");
  for (const std::string target :
       {"/clock/advance", "/clock/advance?seconds=", "/clock/advance?seconds=abc", "/clock/advance?seconds=-1",
        "/clock/advance?seconds=0", "/clock/advance?seconds=1e3", "/clock/advance?seconds=315576000.001",
        "/clock/advance?seconds=1&extra=2", "/clock/advance?seconds=0.0000000001", "/clock/set",
        "/clock/set?time=tomorrow", "/clock/set?time=2030-02-30T00:00:00Z", "/clock/set?time=2030-01-01T00:00:00",
        "/clock/set?time=2100-01-01T00:00:00Z"}) {
    auto a = call(daemon, "POST", target);
    EXPECT_EQ(a.status, 400) << target;
    EXPECT_FALSE(text(a.body, "error").empty()) << target << ": a JSON error naming what was wrong";
  }
  EXPECT_EQ(text(call(daemon, "POST", "/clock/advance?seconds=abc").body, "error"),
            "seconds=abc: expected a decimal number such as 120 or 0.25 (digits, optionally '.' and up to nine digits)");
  EXPECT_EQ(text(call(daemon, "POST", "/clock/advance").body, "error"),
            "seconds is required, e.g. /clock/advance?seconds=120 or seconds=0.25");
  EXPECT_EQ(text(call(daemon, "POST", "/clock/advance?seconds=400000000").body, "error"),
            "seconds=400000000: must be at most 315576000 (ten years)");
  EXPECT_EQ(text(call(daemon, "GET", "/clock").body, "now"), before) << "nothing moved it";
  EXPECT_EQ(call(daemon, "GET", "/clock/advance?seconds=1").status, 405);
  EXPECT_EQ(call(daemon, "GET", "/clock?x=1").status, 400);
  EXPECT_EQ(call(daemon, "POST", "/clock/advance?seconds=315576000").status, 200) << "ten years is allowed";
  ASSERT_TRUE(daemon.stop() == 0);

  ASSERT_TRUE(start({})) << daemon.log();  // the real clock
  auto real = call(daemon, "GET", "/clock");
  ASSERT_EQ(real.status, 200);
  EXPECT_EQ(text(real.body, "mode"), "real");
  const double unixNow = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(number(real.body, "unix"), unixNow, 5);
  auto refused = call(daemon, "POST", "/clock/advance?seconds=1");
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(text(refused.body, "error"),
            "the firmware clock of device default is real: only a manual clock (--clock manual) is moved by hand");
  EXPECT_EQ(call(daemon, "POST", "/clock/set?time=2030-01-01T00:00:00Z").status, 409);
  EXPECT_EQ(call(daemon, "POST", "/clock/advance?seconds=bad").status, 400) << "a bad value is named first";
}

TEST_F(ClockDaemonTest, AScaledClockRunsNTimesAsFast) {
  ASSERT_TRUE(start({"--clock", "scaled:3600", "--clock-start", "2030-01-02T03:04:05Z"})) << daemon.log();
  auto first = call(daemon, "GET", "/clock");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(text(first.body, "mode"), "scaled");
  EXPECT_EQ(number(first.body, "scale"), 3600);
  EXPECT_GE(number(first.body, "unix"), kStartUnix);
  const auto realBefore = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(250ms);
  auto second = call(daemon, "GET", "/clock");
  const double realSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - realBefore).count();
  const double firmwareSeconds = number(second.body, "unix") - number(first.body, "unix");
  EXPECT_GE(firmwareSeconds, 0.25 * 3600) << "an hour per real second";
  EXPECT_LE(firmwareSeconds, (realSeconds + 0.1) * 3600);
  EXPECT_EQ(call(daemon, "POST", "/clock/advance?seconds=1").status, 409);
}

TEST_F(ClockDaemonTest, EachDeviceHasItsOwnClock) {
  auto config = daemon.runtimeDir() / "mesim.conf";
  std::ofstream(config) << "[device.lab2]\nclock = manual\nclock-start = 2030-01-02T03:04:05Z\nhttp-port = 0\n";
  ASSERT_TRUE(start({"--config", config.string()})) << daemon.log();
  EXPECT_EQ(text(call(daemon, "GET", "/clock").body, "mode"), "real");
  EXPECT_EQ(text(call(daemon, "GET", "/devices/lab2/clock").body, "mode"), "manual");
  EXPECT_EQ(call(daemon, "POST", "/clock/advance?seconds=5").status, 409);
  auto moved = call(daemon, "POST", "/devices/lab2/clock/advance?seconds=5");
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(text(moved.body, "now"), "2030-01-02T03:04:10.000000Z");
  EXPECT_EQ(call(daemon, "GET", "/devices/nosuch/clock").status, 404);
}

// Security timers are firmware time too: a lockout lasts its span of the firmware clock, however long real time.
TEST_F(ClockDaemonTest, ALoginLockoutEndsWithFirmwareTimeNotRealTime) {
  ASSERT_TRUE(start({"--clock", "manual", "--login-lockout-threshold", "3", "--login-lockout-initial", "60s",
                     "--login-lockout-max", "60s"}))
      << daemon.log();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(WsmanDigestClient(daemon.httpPort(), "admin", "wrong").post(wsmanGetGeneralSettings()).status, 401u);
  EXPECT_EQ(WsmanDigestClient(daemon.httpPort()).post(wsmanGetGeneralSettings()).status, 401u) << "locked out";
  std::this_thread::sleep_for(200ms);
  ASSERT_EQ(call(daemon, "POST", "/clock/advance?seconds=59.5").status, 200);
  EXPECT_EQ(WsmanDigestClient(daemon.httpPort()).post(wsmanGetGeneralSettings()).status, 401u)
      << "still locked half a second of firmware time before the end";
  ASSERT_EQ(call(daemon, "POST", "/clock/advance?seconds=0.5").status, 200);
  EXPECT_EQ(WsmanDigestClient(daemon.httpPort()).post(wsmanGetGeneralSettings()).status, 200u)
      << "60 s of firmware time later the lockout is over";
}

TEST_F(ClockDaemonTest, BadClockOptionsStopTheStartWithAClearMessage) {
  EXPECT_FALSE(start({"--clock", "fast"}));
  EXPECT_NE(daemon.log().find("--clock 'fast': takes real, scaled:N (e.g. scaled:60, scaled:0.5) or manual"),
            std::string::npos)
      << daemon.log();
  EXPECT_FALSE(start({"--clock", "scaled:0"}));
  EXPECT_NE(daemon.log().find("scaled:N takes a factor from 0.001 to 1000000"), std::string::npos) << daemon.log();
  EXPECT_FALSE(start({"--clock-start", "2030-01-02T03:04:05Z"}));
  EXPECT_NE(daemon.log().find("--clock-start sets where a scaled or manual clock starts"), std::string::npos)
      << daemon.log();
  EXPECT_FALSE(start({"--clock", "manual", "--clock-start", "yesterday"}));
  EXPECT_NE(daemon.log().find("--clock-start: expected an ISO-8601 UTC time"), std::string::npos) << daemon.log();
}

TEST(ClockHelp, MesimHelpDescribesTheClockOptions) {
  std::string out;
  FILE* p = ::popen((mesimBinary().string() + " --help").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ASSERT_EQ(::pclose(p), 0);
  EXPECT_NE(out.find("--clock arg"), std::string::npos) << out;
  EXPECT_NE(out.find("scaled:N"), std::string::npos);
  EXPECT_NE(out.find("--clock-start arg"), std::string::npos);
}

}  // namespace
}  // namespace mesim::test
