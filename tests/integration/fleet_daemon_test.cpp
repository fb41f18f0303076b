// A seeded fleet in the real daemon (docs/fleet.md): three devices with distinct identities that a restart with
// another seed does not change, that a second state dir with the same seed reproduces, and that a shard holding
// only device 3 reproduces too; device 3 reached by the control API, mesimctl, the metrics and WS-Man on its own
// ports (the port-base layout on 127.0.0.1).
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "common/text_codecs.h"
#include "firmware/platform/identity_seed.h"
#include "tests/support/daemon_process.h"
#include "tests/support/program_run.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;

constexpr unsigned kDevices = 3;
constexpr unsigned kStride = 5;
const std::string kSeed = "ctest-fleet";

bool canBind(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return free;
}

// A run of ports nobody listens on, for the fleet's layout (tests run in parallel: start where this pid points).
std::uint16_t freePortBase() {
  for (unsigned attempt = 0; attempt < 200; ++attempt) {
    // Below the kernel's ephemeral range (32768 and up by default): the default device and every other test's
    // listener take port 0, and one of those landed inside a run chosen up there.
    const auto base = static_cast<std::uint16_t>(20000 + ((::getpid() + attempt * 7919) % 1200) * 10);
    bool all = true;
    for (unsigned p = 0; p < kDevices * kStride && all; ++p) all = canBind(static_cast<std::uint16_t>(base + p));
    if (all) return base;
  }
  return 0;
}

std::string fleetName(unsigned n) { return "fleet-000" + std::to_string(n); }

class SeededFleet : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = freePortBase();
    ASSERT_NE(base_, 0) << "no free run of ports";
  }

  std::vector<std::string> fleetArgs(const std::string& seed, unsigned count = kDevices, unsigned firstIndex = 1) {
    return {"--fuse", "off", "--preload", "off", "--fleet", std::to_string(count), "--fleet-seed", seed,
            "--fleet-first-index", std::to_string(firstIndex), "--fleet-address", "127.0.0.1",
            "--fleet-port-base", std::to_string(base_)};
  }

  static boost::json::object status(DaemonProcess& daemon, const std::string& device) {
    auto r = daemon.get("/devices/" + device + "/status");
    EXPECT_EQ(r.substr(0, 3), "200") << r;
    return r.size() > 4 ? boost::json::parse(r.substr(4)).as_object() : boost::json::object{};
  }

  // Each device's identity as /status shows it: name -> uuid.
  static std::map<std::string, std::string> uuids(DaemonProcess& daemon, unsigned first, unsigned count) {
    std::map<std::string, std::string> out;
    for (unsigned n = first; n < first + count; ++n) {
      auto s = status(daemon, fleetName(n));
      if (!s.contains("identity")) {
        ADD_FAILURE() << fleetName(n) << ": no identity in " << boost::json::serialize(s);
        continue;
      }
      out[fleetName(n)] = std::string(s["identity"].as_object()["uuid"].as_string());
    }
    return out;
  }

  std::uint16_t base_ = 0;
};

TEST_F(SeededFleet, DistinctReproducibleIdentitiesAndDeviceThreeReachedEveryWay) {
  DaemonProcess first;
  ASSERT_TRUE(first.start(fleetArgs(kSeed), 20s)) << first.log();
  const auto seen = uuids(first, 1, kDevices);
  ASSERT_EQ(seen.size(), kDevices);
  std::set<std::string> distinct;
  for (const auto& [name, uuid] : seen) distinct.insert(uuid);
  EXPECT_EQ(distinct.size(), kDevices) << "each device its own UUID";

  // Device 3's identity is the documented derivation of (seed, 3), computed here without the daemon.
  platform::IdentityDerivation expected({kSeed, "fleet/3"});
  EXPECT_EQ(seen.at("fleet-0003"), text::uuidText(expected.uuid()));
  auto three = status(first, "fleet-0003");
  auto identity = three["identity"].as_object();
  EXPECT_EQ(identity["host_name"].as_string(), "fleet-0003");
  std::string wired(identity["wired_mac"].as_string());
  wired.erase(std::remove(wired.begin(), wired.end(), ':'), wired.end());
  EXPECT_EQ(wired, text::toHex(expected.wiredMac()));
  EXPECT_EQ(identity["digest_realm"].as_string(), expected.digestRealm());

  // mesimctl --device reaches it.
  auto ctl = runProgram({MESIMCTL_BINARY, "--url", "http://127.0.0.1:" + std::to_string(first.controlPort()),
                         "--device", "fleet-0003", "status"},
                        {}, 30s);
  EXPECT_EQ(ctl.status, 0) << ctl.output;
  EXPECT_NE(ctl.output.find(seen.at("fleet-0003")), std::string::npos) << ctl.output;
  EXPECT_NE(ctl.output.find("\"name\": \"fleet-0003\""), std::string::npos) << ctl.output;

  // The metrics carry it by name, as every device.
  auto metrics = first.get("/metrics");
  for (unsigned n = 1; n <= kDevices; ++n)
    EXPECT_NE(metrics.find("mesim_device_ready{device=\"" + fleetName(n) + "\"} 1"), std::string::npos) << n;
  EXPECT_NE(first.get("/devices/fleet-0003/metrics").find("device=\"fleet-0003\""), std::string::npos);

  // WS-Man on device 3's own port (base + 2 * stride): its host name and the UUID as AMT prints it.
  WsmanDigestClient wsman(static_cast<std::uint16_t>(base_ + 2 * kStride));
  auto general = wsman.post(wsmanGetGeneralSettings());
  ASSERT_EQ(general.status, 200) << general.body;
  EXPECT_NE(general.body.find(">fleet-0003</"), std::string::npos) << general.body;
  auto package = wsman.post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
                                          "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystemPackage"));
  ASSERT_EQ(package.status, 200) << package.body;
  const std::string guid = text::toHex(text::uuidToMixedEndian(expected.uuid()), text::LetterCase::Upper);
  EXPECT_NE(package.body.find(">" + guid + "</"), std::string::npos) << guid << "\n" << package.body;
  EXPECT_EQ(first.stop(), 0);

  // A restart with another seed keeps what platform.json holds.
  DaemonProcess restarted(first.stateDir(), first.runtimeDir());
  ASSERT_TRUE(restarted.start(fleetArgs("another-seed"), 20s)) << restarted.log();
  EXPECT_EQ(uuids(restarted, 1, kDevices), seen);
  EXPECT_EQ(restarted.stop(), 0);

  // Another state dir with the same seed: the same fleet.
  DaemonProcess elsewhere;
  ASSERT_TRUE(elsewhere.start(fleetArgs(kSeed), 20s)) << elsewhere.log();
  EXPECT_EQ(uuids(elsewhere, 1, kDevices), seen);
  EXPECT_EQ(elsewhere.stop(), 0);

  // A shard holding only device 3 (first-index 3): the same device 3, at the shard's first ports.
  DaemonProcess shard;
  ASSERT_TRUE(shard.start(fleetArgs(kSeed, 1, 3), 20s)) << shard.log();
  EXPECT_EQ(uuids(shard, 3, 1).at("fleet-0003"), seen.at("fleet-0003"));
  EXPECT_EQ(shard.get("/devices/fleet-0001/status").substr(0, 3), "404");
  WsmanDigestClient shardWsman(base_);
  auto shardGeneral = shardWsman.post(wsmanGetGeneralSettings());
  ASSERT_EQ(shardGeneral.status, 200) << shardGeneral.body;
  EXPECT_NE(shardGeneral.body.find(">fleet-0003</"), std::string::npos);
  EXPECT_EQ(shard.stop(), 0);

  for (auto* d : {&first, &elsewhere, &shard}) {
    std::error_code ec;
    std::filesystem::remove_all(d->stateDir(), ec);
    std::filesystem::remove_all(d->runtimeDir(), ec);
  }
}

}  // namespace
}  // namespace mesim::test
