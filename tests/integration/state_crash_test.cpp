// kill -9 at arbitrary instants while the daemon is persisting platform state: every restart must
// find a loadable state holding one of the values that were written (spec: atomic writes).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/mei.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "firmware/clients/amthi_codec.h"
#include "tests/support/daemon_process.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
namespace amthi = clients::amthi;

const std::uint8_t kAmthiGuid[16] = {0x28, 0x00, 0xf8, 0x12, 0xb7, 0xb4, 0x2d, 0x4b,
                                     0xac, 0xa8, 0x46, 0xe0, 0xff, 0x65, 0x81, 0x4c};

hbm::Bytes setHostFqdn(const std::string& fqdn) {
  auto payload = amthi::encodeSetHostFqdn(fqdn);
  hbm::Bytes m{1, 1, 0, 0};
  auto put = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) m.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  put(amthi::code(amthi::Command::SetHostFqdn));
  put(static_cast<std::uint32_t>(payload.size()));
  m.insert(m.end(), payload.begin(), payload.end());
  return m;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(StateCrash, KillNineWhileWritingLeavesALoadableState) {
  if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/fuse here";
  auto stateDir = makeTempDir("crash");
  std::mt19937 rng(42);
  std::set<std::string> written{""};
  for (int round = 0; round < 12; ++round) {
    DaemonProcess daemon(stateDir);
    ASSERT_TRUE(daemon.start({"--fuse", "on", "--preload", "off"})) << "round " << round << ": " << daemon.log();
    std::atomic<bool> stop{false};
    std::atomic<int> acknowledged{0};
    std::thread writer([&, round] {
      int fd = ::open(daemon.meiDevice().c_str(), O_RDWR);
      std::uint8_t guid[16];
      std::memcpy(guid, kAmthiGuid, 16);
      if (fd < 0 || ::ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, guid) != 0) return;
      for (int i = 0; !stop; ++i) {
        auto request = setHostFqdn("host-" + std::to_string(round) + "-" + std::to_string(i) + ".crash.test");
        if (::write(fd, request.data(), request.size()) < 0) break;
        std::uint8_t reply[64];
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 1000) != 1 || ::read(fd, reply, sizeof reply) < 16) break;
        ++acknowledged;
      }
      ::close(fd);
    });
    for (int i = 0; i < 400; ++i) written.insert("host-" + std::to_string(round) + "-" + std::to_string(i) + ".crash.test");
    // Kill at a random instant once writes are flowing.
    for (int i = 0; i < 500 && acknowledged == 0; ++i) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 40));
    daemon.kill(SIGKILL);
    stop = true;
    writer.join();
    EXPECT_GT(acknowledged.load(), 0) << "round " << round << " wrote nothing before the kill";
  }
  // The last restart must load what is there, and it is one of the values written.
  DaemonProcess daemon(stateDir);
  ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off"})) << daemon.log();
  auto text = slurp(stateDir / "platform.json");
  auto at = text.find("\"hostFqdn\": \"");
  ASSERT_NE(at, std::string::npos) << text;
  auto value = text.substr(at + 13, text.find('"', at + 13) - at - 13);
  EXPECT_TRUE(written.count(value)) << value;
  daemon.stop();
  // Only the state files themselves remain: temp files of interrupted writes are removed on start.
  const std::set<std::string> stateFiles{"platform.json", "tls-cert.pem", "tls-key.pem"};
  for (auto& entry : std::filesystem::directory_iterator(stateDir))
    EXPECT_TRUE(stateFiles.count(entry.path().filename().string())) << entry.path();
  std::filesystem::remove_all(stateDir);
}

}  // namespace
}  // namespace mesim::test
