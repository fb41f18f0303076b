// libmesim-preload.so in front of an unmodified C program (mei_c_client.c), talking to a
// PreloadServer on an in-process host model whose firmware has an echo client (spec/mei.md §1, §6).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "firmware/clients/amthi_client.h"
#include "firmware/platform/platform_model.h"
#include "hostif/preload/preload_protocol.h"
#include "hostif/preload/preload_server.h"
#include "tests/support/inprocess_platform.h"
#include "tests/support/program_run.h"
#include "tests/support/test_clients.h"


namespace mesim::preload {
namespace {

using namespace std::chrono_literals;

using ClientRun = test::ProgramRun;

std::filesystem::path makeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "mesim-preload-XXXXXX").string();
  char* made = ::mkdtemp(pattern.data());
  return made ? std::filesystem::path(made) : std::filesystem::path();
}

// Runs mei_c_client with the preload library and `env` (on top of a cleaned environment).
test::ProgramRun runClient(const std::vector<std::string>& args, const std::vector<std::string>& env,
                           std::chrono::seconds timeout = 60s) {
  std::vector<std::string> argv{MESIM_C_CLIENT};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> fullEnv{std::string("LD_PRELOAD=") + MESIM_PRELOAD_LIBRARY, "MESIM_PRELOAD_DEBUG=1"};
  fullEnv.insert(fullEnv.end(), env.begin(), env.end());
  return test::runProgram(argv, fullEnv, timeout, {"LD_PRELOAD=", "MESIM_", "XDG_RUNTIME_DIR="});
}

class PreloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = makeTempDir();
    ASSERT_FALSE(dir.empty());
    echo = std::make_shared<test::EchoClient>(1024, 1);  // one connection: a second connect is EBUSY
    machine.engine.addClient(echo);
    auto opened = platform::PlatformModel::open(dir / "state", {});
    ASSERT_TRUE(opened) << opened.error().message;
    platform = std::move(*opened);
    machine.engine.addClient(std::make_shared<clients::AmthiClient>(*platform));
    ASSERT_TRUE(machine.start());
    socketPath = dir / "preload.sock";
    server = std::make_unique<PreloadServer>(machine.io, *machine.host, socketPath);
    ASSERT_EQ(machine.run([&] { return errorOf(server->start()); }), "");
  }
  void TearDown() override {
    machine.run([&] {
      for (auto& extra : extraServers) extra->stop();
      extraServers.clear();
      if (server) server->stop();
      server.reset();
      echo->last.reset();  // EchoClient::last and the engine's connection hold each other
    });
    machine.shutdown();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  ClientRun run(const std::vector<std::string>& args, std::vector<std::string> env = {}) {
    if (env.empty()) env.push_back("MESIM_PRELOAD_SOCKET=" + socketPath.string());
    return runClient(args, env);
  }

  // The daemon forgets a session once the program's fd is gone and the host file is closed.
  bool waitUntilIdle(std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto [sessions, files] =
          machine.run([&] { return std::make_pair(server->sessionCount(), machine.host->stats().openFiles); });
      if (sessions == 0 && files == 0) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  static host::HostOptions hostOptions() {
    host::HostOptions o;
    o.connectTimeout = 2000ms;
    return o;
  }

  std::unique_ptr<platform::PlatformModel> platform;  // outlives the machine's AMTHI client
  test::InProcessMachine machine{hostOptions()};
  std::shared_ptr<test::EchoClient> echo;
  std::filesystem::path dir;
  std::filesystem::path socketPath;
  std::unique_ptr<PreloadServer> server;
  std::vector<std::unique_ptr<PreloadServer>> extraServers;
  const std::string guid = test::kEchoGuid.toString();
  const std::string device = "/dev/mei0";
};

TEST_F(PreloadTest, ConnectReturnsMaxMsgLength) {
  auto r = run({device, "connect", guid});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("max_msg_length=1024 protocol_version=3"), std::string::npos) << r.output;
  EXPECT_TRUE(waitUntilIdle());
}

TEST_F(PreloadTest, EchoThroughPollAndRead) {
  auto r = run({device, "echo", guid, "hello from C"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("reply=hello from C"), std::string::npos) << r.output;
}

TEST_F(PreloadTest, ErrnoPollAndShortReadCases) {
  auto r = run({device, "errno-cases", guid});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("FAIL"), std::string::npos) << r.output;
  for (const char* name : {"connect-unknown-guid-ENOTTY", "second-connect-same-fd-EBUSY", "write-too-long-EFBIG",
                           "nonblocking-read-EAGAIN", "poll-pipe-ready-mei-not", "poll-mei-ready-pipe-not",
                           "poll-timeout", "short-read-rest-next", "select-readable", "reconnect-after-close"}) {
    EXPECT_NE(r.output.find(std::string("ok ") + name + "\n"), std::string::npos) << name << "\n" << r.output;
  }
  EXPECT_TRUE(waitUntilIdle()) << "sessions and host files are freed once the program is gone";
}

TEST_F(PreloadTest, AmthiProvisioningState) {
  auto r = run({device, "amthi-provisioning-state"});
  EXPECT_EQ(r.status, 0) << r.output;
  auto expected = "provisioning_state=" + std::to_string(static_cast<int>(platform->provisioningState()));
  EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
}

TEST_F(PreloadTest, SignalEndsABlockingReadWithEintr) {
  auto r = run({device, "eintr", guid});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("FAIL"), std::string::npos) << r.output;
  EXPECT_TRUE(waitUntilIdle());
  EXPECT_EQ(machine.run([&] { return machine.host->stats().pendingCalls; }), 0u);
}

TEST_F(PreloadTest, ThreadsShareOneFd) {
  auto r = run({device, "threads", guid});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("FAIL"), std::string::npos) << r.output;
}

TEST_F(PreloadTest, DaemonUnreachableIsEnoent) {
  auto r = run({device, "open-errno"}, {"MESIM_PRELOAD_SOCKET=" + (dir / "nobody.sock").string()});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("open: ENOENT"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("mesim-preload"), std::string::npos) << "a diagnostic with MESIM_PRELOAD_DEBUG\n" << r.output;
}

TEST_F(PreloadTest, OtherPathsAreLeftAlone) {
  auto r = run({"/dev/null", "open-errno"});
  EXPECT_NE(r.output.find("open: OK"), std::string::npos) << r.output;
  EXPECT_TRUE(waitUntilIdle(100ms)) << "no session for /dev/null";
}

TEST_F(PreloadTest, SocketFoundThroughRuntimeDirs) {
  auto r = run({device, "connect", guid}, {"MESIM_RUNTIME_DIR=" + dir.string()});
  EXPECT_EQ(r.status, 0) << r.output;

  auto xdg = dir / "xdg";
  machine.run([&] {
    extraServers.push_back(std::make_unique<PreloadServer>(machine.io, *machine.host, xdg / "mesim" / "preload.sock"));
    EXPECT_EQ(errorOf(extraServers.back()->start()), "");
  });
  r = run({device, "connect", guid}, {"XDG_RUNTIME_DIR=" + xdg.string()});
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(PreloadTest, DevicePathOverride) {
  auto path = (dir / "my-mei").string();
  auto r =
      run({path, "connect", guid}, {"MESIM_PRELOAD_SOCKET=" + socketPath.string(), "MESIM_PRELOAD_DEVICE=" + path});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("max_msg_length=1024"), std::string::npos) << r.output;
}

// ---- the daemon side, driven with raw packets ----

class RawSession {
 public:
  explicit RawSession(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawSession() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool connected() const { return connected_; }
  bool send(const void* data, std::size_t length) {
    return ::send(fd_, data, length, MSG_NOSIGNAL) == static_cast<ssize_t>(length);
  }
  bool send(Op op, std::uint32_t seq, std::uint32_t arg = 0, std::uint16_t flags = 0) {
    PacketHeader h;
    h.op = static_cast<std::uint16_t>(op);
    h.seq = seq;
    h.arg = arg;
    h.flags = flags;
    return send(&h, sizeof h);
  }
  // The next packet's header, or op 0 on timeout / EOF.
  PacketHeader receive(std::chrono::milliseconds timeout = 2000ms) {
    PacketHeader h;
    h.op = 0;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return h;
    char buffer[kMaxPacket];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n >= static_cast<ssize_t>(sizeof h)) std::memcpy(&h, buffer, sizeof h);
    return h;
  }
  bool closedByPeer(std::chrono::milliseconds timeout = 2000ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
    char c;
    return ::recv(fd_, &c, 1, MSG_DONTWAIT) == 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST_F(PreloadTest, MalformedPacketsCloseOnlyThatSession) {
  RawSession garbage(socketPath);
  ASSERT_TRUE(garbage.connected());
  ASSERT_TRUE(garbage.send("xy", 2));
  EXPECT_TRUE(garbage.closedByPeer()) << "a runt packet ends the session";

  RawSession early(socketPath);
  ASSERT_TRUE(early.send(Op::Read, 1, 16));
  EXPECT_TRUE(early.closedByPeer()) << "requests before OPEN end the session";

  RawSession wrongSize(socketPath);
  ASSERT_TRUE(wrongSize.send(Op::Open, 1, kProtocolVersion));
  EXPECT_EQ(wrongSize.receive().result, 0);
  PacketHeader connect;
  connect.op = static_cast<std::uint16_t>(Op::Connect);
  connect.seq = 2;
  char packet[sizeof connect + 3] = {};
  std::memcpy(packet, &connect, sizeof connect);
  ASSERT_TRUE(wrongSize.send(packet, sizeof packet));
  EXPECT_TRUE(wrongSize.closedByPeer()) << "a CONNECT without a 16-byte GUID ends the session";

  EXPECT_TRUE(waitUntilIdle()) << "the host file of the bad session is closed";
  auto r = run({device, "connect", guid});
  EXPECT_EQ(r.status, 0) << "the daemon goes on\n" << r.output;
}

TEST_F(PreloadTest, PendingReadIsReleasedWhenTheProgramDies) {
  RawSession session(socketPath);
  ASSERT_TRUE(session.send(Op::Open, 1, kProtocolVersion));
  ASSERT_EQ(session.receive().result, 0);
  std::uint8_t guidBytes[16];
  std::memcpy(guidBytes, test::kEchoGuid.bytes.data(), 16);
  PacketHeader h;
  h.op = static_cast<std::uint16_t>(Op::Connect);
  h.seq = 2;
  char packet[sizeof h + 16];
  std::memcpy(packet, &h, sizeof h);
  std::memcpy(packet + sizeof h, guidBytes, 16);
  ASSERT_TRUE(session.send(packet, sizeof packet));
  PacketHeader reply = session.receive();
  ASSERT_EQ(reply.op, static_cast<std::uint16_t>(Op::Connect));
  ASSERT_EQ(reply.result, 0);

  ASSERT_TRUE(session.send(Op::Read, 3, 64));  // blocks: nothing to read
  ASSERT_TRUE(session.send(Op::PollArm, 4, POLLIN));
  reply = session.receive();
  EXPECT_EQ(reply.op, static_cast<std::uint16_t>(Op::PollArm));
  EXPECT_EQ(reply.result, 0) << "nothing ready yet";
  EXPECT_EQ(session.receive(100ms).op, 0) << "the READ is still waiting";
  EXPECT_EQ(machine.run([&] { return machine.host->stats().pendingCalls; }), 1u);

  // The blocked READ does not hold up another program.
  auto r = run({device, "open-errno"});
  EXPECT_NE(r.output.find("open: OK"), std::string::npos) << r.output;

  session.close();
  EXPECT_TRUE(waitUntilIdle());
  EXPECT_EQ(machine.run([&] { return machine.host->stats().pendingCalls; }), 0u);
  EXPECT_EQ(machine.run([&] { return machine.host->stats().connectedFiles; }), 0u);
}

TEST_F(PreloadTest, CancelEndsAWaitingReadWithEintr) {
  RawSession session(socketPath);
  ASSERT_TRUE(session.send(Op::Open, 1, kProtocolVersion));
  ASSERT_EQ(session.receive().result, 0);
  PacketHeader h;
  h.op = static_cast<std::uint16_t>(Op::Connect);
  h.seq = 2;
  char packet[sizeof h + 16];
  std::memcpy(packet, &h, sizeof h);
  std::memcpy(packet + sizeof h, test::kEchoGuid.bytes.data(), 16);
  ASSERT_TRUE(session.send(packet, sizeof packet));
  ASSERT_EQ(session.receive().result, 0);
  ASSERT_TRUE(session.send(Op::Read, 3, 64));
  ASSERT_TRUE(session.send(Op::Cancel, 4, 3));
  PacketHeader reply = session.receive();
  EXPECT_EQ(reply.op, static_cast<std::uint16_t>(Op::Read));
  EXPECT_EQ(reply.seq, 3u);
  EXPECT_EQ(reply.result, -EINTR);
  ASSERT_TRUE(session.send(Op::Close, 5));
  reply = session.receive();
  EXPECT_EQ(reply.op, static_cast<std::uint16_t>(Op::Close));
  EXPECT_TRUE(session.closedByPeer()) << "the daemon ends the session after CLOSE";
  EXPECT_TRUE(waitUntilIdle());
}

TEST_F(PreloadTest, StartReplacesAStaleSocketAndRefusesOtherFiles) {
  auto stalePath = dir / "stale.sock";
  {
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, stalePath.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);  // the file stays, nobody listens
  }
  auto plainFile = dir / "plain";
  {
    std::FILE* f = std::fopen(plainFile.c_str(), "w");
    std::fclose(f);
  }
  machine.run([&] {
    PreloadServer stale(machine.io, *machine.host, stalePath);
    EXPECT_EQ(errorOf(stale.start()), "");
    EXPECT_EQ(std::filesystem::status(stalePath).permissions() & std::filesystem::perms::all,
              std::filesystem::perms(0600));
    stale.stop();
    EXPECT_FALSE(std::filesystem::exists(stalePath)) << "stop removes the socket file";

    PreloadServer blocked(machine.io, *machine.host, plainFile);
    EXPECT_NE(errorOf(blocked.start()).find("not a socket"), std::string::npos);
    PreloadServer busy(machine.io, *machine.host, socketPath);
    EXPECT_NE(errorOf(busy.start()).find("in use"), std::string::npos);
  });
}

}  // namespace
}  // namespace mesim::preload
