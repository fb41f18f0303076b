// MeshCommander's hardware page (commander.htm's PullHardware/processHardware, through MeshCentral's amt.js) on the
// daemon: a desktop as generated, and a laptop described in <state dir>/hardware.json, whose battery section and
// overridden values must show. Without node or the npm packages the test skips and says why.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/support/daemon_process.h"
#include "tests/support/program_run.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
const fs::path kClientsDir = MESIM_CLIENTS_DIR;
constexpr char kPassword[] = "P@ssw0rd";

std::string which(const std::string& program) {
  FILE* pipe = ::popen(("command -v " + program + " 2>/dev/null").c_str(), "r");
  if (!pipe) return {};
  char buf[512] = {};
  std::string out = std::fgets(buf, sizeof buf, pipe) ? buf : "";
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

class MeshCommanderHardware : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = which("node");
    if (node_.empty()) GTEST_SKIP() << "node is not installed (scripts/test.sh installs nodejs)";
    if (!fs::exists(kClientsDir / "node_modules/meshcentral/amt/amt.js"))
      GTEST_SKIP() << "MeshCentral is missing: run npm ci in tests/clients (scripts/test.sh does)";
  }
  ProgramRun page(DaemonProcess& daemon, bool battery) {
    return runProgram({node_, (kClientsDir / "meshcommander_hardware.js").string(), std::to_string(daemon.httpPort()),
                       "admin", kPassword, battery ? "1" : "0"},
                      {}, 60s);
  }
  std::string node_;
};

TEST_F(MeshCommanderHardware, ADesktopAsGenerated) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off", "--admin-password", kPassword})) << daemon.log();
  auto run = page(daemon, false);
  EXPECT_EQ(run.status, 0) << run.output << "\ndaemon: " << daemon.log();
  EXPECT_EQ(run.output.find("FAIL"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("OK asset table UUID"), std::string::npos) << run.output;
}

TEST_F(MeshCommanderHardware, ALaptopFromHardwareJson) {
  DaemonProcess daemon;
  std::ofstream(daemon.stateDir() / "hardware.json")
      << R"({"system": {"product_name": "QA Laptop 14"}, "chassis": {"type": 10},
             "disks": [{"model": "QA Disk 1", "serial_number": "QA-SN-1"}, {"model": "QA Disk 2", "serial_number": "QA-SN-2"}],
             "battery": {"manufacturer": "QA Cells", "design_capacity_mwh": 57000, "manufacture_date": "2024-06-01"}})";
  ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off", "--admin-password", kPassword})) << daemon.log();
  auto run = page(daemon, true);
  EXPECT_EQ(run.status, 0) << run.output << "\ndaemon: " << daemon.log();
  for (const char* shown : {"\"model\":\"QA Laptop 14\"", "{\"model\":\"QA Disk 1\",\"serial\":\"QA-SN-1\"",
                            "{\"model\":\"QA Disk 2\",\"serial\":\"QA-SN-2\"", "\"manufacturer\":\"QA Cells\"",
                            "\"date\":\"2024-06-01\"", "\"capacity\":57000"})
    EXPECT_NE(run.output.find(shown), std::string::npos) << shown << " not on the page:\n" << run.output;
}

}  // namespace
}  // namespace mesim::test
