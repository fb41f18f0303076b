// The firmware web UI in headless Chromium (Debian's chromium, driven over the DevTools protocol by
// webui_browser.js; issue 14 item 9): log on through the logon page with Digest, read the status page, power the
// host off from the remote-control page (its JS confirm accepted) and see PowerState 8 over WS-Man, add a user on
// the user-accounts page and log on as it, which shows the pages its realms allow and 403 for the others.
// Screenshots: ${build}/artifacts/webui-*.png. Skipped without node or chromium.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/program_run.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
const fs::path kClientsDir = MESIM_CLIENTS_DIR;
const fs::path kArtifactsDir = fs::path(MESIM_BUILD_DIR) / "artifacts";
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

std::string wsmanPowerState(std::uint16_t port) {
  WsmanDigestClient client(port);
  const auto body =
      client
          .post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
                              "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService",
                              "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><OptimizeEnumeration "
                              "xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"/></Enumerate>"))
          .body;
  const auto at = body.find(":PowerState>");
  if (at == std::string::npos) return "none in " + body;
  const auto start = at + std::string_view(":PowerState>").size();
  return body.substr(start, body.find('<', start) - start);
}

std::string text(const boost::json::value& result, const char* step, const char* field = "text") {
  const auto* object = result.as_object().if_contains(step);
  if (!object || !object->is_object()) return {};
  const auto* value = object->as_object().if_contains(field);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

TEST(WebUiChromium, LogOnPowerOffAndAddAUserInHeadlessChromium) {
  const std::string node = which("node"), chromium = which("chromium");
  if (node.empty()) GTEST_SKIP() << "node is not installed (scripts/test.sh installs nodejs)";
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/test.sh installs Debian's chromium)";
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
  const auto port = daemon.httpPort();
  ASSERT_EQ(wsmanPowerState(port), "2");

  for (const char* shot : {"logon", "index", "remote-before", "remote", "user-form", "acl", "viewer-index", "viewer-acl"})
    fs::remove(kArtifactsDir / (std::string("webui-") + shot + ".png"));
  const fs::path resultPath = makeTempDir("webui-chromium") / "result.json";
  auto run = runProgram({node, (kClientsDir / "webui_browser.js").string(), chromium,
                         "http://127.0.0.1:" + std::to_string(port), kPassword, kArtifactsDir.string(),
                         resultPath.string(), "60"},
                        {}, 80s);
  std::ifstream resultFile(resultPath);
  const std::string resultText((std::istreambuf_iterator<char>(resultFile)), {});
  boost::system::error_code ec;
  auto result = boost::json::parse(resultText, ec);
  ASSERT_FALSE(ec) << run.output << "\ndaemon: " << daemon.log();
  ASSERT_EQ(run.status, 0) << resultText.substr(0, 8000) << "\n" << run.output << "\ndaemon: " << daemon.log();

  EXPECT_TRUE(contains(text(result, "logon"), "Log On")) << resultText;
  EXPECT_EQ(text(result, "index", "url"), "/index.htm");
  EXPECT_TRUE(contains(text(result, "index"), "System Status")) << text(result, "index");
  EXPECT_TRUE(contains(text(result, "index"), "Computer: mesim"));
  EXPECT_TRUE(contains(text(result, "remoteBefore"), "Power state: On"));
  EXPECT_TRUE(contains(text(result, "remoteAfter"), "Power state: Off")) << text(result, "remoteAfter");
  ASSERT_TRUE(result.at("dialogs").is_array());
  EXPECT_EQ(result.at("dialogs").as_array().size(), 1u) << "the confirm before the command";
  const auto state = wsmanPowerState(port);
  EXPECT_TRUE(state == "8" || state == "6") << state;
  EXPECT_TRUE(contains(text(result, "acl"), "The user webviewer was added.")) << text(result, "acl");
  EXPECT_TRUE(contains(text(result, "viewerIndex"), "System Status")) << text(result, "viewerIndex");
  EXPECT_TRUE(contains(text(result, "viewerAcl"), "Forbidden")) << text(result, "viewerAcl");
  for (const char* shot : {"logon", "index", "remote", "acl", "viewer-index"})
    EXPECT_TRUE(fs::exists(kArtifactsDir / (std::string("webui-") + shot + ".png"))) << shot;
}

}  // namespace
}  // namespace mesim::test
