// The real mesim daemon, started as a process, used through its FUSE device with plain system
// calls as an unmodified host program would (spec/mei.md §1.2), and through its control API.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/mei.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "hostif/client/mei_file.h"
#include "hostif/host/mei_host.h"
#include "hostif/link/socket_link.h"
#include "tests/support/daemon_process.h"
#include "tests/support/program_run.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;

const std::uint8_t kAmthiGuid[16] = {0x28, 0x00, 0xf8, 0x12, 0xb7, 0xb4, 0x2d, 0x4b,
                                     0xac, 0xa8, 0x46, 0xe0, 0xff, 0x65, 0x81, 0x4c};

std::vector<std::uint8_t> amthiRequest(std::uint32_t command, std::vector<std::uint8_t> payload = {}) {
  std::vector<std::uint8_t> m{1, 1, 0, 0};
  for (int i = 0; i < 4; ++i) m.push_back(static_cast<std::uint8_t>(command >> (8 * i)));
  auto length = static_cast<std::uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) m.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
  m.insert(m.end(), payload.begin(), payload.end());
  return m;
}

std::uint32_t u32At(const std::vector<std::uint8_t>& b, std::size_t off) {
  return b[off] | b[off + 1] << 8 | b[off + 2] << 16 | std::uint32_t{b[off + 3]} << 24;
}

// open + CONNECT_CLIENT on a device path; returns the fd or -errno.
int openAmthi(const std::string& path, std::uint32_t* maxMsgLength = nullptr) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return -errno;
  std::uint8_t data[16];
  std::memcpy(data, kAmthiGuid, 16);
  if (::ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, data) != 0) {
    int err = errno;
    ::close(fd);
    return -err;
  }
  if (maxMsgLength) std::memcpy(maxMsgLength, data, 4);
  return fd;
}

// One AMTHI command on an open fd: write, poll (which starts the read), read.
std::vector<std::uint8_t> transact(int fd, const std::vector<std::uint8_t>& request) {
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) return {};
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1 || !(p.revents & POLLIN)) return {};
  std::vector<std::uint8_t> reply(4096);
  ssize_t n = ::read(fd, reply.data(), reply.size());
  if (n < 0) return {};
  reply.resize(static_cast<std::size_t>(n));
  return reply;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/fuse here";
    ASSERT_TRUE(daemon.start({"--fuse", "on"})) << daemon.log();
  }
  DaemonProcess daemon;
};

TEST_F(DaemonTest, HealthzStatusAndSysfs) {
  EXPECT_EQ(daemon.get("/healthz"), "200 ok\n");
  auto status = daemon.get("/status");
  EXPECT_NE(status.find("\"dev_state\":\"ENABLED\""), std::string::npos) << status;
  EXPECT_NE(daemon.log().find("ready"), std::string::npos);
  auto sysfs = daemon.runtimeDir() / "sys" / "class" / "mei" / "mei0";
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(slurp(sysfs / "dev_state"), "ENABLED");
  EXPECT_EQ(slurp(sysfs / "hbm_ver"), "2.2\n");
  EXPECT_EQ(slurp(sysfs / "kind"), "mei\n");
  // fw_ver comes from MKHI GET_FW_VERSION over HBM: the first line is the code version, 16.1.x
  auto fwVer = slurp(sysfs / "fw_ver");
  EXPECT_EQ(fwVer.rfind("0:16.1.", 0), 0u) << fwVer;
  EXPECT_EQ(std::count(fwVer.begin(), fwVer.end(), '\n'), 3);
  EXPECT_EQ(daemon.get("/nope").substr(0, 3), "404");
}

TEST_F(DaemonTest, AmthiThroughFuseWithPlainSyscalls) {
  std::uint32_t mtu = 0;
  int fd = openAmthi(daemon.meiDevice(), &mtu);
  ASSERT_GE(fd, 0) << strerror(-fd);
  EXPECT_EQ(mtu, 4096u);
  auto reply = transact(fd, amthiRequest(0x04000011));
  ASSERT_EQ(reply.size(), 20u);
  EXPECT_EQ(u32At(reply, 4), 0x04800011u);
  EXPECT_EQ(u32At(reply, 8), 8u);
  EXPECT_EQ(u32At(reply, 12), 0u);  // status
  EXPECT_EQ(u32At(reply, 16), 2u);  // post-provisioning
  reply = transact(fd, amthiRequest(0x0400006B));
  ASSERT_EQ(reply.size(), 20u);
  EXPECT_EQ(u32At(reply, 16), 2u);  // admin control mode
  reply = transact(fd, amthiRequest(0x04FFFFFF));
  ASSERT_GE(reply.size(), 16u);
  EXPECT_EQ(u32At(reply, 12), 0x803u);  // unknown command
  ::close(fd);
}

TEST_F(DaemonTest, ErrnoCasesThroughFuse) {
  const std::string dev = daemon.meiDevice();
  int fd = ::open(dev.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char buf[64];
  EXPECT_EQ(::read(fd, buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENODEV);
  std::uint8_t unknown[16] = {1, 2, 3};
  EXPECT_EQ(::ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, unknown), -1);
  EXPECT_EQ(errno, ENOTTY);
  EXPECT_EQ(::ioctl(fd, 0xC0104899, unknown), -1);
  EXPECT_EQ(errno, ENOTTY);
  std::uint8_t guid[16];
  std::memcpy(guid, kAmthiGuid, 16);
  ASSERT_EQ(::ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, guid), 0);
  std::memcpy(guid, kAmthiGuid, 16);
  EXPECT_EQ(::ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, guid), -1);
  EXPECT_EQ(errno, EBUSY);
  std::vector<std::uint8_t> big(5000, 0);
  EXPECT_EQ(::write(fd, big.data(), big.size()), -1);
  EXPECT_EQ(errno, EFBIG);
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  EXPECT_EQ(::read(fd, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  ::fcntl(fd, F_SETFL, flags);
  // a firmware reset: reads fail with ENODEV, poll reports POLLERR, the same fd reconnects
  EXPECT_EQ(daemon.post("/faults/firmware-reset").substr(0, 3), "200");
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  EXPECT_TRUE(p.revents & POLLERR);
  EXPECT_EQ(::read(fd, buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENODEV);
  int rc = -1;
  for (int i = 0; i < 200 && rc != 0; ++i) {
    std::memcpy(guid, kAmthiGuid, 16);
    rc = ::ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, guid);
    if (rc != 0) std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(rc, 0) << strerror(errno);
  EXPECT_EQ(transact(fd, amthiRequest(0x04000011)).size(), 20u);
  ::close(fd);
}

int statusNumber(const std::string& status, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(status, m, std::regex("\"" + key + "\":(\\d+)"))) return -1;
  return std::stoi(m[1]);
}

// "ready" comes once the host side has settled: the bus fixup's connection is closed (only iamt_wdt's stays) and
// dev/watchdog0 is registered, so the first /status a client reads is the steady state.
TEST_F(DaemonTest, ReadyMeansTheHostSideHasSettled) {
  const std::string status = daemon.get("/status");
  EXPECT_EQ(statusNumber(status, "connections"), 1) << status;
  EXPECT_NE(status.find("\"host_wdt\":\"IDLE\""), std::string::npos) << status;
  const int pending = statusNumber(status, "pending_calls");
  std::this_thread::sleep_for(300ms);
  const std::string later = daemon.get("/status");
  EXPECT_EQ(statusNumber(later, "connections"), 1) << later;
  EXPECT_EQ(statusNumber(later, "pending_calls"), pending) << "nothing changes on an idle daemon after ready\n"
                                                            << status << later;
}

TEST_F(DaemonTest, SixtyFourConcurrentShortLivedConnectionsLeaveNothingBehind) {
  // The daemon's own long-lived connections (the host watchdog driver's) are the baseline.
  const std::string before = daemon.get("/status");
  const int baseFiles = statusNumber(before, "open_files"), baseConnections = statusNumber(before, "connections");
  const int basePending = statusNumber(before, "pending_calls");
  ASSERT_GE(baseFiles, 0) << before;
  const std::string dev = daemon.meiDevice();
  std::vector<std::future<int>> workers;
  for (int t = 0; t < 64; ++t) {
    workers.push_back(std::async(std::launch::async, [dev] {
      int ok = 0;
      for (int i = 0; i < 5; ++i) {  // LMS opens a connection per command
        int fd = -EBUSY;
        for (int tries = 0; tries < 50 && fd == -EBUSY; ++tries) {
          fd = openAmthi(dev);
          if (fd == -EBUSY) std::this_thread::sleep_for(10ms);  // as LMS retries EBUSY
        }
        if (fd < 0) continue;
        if (transact(fd, amthiRequest(0x04000011)).size() == 20) ++ok;
        ::close(fd);
      }
      return ok;
    }));
  }
  int total = 0;
  for (auto& w : workers) total += w.get();
  EXPECT_EQ(total, 64 * 5);
  std::string status;
  for (int i = 0; i < 100; ++i) {
    status = daemon.get("/status");
    if (statusNumber(status, "open_files") == baseFiles && statusNumber(status, "connections") == baseConnections &&
        statusNumber(status, "pending_calls") == basePending)
      break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(statusNumber(status, "open_files"), baseFiles) << status;
  EXPECT_EQ(statusNumber(status, "connections"), baseConnections) << status;
  EXPECT_EQ(statusNumber(status, "pending_calls"), basePending) << status;
}

TEST_F(DaemonTest, SigtermUnmountsAndRemovesSockets) {
  ASSERT_TRUE(std::filesystem::exists(daemon.runtimeDir() / "preload.sock"));
  int status = daemon.stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status)) << daemon.log();
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(std::filesystem::exists(daemon.runtimeDir() / "preload.sock"));
  EXPECT_FALSE(std::filesystem::exists(daemon.runtimeDir() / "dev"));
  std::ifstream mounts("/proc/mounts");
  std::string all((std::istreambuf_iterator<char>(mounts)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all.find((daemon.runtimeDir() / "fs").string()), std::string::npos);
  EXPECT_TRUE(daemon.waitForLog("stopped")) << daemon.log();
}

TEST_F(DaemonTest, StateSurvivesRestart) {
  int fd = openAmthi(daemon.meiDevice());
  ASSERT_GE(fd, 0);
  auto first = transact(fd, amthiRequest(0x0400005C));  // GetUUID
  ::close(fd);
  ASSERT_EQ(first.size(), 32u);
  daemon.stop();
  ASSERT_TRUE(daemon.start({"--fuse", "on"})) << daemon.log();
  fd = openAmthi(daemon.meiDevice());
  ASSERT_GE(fd, 0);
  auto second = transact(fd, amthiRequest(0x0400005C));
  ::close(fd);
  EXPECT_EQ(first, second);
  std::ifstream state(daemon.stateDir() / "platform.json");
  std::string text((std::istreambuf_iterator<char>(state)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("P@ssw0rd"), std::string::npos) << "the admin password must be stored only as a hash";
}

// Runs the plain C client (open/ioctl/write/poll/read only) as a separate program.
std::pair<int, std::string> runCClient(const std::vector<std::string>& env, const std::string& device,
                                       const std::string& command) {
  std::string cmd;
  for (auto& e : env) cmd += e + " ";
  cmd += std::string(MESIM_C_CLIENT) + " " + device + " " + command + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST_F(DaemonTest, CProgramThroughFuseSeesEveryErrnoCase) {
  auto [code, out] = runCClient({"MESIM_DEVICE_IS_FUSE=1"}, daemon.meiDevice(), "amthi-errno-cases");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
  auto [code2, out2] = runCClient({}, daemon.meiDevice(), "amthi-provisioning-state");
  EXPECT_EQ(code2, 0) << out2;
  EXPECT_NE(out2.find("provisioning_state=2"), std::string::npos) << out2;
}

TEST_F(DaemonTest, CProgramThroughThePreloadLibrary) {
  std::vector<std::string> env{"LD_PRELOAD=" + std::string(MESIM_PRELOAD_LIBRARY),
                               "MESIM_RUNTIME_DIR=" + daemon.runtimeDir().string()};
  auto [code, out] = runCClient(env, "/dev/mei0", "amthi-errno-cases");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
  auto [code2, out2] = runCClient(env, "/dev/mei0", "amthi-provisioning-state");
  EXPECT_EQ(code2, 0) << out2;
  EXPECT_NE(out2.find("provisioning_state=2"), std::string::npos) << out2;
}

// Runs mesim to its exit: exit code and everything it printed.
std::pair<int, std::string> runMesim(const std::string& args) {
  std::string cmd = mesimBinary().string() + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  int status = ::pclose(p);
  return {WEXITSTATUS(status), out};
}

TEST(DaemonCli, HelpVersionAndBadFlags) {
  auto [helpCode, help] = runMesim("--help");
  EXPECT_EQ(helpCode, 0);
  for (const char* option : {"--state-dir", "--runtime-dir", "--config", "--log-level", "--control-port", "--mei-dev",
                             "--hbm-listen"})
    EXPECT_NE(help.find(option), std::string::npos) << option;
  auto [versionCode, version] = runMesim("--version");
  EXPECT_EQ(versionCode, 0);
  EXPECT_EQ(version.rfind("mesim ", 0), 0u);
  auto [badCode, bad] = runMesim("--no-such-flag");
  EXPECT_EQ(badCode, 2);
  EXPECT_NE(bad.find("no-such-flag"), std::string::npos);
  auto [levelCode, level] = runMesim("--log-level loud");
  EXPECT_EQ(levelCode, 2);
  EXPECT_NE(level.find("log level"), std::string::npos);
}

// --loop-spin-us: out of range or not a number is a clear start-up error; 0 (a loop that sleeps at once) serves.
TEST(DaemonCli, LoopSpinIsCheckedAndZeroServes) {
  auto [tooLongCode, tooLong] = runMesim("--loop-spin-us 20000");
  EXPECT_EQ(tooLongCode, 2);
  EXPECT_NE(tooLong.find("--loop-spin-us must be 0..10000"), std::string::npos) << tooLong;
  auto [wordCode, word] = runMesim("--loop-spin-us soon");
  EXPECT_EQ(wordCode, 2);
  EXPECT_NE(word.find("loop-spin-us"), std::string::npos) << word;

  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--loop-spin-us", "0"})) << daemon.log();
  EXPECT_EQ(daemon.get("/healthz"), "200 ok\n");  // answered by the loop
}

TEST(DaemonConfig, EnvironmentAndConfigFileApply) {
  auto dir = makeTempDir("cfg");
  {
    std::ofstream cfg(dir / "mesim.conf");
    cfg << "# a comment\nlog-level = debug\nfuse = off\n";
  }
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--config", (dir / "mesim.conf").string()}, 10s, {"MESIM_PRELOAD=off"})) << daemon.log();
  EXPECT_NE(daemon.log().find("debug"), std::string::npos) << "log-level from the config file";
  EXPECT_FALSE(std::filesystem::exists(daemon.runtimeDir() / "preload.sock")) << "MESIM_PRELOAD=off";
  EXPECT_FALSE(std::filesystem::exists(daemon.runtimeDir() / "dev")) << "fuse = off";
  daemon.stop();
  std::filesystem::remove_all(dir);
}

TEST(DaemonState, CorruptStateIsAClearErrorNotOverwritten) {
  auto stateDir = makeTempDir("corrupt");
  {
    std::ofstream bad(stateDir / "platform.json");
    bad << "{ this is not json";
  }
  DaemonProcess daemon(stateDir);
  EXPECT_FALSE(daemon.start({"--fuse", "off"}, 5s));
  EXPECT_NE(daemon.log().find("platform.json"), std::string::npos) << daemon.log();
  std::ifstream again(stateDir / "platform.json");
  std::string text((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "{ this is not json");
}

// kill -9 leaves the FUSE mount behind, dead (ENOTCONN). The next start clears it before anything can fail, so even
// a start that fails (here: on a broken state file) leaves no dead mount.
TEST(DaemonFuse, AStaleMountOfAKilledDaemonIsClearedEvenByAStartThatFails) {
  if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/fuse here";
  auto stateDir = makeTempDir("stale-state");
  auto runDir = makeTempDir("stale-run");
  const auto mountPoint = runDir / "fs";
  auto stale = [&] {
    struct statfs fs {};
    return ::statfs(mountPoint.c_str(), &fs) != 0 && errno == ENOTCONN;
  };
  DaemonProcess killed(stateDir, runDir);
  ASSERT_TRUE(killed.start({"--fuse", "on", "--preload", "off"})) << killed.log();
  killed.kill(SIGKILL);
  ASSERT_TRUE(stale()) << "kill -9 should leave a dead mount";

  { std::ofstream(stateDir / "platform.json") << "{ broken"; }
  DaemonProcess failing(stateDir, runDir);
  EXPECT_FALSE(failing.start({"--fuse", "on", "--preload", "off"}, 5s));
  EXPECT_NE(failing.log().find("cleared a stale FUSE mount"), std::string::npos) << failing.log();
  EXPECT_FALSE(stale());
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mounts, line)) EXPECT_EQ(line.find(" " + mountPoint.string() + " "), std::string::npos) << line;

  // And a start that succeeds mounts afresh.
  std::filesystem::remove(stateDir / "platform.json");
  DaemonProcess next(stateDir, runDir);
  ASSERT_TRUE(next.start({"--fuse", "on", "--preload", "off"})) << next.log();
  const int fd = openAmthi(next.meiDevice().string());
  EXPECT_GE(fd, 0);
  if (fd >= 0) ::close(fd);
}

TEST(DaemonState, StartToReadyIsQuick) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--fuse", "auto"}));
  // The daemon measures itself; the bound is generous on a shared machine (the target is 300 ms).
  std::smatch m;
  std::string log = daemon.log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(ready in (\d+) ms)")));
  RecordProperty("start_to_ready_ms", m[1].str());
  EXPECT_LT(std::stoi(m[1]), 3000);
}

// An external host driver on --hbm-listen: here the host model itself, over the socket.
TEST(DaemonHbmListen, ExternalDriverEnumeratesAndTalksToAmthi) {
  auto runDir = makeTempDir("hbm");
  DaemonProcess daemon({}, runDir);
  auto socketPath = runDir / "hbm.sock";
  ASSERT_TRUE(daemon.start({"--hbm-listen", "unix:" + socketPath.string()})) << daemon.log();
  EXPECT_FALSE(std::filesystem::exists(runDir / "preload.sock"));

  boost::asio::io_context io;
  boost::asio::local::stream_protocol::socket socket(io);
  socket.connect(socketPath.string());
  host::MeiHost host(io, link::makeSocketEndpoint(std::move(socket)));
  std::promise<void> enabled;
  bool once = false;
  host.onStateChange([&](host::DevState s) {
    if (s == host::DevState::Enabled && !once) {
      once = true;
      enabled.set_value();
    }
  });
  host.start();
  auto work = boost::asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  ASSERT_EQ(enabled.get_future().wait_for(5s), std::future_status::ready);
  client::MeiFile file(io, host);
  ASSERT_EQ(file.open(), 0);
  hbm::Guid guid;
  std::copy(std::begin(kAmthiGuid), std::end(kAmthiGuid), guid.bytes.begin());
  hbm::ClientProperties props;
  ASSERT_EQ(file.connect(guid, &props), 0);
  EXPECT_EQ(props.maxMsgLength, 4096u);
  auto request = amthiRequest(0x04000011);
  ASSERT_EQ(file.write(request), 12);
  std::vector<std::uint8_t> reply(4096);
  ASSERT_EQ(file.read(reply, false, 5000ms), 20);
  EXPECT_EQ(u32At(reply, 16), 2u);
  file.close();
  work.reset();
  boost::asio::post(io, [&] { io.stop(); });
  loop.join();
  daemon.stop();
  EXPECT_FALSE(std::filesystem::exists(socketPath));
}

// A garbage-spewing driver makes the firmware reset; the daemon stays up and serves the next one.
TEST(DaemonHbmListen, MalformedFramesResetButTheDaemonGoesOn) {
  auto runDir = makeTempDir("hbmbad");
  DaemonProcess daemon({}, runDir);
  auto socketPath = runDir / "hbm.sock";
  ASSERT_TRUE(daemon.start({"--hbm-listen", "unix:" + socketPath.string()})) << daemon.log();
  {
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::socket socket(io);
    socket.connect(socketPath.string());
    const std::uint8_t garbage[] = {0x00, 0x00, 0x04, 0x80, 0x77, 0x00, 0x00, 0x00};  // unknown bus command 0x77
    boost::asio::write(socket, boost::asio::buffer(garbage));
    std::uint8_t reset[8];
    boost::asio::read(socket, boost::asio::buffer(reset));
    EXPECT_EQ(reset[3] & 0x40, 0x40) << "a link-control frame";
    EXPECT_EQ(reset[4], 1) << "RESET";
  }
  EXPECT_EQ(daemon.get("/healthz"), "200 ok\n");
  EXPECT_TRUE(daemon.waitForLog("protocol error")) << daemon.log();
  daemon.stop();
}


// The launcher's temporary dirs go when the test process that made them exits (a suite run used to leave a few
// hundred behind), unless MESIM_KEEP_TEST_DIRS is set. A second run of this binary, filtered to the probe below,
// makes one, says where, and exits.
TEST(TestDirSweep, Probe) {
  const char* report = std::getenv("MESIM_SWEEP_PROBE_REPORT");
  if (!report) GTEST_SKIP() << "run by MadeDirsGoAtExitUnlessKept";
  const auto dir = makeTempDir("sweep-probe");
  ASSERT_TRUE(std::filesystem::is_directory(dir));
  std::ofstream(report) << dir.string();
}

TEST(TestDirSweep, MadeDirsGoAtExitUnlessKept) {
  const auto self = std::filesystem::read_symlink("/proc/self/exe").string();
  const auto scratch = makeTempDir("sweep-report");
  for (const bool keep : {false, true}) {
    const auto report = scratch / (keep ? "kept" : "swept");
    std::vector<std::string> env{"MESIM_SWEEP_PROBE_REPORT=" + report.string()};
    if (keep) env.push_back("MESIM_KEEP_TEST_DIRS=1");
    const auto run = runProgram({self, "--gtest_filter=TestDirSweep.Probe"}, env, 30s);
    ASSERT_EQ(run.status, 0) << run.output;
    std::ifstream in(report);
    std::string made;
    std::getline(in, made);
    ASSERT_NE(made.find("mesim-sweep-probe-"), std::string::npos) << run.output;
    EXPECT_EQ(std::filesystem::exists(made), keep) << made;
    std::error_code ignored;
    std::filesystem::remove_all(made, ignored);
  }
}

}  // namespace
}  // namespace mesim::test
