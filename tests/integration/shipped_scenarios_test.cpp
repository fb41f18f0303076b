// Each file of scenarios/ against the real daemon on the manual clock, after what its header says it needs: a
// subscriber, an LMS that reconnects, an agent-presence watchdog. Run as QA runs them: through mesimctl's client.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <boost/json.hpp>

#include "qa/scenario_client.h"
#include "tests/support/control_call.h"
#include "tests/support/daemon_process.h"
#include "tests/support/event_subscriber.h"
#include "tests/support/lms_host.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::string kAgentPresence = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_AgentPresenceWatchdog";
const std::string kDeviceId = "AAECAwQFBgcICQoLDA0ODw==";  // the agent GUID 00..0f, base64 as consoles send it

class ShippedScenarios : public ::testing::Test {
 protected:
  bool start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--clock", "manual", "--preload", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    return daemon_.start(args);
  }

  // Runs scenarios/NAME; its report. Fails the test when it did not pass.
  json::object run(const std::string& name) {
    const auto file = (std::filesystem::path(MESIM_SOURCE_DIR) / "scenarios" / name).string();
    auto batch = qa::runScenarioFiles(
        [this](const std::string& m, const std::string& t, const std::string& b) { return controlCall(daemon_.controlPort(), m, t, b); },
        {file}, {});
    EXPECT_EQ(batch.exitCode, 0) << batch.output << json::serialize(batch.reports.at(0)) << "\n" << daemon_.log();
    return batch.reports.at(0);
  }

  void subscribe(const std::string& url) {
    WsmanDigestClient client(daemon_.httpPort());
    auto r = client.post(wsmanSubscribePush(url));
    ASSERT_EQ(r.status, 200u) << r.error << r.body;
  }

  HttpAnswer wsman(const std::string& body) {
    WsmanDigestClient client(daemon_.httpPort());
    return client.post(body);
  }

  DaemonProcess daemon_;
};

TEST_F(ShippedScenarios, HostCrashAlertInUnderASecond) {
  ASSERT_TRUE(start({"--fuse", "off"}));
  EventSubscriber subscriber;
  subscribe(subscriber.url());
  auto report = run("host-crash-alert.yaml");
  EXPECT_LT(report.at("real_seconds").to_number<double>(), 1.0) << json::serialize(report);
  EXPECT_GE(report.at("firmware_seconds").to_number<double>(), 60.0);
  ASSERT_EQ(subscriber.count(), 1u);
  EXPECT_NE(subscriber.received().at(0).body.find("PLAT0322"), std::string::npos);
}

TEST_F(ShippedScenarios, SubscriberDownThenUpGetsTheAlertOnce) {
  ASSERT_TRUE(start({"--fuse", "off"}));
  EventSubscriber subscriber;
  subscribe(subscriber.url());
  run("subscriber-down-up.yaml");
  EXPECT_EQ(subscriber.count(), 1u);
}

TEST_F(ShippedScenarios, MeResetDuringAnLmsSession) {
  if (!start({"--fuse", "on"})) GTEST_SKIP() << "no FUSE here: " << daemon_.log();
  // LMS as it behaves: when its MEI connection ends it tears down and connects again.
  std::atomic<bool> stopping{false};
  std::thread lms([&] {
    LmsHost host([&] { return std::make_unique<FdMeiTransport>(daemon_.meiDevice().string()); });
    while (!stopping) {
      if (host.start() == 0)
        while (!stopping && !host.waitFor([&] { return host.deinitialized(); }, 100ms)) {
        }
      host.stop();
      std::this_thread::sleep_for(50ms);
    }
  });
  auto report = run("me-reset-lms.yaml");
  EXPECT_LT(report.at("real_seconds").to_number<double>(), 10.0) << json::serialize(report);
  stopping = true;
  lms.join();
}

TEST_F(ShippedScenarios, AgentPresenceExpiry) {
  ASSERT_TRUE(start({"--fuse", "off"}));
  EventSubscriber subscriber;
  subscribe(subscriber.url());
  const std::string selector = "<w:Selector Name=\"DeviceID\">" + kDeviceId + "</w:Selector>";
  auto created = wsman(wsmanEnvelope(
      "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create", kAgentPresence,
      "<h:AMT_AgentPresenceWatchdog xmlns:h=\"" + kAgentPresence + "\"><h:CreationClassName>AMT_AgentPresenceWatchdog"
      "</h:CreationClassName><h:DeviceID>" + kDeviceId + "</h:DeviceID><h:StartupInterval>60</h:StartupInterval>"
      "<h:SystemCreationClassName>CIM_ComputerSystem</h:SystemCreationClassName><h:SystemName>Intel(r) AMT"
      "</h:SystemName><h:TimeoutInterval>60</h:TimeoutInterval></h:AMT_AgentPresenceWatchdog>"));
  ASSERT_EQ(created.status, 200u) << created.body;
  auto invoke = [&](const std::string& method, const std::string& input) {
    auto r = wsman(wsmanEnvelope(kAgentPresence + "/" + method, kAgentPresence,
                                 "<h:" + method + "_INPUT xmlns:h=\"" + kAgentPresence + "\">" + input + "</h:" + method + "_INPUT>",
                                 "1", selector));
    EXPECT_EQ(r.status, 200u) << method << ": " << r.body;
    return r.body;
  };
  // An event on any transition into Expired (8), as MeshCentral's agent-presence setup asks.
  invoke("AddAction", "<h:OldState>31</h:OldState><h:NewState>8</h:NewState><h:EventOnTransition>true</h:EventOnTransition>"
                      "<h:ActionSd>0</h:ActionSd><h:ActionEac>0</h:ActionEac>");
  auto registered = invoke("RegisterAgent", "");
  const auto at = registered.find("SessionSequenceNumber>");
  ASSERT_NE(at, std::string::npos) << registered;
  const auto sequence = std::stoul(registered.substr(at + 22));
  invoke("AssertPresence", "<h:SequenceNumber>" + std::to_string(sequence + 1) + "</h:SequenceNumber>");
  run("agent-presence-expiry.yaml");
  ASSERT_GE(subscriber.count(), 1u);
  bool expiry = false;
  for (const auto& r : subscriber.received()) expiry = expiry || r.body.find("iAMT0005") != std::string::npos;
  EXPECT_TRUE(expiry);
}

}  // namespace
}  // namespace mesim::test
