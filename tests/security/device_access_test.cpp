// Finding 3 (credential disclosure): dev/mei0 and preload.sock were mode 0666, so any local user could read the OS
// admin account with AMTHI GetLocalSystemAccount. Now dev/mei0, preload.sock and the --hbm-listen socket are 0600 for
// the daemon's user by default, as Linux's /dev/mei0, and so is dev/watchdog0; --mei-mode/--mei-group and
// --watchdog-mode/--watchdog-group share them with a group. Checked here: the modes and groups after start, that
// another user is actually kept out (and let in through the group), and the options' errors.
#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "app/config.h"
#include "app/device.h"
#include "common/file_access.h"
#include "hostif/fuse/fuse_front_end.h"
#include "hostif/preload/preload_server.h"
#include "tests/support/daemon_process.h"
#include "tests/support/inprocess_platform.h"
#include "tests/support/test_clients.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim {
namespace {

using namespace std::chrono_literals;

constexpr uid_t kOtherUser = 65534;  // nobody
constexpr gid_t kOtherGroup = 65534;
constexpr gid_t kSharedGroup = 4242;  // any number will do: the kernel compares numbers

struct Stat {
  unsigned mode = 0;  // permission bits
  gid_t gid = 0;
  bool ok = false;
};
Stat statOf(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<unsigned>(st.st_mode & 07777), st.st_gid, true};
}

// Runs `attempt` (0 or an errno) in a child process as another user with only `groups`; its result, or -1.
int asOtherUser(std::vector<gid_t> groups, const std::function<int()>& attempt) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(kOtherGroup) != 0 || ::setuid(kOtherUser) != 0)
      ::_exit(255);
    ::_exit(attempt());
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) == 255) return -1;
  return WEXITSTATUS(status);
}

int openForReadWrite(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

int connectSeqpacket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int err = rc == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

bool root() { return ::geteuid() == 0; }

// ---------------------------------------------------------------------------------------------- options

app::ParseResult parse(std::vector<std::string> args, const std::string& configText = "") {
  test::TempDir dir{"access-config"};
  if (!configText.empty()) {
    std::ofstream(dir.path() / "mesim.conf") << configText;
    args.insert(args.begin(), {"--config", (dir.path() / "mesim.conf").string()});
  }
  args.insert(args.begin(), {"mesim", "--state-dir", "/s", "--runtime-dir", "/r"});
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  char* noEnvironment[] = {nullptr};
  return app::parseConfig(static_cast<int>(argv.size()), argv.data(), noEnvironment);
}

TEST(DeviceAccess, DefaultsAreOwnerOnly) {
  auto r = parse({});
  ASSERT_EQ(r.action, app::ParseResult::Action::Run) << r.message;
  const auto& d = r.config.devices[0];
  EXPECT_EQ(d.meiAccess.mode, 0600u);
  EXPECT_FALSE(d.meiAccess.group);
  EXPECT_EQ(d.watchdogAccess.mode, 0600u);
  EXPECT_FALSE(d.watchdogAccess.group);
}

TEST(DeviceAccess, ModesAndGroupsAreParsed) {
  auto r = parse({"--mei-mode", "0640", "--mei-group", "0", "--watchdog-group", std::to_string(kSharedGroup)});
  ASSERT_EQ(r.action, app::ParseResult::Action::Run) << r.message;
  const auto& d = r.config.devices[0];
  EXPECT_EQ(d.meiAccess.mode, 0640u);
  EXPECT_EQ(d.meiAccess.group, gid_t{0});
  EXPECT_EQ(d.watchdogAccess.mode, 0660u) << "a group without a mode shares the node with it";
  EXPECT_EQ(d.watchdogAccess.group, kSharedGroup);

  const group* known = ::getgrgid(0);
  ASSERT_NE(known, nullptr);
  auto byName = parse({"--mei-group", known->gr_name, "--mei-mode", "600"});
  ASSERT_EQ(byName.action, app::ParseResult::Action::Run) << byName.message;
  EXPECT_EQ(byName.config.devices[0].meiAccess.group, gid_t{0});
  EXPECT_EQ(byName.config.devices[0].meiAccess.mode, 0600u) << "an explicit mode stays";

  auto section = parse({"--http-port", "0", "--https-port", "0", "--redirection-port", "0", "--redirection-tls-port", "0"}, "mei-mode = 0660\n[device.b]\nwatchdog-mode = 0640\n");
  ASSERT_EQ(section.action, app::ParseResult::Action::Run) << section.message;
  EXPECT_EQ(section.config.devices[1].meiAccess.mode, 0660u) << "a section starts from the default device";
  EXPECT_EQ(section.config.devices[1].watchdogAccess.mode, 0640u);
}

TEST(DeviceAccess, BadModesAndUnknownGroupsAreClearErrors) {
  for (const char* bad : {"", "abc", "0o600", "0800", "01777", "4755", "99999"}) {
    auto r = parse({"--mei-mode", bad});
    EXPECT_EQ(r.action, app::ParseResult::Action::Error) << bad;
    EXPECT_NE(r.message.find("--mei-mode"), std::string::npos) << r.message;
  }
  auto unknown = parse({"--mei-group", "no-such-group-mesim"});
  EXPECT_EQ(unknown.action, app::ParseResult::Action::Error);
  EXPECT_EQ(unknown.message, "--mei-group: no group named 'no-such-group-mesim' on this system");
  auto inSection = parse({"--http-port", "0", "--https-port", "0", "--redirection-port", "0", "--redirection-tls-port", "0"}, "[device.b]\nwatchdog-group = no-such-group-mesim\n");
  EXPECT_EQ(inSection.action, app::ParseResult::Action::Error);
  EXPECT_NE(inSection.message.find("[device.b]: --watchdog-group: no group named"), std::string::npos)
      << inSection.message;
}

// The daemon itself refuses to start, before it serves anything.
TEST(DeviceAccess, TheDaemonStopsAtStartOnAnUnknownGroup) {
  test::TempDir dir{"access-daemon"};
  const std::string command = test::mesimBinary().string() + " --state-dir " + (dir.path() / "s").string() +
                              " --runtime-dir " + (dir.path() / "r").string() +
                              " --mei-group no-such-group-mesim 2>" + (dir.path() / "err").string();
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  std::ifstream in(dir.path() / "err");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("--mei-group: no group named 'no-such-group-mesim'"), std::string::npos) << text;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "r" / "preload.sock"));
}

// ---------------------------------------------------------------------------------------------- FUSE nodes

class FuseNodeAccess : public ::testing::Test {
 protected:
  void mount(fuse::NodeAccess access) {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/fuse unusable";
    machine.engine.addClient(std::make_shared<test::EchoClient>(512, 8));
    ASSERT_TRUE(machine.start());
    fuse::installProcessLogging();
    char dir[] = "/tmp/mesim-access-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    mountDir = dir;
    frontEnd = std::make_unique<fuse::FuseFrontEnd>(machine.io, *machine.host, mountDir, nullptr, access);
    const std::string err = errorOf(frontEnd->start());
    if (err.rfind("FUSE unavailable", 0) == 0 || err.find("mounting FUSE") != std::string::npos)
      GTEST_SKIP() << "cannot mount FUSE here: " << err;
    ASSERT_EQ(err, "");
  }
  void TearDown() override {
    frontEnd.reset();
    if (!mountDir.empty()) ::rmdir(mountDir.c_str());
  }
  std::string node(const char* name) const { return (mountDir / "dev" / name).string(); }

  test::InProcessMachine machine;
  std::filesystem::path mountDir;
  std::unique_ptr<fuse::FuseFrontEnd> frontEnd;
};

TEST_F(FuseNodeAccess, DevMei0AndWatchdog0AreOwnerOnlyByDefault) {
  mount({});
  const Stat mei = statOf(node("mei0")), watchdog = statOf(node("watchdog0"));
  ASSERT_TRUE(mei.ok && watchdog.ok);
  EXPECT_EQ(mei.mode, 0600u);
  EXPECT_EQ(mei.gid, ::getegid());
  EXPECT_EQ(watchdog.mode, 0600u);
  EXPECT_EQ(openForReadWrite(node("mei0")), 0) << "the daemon's user opens it";
  if (!root()) GTEST_SKIP() << "acting as another user needs root";
  EXPECT_EQ(asOtherUser({}, [&] { return openForReadWrite(node("mei0")); }), EACCES)
      << "another local user cannot reach the ME (GetLocalSystemAccount)";
  EXPECT_EQ(asOtherUser({kSharedGroup}, [&] { return openForReadWrite(node("mei0")); }), EACCES);
}

TEST_F(FuseNodeAccess, AGroupOfItsOwnIsLetIn) {
  mount({{0660, kSharedGroup}, {0640, kSharedGroup}});
  const Stat mei = statOf(node("mei0")), watchdog = statOf(node("watchdog0"));
  EXPECT_EQ(mei.mode, 0660u);
  EXPECT_EQ(mei.gid, kSharedGroup);
  EXPECT_EQ(watchdog.mode, 0640u);
  EXPECT_EQ(watchdog.gid, kSharedGroup);
  if (!root()) GTEST_SKIP() << "acting as another user needs root";
  EXPECT_EQ(asOtherUser({kSharedGroup}, [&] { return openForReadWrite(node("mei0")); }), 0) << "a member opens it";
  EXPECT_EQ(asOtherUser({}, [&] { return openForReadWrite(node("mei0")); }), EACCES) << "others do not";
  const Stat sysfs = statOf(mountDir / "sys/class/mei/mei0/fw_status");
  EXPECT_EQ(sysfs.mode, 0444u) << "sysfs attributes keep sysfs's modes";
}

// ---------------------------------------------------------------------------------------------- sockets

class SocketAccess : public ::testing::Test {
 protected:
  void SetUp() override {
    machine.engine.addClient(std::make_shared<test::EchoClient>(512, 8));
    ASSERT_TRUE(machine.start());
    // Another user must be able to reach the directory: only the socket's own mode may keep them out.
    std::filesystem::permissions(dir.path(), std::filesystem::perms(0755));
  }
  test::InProcessMachine machine;
  test::TempDir dir{"access-socket"};
};

TEST_F(SocketAccess, PreloadSocketIsOwnerOnlyByDefault) {
  const auto path = dir.path() / "preload.sock";
  preload::PreloadServer server(machine.io, *machine.host, path);
  ASSERT_EQ(machine.run([&] { return errorOf(server.start()); }), "");
  const Stat st = statOf(path);
  EXPECT_EQ(st.mode, 0600u);
  EXPECT_EQ(st.gid, ::getegid());
  EXPECT_EQ(connectSeqpacket(path.string()), 0);
  if (root()) {
    EXPECT_EQ(asOtherUser({kSharedGroup}, [&] { return connectSeqpacket(path.string()); }), EACCES)
        << "another local user cannot reach the ME through the preload socket";
  }
  machine.run([&] { server.stop(); });
}

TEST_F(SocketAccess, PreloadSocketSharedWithAGroup) {
  if (!root()) GTEST_SKIP() << "giving a file to an arbitrary group needs root";
  const auto path = dir.path() / "preload.sock";
  preload::PreloadServer server(machine.io, *machine.host, path, FileAccess{0660, kSharedGroup});
  ASSERT_EQ(machine.run([&] { return errorOf(server.start()); }), "");
  const Stat st = statOf(path);
  EXPECT_EQ(st.mode, 0660u);
  EXPECT_EQ(st.gid, kSharedGroup);
  EXPECT_EQ(asOtherUser({kSharedGroup}, [&] { return connectSeqpacket(path.string()); }), 0);
  EXPECT_EQ(asOtherUser({}, [&] { return connectSeqpacket(path.string()); }), EACCES);
  machine.run([&] { server.stop(); });
}

TEST(HbmSocketAccess, TheExternalDriverSocketFollowsTheMeiAccess) {
  test::TempDir dir{"access-hbm"};
  for (const FileAccess& access : {FileAccess{}, FileAccess{0660, ::getegid()}}) {
    app::DeviceConfig config;
    config.stateDir = dir.path() / "state";
    config.runtimeDir = dir.path() / "run";
    config.hbmListen = dir.path() / "hbm.sock";
    config.fuse = app::FuseMode::Off;
    config.preload = false;
    config.httpPort = -1;
    config.httpsPort = -1;
    config.redirectionPort = -1;
    config.redirectionTlsPort = -1;
    config.meiAccess = access;
    boost::asio::io_context io;
    app::Device device(io, config);
    auto started = device.start({});
    ASSERT_TRUE(started) << started.error().message;
    const Stat st = statOf(*config.hbmListen);
    EXPECT_EQ(st.mode, access.mode);
    EXPECT_EQ(st.gid, ::getegid());
    bool stopped = false;
    device.stop([&] { stopped = true; });
    while (!stopped) io.run_one_for(50ms);
  }
}

}  // namespace
}  // namespace mesim
