// What CI gets from scenarios: JUnit XML (well-formed, counts, a <failure> per failed expectation or step, an
// <error> per run that could not go on) and the client mesimctl uses (post, poll, exit status, cancel on timeout).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <boost/json.hpp>
#include <pugixml.hpp>

#include "qa/junit_report.h"
#include "qa/scenario_client.h"

namespace mesim::qa {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

json::object report(const std::string& text) { return json::parse(text).as_object(); }

const char* kFailedReport = R"({
  "id": "3", "name": "crash <alert> & more", "device": "default", "state": "failed", "clock": "manual",
  "firmware_seconds": 130, "real_seconds": 0.25, "summary": "'crash' failed: 1/2 expectations passed",
  "steps": [
    {"number": 1, "name": "POST /host/os-crash", "at": "0s", "state": "done", "do": "POST /host/os-crash"},
    {"number": 2, "name": "wait 5s", "at": "5s", "state": "done", "wait": true},
    {"number": 3, "name": "raise", "at": "6s", "state": "not run", "do": "POST /events/raise"}],
  "expectations": [
    {"number": 1, "name": "alert delivered", "get": "/status", "path": "a", "check": "equals 1",
     "state": "passed", "checks": 2, "actual": "1"},
    {"number": 2, "name": "power state is 8", "get": "/host", "path": "power_state", "check": "equals 8",
     "state": "failed", "checks": 1, "actual": "2", "why": "power_state equals 8 did not hold at 130s (found 2)\u0001"},
    {"number": 3, "name": "later", "state": "not run"}]
})";

TEST(JunitReport, IsWellFormedWithAFailurePerFailedExpectation) {
  auto xml = junitXml({report(kFailedReport), report(R"({"name": "b.yaml", "file": "b.yaml", "state": "error",
                                                         "error": "line 3, column 5: unknown key 'wihtin'"})")});
  pugi::xml_document doc;
  auto parsed = doc.load_string(xml.c_str());
  ASSERT_TRUE(parsed) << parsed.description() << "\n" << xml;
  auto root = doc.child("testsuites");
  EXPECT_EQ(root.attribute("tests").as_int(), 6);  // 2 actions + 3 expectations + 1 run error
  EXPECT_EQ(root.attribute("failures").as_int(), 1);
  EXPECT_EQ(root.attribute("errors").as_int(), 1);
  EXPECT_EQ(root.attribute("skipped").as_int(), 2);

  auto suite = root.child("testsuite");
  EXPECT_STREQ(suite.attribute("name").value(), "crash <alert> & more");
  EXPECT_EQ(suite.attribute("tests").as_int(), 5);
  EXPECT_STREQ(suite.attribute("time").value(), "0.250") << "fixed seconds, as JUnit readers expect";
  EXPECT_STREQ(suite.child("properties").find_child_by_attribute("property", "name", "firmware_seconds").attribute("value").value(), "130.000");
  EXPECT_STREQ(suite.child("properties").find_child_by_attribute("property", "name", "clock").attribute("value").value(), "manual");
  auto failure = suite.find_child_by_attribute("testcase", "name", "expectation 2: power state is 8").child("failure");
  ASSERT_TRUE(failure);
  EXPECT_STREQ(failure.attribute("message").value(), "power_state equals 8 did not hold at 130s (found 2)?");
  EXPECT_NE(std::string(failure.text().get()).find("last found 2"), std::string::npos);
  EXPECT_TRUE(suite.find_child_by_attribute("testcase", "name", "step 3: raise (at 6s)").child("skipped"));
  EXPECT_FALSE(suite.find_child_by_attribute("testcase", "name", "expectation 1: alert delivered").first_child());
  EXPECT_FALSE(suite.find_child_by_attribute("testcase", "name", "step 2: wait 5s (at 5s)"));  // waits are no test

  auto errored = suite.next_sibling("testsuite");
  auto error = errored.child("testcase").child("error");
  ASSERT_TRUE(error);
  EXPECT_STREQ(error.attribute("message").value(), "line 3, column 5: unknown key 'wihtin'");
}

// A fake control API: POST /scenarios answers as told, GET the report after `runningPolls` polls.
struct FakeApi {
  unsigned postStatus = 202;
  std::string postBody = R"({"id":"1","href":"/devices/default/scenarios/1","state":"running"})";
  int runningPolls = 2;
  std::string finalState = "passed";
  std::vector<std::string> requests;

  Result<HttpAnswer> operator()(const std::string& method, const std::string& target, const std::string& body) {
    requests.push_back(method + " " + target);
    if (method == "POST") {
      lastBody = body;
      return HttpAnswer{postStatus, postBody};
    }
    if (method == "DELETE")
      return HttpAnswer{200, R"({"id":"1","name":"n","state":"cancelled","summary":"'n' cancelled","steps":[],"expectations":[]})"};
    if (runningPolls-- > 0) return HttpAnswer{200, R"({"id":"1","name":"n","state":"running"})"};
    return HttpAnswer{200, R"({"id":"1","name":"n","state":")" + finalState + R"(","summary":"'n' )" + finalState +
                               R"(","steps":[],"expectations":[{"number":1,"name":"e","state":")" +
                               (finalState == "passed" ? "passed" : "failed") + R"(","why":"never held"}]})"};
  }
  std::string lastBody;
};

ScenarioClientOptions quick() {
  ScenarioClientOptions options;
  options.sleep = [](std::chrono::milliseconds) {};
  return options;
}

std::string tempFile(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("mesim-scenario-report-test-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(ScenarioClient, PostsPollsAndReports) {
  FakeApi api;
  auto options = quick();
  options.routePrefix = "/devices/b";
  auto r = runScenario(std::ref(api), "name: n\n", options);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->at("state").as_string(), "passed");
  EXPECT_EQ(api.lastBody, "name: n\n");
  ASSERT_EQ(api.requests.size(), 4u);
  EXPECT_EQ(api.requests[0], "POST /devices/b/scenarios");
  EXPECT_EQ(api.requests[1], "GET /devices/default/scenarios/1");  // the href it was given
}

TEST(ScenarioClient, ExitStatusAndOutputForPassedFailedAndBadFiles) {
  auto good = tempFile("good.yaml", "name: n\n");
  FakeApi passing;
  auto batch = runScenarioFiles(std::ref(passing), {good}, quick());
  EXPECT_EQ(batch.exitCode, 0);
  EXPECT_EQ(batch.output, "PASS " + good + ": 'n' passed\n");

  FakeApi failing;
  failing.finalState = "failed";
  batch = runScenarioFiles(std::ref(failing), {good}, quick());
  EXPECT_EQ(batch.exitCode, 1);
  EXPECT_NE(batch.output.find("FAIL " + good), std::string::npos);
  EXPECT_NE(batch.output.find("  expectation 1 'e': never held"), std::string::npos) << batch.output;

  FakeApi refusing;
  refusing.postStatus = 400;
  refusing.postBody = R"({"error":"line 2, column 1: unknown key 'x'","line":2,"column":1})";
  batch = runScenarioFiles(std::ref(refusing), {good, "/nonexistent/x.yaml"}, quick());
  EXPECT_EQ(batch.exitCode, 2);
  ASSERT_EQ(batch.reports.size(), 2u);
  EXPECT_EQ(batch.reports[0].at("error").as_string(), "POST /scenarios answered 400: line 2, column 1: unknown key 'x'");
  EXPECT_EQ(batch.reports[1].at("error").as_string(), "cannot read /nonexistent/x.yaml");
  EXPECT_NE(batch.output.find("ERROR /nonexistent/x.yaml: cannot read"), std::string::npos);
  // Both still show in JUnit, as errors.
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(junitXml(batch.reports).c_str()));
  EXPECT_EQ(doc.child("testsuites").attribute("errors").as_int(), 2);
  std::filesystem::remove(good);
}

TEST(ScenarioClient, ATimeoutCancelsTheScenario) {
  FakeApi api;
  api.runningPolls = 1'000'000;
  auto options = quick();
  options.timeout = 0ms;
  auto r = runScenario(std::ref(api), "name: n\n", options);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->at("state").as_string(), "cancelled");
  EXPECT_EQ(api.requests.back(), "DELETE /devices/default/scenarios/1");
  EXPECT_NE(r->at("error").as_string().find("cancelled by mesimctl"), std::string::npos);
}

TEST(ScenarioClient, NoDaemonIsAnError) {
  auto refused = [](const std::string&, const std::string&, const std::string&) -> Result<HttpAnswer> {
    return fail("connection refused");
  };
  auto r = runScenario(refused, "name: n\n", quick());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "connection refused");
  auto good = tempFile("unreachable.yaml", "name: n\n");
  EXPECT_EQ(runScenarioFiles(refused, {good}, quick()).exitCode, 3);
  std::filesystem::remove(good);
}

TEST(ScenarioClient, ReportFilesAreWrittenWhole) {
  auto path = std::filesystem::temp_directory_path() / ("mesim-junit-" + std::to_string(::getpid()) + ".xml");
  ASSERT_TRUE(writeReportFile(path.string(), "<testsuites/>\n"));
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "<testsuites/>\n");
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  std::filesystem::remove(path);
  EXPECT_FALSE(writeReportFile("/nonexistent-dir/x.xml", "x"));
}

}  // namespace
}  // namespace mesim::qa
