#include "hostif/fuse/fuse_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <utility>

#include <boost/asio/post.hpp>

#include "hostif/fuse/fuse_front_end.h"  // installProcessLogging

namespace mesim::fuse {
namespace {

constexpr const char* kLog = "fuse";
constexpr int kRequestsPerTurn = 16;  // then other work on the loop gets its turn
constexpr decltype(statfs::f_type) kFuseSuperMagic = 0x65735546;  // FUSE_SUPER_MAGIC

// libfuse's last error on this thread, for start()'s message. Thread-local, not per mount: libfuse's log hook
// has no user pointer, and each start() reads it on its own thread right after the call that failed.
thread_local std::string lastFuseError;

void forwardFuseLog(enum fuse_log_level level, const char* format, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  std::string message(text);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (level <= FUSE_LOG_ERR) {
    lastFuseError = message;
    MESIM_LOG(Error, kLog, message);
  } else if (level <= FUSE_LOG_NOTICE) {
    MESIM_LOG(Info, kLog, message);
  } else {
    MESIM_LOG(Debug, kLog, message);
  }
}

bool userAllowOther() {
  std::ifstream conf("/etc/fuse.conf");
  std::string line;
  while (std::getline(conf, line)) {
    const auto first = line.find_first_not_of(" \t");
    const auto last = line.find_last_not_of(" \t\r");
    if (first != std::string::npos && line.substr(first, last - first + 1) == "user_allow_other") return true;
  }
  return false;
}

bool mayAllowOther() { return ::geteuid() == 0 || userAllowOther(); }

// default_permissions: the kernel checks the nodes' modes against the caller, as for a real /dev node.
std::string mountOptions(bool allowOther) {
  std::string options = "fsname=mesim,subtype=mesim,default_permissions";
  if (allowOther) options += ",allow_other";
  return options;
}

}  // namespace

void installProcessLogging() { fuse_set_log_func(&forwardFuseLog); }

namespace {
bool isStale(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) != 0 && errno == ENOTCONN;
}

// fusermount3 -u -z PATH (no shell); true if it exited 0.
bool fusermountDetach(const std::string& path) {
  std::string program = "fusermount3", unmount = "-u", lazy = "-z", target = path;
  char* argv[] = {program.data(), unmount.data(), lazy.data(), target.data(), nullptr};
  pid_t pid = -1;
  if (::posix_spawnp(&pid, "fusermount3", nullptr, nullptr, argv, environ) != 0) return false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
}  // namespace

Result<bool> clearStaleMount(const std::filesystem::path& mountPoint) {
  const std::string path = mountPoint.string();
  if (!isStale(path)) return false;
  if (::geteuid() == 0) ::umount2(path.c_str(), MNT_DETACH);
  if (isStale(path)) fusermountDetach(path);
  if (isStale(path))
    return fail("mount point " + path + " is a stale FUSE mount that could not be detached; run fusermount3 -u -z " + path);
  return true;
}

FuseMount::FuseMount(boost::asio::io_context& io, std::filesystem::path mountPoint, log::Context log)
    : io_(io), mountPoint_(std::move(mountPoint)), log_(std::move(log)) {}

FuseMount::~FuseMount() { std::free(buf_.mem); }  // the loop is done with it (see the header)

std::string FuseMount::prepareMountPoint() {
  const std::string path = mountPoint_.string();
  // statfs always asks the file system (stat may be answered from the attribute cache), so a dead
  // FUSE connection shows up as ENOTCONN.
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) {
    const int err = errno;
    if (err == ENOTCONN) {  // a previous run died without unmounting
      auto cleared = clearStaleMount(mountPoint_);
      if (!cleared) return cleared.error().message;
      MESIM_LOG(Warn, kLog, "cleared a stale FUSE mount on " << path);
      return {};
    }
    if (err != ENOENT) return "mount point " + path + ": " + std::strerror(err);
    std::error_code ec;
    std::filesystem::create_directories(mountPoint_, ec);
    if (ec) return "cannot create mount point " + path + ": " + ec.message();
    return {};
  }
  struct stat st {}, parent {};
  if (::stat(path.c_str(), &st) != 0) return "mount point " + path + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "mount point " + path + " is not a directory";
  if (fs.f_type == kFuseSuperMagic && ::stat((mountPoint_ / "..").c_str(), &parent) == 0 && parent.st_dev != st.st_dev)
    return "mount point " + path + " is already a live FUSE mount (another mesim?); unmount it first";
  return {};
}

Result<> FuseMount::start(const fuse_lowlevel_ops& ops, void* userdata,
                                                      std::function<void(std::shared_ptr<fuse_session>)> onLoop) {
  if (mounted_) return fail("already mounted on " + mountPoint_.string());
  if (::access("/dev/fuse", R_OK | W_OK) != 0)
    return fail(std::string("FUSE unavailable: /dev/fuse: ") + std::strerror(errno) +
                " (a container needs --device /dev/fuse --cap-add SYS_ADMIN)");
  if (std::string err = prepareMountPoint(); !err.empty()) return fail(err);

  lastFuseError.clear();
  const bool allowOther = mayAllowOther();
  std::string program = "mesim", dashO = "-o", options = mountOptions(allowOther);
  std::array<char*, 3> argv{program.data(), dashO.data(), options.data()};
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  std::shared_ptr<fuse_session> session(fuse_session_new(&args, &ops, sizeof ops, userdata),
                                        [](fuse_session* s) { if (s) fuse_session_destroy(s); });
  fuse_opt_free_args(&args);
  if (!session) return fail("fuse_session_new failed: " + lastFuseError);
  if (fuse_session_mount(session.get(), mountPoint_.c_str()) != 0)
    return fail("mounting FUSE on " + mountPoint_.string() + " failed" +
                (lastFuseError.empty() ? std::string() : ": " + lastFuseError) +
                " (needs root or fusermount3; a container needs --cap-add SYS_ADMIN)");

  // The loop reads requests when the device is readable (no FUSE threads: a call costs the caller one
  // hand-off to the loop and one back, as a syscall on a real driver would).
  const int fd = fuse_session_fd(session.get());
  const int fdFlags = ::fcntl(fd, F_GETFL);
  int watchFd = -1;
  if (fdFlags < 0 || ::fcntl(fd, F_SETFL, fdFlags | O_NONBLOCK) != 0 ||
      (watchFd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
    const std::string why = std::strerror(errno);
    fuse_session_unmount(session.get());
    return fail("setting up the FUSE device failed: " + why);
  }
  mounted_ = session;
  othersAllowed_ = allowOther;
  session_ = session.get();
  watch_ = std::make_shared<boost::asio::posix::stream_descriptor>(io_, watchFd);
  takingRequests_ = true;
  stopping_ = false;
  running_ = true;
  // From here the loop owns the session's reading; the post orders what was set above before it.
  boost::asio::post(io_, [self = shared_from_this(), watch = watch_, session, onLoop = std::move(onLoop)] {
    if (!self->takingRequests_) return;  // stopped on the loop before this ran
    onLoop(session);
    self->awaitRequests(watch);
  });
  MESIM_LOG(Info, kLog, "mounted " << mountPoint_.string() << " (" << options << ")");
  return {};
}

void FuseMount::awaitRequests(std::shared_ptr<boost::asio::posix::stream_descriptor> watch) {
  watch->async_wait(boost::asio::posix::descriptor_base::wait_read,
                    [self = shared_from_this(), watch](const boost::system::error_code& ec) {
                      if (!ec && self->serveReadyRequests()) self->awaitRequests(watch);
                    });
}

// On the loop: the requests waiting on the device, a bounded number per turn. False once the session is over.
bool FuseMount::serveReadyRequests() {
  if (!takingRequests_) return false;
  for (int i = 0; i < kRequestsPerTurn; ++i) {
    const int res = fuse_session_receive_buf(session_, &buf_);
    if (res == -EAGAIN || res == -EINTR) return true;
    if (res <= 0) {  // 0: the session ended (ENODEV when unmounted or aborted from outside)
      if (res < 0) MESIM_LOG(Error, kLog, "reading /dev/fuse: " << std::strerror(-res));
      else if (!stopping_) MESIM_LOG(Warn, kLog, mountPoint_.string() << " was unmounted or aborted from outside");
      takingRequests_ = false;
      running_ = false;
      return false;
    }
    fuse_session_process_buf(session_, &buf_);
    if (!takingRequests_) return false;  // a request's handler stopped the mount
  }
  return true;
}

void FuseMount::endReading() {
  stopping_ = true;
  takingRequests_ = false;
  running_ = false;
  fuse_session_exit(session_);
  session_ = nullptr;
  std::free(buf_.mem);
  buf_ = {};
  if (watch_) {
    boost::system::error_code ignored;
    watch_->close(ignored);  // its pending wait ends with operation_aborted
    watch_.reset();
  }
}

bool FuseMount::stop(const std::function<void()>& onLoop) {
  if (!mounted_) return false;
  const std::shared_ptr<fuse_session> session = std::move(mounted_);
  auto loopPart = [this, &onLoop] {
    endReading();
    onLoop();
  };
  if (io_.get_executor().running_in_this_thread() || io_.stopped()) {
    loopPart();
  } else {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      loopPart();
      done.set_value();
    });
    done.get_future().wait();
  }
  // No reply can be sent any more: closing the device's fd aborts the connection, so clients still inside
  // a call get an error rather than hang, and the lazy unmount then cannot block.
  fuse_session_unmount(session.get());
  MESIM_LOG(Info, kLog, "unmounted " << mountPoint_.string());
  return true;
}

}  // namespace mesim::fuse
