// The control API as QA meets it: docs/control-api.md documents exactly the daemon's route table, and mesimctl (the
// real binary) drives the real daemon: reads, actions, errors and exit codes.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <boost/json/parse.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/program_run.h"

namespace mesim {
namespace {

using namespace std::chrono_literals;

class ControlApiTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off"})) << daemon.log(); }

  test::ProgramRun mesimctl(std::vector<std::string> args) {
    args.insert(args.begin(), MESIMCTL_BINARY);
    return test::runProgram(args, {"MESIMCTL_URL=http://127.0.0.1:" + std::to_string(daemon.controlPort())}, 30s,
                            {"MESIMCTL_"});
  }

  boost::json::value json(const std::string& text) {
    boost::system::error_code ec;
    auto value = boost::json::parse(text, ec);
    EXPECT_FALSE(ec) << text;
    return value;
  }

  test::DaemonProcess daemon;
};

TEST_F(ControlApiTest, TheDocsDescribeEveryRouteAndNoOther) {
  const auto answer = daemon.get("/routes");
  ASSERT_EQ(answer.substr(0, 3), "200") << answer;
  const auto table = json(answer.substr(4));  // kept: the loop below walks into it
  std::set<std::string> served;
  for (const auto& route : table.at("routes").as_array())
    served.insert(std::string(route.at("method").as_string()) + " " + std::string(route.at("path").as_string()));
  served.insert("GET /devices");
  served.insert("GET /routes");

  std::ifstream file(std::string(MESIM_SOURCE_DIR) + "/docs/control-api.md");
  ASSERT_TRUE(file);
  std::stringstream text;
  text << file.rdbuf();
  std::set<std::string> documented;
  static const std::regex heading(R"(^### (GET|POST|PUT|DELETE) (/\S*)\s*$)");
  std::string line;
  while (std::getline(text, line)) {
    std::smatch m;
    if (std::regex_match(line, m, heading)) documented.insert(m[1].str() + " " + m[2].str());
  }
  for (const auto& route : served) EXPECT_TRUE(documented.count(route)) << route << " is not in docs/control-api.md";
  for (const auto& route : documented) EXPECT_TRUE(served.count(route)) << route << " is documented but not served";
}

TEST_F(ControlApiTest, MesimctlReadsTheDaemon) {
  auto status = mesimctl({"status"});
  ASSERT_EQ(status.status, 0) << status.output;
  EXPECT_EQ(json(status.output).at("name").as_string(), "default");
  EXPECT_NE(status.output.find("\n  \"name\""), std::string::npos) << "indented by default";

  auto raw = mesimctl({"--json", "devices"});
  ASSERT_EQ(raw.status, 0) << raw.output;
  EXPECT_EQ(std::count(raw.output.begin(), raw.output.end(), '\n'), 1) << raw.output;
  EXPECT_EQ(json(raw.output).at("default").as_string(), "default");

  auto health = mesimctl({"health", "--wait", "5"});
  EXPECT_EQ(health.status, 0) << health.output;
  EXPECT_EQ(health.output, "ok\n");

  auto routes = mesimctl({"routes"});
  ASSERT_EQ(routes.status, 0) << routes.output;
  EXPECT_NE(routes.output.find("/events/raise"), std::string::npos);

  auto viaCall = mesimctl({"call", "GET", "/status"});
  EXPECT_EQ(viaCall.status, 0) << viaCall.output;
  auto viaDevice = mesimctl({"--device", "default", "status"});
  EXPECT_EQ(viaDevice.status, 0) << viaDevice.output;
}

TEST_F(ControlApiTest, MesimctlActsAndTheEffectIsVisible) {
  auto raised = mesimctl({"raise", "iAMT0005", "--arg", "0", "--category", "Watchdog"});
  ASSERT_EQ(raised.status, 0) << raised.output;
  EXPECT_EQ(json(raised.output).at("raised").as_string(), "iAMT0005");
  auto status = json(daemon.get("/status").substr(4));
  EXPECT_EQ(status.at("events").at("raised").to_number<int>(), 1);

  auto reset = mesimctl({"fault", "firmware-reset"});
  EXPECT_EQ(reset.status, 0) << reset.output;
  EXPECT_TRUE(daemon.waitForLog("requested through the control API")) << daemon.log();
}

TEST_F(ControlApiTest, MesimctlReportsTheDaemonsErrorsWithExitOne) {
  auto bad = mesimctl({"raise", "nonsense"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("POST /events/raise: 400: messageId must be"), std::string::npos) << bad.output;

  auto noDevice = mesimctl({"--device", "other", "status"});
  EXPECT_EQ(noDevice.status, 1);
  EXPECT_NE(noDevice.output.find("404: no device named 'other'"), std::string::npos) << noDevice.output;

  auto wrongMethod = mesimctl({"call", "DELETE", "/status"});
  EXPECT_EQ(wrongMethod.status, 1);
  EXPECT_NE(wrongMethod.output.find("405: DELETE is not allowed here (allowed: GET)"), std::string::npos)
      << wrongMethod.output;

  auto missing = mesimctl({"call", "POST", "/no/such/route"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("404: no such endpoint"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace mesim
