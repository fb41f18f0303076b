// IDE redirection in the real daemon (issue 13 item 4): our own console (tests/support/ider_console.h, written
// against features.md §1.3) logs in on 16994, opens IDE-R with start mode OnReboot and serves a small ISO built in
// the test; boot settings asking for an IDE-R CD boot are Put over WS-Man and the host is power-cycled; the
// simulated BIOS reads LBA 16/17 through the console and /status reports the volume; then Debian's qemu-io and
// qemu-img read the redirected media through the NBD export (the bytes again come from the console).
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/ider_console.h"
#include "tests/support/program_run.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"
#include "wsman/redirection/redirection_codec.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
using namespace wsman::redirection;
using Bytes = std::vector<std::uint8_t>;
constexpr char kPassword[] = "P@ssw0rd";
constexpr char kVolumeId[] = "MESIM_IDER_TEST";
constexpr std::uint32_t kBlocks = 96;

boost::json::value iderStatus(DaemonProcess& daemon) {
  const std::string raw = daemon.get("/status");
  boost::system::error_code ec;
  auto value = raw.size() > 4 ? boost::json::parse(raw.substr(4), ec) : boost::json::value();
  if (ec || !value.is_object()) return {};
  const auto* ider = value.as_object().if_contains("ider");
  return ider ? *ider : boost::json::value();
}

// Polls /status until `ok` holds for its ider section (or 10 s pass); the last section seen.
template <class Predicate>
boost::json::value waitForIder(DaemonProcess& daemon, Predicate ok) {
  boost::json::value status;
  for (int i = 0; i < 200; ++i) {
    status = iderStatus(daemon);
    if (status.is_object() && ok(status.as_object())) return status;
    std::this_thread::sleep_for(50ms);
  }
  return status;
}

// A console on a socket: the login in the redirection protocol, then IDE-R served on a thread of its own.
class IderConsole {
 public:
  explicit IderConsole(IderConsoleMedia media) : media_(std::move(media)) {}
  ~IderConsole() { stop(); }

  bool login(std::uint16_t port) {
    fd_ = connectLoopback(port);
    if (fd_ < 0) return false;
    writeAll(encode(StartSession{0, kTagIder}));
    auto started = nextSessionMessage();
    if (!started || std::get_if<StartSessionReply>(&*started) == nullptr ||
        std::get<StartSessionReply>(*started).status != SessionStatus::Ok)
      return false;
    writeAll(encode(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", kPassword})}));
    auto auth = nextSessionMessage();
    return auth && std::get_if<AuthenticateReply>(&*auth) && std::get<AuthenticateReply>(*auth).status == AuthStatus::Ok;
  }

  void serve(std::uint32_t startMode) {
    {
      std::lock_guard lock(mutex_);
      for (const auto& m : media_.open(startMode)) writeAll(m);
    }
    thread_ = std::thread([this] {
      Bytes leftover = std::exchange(buffer_, {});
      if (!leftover.empty()) feed(leftover);
      std::uint8_t buf[65536];
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) != 1) continue;
        const auto n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) {
          peerClosed_ = true;
          return;
        }
        feed(Bytes(buf, buf + n));
      }
    });
  }

  // The console closes the session (0x42) and waits for the end.
  void close() {
    {
      std::lock_guard lock(mutex_);
      for (const auto& m : media_.close()) writeAll(m);
    }
    for (int i = 0; i < 100 && !peerClosed_; ++i) std::this_thread::sleep_for(20ms);
  }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  template <class F>
  auto inspect(F f) {
    std::lock_guard lock(mutex_);
    return f(media_);
  }
  bool peerClosed() const { return peerClosed_; }

 private:
  void feed(const Bytes& bytes) {
    std::lock_guard lock(mutex_);
    for (const auto& answer : media_.receive(bytes)) writeAll(answer);
  }
  void writeAll(const Bytes& bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
      const auto n = ::write(fd_, bytes.data() + at, bytes.size() - at);
      if (n <= 0) return;
      at += static_cast<std::size_t>(n);
    }
  }
  // One message of the session setup (0x11, 0x14); what follows stays in buffer_ for the IDE-R part.
  std::optional<Message> nextSessionMessage() {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto decoded = decodeMessage(buffer_);
      if (!decoded) return std::nullopt;
      if (*decoded) {
        Message m = (*decoded)->message;
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>((*decoded)->length));
        return m;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      std::uint8_t buf[4096];
      const auto n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      buffer_.insert(buffer_.end(), buf, buf + n);
    }
    return std::nullopt;
  }

  IderConsoleMedia media_;
  int fd_ = -1;
  Bytes buffer_;
  std::mutex mutex_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> peerClosed_{false};
};

std::string putIderBoot(bool useIder) {
  const std::string uri = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_BootSettingData";
  return wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", uri,
                       "<h:AMT_BootSettingData xmlns:h=\"" + uri + "\"><h:UseIDER>" + (useIder ? "true" : "false") +
                           "</h:UseIDER><h:IDERBootDevice>1</h:IDERBootDevice><h:BootMediaIndex>0</h:BootMediaIndex>"
                           "</h:AMT_BootSettingData>");
}

bool have(const char* program) { return std::system((std::string("command -v ") + program + " >/dev/null 2>&1").c_str()) == 0; }

TEST(IderDaemon, TheBiosBootsTheConsolesCdAndQemuReadsItOverNbd) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--host-os", "none", "--fuse", "off", "--preload", "off"})) << daemon.log();
  ASSERT_NE(daemon.redirectionPort(), 0) << daemon.log();
  auto status = iderStatus(daemon);
  ASSERT_TRUE(status.is_object()) << daemon.get("/status");
  EXPECT_TRUE(status.at("session").is_null());
  EXPECT_TRUE(status.at("enabled").as_bool());
  const std::string socket(status.at("nbd").at("socket").as_string());
  EXPECT_EQ(socket, (daemon.runtimeDir() / "ider.nbd").string());
  EXPECT_NE(daemon.log().find("nbd+unix:///?socket=" + socket), std::string::npos) << "the log names the export";
  const std::string nbdUri = "nbd+unix:///?socket=" + socket;

  // Nothing to serve yet: the export answers, with no media.
  if (have("qemu-img")) {
    auto info = runProgram({"/usr/bin/qemu-img", "info", nbdUri}, {}, 10s);
    EXPECT_NE(info.status, 0) << info.output;
  }

  IderConsole console(IderConsoleMedia(makeIsoImage(kVolumeId, kBlocks), 2048));
  ASSERT_TRUE(console.login(daemon.redirectionPort())) << daemon.log();
  console.serve(kIderStartOnReboot);
  status = waitForIder(daemon, [](const boost::json::object& s) {
    return s.at("session").is_object() && s.at("session").at("registered").as_bool();
  });
  ASSERT_TRUE(status.at("session").is_object()) << status;
  EXPECT_EQ(status.at("session").at("user").as_string(), "admin");
  EXPECT_EQ(status.at("session").at("start_mode").as_string(), "on-reboot");
  EXPECT_FALSE(status.at("session").at("attached").as_bool()) << "OnReboot: not before the host reboots";

  // Boot settings for an IDE-R CD boot over WS-Man, then a power cycle.
  WsmanDigestClient wsman(daemon.httpPort());
  auto put = wsman.post(putIderBoot(true));
  ASSERT_EQ(put.status, 200u) << put.body;
  auto cycled = wsman.post(wsmanRequestPowerStateChange(5));
  ASSERT_EQ(cycled.status, 200u) << cycled.body;
  ASSERT_NE(cycled.body.find("<g:ReturnValue>0</g:ReturnValue>"), std::string::npos) << cycled.body;

  status = waitForIder(daemon, [](const boost::json::object& s) {
    const auto state = s.at("boot").at("state").as_string();
    return state == "booted" || state == "failed";
  });
  ASSERT_TRUE(status.is_object()) << daemon.log();
  const auto& boot = status.at("boot");
  EXPECT_EQ(boot.at("state").as_string(), "booted") << status << "\n" << daemon.log();
  EXPECT_EQ(boot.at("device").as_string(), "cd");
  EXPECT_EQ(boot.at("volume_id").as_string(), kVolumeId);
  EXPECT_TRUE(boot.at("el_torito").as_bool());
  EXPECT_EQ(boot.at("boot_catalog_lba").to_number<int>(), 19);
  EXPECT_TRUE(status.at("session").at("attached").as_bool());
  EXPECT_EQ(status.at("media").at("blocks").to_number<int>(), int(kBlocks));
  EXPECT_EQ(status.at("media").at("block_size").to_number<int>(), 2048);
  EXPECT_NE(daemon.log().find(std::string("volume '") + kVolumeId + "'"), std::string::npos) << daemon.log();
  const auto commands = console.inspect([](IderConsoleMedia& m) { return m.commands; });
  ASSERT_GE(commands.size(), 4u);
  EXPECT_EQ(commands[0][0], 0x00) << "TEST UNIT READY first";
  const auto lbas = console.inspect([](IderConsoleMedia& m) { return m.readLbas; });
  EXPECT_NE(std::find(lbas.begin(), lbas.end(), 16u), lbas.end()) << "the BIOS read LBA 16 (and 17) from the console";

  if (!have("qemu-io")) GTEST_SKIP() << "qemu-utils is not installed (scripts/test.sh installs it)";
  // qemu-io reads the PVD through NBD: "CD001" at byte 32769.
  auto read = runProgram({"/usr/bin/qemu-io", "-r", "-f", "raw", "-c", "read -v 32768 2048", nbdUri}, {}, 20s);
  EXPECT_EQ(read.status, 0) << read.output;
  EXPECT_NE(read.output.find(".CD001."), std::string::npos) << read.output;
  EXPECT_NE(read.output.find("4d 45 53 49 4d 5f 49 44"), std::string::npos)
      << "the volume id's first 8 bytes (\"MESIM_ID\") end a dump line\n" << read.output;
  auto info = runProgram({"/usr/bin/qemu-img", "info", "--output=json", nbdUri}, {}, 20s);
  EXPECT_EQ(info.status, 0) << info.output;
  EXPECT_NE(info.output.find("\"virtual-size\": " + std::to_string(kBlocks * 2048)), std::string::npos) << info.output;
  // A copy of the whole media is the image the console serves.
  const auto copy = daemon.runtimeDir() / "copy.iso";
  auto convert = runProgram({"/usr/bin/qemu-img", "convert", "-f", "raw", "-O", "raw", nbdUri, copy.string()}, {}, 30s);
  ASSERT_EQ(convert.status, 0) << convert.output;
  std::ifstream in(copy, std::ios::binary);
  const Bytes copied((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(copied == makeIsoImage(kVolumeId, kBlocks)) << "copied " << copied.size() << " bytes";
  // Writes are refused: the export is read-only.
  auto write = runProgram({"/usr/bin/qemu-io", "-f", "raw", "-c", "write 0 512", nbdUri}, {}, 20s);
  EXPECT_TRUE(write.status != 0 || write.output.find("error") != std::string::npos ||
              write.output.find("read-only") != std::string::npos ||
              write.output.find("Permission") != std::string::npos)
      << write.output;
  status = iderStatus(daemon);
  EXPECT_GT(status.at("nbd").at("reads").to_number<int>(), 0) << status;
  EXPECT_GT(status.at("bytes_read").to_number<std::int64_t>(), std::int64_t(kBlocks) * 2048);

  // The console closes: the session ends, the export has nothing to serve.
  console.close();
  status = waitForIder(daemon, [](const boost::json::object& s) { return s.at("session").is_null(); });
  EXPECT_TRUE(status.at("session").is_null()) << status;
  auto gone = runProgram({"/usr/bin/qemu-img", "info", nbdUri}, {}, 10s);
  EXPECT_NE(gone.status, 0) << gone.output;
  EXPECT_NE(gone.output.find("no IDE-R session is open"), std::string::npos) << gone.output;
}

TEST(IderDaemon, DisabledIderIsRefusedAndABootWithoutASessionFails) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--host-os", "none", "--fuse", "off", "--preload", "off"})) << daemon.log();
  WsmanDigestClient wsman(daemon.httpPort());
  ASSERT_EQ(wsman.post(putIderBoot(true)).status, 200u);
  ASSERT_EQ(wsman.post(wsmanRequestPowerStateChange(10)).status, 200u);  // reset
  auto status = waitForIder(daemon, [](const boost::json::object& s) { return s.at("boot").at("state") != "none"; });
  EXPECT_EQ(status.at("boot").at("state").as_string(), "failed") << status;
  EXPECT_EQ(status.at("boot").at("error").as_string(), "no IDE-R session is open");

  // AMT_RedirectionService.RequestStateChange(32770): SOL only.
  const std::string uri = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_RedirectionService";
  auto changed = wsman.post(wsmanEnvelope(uri + "/RequestStateChange", uri,
                                          "<h:RequestStateChange_INPUT xmlns:h=\"" + uri +
                                              "\"><h:RequestedState>32770</h:RequestedState></h:RequestStateChange_INPUT>"));
  ASSERT_EQ(changed.status, 200u) << changed.body;
  IderConsole console(IderConsoleMedia(makeIsoImage(kVolumeId), 2048));
  EXPECT_FALSE(console.login(daemon.redirectionPort())) << "IDER is disabled";
  status = iderStatus(daemon);
  EXPECT_FALSE(status.at("enabled").as_bool());
  EXPECT_EQ(status.at("refused").to_number<int>(), 1);
}

}  // namespace
}  // namespace mesim::test
