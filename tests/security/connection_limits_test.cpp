// Issue #10 item 5 (connection limits) against the real daemon: a slow-loris flood on WS-Man leaves a Digest
// client served, 300 idle control connections at a descriptor limit of 256 leave /status and WS-Man answering
// without the loop spinning, and an accept error does not end the --hbm-listen listener.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/descriptor_squeeze.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim {
namespace {

using namespace std::chrono_literals;
using test::DaemonProcess;

// A non-blocking connection to 127.0.0.1:port from `source` (any 127/8 address), or -1.
int connectFrom(const char* source, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      (::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Clock ticks of CPU the process used (user + system), from /proc.
long cpuTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto afterName = stat.rfind(')');
  if (afterName == std::string::npos) return -1;
  std::istringstream fields(stat.substr(afterName + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state; utime is 14, stime 15
    if (i == 14) utime = std::stol(field);
    if (i == 15) {
      stime = std::stol(field);
      break;
    }
  }
  return utime + stime;
}

// Share of one CPU the process used over `window`.
double cpuShare(pid_t pid, std::chrono::milliseconds window) {
  const long before = cpuTicks(pid);
  std::this_thread::sleep_for(window);
  const long after = cpuTicks(pid);
  return static_cast<double>(after - before) / static_cast<double>(::sysconf(_SC_CLK_TCK)) /
         (static_cast<double>(window.count()) / 1000.0);
}

std::size_t openDescriptors(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++n;
  return n;
}

bool limitDescriptors(pid_t pid, rlim_t limit) {
  rlimit rl{limit, limit};
  return ::prlimit(pid, RLIMIT_NOFILE, &rl, nullptr) == 0;
}

// This test process holds hundreds of client sockets.
void raiseOwnDescriptorLimit() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

boost::json::value statusOf(DaemonProcess& daemon) {
  const std::string answer = daemon.get("/status");
  if (answer.rfind("200 ", 0) != 0) return {};
  return boost::json::parse(answer.substr(4));
}

class ConnectionLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override { raiseOwnDescriptorLimit(); }
  void TearDown() override {
    for (int fd : sockets_) ::close(fd);
  }
  std::vector<int> sockets_;
};

TEST_F(ConnectionLimitsTest, ASlowLorisFloodOnWsmanLeavesADigestClientServed) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off"})) << daemon.log();
  const std::uint16_t port = daemon.httpPort();
  // 150 connections from three addresses, each sending one header byte a second and reconnecting when closed:
  // more than the listener's 64 and each address's 32.
  constexpr int kFlood = 150;
  const char* sources[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};
  const std::string header = "POST /wsman HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\nX-Slow: ";
  struct Loris {
    int fd = -1;
    std::size_t sent = 0;
  };
  std::vector<Loris> flood(kFlood);
  std::atomic<bool> stop{false};
  std::atomic<int> reconnects{0};
  std::thread attacker([&] {
    while (!stop) {
      for (int i = 0; i < kFlood && !stop; ++i) {
        auto& l = flood[static_cast<std::size_t>(i)];
        if (l.fd >= 0) {
          char answer[512];  // a 503 or 408 may come first; the close is what counts
          const ssize_t got = ::recv(l.fd, answer, sizeof answer, MSG_DONTWAIT);
          const bool closed = got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
          const char next = header[l.sent % header.size()];
          if (closed || ::send(l.fd, &next, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            ::close(l.fd);
            l.fd = -1;
            ++reconnects;
          } else {
            ++l.sent;
          }
        }
        if (l.fd < 0) {
          l.fd = connectFrom(sources[i % 3], port);
          l.sent = 0;
        }
      }
      std::this_thread::sleep_for(1s);
    }
  });
  std::this_thread::sleep_for(1500ms);  // the flood holds the listener

  // A console on another address logs in and works, request after request.
  int served = 0;
  std::chrono::milliseconds slowest{0};
  for (int i = 0; i < 6; ++i) {
    test::WsmanDigestClient client(port);
    const auto start = std::chrono::steady_clock::now();
    auto answer = client.post(test::wsmanGetGeneralSettings(std::to_string(i)));
    slowest = std::max(slowest, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start));
    if (answer.status == 200) ++served;
    else ADD_FAILURE() << "request " << i << ": " << answer.status << " " << answer.error;
    std::this_thread::sleep_for(500ms);
  }
  auto status = statusOf(daemon);
  stop = true;
  attacker.join();
  for (auto& l : flood)
    if (l.fd >= 0) ::close(l.fd);

  EXPECT_EQ(served, 6);
  EXPECT_LT(slowest, 2s);
  ASSERT_TRUE(status.is_object()) << daemon.log();
  const auto& wsman = status.at("wsman").as_object();
  EXPECT_LE(wsman.at("serving").to_number<int>(), 64 + 1);
  EXPECT_GT(wsman.at("over_address_cap").to_number<int>() + wsman.at("evicted").to_number<int>(), 0)
      << boost::json::serialize(wsman);
}

TEST_F(ConnectionLimitsTest, ThreeHundredIdleControlConnectionsAtALimitOf256LeaveTheDaemonServing) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--fuse", "off"})) << daemon.log();
  ASSERT_TRUE(limitDescriptors(daemon.pid(), 256));
  for (int i = 0; i < 300; ++i) {
    int fd = connectFrom("127.0.0.1", daemon.controlPort());
    ASSERT_GE(fd, 0);
    sockets_.push_back(fd);
  }
  std::this_thread::sleep_for(300ms);
  const double cpu = cpuShare(daemon.pid(), 1s);
  EXPECT_LT(cpu, 0.2) << "the daemon spins with 300 idle control connections";
  EXPECT_LT(openDescriptors(daemon.pid()), 256u - 64u) << "the descriptor reserve was eaten into";

  const auto start = std::chrono::steady_clock::now();
  auto status = statusOf(daemon);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  ASSERT_TRUE(status.is_object()) << daemon.log();
  EXPECT_LE(status.at("control").at("open").to_number<int>(), 32);
  EXPECT_GT(status.at("control").at("evicted").to_number<int>(), 0);
  test::WsmanDigestClient wsman(daemon.httpPort());
  EXPECT_EQ(wsman.post(test::wsmanGetGeneralSettings()).status, 200u);
}

TEST_F(ConnectionLimitsTest, AnAcceptErrorDoesNotEndTheHbmListener) {
  if (test::kSanitizerBuild) GTEST_SKIP() << test::kNoSqueezeUnderSanitizers;
  DaemonProcess daemon;
  const auto socketPath = daemon.runtimeDir() / "hbm.sock";
  // No reserve: control connections may take the daemon's last descriptor, so accept() itself fails.
  ASSERT_TRUE(daemon.start({"--hbm-listen", "unix:" + socketPath.string(), "--fuse", "off", "--preload", "off",
                            "--fd-reserve", "0"}))
      << daemon.log();
  ASSERT_TRUE(limitDescriptors(daemon.pid(), openDescriptors(daemon.pid()) + 3));
  for (int i = 0; i < 6; ++i) {  // three take the last descriptors, the others wait in the backlog
    int fd = connectFrom("127.0.0.1", daemon.controlPort());
    ASSERT_GE(fd, 0);
    sockets_.push_back(fd);
  }
  ASSERT_TRUE(daemon.waitForLog("accepting a control connection failed")) << daemon.log();
  const int driver = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(driver, 0);
  sockets_.push_back(driver);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socketPath.c_str());
  ASSERT_EQ(::connect(driver, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_TRUE(daemon.waitForLog("accepting an HBM driver failed")) << daemon.log();
  EXPECT_LT(cpuShare(daemon.pid(), 1s), 0.2) << "a listener spins on a failing accept";

  // Descriptors come back: the listener is still there and takes the driver.
  for (std::size_t i = 0; i + 1 < sockets_.size(); ++i) ::close(sockets_[i]);
  sockets_.erase(sockets_.begin(), sockets_.end() - 1);
  EXPECT_TRUE(daemon.waitForLog("external HBM driver connected", 5s)) << daemon.log();
  EXPECT_EQ(daemon.get("/healthz"), "200 ok\n");
}

}  // namespace
}  // namespace mesim
