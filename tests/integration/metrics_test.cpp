// GET /metrics on the real daemon with two devices (issue 11 item 6): WS-Man, MEI, alerts and faults move the
// series of their own device only; a made-up class cannot add series; promtool accepts the exposition; every family
// is documented in docs/metrics.md.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/daemon_process.h"
#include "tests/support/event_subscriber.h"
#include "tests/support/program_run.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;

const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A GET with its headers: "HTTP/1.1 200 OK\r\n...\r\n\r\nbody".
std::string rawGet(std::uint16_t port, const std::string& target) {
  int fd = connectLoopback(port);
  if (fd < 0) return "";
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::write(fd, request.data(), request.size()) < 0) {
    ::close(fd);
    return "";
  }
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return response;
}

// Series text (name and labels, as written) -> value.
std::map<std::string, double> samplesOf(const std::string& exposition) {
  std::map<std::string, double> samples;
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

std::set<std::string> familiesOf(const std::string& exposition) {
  std::set<std::string> names;
  static const std::regex type(R"(^# TYPE (\S+) (counter|gauge)$)", std::regex::multiline);
  for (std::sregex_iterator it(exposition.begin(), exposition.end(), type), end; it != end; ++it) names.insert((*it)[1]);
  return names;
}

std::string subscribeRequest(const std::string& url) {
  return wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe", kCim + "CIM_FilterCollection",
                       "<e:Subscribe xmlns:e=\"http://schemas.xmlsoap.org/ws/2004/08/eventing\"><e:Delivery Mode=\""
                       "http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck\"><e:NotifyTo><a:Address>" +
                           url + "</a:Address></e:NotifyTo></e:Delivery></e:Subscribe>",
                       "1", "<w:Selector Name=\"InstanceID\">Intel(r) AMT:All</w:Selector>");
}

class MetricsTest : public ::testing::Test {
 protected:
  // Default device "a" from the command line, "b" from a [device.b] section; MEI through the preload socket.
  void SetUp() override {
    dir_ = makeTempDir("metrics");
    std::ofstream(dir_ / "mesim.conf") << "[device.b]\nevent-retry-interval = 100ms\n";
    ASSERT_TRUE(daemon_.start({"--name", "a", "--config", (dir_ / "mesim.conf").string(), "--fuse", "off",
                               "--event-retry-interval", "100ms"}))
        << daemon_.log();
    ASSERT_TRUE(portOf("a", portA_) && portOf("b", portB_)) << daemon_.log();
  }
  void TearDown() override {
    daemon_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  bool portOf(const std::string& name, std::uint16_t& port) {
    std::regex line("\\[" + name + "\\] mesim: device ready in \\d+ ms: .*WS-Man http://[0-9.]+:(\\d+)/wsman");
    std::smatch m;
    const std::string log = daemon_.log();
    if (!std::regex_search(log, m, line)) return false;
    port = static_cast<std::uint16_t>(std::stoi(m[1]));
    return true;
  }

  std::string metrics(const std::string& target = "/metrics") {
    auto r = daemon_.get(target);
    EXPECT_EQ(r.substr(0, 3), "200") << r;
    return r.size() > 4 ? r.substr(4) : "";
  }

  // One AMTHI request and its answer on `device`'s dev/mei0, by an unmodified C program through the preload library.
  void meiRoundTrip(const std::string& device) {
    const auto runtime = device == "a" ? daemon_.runtimeDir() : daemon_.runtimeDir() / "devices" / device;
    auto run = runProgram({MESIM_C_CLIENT, "/dev/mei0", "amthi-provisioning-state"},
                          {"LD_PRELOAD=" + std::string(MESIM_PRELOAD_LIBRARY), "MESIM_RUNTIME_DIR=" + runtime.string()},
                          10s);
    ASSERT_EQ(run.status, 0) << run.output;
    ASSERT_NE(run.output.find("provisioning_state=2"), std::string::npos) << run.output;
  }

  DaemonProcess daemon_;
  std::filesystem::path dir_;
  std::uint16_t portA_ = 0, portB_ = 0;
};

TEST_F(MetricsTest, EachDevicesSeriesMoveWithItsOwnTraffic) {
  const auto raw = rawGet(daemon_.controlPort(), "/metrics");
  ASSERT_EQ(raw.rfind("HTTP/1.1 200", 0), 0u) << raw;
  EXPECT_NE(raw.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos) << raw;
  auto before = samplesOf(metrics());
  EXPECT_EQ(before["mesim_devices"], 2);
  EXPECT_EQ(before["mesim_devices_ready"], 2);
  EXPECT_EQ(before["mesim_device_ready{device=\"a\"}"], 1);
  EXPECT_EQ(before["mesim_device_ready{device=\"b\"}"], 1);
  EXPECT_GT(before["process_resident_memory_bytes"], 0);
  EXPECT_GT(before["process_open_fds"], 0);
  EXPECT_GT(before["process_start_time_seconds"], 1.6e9);
  EXPECT_EQ(before.count("mesim_alerts_raised_total{device=\"a\"}"), 1u);

  // WS-Man: a Get on a; three made-up classes on b end up in one "unknown" series.
  WsmanDigestClient a(portA_), b(portB_);
  ASSERT_EQ(a.post(wsmanGetGeneralSettings()).status, 200u);
  for (const char* madeUp : {"AMT_NoSuchClass1", "AMT_NoSuchClass2", "Evil\"Class\n"}) {
    auto r = b.post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", kAmt + madeUp));
    EXPECT_EQ(r.status, 400u) << r.body;
  }
  ASSERT_EQ(a.post(wsmanRequestPowerStateChange(8)).status, 200u);

  // MEI: one AMTHI round trip on b.
  meiRoundTrip("b");

  // Alerts: a subscriber on a, an alert raised on a and delivered.
  EventSubscriber subscriber;
  auto subscribed = a.post(subscribeRequest(subscriber.url()));
  ASSERT_EQ(subscribed.status, 200u) << subscribed.body;
  ASSERT_EQ(daemon_.post("/devices/a/events/raise?messageId=iAMT0005&arg=x").substr(0, 3), "200");
  ASSERT_TRUE(subscriber.waitFor(1, 5s));

  // A fault on b.
  ASSERT_EQ(daemon_.post("/devices/b/faults/firmware-reset").substr(0, 3), "200");

  std::string text = metrics();
  // Delivery is counted once the subscriber's Ack is read: give the loop a moment.
  for (int i = 0; i < 200 && samplesOf(text)["mesim_alerts_delivered_total{device=\"a\"}"] < 1; ++i) {
    std::this_thread::sleep_for(10ms);
    text = metrics();
  }
  auto after = samplesOf(text);
  EXPECT_EQ(after["mesim_wsman_requests_total{device=\"a\",operation=\"Get\",class=\"AMT_GeneralSettings\",status=\"ok\"}"], 1)
      << text;
  EXPECT_EQ(after["mesim_wsman_requests_total{device=\"a\",operation=\"Invoke\",class=\"CIM_PowerManagementService\","
                  "method=\"RequestPowerStateChange\",status=\"ok\"}"],
            1)
      << text;
  EXPECT_EQ(after["mesim_wsman_requests_total{device=\"b\",operation=\"Get\",class=\"unknown\",status=\"DestinationUnreachable\"}"], 3)
      << text;
  EXPECT_EQ(text.find("NoSuchClass"), std::string::npos) << "no series of a client's making";
  EXPECT_EQ(text.find("Evil"), std::string::npos);
  EXPECT_EQ(after.count("mesim_wsman_requests_total{device=\"b\",operation=\"Get\",class=\"AMT_GeneralSettings\",status=\"ok\"}"), 0u);
  EXPECT_GE(after["mesim_wsman_http_errors_total{device=\"a\",reason=\"unauthorized\"}"], 1) << "the Digest challenge";
  EXPECT_GE(after["mesim_wsman_digest_logins_total{device=\"a\",result=\"success\"}"], 3);

  auto moved = [&](const std::string& series) { return after[series] - before[series]; };
  EXPECT_EQ(moved("mesim_mei_messages_total{device=\"b\",client=\"AMTHI\",direction=\"to_firmware\"}"), 1) << text;
  EXPECT_EQ(moved("mesim_mei_messages_total{device=\"b\",client=\"AMTHI\",direction=\"to_host\"}"), 1);
  EXPECT_EQ(moved("mesim_mei_bytes_total{device=\"b\",client=\"AMTHI\",direction=\"to_firmware\"}"), 12);
  EXPECT_EQ(moved("mesim_mei_bytes_total{device=\"b\",client=\"AMTHI\",direction=\"to_host\"}"), 20);
  EXPECT_EQ(moved("mesim_mei_messages_total{device=\"a\",client=\"AMTHI\",direction=\"to_firmware\"}"), 0);
  EXPECT_EQ(after.count("mesim_mei_messages_total{device=\"a\",client=\"MKHI-fix\",direction=\"to_host\"}"), 1u);

  EXPECT_EQ(after["mesim_alerts_raised_total{device=\"a\"}"], 1);
  EXPECT_EQ(after["mesim_alerts_raised_total{device=\"b\"}"], 0);
  EXPECT_EQ(after["mesim_alerts_delivered_total{device=\"a\"}"], 1) << text;
  EXPECT_EQ(after["mesim_alert_subscription_delivered_total{device=\"a\",subscription=\"1\"}"], 1);
  EXPECT_EQ(after["mesim_alert_subscription_queued{device=\"a\",subscription=\"1\"}"], 0);
  EXPECT_EQ(after["mesim_alert_subscriptions{device=\"a\"}"], 1);
  EXPECT_EQ(after["mesim_alert_subscriptions{device=\"b\"}"], 0);

  EXPECT_EQ(after["mesim_faults_injected_total{device=\"b\",kind=\"firmware-reset\"}"], 1) << text;
  EXPECT_EQ(after.count("mesim_faults_injected_total{device=\"a\",kind=\"firmware-reset\"}"), 0u);
  EXPECT_EQ(moved("mesim_hbm_resets_total{device=\"b\"}"), 1);
  EXPECT_EQ(moved("mesim_hbm_resets_total{device=\"a\"}"), 0);
  EXPECT_GE(after["mesim_control_connections_total"], before["mesim_control_connections_total"] + 3);
}

TEST_F(MetricsTest, OneDevicesMetricsAndWrongMethods) {
  ASSERT_EQ(daemon_.post("/devices/b/faults/me-stop").substr(0, 3), "200");
  const std::string b = metrics("/devices/b/metrics");
  auto samples = samplesOf(b);
  EXPECT_EQ(samples["mesim_faults_injected_total{device=\"b\",kind=\"me-stop\"}"], 1) << b;
  EXPECT_EQ(b.find("device=\"a\""), std::string::npos) << b;
  EXPECT_EQ(b.find("process_"), std::string::npos) << "the process's series only at /metrics";
  EXPECT_NE(metrics("/devices/a/metrics").find("mesim_device_ready{device=\"a\"} 1"), std::string::npos);
  EXPECT_EQ(daemon_.post("/metrics").substr(0, 3), "405");
  EXPECT_EQ(daemon_.post("/devices/b/metrics").substr(0, 3), "405");
  EXPECT_EQ(daemon_.get("/devices/c/metrics").substr(0, 3), "404");
  // A refused fault is not counted.
  EXPECT_EQ(daemon_.post("/devices/b/faults/no-such-fault").substr(0, 3), "404");
  EXPECT_EQ(metrics("/devices/b/metrics").find("no-such-fault"), std::string::npos);
}

// Prometheus's own checker accepts what a busy daemon exposes, and docs/metrics.md names every family.
TEST_F(MetricsTest, PromtoolAcceptsTheExpositionAndTheDocsListEveryFamily) {
  WsmanDigestClient a(portA_);
  ASSERT_EQ(a.post(wsmanGetGeneralSettings()).status, 200u);
  ASSERT_EQ(daemon_.post("/events/raise?messageId=iAMT0005").substr(0, 3), "200");
  ASSERT_EQ(daemon_.post("/devices/b/faults/firmware-reset").substr(0, 3), "200");
  meiRoundTrip("a");
  const std::string text = metrics();

  const std::string docs = slurp(std::filesystem::path(MESIM_SOURCE_DIR) / "docs" / "metrics.md");
  const auto families = familiesOf(text);
  EXPECT_GE(families.size(), 40u);
  for (const auto& name : families) EXPECT_NE(docs.find("`" + name + "`"), std::string::npos) << name << " undocumented";

  std::string promtool;
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"})
    if (::access((std::string(dir) + "/promtool").c_str(), X_OK) == 0) promtool = std::string(dir) + "/promtool";
  if (promtool.empty()) GTEST_SKIP() << "promtool not installed (Debian package prometheus): exposition not linted";
  const auto file = dir_ / "metrics.txt";
  std::ofstream(file) << text;
  auto run = runProgram({"/bin/sh", "-c", promtool + " check metrics < '" + file.string() + "'"}, {}, 30s);
  EXPECT_EQ(run.status, 0) << run.output << "\n" << text;
  EXPECT_EQ(run.output, "") << "lint findings";
}

}  // namespace
}  // namespace mesim::test
