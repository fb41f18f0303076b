// Several devices in one mesim process (issue 9): each has its own state, listeners, log name and control routes,
// and what happens to one — a crash alert, a power change, a firmware reset, a full state dir — leaves the other
// untouched. The default device keeps today's unprefixed control routes.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <fstream>
#include <regex>
#include <thread>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;

const std::string kGeneralUri = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings";

std::string putHostName(const std::string& host) {
  return wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", kGeneralUri,
                       "<h:AMT_GeneralSettings xmlns:h=\"" + kGeneralUri + "\"><h:HostName>" + host +
                           "</h:HostName></h:AMT_GeneralSettings>");
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class TwoDevices : public ::testing::Test {
 protected:
  // Default device "a" from the command line, device "b" from a [device.b] section of the config file.
  bool start(const std::string& sectionB = "", std::vector<std::string> extra = {}) {
    dir_ = makeTempDir("devices");
    auto config = dir_ / "mesim.conf";
    std::ofstream(config) << "[device.b]\npower-hook = echo \"$MESIM_POWER_NEW\" >> " << (dir_ / "power-b.txt").string()
                          << "\n" << sectionB;
    std::vector<std::string> args{"--name", "a", "--config", config.string(), "--fuse", "off", "--power-hook",
                                  "echo \"$MESIM_POWER_NEW\" >> " + (dir_ / "power-a.txt").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    if (!daemon_.start(args)) return false;
    return portOf("a", portA_) && portOf("b", portB_);
  }

  // Each device's ready line names it and its WS-Man port.
  bool portOf(const std::string& name, std::uint16_t& port) {
    std::regex line("\\[" + name + "\\] mesim: device ready in \\d+ ms: .*WS-Man http://[0-9.]+:(\\d+)/wsman");
    std::smatch m;
    std::string log = daemon_.log();
    if (!std::regex_search(log, m, line)) return false;
    port = static_cast<std::uint16_t>(std::stoi(m[1]));
    return true;
  }

  boost::json::object status(const std::string& device) {
    auto r = daemon_.get("/devices/" + device + "/status");
    EXPECT_EQ(r.substr(0, 3), "200") << r;
    return r.size() > 4 ? boost::json::parse(r.substr(4)).as_object() : boost::json::object{};
  }

  void TearDown() override {
    daemon_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  DaemonProcess daemon_;
  std::filesystem::path dir_;
  std::uint16_t portA_ = 0, portB_ = 0;
};

TEST_F(TwoDevices, EachHasItsOwnStateListenersAndRoutes) {
  ASSERT_TRUE(start()) << daemon_.log();
  EXPECT_NE(portA_, portB_);
  EXPECT_TRUE(std::filesystem::exists(daemon_.stateDir() / "platform.json"));
  EXPECT_TRUE(std::filesystem::exists(daemon_.stateDir() / "devices" / "b" / "platform.json"));
  EXPECT_TRUE(std::filesystem::exists(daemon_.runtimeDir() / "devices" / "b" / "preload.sock"));

  auto list = boost::json::parse(daemon_.get("/devices").substr(4)).as_object();
  EXPECT_EQ(list["default"], "a");
  ASSERT_EQ(list["devices"].as_array().size(), 2u);
  EXPECT_EQ(status("a")["name"], "a");
  EXPECT_EQ(status("b")["name"], "b");
  // Unprefixed routes are the default device's.
  auto plain = boost::json::parse(daemon_.get("/status").substr(4)).as_object();
  EXPECT_EQ(plain["name"], "a");
  EXPECT_EQ(plain["devices"], 2);
  EXPECT_EQ(daemon_.get("/devices/c/status").substr(0, 3), "404");
  EXPECT_EQ(daemon_.get("/healthz").substr(0, 3), "200");
  EXPECT_EQ(daemon_.get("/devices/b/healthz").substr(0, 3), "200");

  // Two platforms: each answers WS-Man with its own identity.
  WsmanDigestClient a(portA_), b(portB_);
  auto getA = a.post(wsmanGetGeneralSettings()), getB = b.post(wsmanGetGeneralSettings());
  ASSERT_EQ(getA.status, 200u) << getA.error;
  ASSERT_EQ(getB.status, 200u) << getB.error;
  std::regex realm("<g:DigestRealm>([^<]+)</g:DigestRealm>");
  std::smatch ra, rb;
  ASSERT_TRUE(std::regex_search(getA.body, ra, realm)) << getA.body;
  ASSERT_TRUE(std::regex_search(getB.body, rb, realm)) << getB.body;
  EXPECT_NE(ra[1].str(), rb[1].str()) << "each device has its own identity (realm from its own UUID)";
}

TEST_F(TwoDevices, ACrashAlertAFirmwareResetAndAPowerChangeStayOnTheirDevice) {
  ASSERT_TRUE(start()) << daemon_.log();
  auto raised = daemon_.post("/devices/a/events/raise?messageId=iAMT0005&arg=host+crashed&category=Watchdog");
  ASSERT_EQ(raised.substr(0, 3), "200") << raised;
  EXPECT_EQ(status("a")["events"].as_object()["raised"], 1);
  EXPECT_EQ(status("b")["events"].as_object()["raised"], 0);

  auto resetsB = status("b")["firmware"].as_object()["resets"].as_int64();
  ASSERT_EQ(daemon_.post("/devices/a/faults/firmware-reset").substr(0, 3), "200");
  EXPECT_EQ(status("b")["firmware"].as_object()["resets"].as_int64(), resetsB);
  EXPECT_GT(status("a")["firmware"].as_object()["resets"].as_int64(), 0);

  WsmanDigestClient a(portA_), b(portB_);
  auto off = a.post(wsmanRequestPowerStateChange(8));
  ASSERT_EQ(off.status, 200u) << off.error;
  EXPECT_NE(off.body.find("<g:ReturnValue>0</g:ReturnValue>"), std::string::npos) << off.body;
  // b is still on: asking it to power on is refused as "already there"; b's hook never ran.
  auto onB = b.post(wsmanRequestPowerStateChange(2));
  ASSERT_EQ(onB.status, 200u);
  EXPECT_EQ(onB.body.find("<g:ReturnValue>0</g:ReturnValue>"), std::string::npos) << onB.body;
  for (int i = 0; i < 200 && slurp(dir_ / "power-a.txt").empty(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(slurp(dir_ / "power-a.txt"), "8\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "power-b.txt"));
}

TEST_F(TwoDevices, EveryLogLineOfADeviceNamesIt) {
  ASSERT_TRUE(start("", {"--log-level", "debug"})) << daemon_.log();
  ASSERT_EQ(daemon_.post("/devices/b/faults/firmware-reset").substr(0, 3), "200");
  ASSERT_TRUE(daemon_.waitForLog("[b] hbm:")) << daemon_.log();
  EXPECT_NE(daemon_.log().find("[a] mesim: device ready"), std::string::npos) << daemon_.log();
}

// b's state dir is a tiny tmpfs that fills up: b's changes fail with a fault, a's go on.
TEST_F(TwoDevices, AFullStateDirOnOneLeavesTheOtherWorking) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  auto full = makeTempDir("full");
  ASSERT_EQ(::mount("tmpfs", full.c_str(), "tmpfs", 0, "size=2m"), 0) << std::strerror(errno);
  struct Unmount {
    std::filesystem::path dir;
    ~Unmount() { ::umount2(dir.c_str(), MNT_DETACH); std::filesystem::remove(dir); }
  } unmount{full};
  ASSERT_TRUE(start("state-dir = " + full.string() + "\n")) << daemon_.log();
  {  // fill what is left
    std::ofstream filler(full / "filler", std::ios::binary);
    std::string block(64 * 1024, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size())) && filler.flush()) {
    }
  }
  WsmanDigestClient a(portA_), b(portB_);
  auto putB = b.post(putHostName("bhost"));
  EXPECT_EQ(putB.status, 500u) << putB.body;
  EXPECT_NE(putB.body.find("InternalError"), std::string::npos) << putB.body;
  auto putA = a.post(putHostName("ahost"));
  EXPECT_EQ(putA.status, 200u) << putA.body;
  EXPECT_NE(putA.body.find("<g:HostName>ahost</g:HostName>"), std::string::npos) << putA.body;
  EXPECT_NE(slurp(daemon_.stateDir() / "platform.json").find("ahost"), std::string::npos);
  EXPECT_EQ(slurp(full / "platform.json").find("bhost"), std::string::npos) << "b's old state stays whole";
  EXPECT_EQ(daemon_.get("/healthz").substr(0, 3), "200");
}

TEST(DevicesCli, ClashesAndBadNamesAreClearErrors) {
  auto dir = makeTempDir("devcfg");
  auto run = [&](const std::string& conf, const std::string& args = "") {
    std::ofstream(dir / "c.conf") << conf;
    std::string cmd = mesimBinary().string() + " --state-dir " + (dir / "s").string() + " --runtime-dir " +
                      (dir / "r").string() + " --control-port 0 --config " + (dir / "c.conf").string() + " " + args +
                      " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    int status = ::pclose(p);
    return std::pair{WEXITSTATUS(status), out};
  };
  auto [clashCode, clash] = run("[device.b]\nfuse = off\n");  // inherits 127.0.0.1:16992 from the default
  EXPECT_EQ(clashCode, 2);
  EXPECT_NE(clash.find("devices default and b both use 127.0.0.1:16992"), std::string::npos) << clash;
  auto [nameCode, name] = run("[device.b/c]\nhttp-port = 0\n");
  EXPECT_EQ(nameCode, 2) << name;
  auto [keyCode, key] = run("[device.b]\nno-such-key = 1\n");
  EXPECT_EQ(keyCode, 2);
  EXPECT_NE(key.find("device.b"), std::string::npos) << key;
  auto [fleetCode, fleet] = run("", "--fleet 3 --fleet-address 255.255.255.254");
  EXPECT_EQ(fleetCode, 2);
  EXPECT_NE(fleet.find("--fleet-address"), std::string::npos) << fleet;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mesim::test
