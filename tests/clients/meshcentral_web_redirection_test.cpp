// MeshCentral's amt-redir-ws (node_modules/meshcentral, unchanged) against the firmware's own WebSocket,
// /ws-redirection on 16992, with no relay: in node (`ws`, MeshCentral's own dependency), the WebSocket it is given
// opens the device's path and answers the upgrade's 401 with Digest, as a browser does (meshcentral_web_sol.js).
// The script's own protocol runs over the frames: its Digest login (type 4), SOL settings, and text typed on the
// simulated OS's console that comes back. A wrong password never gets past the 401. Without node or the npm
// packages the test skips and says why (scripts/test.sh installs them).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/program_run.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
const fs::path kClientsDir = MESIM_CLIENTS_DIR;
constexpr char kPassword[] = "P@ssw0rd";

// The program's path on PATH, or empty.
std::string which(const std::string& program) {
  FILE* pipe = ::popen(("command -v " + program + " 2>/dev/null").c_str(), "r");
  if (!pipe) return {};
  char buf[512] = {};
  std::string out = std::fgets(buf, sizeof buf, pipe) ? buf : "";
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

TEST(MeshCentralWebRedirection, AmtRedirWsSerialOverLanOnTheFirmwaresOwnWebSocket) {
  const std::string node = which("node");
  if (node.empty()) GTEST_SKIP() << "node is not installed (scripts/test.sh installs nodejs)";
  if (!fs::exists(kClientsDir / "node_modules/ws") ||
      !fs::exists(kClientsDir / "node_modules/meshcentral/public/scripts/amt-redir-ws-0.1.0.js"))
    GTEST_SKIP() << "MeshCentral's scripts or ws are missing: run npm ci in tests/clients (scripts/test.sh does)";
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
  ASSERT_EQ(daemon.post("/clock/advance?seconds=6").substr(0, 3), "200");  // the 5 s boot
  const std::string script = (kClientsDir / "meshcentral_web_sol.js").string();
  const std::string port = std::to_string(daemon.httpPort());

  auto run = runProgram({node, script, port, "admin", kPassword, "mesh-web-sol", "20"}, {}, 40s);
  ASSERT_EQ(run.status, 0) << run.output << "\ndaemon: " << daemon.log();
  EXPECT_NE(run.output.find("\"state\":3"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\"http_status\":101"), std::string::npos) << run.output;
  const std::string raw = daemon.get("/status");
  ASSERT_GT(raw.size(), 4u);
  auto status = boost::json::parse(raw.substr(4));
  EXPECT_EQ(status.at("redirection").at("web_sessions").to_number<unsigned>(), 1u) << raw;
  EXPECT_EQ(status.at("redirection").at("sol_sessions").to_number<unsigned>(), 1u) << raw;

  auto wrong = runProgram({node, script, port, "admin", "Wr0ng-pass", "mesh-web-sol", "10"}, {}, 30s);
  EXPECT_NE(wrong.status, 0) << wrong.output;
  EXPECT_NE(wrong.output.find("\"http_status\":401"), std::string::npos) << wrong.output;
  EXPECT_EQ(wrong.output.find("\"state\":3"), std::string::npos) << "never in session: " << wrong.output;
}

}  // namespace
}  // namespace mesim::test
