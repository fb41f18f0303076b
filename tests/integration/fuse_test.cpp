// dev/mei0 and sysfs through a real FUSE mount, driven with plain syscalls on real file descriptors
// (spec/mei.md §1): the host model and the HBM engine with an echo client behind it.
#include <fcntl.h>
#include <linux/mei.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <future>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hostif/fuse/fuse_front_end.h"
#include "tests/support/inprocess_platform.h"
#include "tests/support/test_clients.h"

namespace mesim::fuse {
namespace {

using namespace std::chrono_literals;

// -errno on failure, like the kernel's return values.
long sysResult(long r) { return r < 0 ? -errno : r; }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// A syscall on its own thread. If it hangs, the destructor stops the mount (which ends every call
// still inside FUSE) before joining, so a failing test still finishes.
class Background {
 public:
  Background(FuseFrontEnd& frontEnd, std::function<long()> call) : frontEnd_(frontEnd) {
    std::packaged_task<long()> task(std::move(call));
    result_ = task.get_future();
    thread_ = std::thread(std::move(task));
  }
  ~Background() {
    if (result_.valid() && result_.wait_for(0s) != std::future_status::ready) frontEnd_.stop();
    thread_.join();
  }
  std::optional<long> wait(std::chrono::milliseconds timeout) {
    if (result_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return result_.get();
  }
  bool finished() { return result_.wait_for(0s) == std::future_status::ready; }
  pthread_t handle() { return thread_.native_handle(); }

 private:
  FuseFrontEnd& frontEnd_;
  std::future<long> result_;
  std::thread thread_;
};

void ignoreSignal(int) {}

class FuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/fuse unusable: " << std::strerror(errno);
    echo = std::make_shared<test::EchoClient>(512, 8);
    machine.engine.addClient(echo);
    ASSERT_TRUE(machine.start());
    installProcessLogging();  // the process shell's job, once; repeating it is harmless

    char dir[] = "/tmp/mesim-fuse-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    mountDir = dir;
    frontEnd = std::make_unique<FuseFrontEnd>(machine.io, *machine.host, mountDir);
    const std::string err = errorOf(frontEnd->start());
    if (err.rfind("FUSE unavailable", 0) == 0 || err.find("mounting FUSE") != std::string::npos)
      GTEST_SKIP() << "cannot mount FUSE here: " << err;
    ASSERT_EQ(err, "");
    dev = (mountDir / "dev/mei0").string();
    sys = mountDir / "sys/class/mei/mei0";

    // This process both serves the mount and calls into it. Killed mid-call it could never exit:
    // the kernel waits uninterruptibly for an answer only its own dead threads could send. So a
    // hung test ends its own mount (stop() aborts the connection) well before ctest's timeout.
    watchdog = std::thread([this] {
      std::unique_lock lock(watchdogMutex);
      if (watchdogWake.wait_for(lock, 60s, [this] { return testDone; })) return;
      ADD_FAILURE() << "test hung; stopping the mount so the process can exit";
      frontEnd->stop();
    });
  }
  void TearDown() override {
    {
      std::lock_guard lock(watchdogMutex);
      testDone = true;
    }
    watchdogWake.notify_all();
    if (watchdog.joinable()) watchdog.join();
    frontEnd.reset();
    if (!mountDir.empty()) ::rmdir(mountDir.c_str());
  }

  int openDev(int flags = O_RDWR) { return ::open(dev.c_str(), flags | O_CLOEXEC); }

  // IOCTL_MEI_CONNECT_CLIENT: 0 or -errno; `out` receives the 16-byte struct as the caller sees it.
  long connect(int fd, const hbm::Guid& guid, mei_connect_client_data* out = nullptr) {
    mei_connect_client_data data{};
    std::memcpy(data.in_client_uuid.b, guid.bytes.data(), sizeof data.in_client_uuid.b);
    const long r = sysResult(::ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, &data));
    if (out) *out = data;
    return r;
  }
  // A newly opened file connects to the echo client and echoes: the mount serves (after a restart).
  void expectAFreshFileEchoes() {
    Fd again(openDev());
    ASSERT_GE(again.get(), 0);
    ASSERT_EQ(connect(again.get(), test::kEchoGuid), 0);
    EXPECT_EQ(writeText(again.get(), "again"), 5);
    EXPECT_EQ(readText(again.get()), "again");
  }
  long writeText(int fd, const std::string& text) { return sysResult(::write(fd, text.data(), text.size())); }
  std::string readText(int fd, std::size_t size = 2048) {
    std::string buf(size, '\0');
    const long r = sysResult(::read(fd, buf.data(), buf.size()));
    if (r < 0) return "errno:" + std::string(std::strerror(static_cast<int>(-r)));
    buf.resize(static_cast<std::size_t>(r));
    return buf;
  }
  std::string readFile(const std::filesystem::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return "errno:" + std::string(std::strerror(errno));
    std::string text;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) return "errno:" + std::string(std::strerror(errno));
      if (n == 0) return text;
      text.append(buf, static_cast<std::size_t>(n));
    }
  }
  long writeFile(const std::filesystem::path& path, const std::string& text) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (fd.get() < 0) return -errno;
    return sysResult(::write(fd.get(), text.data(), text.size()));
  }
  std::string hostSays(std::string (host::MeiHost::*getter)() const) {
    return machine.run([&] { return ((*machine.host).*getter)(); });
  }

  test::InProcessMachine machine;
  std::shared_ptr<test::EchoClient> echo;
  std::filesystem::path mountDir;
  std::unique_ptr<FuseFrontEnd> frontEnd;
  std::string dev;
  std::filesystem::path sys;
  std::thread watchdog;
  std::mutex watchdogMutex;
  std::condition_variable watchdogWake;
  bool testDone = false;
};

TEST_F(FuseTest, TreeHasTheDeviceAndTheSysfsAttributes) {
  struct stat st {};
  ASSERT_EQ(::stat(dev.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u) << "as Linux's /dev/mei0 (tests/security/device_access_test.cpp)";
  ASSERT_EQ(::stat((sys / "fw_status").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444u);
  ASSERT_EQ(::stat((sys / "tx_queue_limit").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(sys)) names.insert(entry.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"fw_status", "fw_ver", "hbm_ver", "hbm_ver_drv", "dev_state", "trc", "kind",
                                          "tx_queue_limit"}));
  EXPECT_EQ(::access((mountDir / "dev/nothing").c_str(), F_OK), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FuseTest, SysfsFilesHaveTheKernelFormats) {
  EXPECT_EQ(readFile(sys / "dev_state"), "ENABLED") << "no newline, like the kernel";
  EXPECT_EQ(readFile(sys / "hbm_ver"), "2.2\n");
  EXPECT_EQ(readFile(sys / "hbm_ver_drv"), "2.2\n");
  EXPECT_EQ(readFile(sys / "kind"), "mei\n");
  EXPECT_EQ(readFile(sys / "tx_queue_limit"), "50\n");
  EXPECT_EQ(readFile(sys / "fw_status"), "94000245\n09F10506\n00000020\n00004000\n00041F03\nC7E003CB\n");
  EXPECT_TRUE(std::regex_match(readFile(sys / "trc"), std::regex("[0-9A-F]{8}\n")));
  EXPECT_TRUE(std::regex_match(readFile(sys / "fw_ver"), std::regex("(\\d+:\\d+\\.\\d+\\.\\d+\\.\\d+\n){3}")))
      << readFile(sys / "fw_ver");
  // Exactly what the host model says, byte for byte.
  EXPECT_EQ(readFile(sys / "fw_ver"), hostSays(&host::MeiHost::sysfsFwVer));
  EXPECT_EQ(readFile(sys / "trc"), hostSays(&host::MeiHost::sysfsTrc));

  // metee preads fw_status register n at offset n * 9.
  Fd fd(::open((sys / "fw_status").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_GE(fd.get(), 0);
  char reg[9];
  ASSERT_EQ(::pread(fd.get(), reg, sizeof reg, 9), 9);
  EXPECT_EQ(std::string(reg, 9), "09F10506\n");
}

TEST_F(FuseTest, TxQueueLimitIsWritable) {
  EXPECT_EQ(writeFile(sys / "tx_queue_limit", "40\n"), 3);
  EXPECT_EQ(readFile(sys / "tx_queue_limit"), "40\n");
  EXPECT_EQ(writeFile(sys / "tx_queue_limit", "10\n"), -EINVAL) << "below 30";
  EXPECT_EQ(writeFile(sys / "tx_queue_limit", "lots"), -EINVAL);
  EXPECT_EQ(readFile(sys / "tx_queue_limit"), "40\n");
  EXPECT_EQ(writeFile(sys / "fw_status", "0"), -EACCES) << "read-only attributes refuse even root";
}

TEST_F(FuseTest, ConnectReturnsClientPropertiesAndEchoes) {
  Fd fd(openDev());
  ASSERT_GE(fd.get(), 0) << std::strerror(errno);
  mei_connect_client_data data{};
  ASSERT_EQ(connect(fd.get(), test::kEchoGuid, &data), 0);
  EXPECT_EQ(data.out_client_properties.max_msg_length, 512u);
  EXPECT_EQ(data.out_client_properties.protocol_version, 3);
  EXPECT_EQ(0, std::memcmp(data.in_client_uuid.b + 8, test::kEchoGuid.bytes.data() + 8, 8))
      << "bytes 8..15 keep the GUID";

  EXPECT_EQ(writeText(fd.get(), "ping"), 4);
  EXPECT_EQ(readText(fd.get()), "ping");
  EXPECT_EQ(connect(fd.get(), test::kEchoGuid), -EBUSY) << "second connect on a connected fd";
}

TEST_F(FuseTest, ErrnoCases) {
  Fd fd(openDev());
  ASSERT_GE(fd.get(), 0);
  EXPECT_EQ(readText(fd.get(), 16), "errno:" + std::string(std::strerror(ENODEV))) << "read before connect";
  EXPECT_EQ(connect(fd.get(), *hbm::Guid::parse("00000000-0000-0000-0000-000000000001")), -ENOTTY);
  EXPECT_EQ(sysResult(::ioctl(fd.get(), _IOR('H', 0x09, std::uint32_t), nullptr)), -ENOTTY) << "unknown ioctl";
  EXPECT_EQ(sysResult(::ioctl(fd.get(), _IO('H', 0x0a))), -ENOTTY) << "ioctl without a size";

  mei_connect_client_data_vtag vtag{};
  std::memcpy(vtag.connect.in_client_uuid.b, test::kEchoGuid.bytes.data(), 16);
  vtag.connect.vtag = 1;
  EXPECT_EQ(sysResult(::ioctl(fd.get(), IOCTL_MEI_CONNECT_CLIENT_VTAG, &vtag)), -EOPNOTSUPP)
      << "the 20-byte ioctl reaches the host model; the echo client has no vtag support";

  ASSERT_EQ(connect(fd.get(), test::kEchoGuid), 0);
  EXPECT_EQ(writeText(fd.get(), std::string(513, 'x')), -EFBIG);
  EXPECT_EQ(writeText(fd.get(), std::string(512, 'x')), 512);
  EXPECT_EQ(readText(fd.get()), std::string(512, 'x'));
  EXPECT_EQ(sysResult(::lseek(fd.get(), 0, SEEK_SET)), -ESPIPE) << "nonseekable";
  EXPECT_EQ(::fsync(fd.get()), 0);
}

TEST_F(FuseTest, NonblockingReadWithNothingQueuedIsEagain) {
  Fd fd(openDev());
  ASSERT_GE(fd.get(), 0);
  ASSERT_EQ(connect(fd.get(), test::kEchoGuid), 0);
  // O_NONBLOCK set after open reaches the file system: read carries the current f_flags.
  ASSERT_EQ(::fcntl(fd.get(), F_SETFL, O_NONBLOCK), 0);
  char buf[16];
  EXPECT_EQ(sysResult(::read(fd.get(), buf, sizeof buf)), -EAGAIN);
  ASSERT_EQ(::fcntl(fd.get(), F_SETFL, 0), 0);
  EXPECT_EQ(writeText(fd.get(), "back"), 4);
  EXPECT_EQ(readText(fd.get()), "back");
}

TEST_F(FuseTest, PollStartsAReadAndWakesWhenTheAnswerArrives) {
  Fd fd(openDev());
  ASSERT_GE(fd.get(), 0);
  ASSERT_EQ(connect(fd.get(), test::kEchoGuid), 0);
  pollfd p{fd.get(), POLLOUT, 0};
  ASSERT_EQ(::poll(&p, 1, 1000), 1);
  EXPECT_EQ(p.revents, POLLOUT);

  // mei-amt-version style: write, then wait in poll. No read is pending, so only the poll's own
  // credit lets the answer in, and only the wake-up notification ends the wait.
  ASSERT_EQ(writeText(fd.get(), "polled"), 6);
  p = {fd.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  EXPECT_TRUE(p.revents & POLLIN);
  EXPECT_EQ(readText(fd.get()), "polled");

  p = {fd.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 100), 0) << "nothing more to read";
}

TEST_F(FuseTest, ShortReadGetsTheRestOnTheNextRead) {
  Fd fd(openDev());
  ASSERT_GE(fd.get(), 0);
  ASSERT_EQ(connect(fd.get(), test::kEchoGuid), 0);
  ASSERT_EQ(writeText(fd.get(), "abcdefghij"), 10);
  EXPECT_EQ(readText(fd.get(), 4), "abcd");
  ASSERT_EQ(writeText(fd.get(), "second"), 6);
  EXPECT_EQ(readText(fd.get(), 100), "efghij");
  EXPECT_EQ(readText(fd.get(), 100), "second");
}

// mei_read returns -EINTR whenever a signal is pending, so SA_RESTART does not restart it: both ways give EINTR.
class FuseSignalTest : public FuseTest, public ::testing::WithParamInterface<bool> {};

TEST_P(FuseSignalTest, SignalEndsABlockedReadWithEintr) {
  struct sigaction action {};
  action.sa_handler = ignoreSignal;
  action.sa_flags = GetParam() ? SA_RESTART : 0;
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);

  Fd fd(openDev());
  ASSERT_GE(fd.get(), 0);
  ASSERT_EQ(connect(fd.get(), test::kEchoGuid), 0);
  {
    Background reader(*frontEnd, [&] {
      char buf[64];
      return sysResult(::read(fd.get(), buf, sizeof buf));
    });
    std::this_thread::sleep_for(300ms);
    ASSERT_FALSE(reader.finished()) << "read must block with nothing queued";
    ::pthread_kill(reader.handle(), SIGUSR1);
    EXPECT_EQ(reader.wait(5s), std::optional<long>(-EINTR));
  }
  ::sigaction(SIGUSR1, &previous, nullptr);

  // The file still works afterwards.
  EXPECT_EQ(writeText(fd.get(), "after"), 5);
  EXPECT_EQ(readText(fd.get()), "after");
}
INSTANTIATE_TEST_SUITE_P(WithAndWithoutSaRestart, FuseSignalTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "SaRestart" : "NoSaRestart"; });

TEST_F(FuseTest, WriteIsNotHeldUpByAReadParkedOnTheSameFd) {
  // LMS: one thread blocks in read forever, another writes requests on the same fd.
  Fd fd(openDev());
  ASSERT_GE(fd.get(), 0);
  ASSERT_EQ(connect(fd.get(), test::kEchoGuid), 0);
  Background reader(*frontEnd, [&] {
    char buf[64];
    const long n = sysResult(::read(fd.get(), buf, sizeof buf));
    return n == 5 && std::string(buf, 5) == "hello" ? 1 : n;
  });
  std::this_thread::sleep_for(200ms);
  Background writer(*frontEnd, [&] { return writeText(fd.get(), "hello"); });
  EXPECT_EQ(writer.wait(5s), std::optional<long>(5));
  EXPECT_EQ(reader.wait(5s), std::optional<long>(1));
}

TEST_F(FuseTest, ParkedReadersDoNotStarveOtherRequests) {
  constexpr int kReaders = 6;  // more than the FUSE worker threads; the echo client takes 8 connections
  std::vector<std::unique_ptr<Fd>> fds;
  std::vector<std::unique_ptr<Background>> readers;
  for (int i = 0; i < kReaders; ++i) {
    fds.push_back(std::make_unique<Fd>(openDev()));
    const int fd = fds.back()->get();
    ASSERT_GE(fd, 0);
    ASSERT_EQ(connect(fd, test::kEchoGuid), 0);
    readers.push_back(std::make_unique<Background>(*frontEnd, [fd] {
      char buf[64];
      return sysResult(::read(fd, buf, sizeof buf));
    }));
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(readFile(sys / "dev_state"), "ENABLED");
  Fd other(openDev());
  ASSERT_GE(other.get(), 0);
  ASSERT_EQ(connect(other.get(), test::kEchoGuid), 0);
  EXPECT_EQ(writeText(other.get(), "through"), 7);
  EXPECT_EQ(readText(other.get()), "through");
  for (auto& reader : readers) EXPECT_FALSE(reader->finished());
  for (int i = 0; i < kReaders; ++i) EXPECT_EQ(writeText(fds[i]->get(), "x"), 1);
  for (auto& reader : readers) EXPECT_EQ(reader->wait(5s), std::optional<long>(1));
}

TEST_F(FuseTest, NotifySetAndGet) {
  Fd fd(openDev(O_RDWR | O_NONBLOCK));
  ASSERT_GE(fd.get(), 0);
  ASSERT_EQ(connect(fd.get(), test::kEchoGuid), 0);
  std::uint32_t enable = 1;
  ASSERT_EQ(sysResult(::ioctl(fd.get(), IOCTL_MEI_NOTIFY_SET, &enable)), 0);
  EXPECT_TRUE(machine.run([&] { return echo->notifyEnabled; }));
  std::uint32_t event = 0;
  EXPECT_EQ(sysResult(::ioctl(fd.get(), IOCTL_MEI_NOTIFY_GET, &event)), -EAGAIN) << "opened O_NONBLOCK, no event";

  ASSERT_EQ(::fcntl(fd.get(), F_SETFL, 0), 0);
  EXPECT_EQ(writeText(fd.get(), "NOTIFY"), 6);  // also tells the front end the fd is blocking now
  Background getter(*frontEnd, [&] {
    std::uint32_t value = 0;
    const long r = sysResult(::ioctl(fd.get(), IOCTL_MEI_NOTIFY_GET, &value));
    return r == 0 ? static_cast<long>(value) : r;
  });
  EXPECT_EQ(getter.wait(5s), std::optional<long>(1));
}

TEST_F(FuseTest, StopAnswersParkedCallsAndUnmounts) {
  Fd fd(openDev());
  ASSERT_GE(fd.get(), 0);
  ASSERT_EQ(connect(fd.get(), test::kEchoGuid), 0);
  Background reader(*frontEnd, [&] {
    char buf[64];
    return sysResult(::read(fd.get(), buf, sizeof buf));
  });
  Fd polled(openDev());
  ASSERT_GE(polled.get(), 0);
  ASSERT_EQ(connect(polled.get(), test::kEchoGuid), 0);
  Background poller(*frontEnd, [&] {
    pollfd p{polled.get(), POLLIN, 0};
    const long n = sysResult(::poll(&p, 1, 10000));
    return n == 1 ? static_cast<long>(p.revents) : n - 1000;
  });
  std::this_thread::sleep_for(200ms);
  ASSERT_FALSE(poller.finished());
  const auto before = std::chrono::steady_clock::now();
  machine.run([&] { frontEnd->stop(); });  // as a signal handler on the loop would
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  EXPECT_FALSE(frontEnd->running());
  const auto result = reader.wait(5s);
  ASSERT_TRUE(result.has_value());
  EXPECT_LT(*result, 0) << "a parked read ends with an error when the device goes away";
  EXPECT_EQ(poller.wait(2s), std::optional<long>(POLLERR)) << "a waiting poll wakes up with POLLERR";
  EXPECT_EQ(::access(dev.c_str(), F_OK), -1) << "unmounted";
  frontEnd->stop();  // idempotent

  // The host file that was still open was closed; the mount can come back.
  std::size_t openFiles = 1;
  for (int i = 0; i < 100 && openFiles != 0; ++i) {
    openFiles = machine.run([&] { return machine.host->stats().openFiles; });
    if (openFiles != 0) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(openFiles, 0u);
  EXPECT_EQ(errorOf(frontEnd->start()), "");
  expectAFreshFileEchoes();
}

// The daemon's shutdown stops FUSE from a thread of its own while the loop keeps running (and may be reading
// /dev/fuse): parked calls still end, and a client busy with requests meanwhile gets answers or errors, never a hang.
TEST_F(FuseTest, StopFromAnotherThreadWhileTheLoopServesEndsEveryCall) {
  Fd parked(openDev());
  ASSERT_GE(parked.get(), 0);
  ASSERT_EQ(connect(parked.get(), test::kEchoGuid), 0);
  Background reader(*frontEnd, [&] {
    char buf[64];
    return sysResult(::read(parked.get(), buf, sizeof buf));
  });
  Fd busy(openDev());
  ASSERT_GE(busy.get(), 0);
  ASSERT_EQ(connect(busy.get(), test::kEchoGuid), 0);
  std::atomic<bool> stopped{false};
  Background chatter(*frontEnd, [&] {
    long roundTrips = 0;
    while (writeText(busy.get(), "ping") == 4 && readText(busy.get()) == "ping") ++roundTrips;
    return stopped ? roundTrips : -1;
  });
  std::this_thread::sleep_for(200ms);
  ASSERT_FALSE(reader.finished());
  ASSERT_FALSE(chatter.finished());
  std::thread stopper([&] {
    stopped = true;
    frontEnd->stop();
  });
  stopper.join();
  EXPECT_FALSE(frontEnd->running());
  const auto read = reader.wait(5s);
  ASSERT_TRUE(read.has_value());
  EXPECT_LT(*read, 0);
  const auto trips = chatter.wait(5s);
  ASSERT_TRUE(trips.has_value()) << "a client inside a call when the mount went away hangs";
  EXPECT_GT(*trips, 0);
  ASSERT_EQ(errorOf(frontEnd->start()), "");  // and the mount comes back
  expectAFreshFileEchoes();
}

TEST_F(FuseTest, AStaleMountIsClearedByTheNextStart) {
  if (::geteuid() != 0) GTEST_SKIP() << "aborting a connection with MNT_FORCE needs root";
  {
    // What a killed daemon leaves behind: the connection aborted, the mount still in place (busy).
    Fd busy(::open((sys / "kind").c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_GE(busy.get(), 0);
    EXPECT_EQ(::umount2(mountDir.c_str(), MNT_FORCE), -1);
    EXPECT_EQ(errno, EBUSY);
  }
  struct stat st {};
  EXPECT_EQ(::stat(dev.c_str(), &st), -1);
  EXPECT_EQ(errno, ENOTCONN);
  frontEnd->stop();  // returns although the connection is gone
  struct statfs fs {};
  EXPECT_EQ(::statfs(mountDir.c_str(), &fs), -1) << "libfuse does not unmount an aborted connection";
  EXPECT_EQ(errno, ENOTCONN);

  ASSERT_EQ(errorOf(frontEnd->start()), "");
  EXPECT_EQ(readFile(sys / "dev_state"), "ENABLED");
  frontEnd->stop();
  EXPECT_EQ(::statfs(mountDir.c_str(), &fs), 0) << "nothing left mounted";
  EXPECT_NE(fs.f_type, 0x65735546) << "not FUSE any more";
}

TEST_F(FuseTest, StartExplainsWhyItCannotMount) {
  FuseFrontEnd onAFile(machine.io, *machine.host, "/proc/version");
  EXPECT_EQ(errorOf(onAFile.start()), "mount point /proc/version is not a directory");
  EXPECT_FALSE(onAFile.running());
  onAFile.stop();  // harmless when never started
}

TEST_F(FuseTest, ALiveMountIsNotMountedOver) {
  FuseFrontEnd second(machine.io, *machine.host, mountDir);
  EXPECT_NE(errorOf(second.start()).find("already a live FUSE mount"), std::string::npos);
  EXPECT_FALSE(second.running());
  EXPECT_EQ(readFile(sys / "kind"), "mei\n");
}

// Several devices in one process: a second front end on another mount point, on the same loop, serves its own
// dev/mei0; stopping it leaves the first one serving.
TEST_F(FuseTest, TwoMountsServeSideBySide) {
  char dir[] = "/tmp/mesim-fuse-second-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::filesystem::path secondDir = dir;
  {
    FuseFrontEnd second(machine.io, *machine.host, secondDir);
    ASSERT_EQ(errorOf(second.start()), "");
    EXPECT_TRUE(second.running());
    Fd viaSecond(::open((secondDir / "dev/mei0").c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_GE(viaSecond.get(), 0);
    ASSERT_EQ(connect(viaSecond.get(), test::kEchoGuid), 0);
    Fd viaFirst(openDev());
    ASSERT_GE(viaFirst.get(), 0);
    ASSERT_EQ(connect(viaFirst.get(), test::kEchoGuid), 0);
    EXPECT_EQ(writeText(viaSecond.get(), "second"), 6);
    EXPECT_EQ(writeText(viaFirst.get(), "first"), 5);
    EXPECT_EQ(readText(viaFirst.get()), "first");
    EXPECT_EQ(readText(viaSecond.get()), "second");
    EXPECT_EQ(readFile(secondDir / "sys/class/mei/mei0/kind"), "mei\n");
    second.stop();
    EXPECT_FALSE(second.running());
    EXPECT_TRUE(frontEnd->running());
    EXPECT_EQ(readText(viaSecond.get()).rfind("errno:", 0), 0u) << "the stopped mount's file fails";
  }
  expectAFreshFileEchoes();
  ::rmdir(secondDir.c_str());
}

}  // namespace
}  // namespace mesim::fuse
