// Finding 8 (MEI writes without back-pressure): non-blocking AMTHI writes with no reads never got EAGAIN, and 300k of
// them grew the daemon from 15 to 195 MB: the firmware took every request and queued its answers. Now an ME client
// takes the next request only once the host has read its answer, so the host model stops a writer where Linux's
// mei_write does, at tx_queue_limit queued messages (EAGAIN, or a blocked write that a signal ends with EINTR; no
// POLLOUT). Checked on the host model, through a real FUSE dev/mei0 and through libmesim-preload.so with a plain C
// program, and for the preload socket's own queues (waiting calls, replies a client does not take).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "firmware/clients/amthi_client.h"
#include "firmware/clients/client_guids.h"
#include "firmware/platform/platform_model.h"
#include "hostif/client/mei_file.h"
#include "hostif/fuse/fuse_front_end.h"
#include "hostif/preload/preload_protocol.h"
#include "hostif/preload/preload_server.h"
#include "tests/support/inprocess_platform.h"
#include "tests/support/program_run.h"
#include "tests/support/test_clients.h"
#include "tests/unit/firmware_test_support.h"


namespace mesim {
namespace {

using namespace std::chrono_literals;
using preload::Op;
using preload::PacketHeader;

// AMTHI GetProvisioningState: {major 1, minor 1, reserved, command 0x04000011, length 0}.
const hbm::Bytes kProvisioningStateRequest{1, 1, 0, 0, 0x11, 0x00, 0x00, 0x04, 0, 0, 0, 0};

// A machine whose firmware has the real AMTHI client over a platform in a temporary state dir (and `more`).
class AmthiMachine {
 public:
  explicit AmthiMachine(std::vector<std::shared_ptr<firmware::FirmwareClient>> more = {}) {
    auto opened = platform::PlatformModel::open(dir.path() / "state", {});
    EXPECT_TRUE(opened) << opened.error().message;
    if (opened) platform = std::move(*opened);
    machine.engine.addClient(std::make_shared<clients::AmthiClient>(*platform));
    for (auto& client : more) machine.engine.addClient(client);
    EXPECT_TRUE(machine.start());
  }
  ~AmthiMachine() { machine.shutdown(); }
  std::uint64_t firmwareMessagesIn() { return machine.run([&] { return machine.engine.stats().messagesIn; }); }

  test::TempDir dir{"backpressure"};
  std::unique_ptr<platform::PlatformModel> platform;  // outlives the machine's AMTHI client
  test::InProcessMachine machine;
};

TEST(MeiBackpressure, AnAmthiWriterThatNeverReadsGetsEagainAndTheFirmwareHoldsOneRequest) {
  test::LogThreshold quiet(log::Level::Warn);
  AmthiMachine amthi;
  client::MeiFile file(amthi.machine.io, *amthi.machine.host);
  ASSERT_EQ(file.open(), 0);
  ASSERT_EQ(file.connect(clients::kAmthiGuid), 0);
  const auto before = amthi.firmwareMessagesIn();
  int accepted = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    const ssize_t r = file.write(kProvisioningStateRequest, true);
    if (r == static_cast<ssize_t>(kProvisioningStateRequest.size())) ++accepted;
    else if (r == -EAGAIN) ++refused;
  }
  EXPECT_EQ(accepted, 51) << "one taken by the firmware, tx_queue_limit (50) queued";
  EXPECT_EQ(refused, 20000 - 51);
  EXPECT_EQ(amthi.firmwareMessagesIn() - before, 1u) << "the firmware took one request and holds its answer";
  EXPECT_EQ(amthi.machine.run([&] { return amthi.machine.host->stats().pendingCalls; }), 0u);

  // Reading drains it in order: every accepted request is answered, and writing works again.
  std::vector<std::uint8_t> reply(4096);
  for (int i = 0; i < accepted; ++i) ASSERT_EQ(file.read(reply, false, 2000ms), 20) << i;
  EXPECT_EQ(file.write(kProvisioningStateRequest, true), 12);
}

// ---------------------------------------------------------------------------------------------- a C program

// mei_c_client DEVICE COMMAND with `env` added (and LD_PRELOAD when `preloadLibrary`); its output and exit status.
test::ProgramRun runCClient(const std::string& device, const std::string& command, std::vector<std::string> env,
                            bool preloadLibrary) {
  if (preloadLibrary) env.insert(env.begin(), std::string("LD_PRELOAD=") + MESIM_PRELOAD_LIBRARY);
  return test::runProgram({MESIM_C_CLIENT, device, command}, env, 60s);
}

TEST(MeiBackpressure, ThroughAFuseDevMei0) {
  if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/fuse unusable";
  AmthiMachine amthi;
  fuse::installProcessLogging();
  char dir[] = "/tmp/mesim-backpressure-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::filesystem::path mountDir = dir;
  {
    fuse::FuseFrontEnd frontEnd(amthi.machine.io, *amthi.machine.host, mountDir);
    const std::string err = errorOf(frontEnd.start());
    if (err.rfind("FUSE unavailable", 0) == 0 || err.find("mounting FUSE") != std::string::npos) {
      ::rmdir(dir);
      GTEST_SKIP() << "cannot mount FUSE here: " << err;
    }
    ASSERT_EQ(err, "");
    const auto run = runCClient((mountDir / "dev/mei0").string(), "amthi-backpressure", {}, false);
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("accepted=51"), std::string::npos) << run.output;
  }
  ::rmdir(dir);
}

class PreloadBackpressure : public ::testing::Test {
 protected:
  void SetUp() override {
    socketPath = amthi.dir.path() / "preload.sock";
    server = std::make_unique<preload::PreloadServer>(amthi.machine.io, *amthi.machine.host, socketPath);
    ASSERT_EQ(amthi.machine.run([&] { return errorOf(server->start()); }), "");
  }
  void TearDown() override {
    amthi.machine.run([&] {
      server->stop();
      server.reset();
      echo->last.reset();  // EchoClient::last and the engine's connection hold each other
    });
  }
  bool waitUntilIdle() {
    for (int i = 0; i < 250; ++i) {
      auto [sessions, files] = amthi.machine.run(
          [&] { return std::make_pair(server->sessionCount(), amthi.machine.host->stats().openFiles); });
      if (sessions == 0 && files == 0) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::shared_ptr<test::EchoClient> echo = std::make_shared<test::EchoClient>(1024, 4);
  AmthiMachine amthi{{echo}};
  std::filesystem::path socketPath;
  std::unique_ptr<preload::PreloadServer> server;
};

TEST_F(PreloadBackpressure, ThroughThePreloadLibrary) {
  const auto run = runCClient("/dev/mei0", "amthi-backpressure", {"MESIM_PRELOAD_SOCKET=" + socketPath.string()}, true);
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("accepted=51"), std::string::npos) << run.output;
  EXPECT_TRUE(waitUntilIdle());
}

// A client speaking the socket protocol itself, not one call per thread as the library does.
class RawSession {
 public:
  explicit RawSession(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawSession() { ::close(fd_); }
  bool connected() const { return connected_; }
  // 0, or the errno of send(2) (EAGAIN when the socket is full and `wait` is false).
  int send(Op op, std::uint32_t seq, std::uint32_t arg, std::uint16_t flags, hbm::ByteView payload, bool wait = true) {
    PacketHeader h;
    h.op = static_cast<std::uint16_t>(op);
    h.seq = seq;
    h.arg = arg;
    h.flags = flags;
    std::vector<std::uint8_t> packet(sizeof h + payload.size());
    std::memcpy(packet.data(), &h, sizeof h);
    if (!payload.empty()) std::memcpy(packet.data() + sizeof h, payload.data(), payload.size());
    const ssize_t n = ::send(fd_, packet.data(), packet.size(), MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));
    return n == static_cast<ssize_t>(packet.size()) ? 0 : errno;
  }
  // The next reply's header, or op 0 after `timeout`.
  PacketHeader receive(std::chrono::milliseconds timeout = 2000ms) {
    PacketHeader h;
    h.op = 0;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return h;
    std::vector<std::uint8_t> buffer(preload::kMaxPacket);
    if (::recv(fd_, buffer.data(), buffer.size(), 0) >= static_cast<ssize_t>(sizeof h)) std::memcpy(&h, buffer.data(), sizeof h);
    return h;
  }
  // The socket takes another request within `timeout` (the daemon has read some).
  bool writable(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLOUT, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 && (p.revents & POLLOUT);
  }
  // OPEN and CONNECT to `guid`; true if both succeeded.
  bool openAndConnect(const hbm::Guid& guid) {
    if (send(Op::Open, 1, preload::kProtocolVersion, 0, {}) != 0 || receive().result != 0) return false;
    return send(Op::Connect, 2, 0, 0, guid.bytes) == 0 && receive().result == 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

const hbm::Bytes kEchoMessage{'q'};

TEST_F(PreloadBackpressure, BlockedWritesOfOneSessionAreBounded) {
  test::LogThreshold quiet(log::Level::Error);
  RawSession session(socketPath);
  ASSERT_TRUE(session.connected());
  ASSERT_TRUE(session.openAndConnect(test::kEchoGuid));
  std::uint32_t seq = 10;
  for (int i = 0; i < 51; ++i) {  // fills the file's tx queue: nothing is read
    ASSERT_EQ(session.send(Op::Write, seq++, 0, preload::kNonBlocking, kEchoMessage), 0);
    ASSERT_EQ(session.receive().result, 1) << i;
  }
  const std::uint32_t firstBlocked = seq;
  for (int i = 0; i < 300; ++i) ASSERT_EQ(session.send(Op::Write, seq++, 0, 0, kEchoMessage), 0);
  int refused = 0;
  for (PacketHeader reply = session.receive(); reply.op != 0; reply = session.receive(300ms)) {
    EXPECT_EQ(reply.result, -ENOMEM);
    EXPECT_GE(reply.seq, firstBlocked + 256);
    ++refused;
  }
  EXPECT_EQ(refused, 300 - 256) << "256 writes wait; the rest are refused instead of held";
  EXPECT_EQ(amthi.machine.run([&] { return amthi.machine.host->stats().pendingCalls; }), 256u);
}

TEST_F(PreloadBackpressure, AClientThatTakesNoRepliesIsNotReadEither) {
  test::LogThreshold quiet(log::Level::Error);
  RawSession session(socketPath);
  ASSERT_TRUE(session.connected());
  ASSERT_TRUE(session.openAndConnect(test::kEchoGuid));
  // Requests as fast as the socket takes them, never a reply read. The kernel buffers some replies and some
  // requests; past those the daemon must stop reading rather than queue replies without bound.
  std::uint32_t seq = 10;
  int sent = 0;
  bool stalled = false;
  while (sent < 100000 && !stalled) {
    const int err = session.send(Op::Write, seq, 0, preload::kNonBlocking, kEchoMessage, false);
    if (err == 0) {
      ++sent;
      ++seq;
      continue;
    }
    ASSERT_EQ(err, EAGAIN);
    stalled = !session.writable(500ms);  // the daemon reads on, or it has stopped
  }
  ASSERT_TRUE(stalled) << "the daemon went on reading: " << sent << " requests";
  EXPECT_LT(sent, 5000);

  // Taking the replies resumes it: every request gets its one reply, in order.
  int replies = 0;
  for (PacketHeader reply = session.receive(); reply.op != 0; reply = session.receive(500ms)) {
    EXPECT_EQ(reply.seq, 10u + replies);
    EXPECT_TRUE(reply.result == 1 || reply.result == -EAGAIN) << reply.result;
    ++replies;
  }
  EXPECT_EQ(replies, sent);
  EXPECT_EQ(session.send(Op::PollArm, seq, POLLOUT, 0, {}), 0);
  const PacketHeader polled = session.receive();
  EXPECT_EQ(polled.op, static_cast<std::uint16_t>(Op::PollArm)) << "the session goes on";
  EXPECT_EQ(polled.result, 0) << "its tx queue is full: no POLLOUT";
}

}  // namespace
}  // namespace mesim
