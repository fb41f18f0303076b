// RequestPowerStateChange over the real daemon's WS-Man port runs --power-hook with the old and new
// states, so QA can make a VM or container play the host (issue 3, spec/wsman.md §3.3).
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "tests/support/daemon_process.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(PowerHook, RunsOnEveryChangeWithTheStates) {
  auto dir = makeTempDir("hook");
  auto record = dir / "changes.txt";
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off", "--power-hook",
                            "echo \"$MESIM_POWER_OLD $MESIM_POWER_NEW $MESIM_POWER_REQUEST\" >> " + record.string()}))
      << daemon.log();
  WsmanDigestClient client(daemon.httpPort());
  auto off = client.post(wsmanRequestPowerStateChange(8));  // Off-Soft
  ASSERT_EQ(off.status, 200u) << off.error << off.body;
  EXPECT_NE(off.body.find("<g:ReturnValue>0</g:ReturnValue>"), std::string::npos) << off.body;
  auto on = client.post(wsmanRequestPowerStateChange(2));
  ASSERT_EQ(on.status, 200u) << on.error << on.body;
  auto again = client.post(wsmanRequestPowerStateChange(2));  // already on: refused with a ReturnValue, no hook run
  EXPECT_EQ(again.status, 200u);
  EXPECT_EQ(again.body.find("<g:ReturnValue>0</g:ReturnValue>"), std::string::npos) << again.body;
  std::string changes;
  for (int i = 0; i < 200 && std::count(changes.begin(), changes.end(), '\n') < 2; ++i) {
    std::this_thread::sleep_for(10ms);
    changes = slurp(record);
  }
  EXPECT_EQ(changes, "2 8 8\n8 2 2\n");
  daemon.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mesim::test
