// Scenarios against the real daemon: posted (POST /scenarios, through the client mesimctl uses), read back,
// refused with line and column, one at a time per device, cancelled; and run at start with --scenario, whose
// --scenario-exit status tells CI the verdict.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include <boost/json.hpp>
#include <pugixml.hpp>

#include "qa/junit_report.h"
#include "qa/scenario_client.h"
#include "tests/support/control_call.h"
#include "tests/support/daemon_process.h"
#include "tests/support/event_subscriber.h"
#include "tests/support/program_run.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class ScenarioDaemonTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& f : files_) std::filesystem::remove(f);
  }

  bool start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--fuse", "off", "--preload", "off", "--event-retry-interval", "100ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    return daemon_.start(args);
  }

  qa::HttpCall http() {
    return [this](const std::string& m, const std::string& t, const std::string& b) { return controlCall(daemon_.controlPort(), m, t, b); };
  }
  qa::HttpAnswer call(const std::string& method, const std::string& target, const std::string& body = "") {
    auto r = controlCall(daemon_.controlPort(), method, target, body);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : qa::HttpAnswer{};
  }

  std::string file(const std::string& name, const std::string& text) {
    auto path = daemon_.runtimeDir() / name;
    std::ofstream(path) << text;
    files_.push_back(path);
    return path.string();
  }

  void subscribe(const std::string& url) {
    WsmanDigestClient client(daemon_.httpPort());
    auto r = client.post(wsmanSubscribePush(url));
    ASSERT_EQ(r.status, 200u) << r.error << r.body;
  }

  DaemonProcess daemon_;
  std::vector<std::filesystem::path> files_;
};

TEST_F(ScenarioDaemonTest, APostedScenarioRaisesAnAlertThatReachesTheSubscriber) {
  ASSERT_TRUE(start());
  EventSubscriber subscriber;
  subscribe(subscriber.url());
  const std::string where = "127.0.0.1:" + std::to_string(subscriber.port());
  auto scenario = file("raise.yaml", R"(
name: a raised alert reaches the subscriber
steps:
  - name: raise iAMT0005
    do: POST /events/raise
    params: {messageId: iAMT0005, arg: scenario, category: AgentPresence}
  - expect:
      alert_delivered: {message_id: iAMT0005, subscriber: ")" + where + R"(", within: 5s}
expect:
  - name: one alert raised
    get: /status
    path: events.raised
    equals: 1
  - name: nothing else delivered
    get: /status
    path: events.subscriptions.0.delivered_by_message
    equals: {iAMT0005: 1}
)");
  auto batch = qa::runScenarioFiles(http(), {scenario}, {});
  EXPECT_EQ(batch.exitCode, 0) << batch.output << json::serialize(batch.reports.at(0));
  ASSERT_EQ(batch.reports.size(), 1u);
  const auto& report = batch.reports[0];
  EXPECT_EQ(report.at("state").as_string(), "passed");
  EXPECT_EQ(report.at("device").as_string(), "default");
  EXPECT_EQ(report.at("steps").at(0).at("status").to_number<int>(), 200);
  EXPECT_EQ(subscriber.count(), 1u);
  EXPECT_NE(subscriber.received().at(0).body.find("iAMT0005"), std::string::npos);
  pugi::xml_document junit;
  ASSERT_TRUE(junit.load_string(qa::junitXml(batch.reports).c_str()));
  EXPECT_EQ(junit.child("testsuites").attribute("tests").as_int(), 4);
  EXPECT_EQ(junit.child("testsuites").attribute("failures").as_int(), 0);

  // Read back: the list, the report, and /status.
  auto list = json::parse(call("GET", "/scenarios").body).as_object();
  ASSERT_EQ(list.at("scenarios").as_array().size(), 1u);
  const std::string id(list.at("scenarios").at(0).at("id").as_string());
  auto again = call("GET", "/devices/default/scenarios/" + id);
  EXPECT_EQ(again.status, 200u);
  EXPECT_EQ(json::parse(again.body).at("state").as_string(), "passed");
  auto status = json::parse(call("GET", "/status").body).as_object();
  EXPECT_EQ(status.at("scenarios").at("passed").to_number<int>(), 1);
  EXPECT_TRUE(status.at("scenarios").at("running").is_null());
  EXPECT_TRUE(daemon_.waitForLog("scenario " + id + " 'a raised alert reaches the subscriber' passed"));
}

TEST_F(ScenarioDaemonTest, AFailedExpectationIsReportedWithWhatWasFound) {
  ASSERT_TRUE(start());
  auto scenario = file("fail.yaml", R"(
name: expects too much
steps:
  - {do: POST /events/raise, params: {messageId: iAMT0005}}
expect:
  - {name: five raised, get: /status, path: events.raised, equals: 5, within: 200ms}
)");
  auto batch = qa::runScenarioFiles(http(), {scenario}, {});
  EXPECT_EQ(batch.exitCode, 1) << batch.output;
  const auto& e = batch.reports.at(0).at("expectations").at(0);
  EXPECT_EQ(e.at("state").as_string(), "failed");
  EXPECT_EQ(e.at("actual").as_string(), "1");
  EXPECT_NE(batch.output.find("expectation 1 'five raised': events.raised equals 5 did not hold"), std::string::npos)
      << batch.output;
  EXPECT_TRUE(daemon_.waitForLog("expectation 1 'five raised': events.raised equals 5 did not hold"));
}

TEST_F(ScenarioDaemonTest, BadRequestsAreRefusedClearly) {
  ASSERT_TRUE(start());
  auto bad = call("POST", "/scenarios", "name: x\nsteps:\n  - do: POST /events/raise\n    wihtin: 2s\n");
  EXPECT_EQ(bad.status, 400u);
  auto error = json::parse(bad.body).as_object();
  EXPECT_EQ(error.at("line").to_number<int>(), 4);
  EXPECT_EQ(error.at("column").to_number<int>(), 5);
  EXPECT_NE(error.at("error").as_string().find("unknown key 'wihtin'"), std::string::npos) << bad.body;
  EXPECT_EQ(call("POST", "/scenarios", "").status, 400u);
  EXPECT_EQ(call("POST", "/scenarios", "name: [unclosed\n").status, 400u);
  EXPECT_EQ(call("POST", "/scenarios?x=1", "name: x\nsteps: [{wait: 1s}]\n").status, 400u);
  auto noDevice = call("POST", "/scenarios", "name: x\ndevice: nosuch\nsteps: [{wait: 1s}]\n");
  EXPECT_EQ(noDevice.status, 404u);
  EXPECT_NE(noDevice.body.find("nosuch"), std::string::npos);
  EXPECT_EQ(call("GET", "/scenarios/99").status, 404u);
  EXPECT_EQ(call("DELETE", "/scenarios/99").status, 404u);
  EXPECT_EQ(call("PUT", "/scenarios").status, 405u);

  // One at a time on a device; a running one can be cancelled, an ended one not.
  auto first = call("POST", "/scenarios", "name: long\nsteps:\n  - wait: 1h\n");
  ASSERT_EQ(first.status, 202u) << first.body;
  const auto href = std::string(json::parse(first.body).at("href").as_string());
  auto second = call("POST", "/scenarios", "name: second\nsteps: [{wait: 1s}]\n");
  EXPECT_EQ(second.status, 409u);
  EXPECT_NE(second.body.find("one runs at a time"), std::string::npos) << second.body;
  EXPECT_FALSE(json::parse(call("GET", "/status").body).at("scenarios").at("running").is_null());
  auto cancelled = call("DELETE", href);
  EXPECT_EQ(cancelled.status, 200u);
  EXPECT_EQ(json::parse(cancelled.body).at("state").as_string(), "cancelled");
  EXPECT_EQ(call("DELETE", href).status, 409u);
  EXPECT_EQ(call("POST", "/scenarios", "name: second\nsteps: [{do: POST /events/raise, params: {messageId: iAMT0005}}]\n").status, 202u);
}

TEST_F(ScenarioDaemonTest, AStepThatFailsStopsTheScenario) {
  ASSERT_TRUE(start());
  auto scenario = file("step.yaml", R"(
name: a step fails
steps:
  - do: POST /faults/no-such-fault
  - do: POST /events/raise
    params: {messageId: iAMT0005}
)");
  auto batch = qa::runScenarioFiles(http(), {scenario}, {});
  EXPECT_EQ(batch.exitCode, 1);
  const auto& steps = batch.reports.at(0).at("steps");
  EXPECT_EQ(steps.at(0).at("state").as_string(), "failed");
  EXPECT_EQ(steps.at(0).at("error").as_string(), "POST /faults/no-such-fault answered 404: no such endpoint");
  EXPECT_EQ(steps.at(1).at("state").as_string(), "not run");
  EXPECT_EQ(json::parse(call("GET", "/status").body).at("events").at("raised").to_number<int>(), 0);
}

TEST_F(ScenarioDaemonTest, MesimctlRunsFilesAndWritesJunit) {
  ASSERT_TRUE(start());
  auto passing = file("pass.yaml", "name: raises\nsteps:\n  - {do: POST /events/raise, params: {messageId: iAMT0005}}\n"
                                   "expect:\n  - {get: /status, path: events.raised, at_least: 1}\n");
  auto failing = file("fail.yaml", "name: wants ten\nexpect:\n  - {name: ten raised, get: /status, path: events.raised, equals: 10}\n");
  auto bad = file("bad.yaml", "name: bad\nsteps:\n  - wait: 5\n");
  const auto junit = (daemon_.runtimeDir() / "results.xml").string();
  files_.push_back(junit);
  auto mesimctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), MESIMCTL_BINARY);
    return runProgram(args, {"MESIMCTL_URL=http://127.0.0.1:" + std::to_string(daemon_.controlPort())}, 30s, {"MESIMCTL_"});
  };

  auto ok = mesimctl({"scenario", "run", passing, "--junit", junit});
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("PASS " + passing + ": 'raises' passed"), std::string::npos) << ok.output;

  auto mixed = mesimctl({"scenario", "run", passing, failing, "--junit", junit});
  EXPECT_EQ(mixed.status, 1) << mixed.output;
  EXPECT_NE(mixed.output.find("  expectation 1 'ten raised': events.raised equals 10 did not hold"), std::string::npos)
      << mixed.output;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_file(junit.c_str()));
  EXPECT_EQ(doc.child("testsuites").attribute("failures").as_int(), 1);
  EXPECT_EQ(std::distance(doc.child("testsuites").children("testsuite").begin(), doc.child("testsuites").children("testsuite").end()), 2);

  auto refused = mesimctl({"scenario", "run", bad});
  EXPECT_EQ(refused.status, 2) << refused.output;
  EXPECT_NE(refused.output.find("line 3, column 11"), std::string::npos) << refused.output;

  auto list = mesimctl({"scenario", "list"});
  EXPECT_EQ(list.status, 0) << list.output;
  EXPECT_NE(list.output.find("wants ten"), std::string::npos) << list.output;
  auto show = mesimctl({"scenario", "show", "1"});
  EXPECT_EQ(show.status, 0);
  EXPECT_NE(show.output.find("\"state\": \"passed\""), std::string::npos) << show.output;
  EXPECT_EQ(mesimctl({"scenario", "cancel", "1"}).status, 1);  // it has ended: 409
}

TEST_F(ScenarioDaemonTest, PowerStateIsEightAfterThePowerButtonOnTheManualClock) {
  ASSERT_TRUE(start({"--clock", "manual"}));
  auto scenario = file("power.yaml", R"(
name: the power button shuts the host down in order
steps:
  - wait_until: {host_os: running, within: 5m}
  - do: POST /host/power-button
  - expect: {power_state: 8, within: 2m}
  - expect: {host_os: "off", within: 1m}
)");
  auto batch = qa::runScenarioFiles(http(), {scenario}, {});
  EXPECT_EQ(batch.exitCode, 0) << batch.output << json::serialize(batch.reports.at(0));
  const auto& report = batch.reports.at(0);
  EXPECT_EQ(report.at("clock").as_string(), "manual");
  EXPECT_EQ(report.at("expectations").at(1).at("name").as_string(), "power state is 8 within 120s");
  EXPECT_LT(report.at("real_seconds").to_number<double>(), 2.0);
}

TEST_F(ScenarioDaemonTest, ScenarioFilesAtStartDecideTheExitStatus) {
  const auto dir = makeTempDir("scenario-files");
  auto write = [&](const std::string& name, const std::string& text) {
    auto path = dir / name;
    std::ofstream(path) << text;
    return path.string();
  };
  const auto passing = write("pass.yaml", "name: raises\nsteps:\n  - {do: POST /events/raise, params: {messageId: iAMT0005}}\n"
                                          "expect:\n  - {get: /status, path: events.raised, equals: 1}\n");
  const auto failing = write("fail.yaml", "name: wants two\nexpect:\n  - {get: /status, path: events.raised, equals: 2}\n");
  const auto broken = write("broken.yaml", "name: broken\nsteps:\n  - wait: 5\n");

  ASSERT_TRUE(start({"--scenario", passing, "--scenario-exit"}));
  int status = daemon_.stop(0);  // signal 0: no signal, only the wait for its own exit
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << daemon_.log();
  EXPECT_NE(daemon_.log().find("the --scenario files ran: all passed"), std::string::npos);

  DaemonProcess second(daemon_.stateDir());
  ASSERT_TRUE(second.start({"--fuse", "off", "--preload", "off", "--scenario", passing, "--scenario", failing,
                            "--scenario-exit"}));
  status = second.stop(0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << second.log();
  EXPECT_NE(second.log().find("'wants two' failed"), std::string::npos) << second.log();
  EXPECT_NE(second.log().find("events.raised equals 2 did not hold"), std::string::npos);

  // A file that does not parse stops the start, naming the file, line and column.
  DaemonProcess third(daemon_.stateDir());
  EXPECT_FALSE(third.start({"--fuse", "off", "--preload", "off", "--scenario", broken}, 5s));
  EXPECT_NE(third.log().find("--scenario " + broken + ": line 3, column 11: wait: '5' needs a unit"), std::string::npos)
      << third.log();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mesim::test
