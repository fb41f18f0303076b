#include "hostif/fuse/fuse_front_end.h"

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include "hostif/fuse/fs_tree.h"
#include "hostif/fuse/mei_uapi.h"
#include "common/log.h"

namespace mesim::fuse {
namespace {

constexpr const char* kLog = "fuse";
constexpr double kAttrTimeout = 1.0;
constexpr int kRequestsPerTurn = 16;  // then other work on the loop gets its turn
constexpr off_t kSysfsSize = 4096;  // what sysfs reports for every attribute
constexpr decltype(statfs::f_type) kFuseSuperMagic = 0x65735546;  // FUSE_SUPER_MAGIC

// fuse_open_out (include/uapi/linux/fuse.h). libfuse 3.14's fuse_file_info cannot express FOPEN_STREAM
// or FOPEN_PARALLEL_DIRECT_WRITES, so open is answered with the raw reply fuse_reply_open would send.
struct OpenReply {
  std::uint64_t fh;
  std::uint32_t openFlags;
  std::uint32_t padding;
};
static_assert(sizeof(OpenReply) == 16);
constexpr std::uint32_t kOpenDirectIo = 1u << 0;
constexpr std::uint32_t kOpenNonseekable = 1u << 2;
constexpr std::uint32_t kOpenStream = 1u << 4;
constexpr std::uint32_t kOpenParallelDirectWrites = 1u << 6;
// Like a character device: no file position, hence no f_pos lock (a parked read must not hold up a
// write on the same fd), and writes on different fds not serialised by the inode lock.
constexpr std::uint32_t kDeviceOpenFlags = kOpenDirectIo | kOpenNonseekable | kOpenStream | kOpenParallelDirectWrites;
constexpr std::uint32_t kSysfsOpenFlags = kOpenDirectIo;  // pread at offsets works, as metee expects

int replyOpen(fuse_req_t req, std::uint64_t fh, std::uint32_t flags) {
  const OpenReply reply{fh, flags, 0};
  return fuse_reply_buf(req, reinterpret_cast<const char*>(&reply), sizeof reply);
}

thread_local std::string lastFuseError;  // libfuse's last error on this thread, for start()'s message

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

std::string mountOptions() {
  std::string options = "fsname=mesim,subtype=mesim,default_permissions";
  if (::geteuid() == 0 || userAllowOther()) options += ",allow_other";
  return options;
}

std::string readAttribute(const host::MeiHost& host, SysfsAttribute attribute) {
  switch (attribute) {
    case SysfsAttribute::FwStatus: return host.sysfsFwStatus();
    case SysfsAttribute::FwVer: return host.sysfsFwVer();
    case SysfsAttribute::HbmVer: return host.sysfsHbmVer();
    case SysfsAttribute::HbmVerDrv: return host.sysfsHbmVerDrv();
    case SysfsAttribute::DevState: return host.sysfsDevState();
    case SysfsAttribute::Trc: return host.sysfsTrc();
    case SysfsAttribute::Kind: return host.sysfsKind();
    case SysfsAttribute::TxQueueLimit: return host.sysfsTxQueueLimit();
    case SysfsAttribute::None: break;
  }
  return {};
}

// kstrtouint(buf, 10): decimal, an optional leading '+' and one trailing newline.
std::optional<unsigned> parseSysfsUnsigned(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

class FuseFrontEnd::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(boost::asio::io_context& io, host::MeiHost& host, std::filesystem::path mountPoint, host::MeiWdt* watchdog)
      : io_(io), host_(host), watchdog_(watchdog), mountPoint_(std::move(mountPoint)), uid_(::geteuid()), gid_(::getegid()),
        startTime_(::time(nullptr)) {}

  std::string start();
  void stop();
  bool running() const {
    std::lock_guard lock(lifecycleMutex_);
    return session_ != nullptr && !fuse_session_exited(session_);
  }
  const std::filesystem::path& mountPoint() const { return mountPoint_; }
  void detachHost() { hostAttached_ = false; }

 private:
  class PendingRequest;
  struct OpenFile {
    int flags = 0;                          // the latest f_flags seen (ioctl requests do not carry them)
    fuse_pollhandle* pollHandle = nullptr;  // the kernel's wait queue for this file, once it asked
  };

  static Impl& of(fuse_req_t req) { return *static_cast<Impl*>(fuse_req_userdata(req)); }
  static fuse_lowlevel_ops operations();
  static void onInterrupt(fuse_req_t req, void* data) { static_cast<Impl*>(data)->interrupt(req); }

  std::string prepareMountPoint();
  void awaitRequests(std::shared_ptr<boost::asio::posix::stream_descriptor> watch);
  bool serveReadyRequests();

  // Runs `work` on the loop unless the host was detached (then `work` is dropped, and with it any
  // PendingRequest it holds, which answers EIO).
  template <class Work>
  void onLoop(Work work) {
    boost::asio::post(io_, [self = shared_from_this(), work = std::move(work)]() mutable {
      if (self->hostAttached_) work();
    });
  }
  std::shared_ptr<PendingRequest> track(fuse_req_t req, bool interruptible);
  void interrupt(fuse_req_t req);
  void rememberFlags(host::FileId file, int flags);
  int fileFlags(host::FileId file);
  void forgetFile(host::FileId file);
  void notifyPoll(host::FileId file);
  void closeHostFiles(std::vector<host::FileId> files);

  struct stat statOf(const Node& node) const;

  // ---- operations (on the loop, called by libfuse while it processes a request) ----
  void lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  void getattr(fuse_req_t req, fuse_ino_t ino);
  void setattr(fuse_req_t req, fuse_ino_t ino, int toSet);
  void readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset);
  void open(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi);
  void read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, const fuse_file_info* fi);
  void write(fuse_req_t req, fuse_ino_t ino, const char* buf, std::size_t size, const fuse_file_info* fi);
  void fsync(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi);
  void release(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi);
  void ioctl(fuse_req_t req, fuse_ino_t ino, unsigned cmd, const fuse_file_info* fi, unsigned flags,
             const void* in, std::size_t inSize, std::size_t outSize);
  void poll(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi, fuse_pollhandle* ph);

  void openDevice(fuse_req_t req, int flags);
  // dev/watchdog0: the watchdog core's file operations over host::MeiWdt.
  void openWatchdog(fuse_req_t req);
  void writeWatchdog(fuse_req_t req, const char* buf, std::size_t size);
  void releaseWatchdog();
  void ioctlWatchdog(fuse_req_t req, unsigned cmd, const void* in, std::size_t inSize, std::size_t outSize);
  void connect(fuse_req_t req, host::FileId file, const std::uint8_t* in, std::size_t size, bool withVtag);

  boost::asio::io_context& io_;
  host::MeiHost& host_;
  host::MeiWdt* const watchdog_;
  const std::filesystem::path mountPoint_;
  const uid_t uid_;
  const gid_t gid_;
  const time_t startTime_;
  std::atomic<bool> hostAttached_{true};

  mutable std::mutex lifecycleMutex_;  // serialises start() and stop()
  fuse_session* session_ = nullptr;
  // The loop waits on a duplicate of the session's fd. stop(), from any thread, points the duplicate at /dev/null
  // (dup3), so the device's last fd closes with the session and the kernel aborts the connection, while the
  // number stays valid for the loop's descriptor object, which alone may close it.
  std::shared_ptr<boost::asio::posix::stream_descriptor> watch_;
  int watchFd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connectionLost_{false};
  // Held by the loop while it reads and processes requests and by stop() while it ends that, so the session is
  // never destroyed under a request; the loop never blocks while holding it.
  std::mutex requestsMutex_;
  bool takingRequests_ = false;
  fuse_buf buf_{};

  // Guards what follows and every reply sent from stop()'s thread: after stop() nothing is sent.
  std::mutex mutex_;
  bool serving_ = false;
  std::unordered_map<fuse_req_t, PendingRequest*> pending_;
  std::map<host::FileId, OpenFile> files_;
};

// A FUSE request answered from the loop (bmcweb's AsyncResp): the first reply wins, a request dropped
// unanswered gets EIO, and stop() answers whatever is left with ENODEV.
class FuseFrontEnd::Impl::PendingRequest {
 public:
  PendingRequest(std::shared_ptr<Impl> owner, fuse_req_t req) : owner_(std::move(owner)), req_(req) {
    std::lock_guard lock(owner_->mutex_);
    owner_->pending_[req] = this;
  }
  ~PendingRequest() { replyErr(EIO); }
  PendingRequest(const PendingRequest&) = delete;
  PendingRequest& operator=(const PendingRequest&) = delete;

  // Sends the reply unless one was sent; the result of `send`, or -ENOENT when there was nobody to answer.
  template <class Send>
  int reply(Send&& send) {
    std::lock_guard lock(owner_->mutex_);
    if (!req_) return -ENOENT;
    fuse_req_t req = std::exchange(req_, nullptr);
    owner_->pending_.erase(req);
    return send(req);
  }
  void replyErr(int err) {
    reply([err](fuse_req_t req) { return fuse_reply_err(req, err); });
  }
  void replyIoctl(const void* data, std::size_t size) {
    reply([data, size](fuse_req_t req) { return fuse_reply_ioctl(req, 0, data, size); });
  }
  // On the loop: the host's handle for this wait, so an interrupt can cancel it.
  void setTicket(host::Ticket ticket) {
    {
      std::lock_guard lock(owner_->mutex_);
      if (!req_) return;
      ticket_ = ticket;
      if (!interrupted_) return;
    }
    owner_->host_.cancel(ticket);
  }

 private:
  friend class FuseFrontEnd::Impl;
  std::shared_ptr<Impl> owner_;
  fuse_req_t req_;  // guarded by owner_->mutex_; null once answered
  std::optional<host::Ticket> ticket_;
  bool interrupted_ = false;
};

// ---------------------------------------------------------------------------------------------
// Lifecycle

std::string FuseFrontEnd::Impl::prepareMountPoint() {
  const std::string path = mountPoint_.string();
  // statfs always asks the file system (stat may be answered from the attribute cache), so a dead
  // FUSE connection shows up as ENOTCONN.
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) {
    const int err = errno;
    if (err == ENOTCONN) {  // a previous run died without unmounting
      if (::geteuid() == 0 && ::umount2(path.c_str(), MNT_DETACH) == 0) {
        MESIM_LOG(Warn, kLog, "cleared a stale FUSE mount on " << path);
        return {};
      }
      return "mount point " + path + " is a stale FUSE mount (" + std::strerror(err) + "); run fusermount3 -u " +
             path;
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

std::string FuseFrontEnd::Impl::start() {
  std::lock_guard lifecycle(lifecycleMutex_);
  if (session_) return "already mounted on " + mountPoint_.string();
  if (::access("/dev/fuse", R_OK | W_OK) != 0)
    return std::string("FUSE unavailable: /dev/fuse: ") + std::strerror(errno) +
           " (a container needs --device /dev/fuse --cap-add SYS_ADMIN)";
  if (std::string err = prepareMountPoint(); !err.empty()) return err;

  fuse_set_log_func(&forwardFuseLog);
  lastFuseError.clear();
  std::string program = "mesim", dashO = "-o", options = mountOptions();
  std::array<char*, 3> argv{program.data(), dashO.data(), options.data()};
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  const fuse_lowlevel_ops ops = operations();
  session_ = fuse_session_new(&args, &ops, sizeof ops, this);
  fuse_opt_free_args(&args);
  if (!session_) return "fuse_session_new failed: " + lastFuseError;
  if (fuse_session_mount(session_, mountPoint_.c_str()) != 0) {
    fuse_session_destroy(session_);
    session_ = nullptr;
    return "mounting FUSE on " + mountPoint_.string() + " failed" +
           (lastFuseError.empty() ? std::string() : ": " + lastFuseError) +
           " (needs root or fusermount3; a container needs --cap-add SYS_ADMIN)";
  }

  // The loop reads requests when the device is readable (no FUSE threads: a call costs the caller one
  // hand-off to the loop and one back, as a syscall on a real driver would).
  const int fd = fuse_session_fd(session_);
  const int fdFlags = ::fcntl(fd, F_GETFL);
  if (fdFlags < 0 || ::fcntl(fd, F_SETFL, fdFlags | O_NONBLOCK) != 0 ||
      (watchFd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
    const std::string why = std::strerror(errno);
    fuse_session_unmount(session_);
    fuse_session_destroy(session_);
    session_ = nullptr;
    return "setting up the FUSE device failed: " + why;
  }
  {
    std::lock_guard lock(requestsMutex_);
    takingRequests_ = true;
  }
  {
    std::lock_guard lock(mutex_);
    serving_ = true;
  }
  watch_ = std::make_shared<boost::asio::posix::stream_descriptor>(io_, watchFd_);
  boost::asio::post(io_, [self = shared_from_this(), watch = watch_] { self->awaitRequests(watch); });
  MESIM_LOG(Info, kLog, "serving dev/mei0" << (watchdog_ ? ", dev/watchdog0" : "") << " and sys/class/mei/mei0 on " << mountPoint_.string() << " (" << options << ")");
  return {};
}

void FuseFrontEnd::Impl::awaitRequests(std::shared_ptr<boost::asio::posix::stream_descriptor> watch) {
  watch->async_wait(boost::asio::posix::descriptor_base::wait_read,
                    [self = shared_from_this(), watch](const boost::system::error_code& ec) {
                      if (!ec && self->serveReadyRequests()) self->awaitRequests(watch);
                    });
}

// On the loop: the requests waiting on the device, a bounded number per turn. False once the session is over.
bool FuseFrontEnd::Impl::serveReadyRequests() {
  std::lock_guard lock(requestsMutex_);
  if (!takingRequests_) return false;
  for (int i = 0; i < kRequestsPerTurn; ++i) {
    const int res = fuse_session_receive_buf(session_, &buf_);
    if (res == -EAGAIN || res == -EINTR) return true;
    if (res <= 0) {  // 0: the session ended (ENODEV when unmounted or aborted from outside)
      if (res < 0) MESIM_LOG(Error, kLog, "reading /dev/fuse: " << std::strerror(-res));
      else if (!stopping_ && !connectionLost_.exchange(true))
        MESIM_LOG(Warn, kLog, mountPoint_.string() << " was unmounted or aborted from outside");
      takingRequests_ = false;
      return false;
    }
    fuse_session_process_buf(session_, &buf_);
  }
  return true;
}

void FuseFrontEnd::Impl::stop() {
  std::lock_guard lifecycle(lifecycleMutex_);
  if (!session_) return;
  stopping_ = true;
  {
    std::lock_guard lock(requestsMutex_);  // a batch the loop is processing ends first
    takingRequests_ = false;
    fuse_session_exit(session_);
    std::free(buf_.mem);
    buf_ = {};
  }
  const int devNull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devNull < 0 || ::dup3(devNull, watchFd_, O_CLOEXEC) < 0)
    MESIM_LOG(Error, kLog, "cannot release the loop's FUSE fd: " << std::strerror(errno) << "; clients may hang");
  if (devNull >= 0) ::close(devNull);
  watchFd_ = -1;
  auto cancel = [watch = std::move(watch_)] {
    boost::system::error_code ignored;
    watch->cancel(ignored);
  };
  if (io_.get_executor().running_in_this_thread()) cancel();
  else boost::asio::post(io_, std::move(cancel));

  std::vector<host::FileId> stillOpen;
  {
    std::lock_guard lock(mutex_);
    serving_ = false;
    for (auto& [req, pending] : pending_) {
      pending->req_ = nullptr;
      fuse_reply_err(req, ENODEV);
    }
    pending_.clear();
    for (auto& [file, state] : files_) {
      if (state.pollHandle) fuse_pollhandle_destroy(state.pollHandle);
      stillOpen.push_back(file);
    }
    files_.clear();
  }
  // Closing the device fd aborts the connection, so clients still inside a call get an error
  // rather than hang; the lazy unmount then cannot block.
  fuse_session_unmount(session_);
  fuse_session_destroy(session_);
  session_ = nullptr;
  stopping_ = false;
  connectionLost_ = false;
  closeHostFiles(std::move(stillOpen));
  MESIM_LOG(Info, kLog, "unmounted " << mountPoint_.string());
}

void FuseFrontEnd::Impl::closeHostFiles(std::vector<host::FileId> files) {
  if (files.empty() || !hostAttached_) return;
  auto closeAll = [this, files = std::move(files)] {
    for (host::FileId file : files) host_.close(file, [] {});
  };
  if (io_.get_executor().running_in_this_thread()) closeAll();
  else onLoop(std::move(closeAll));
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping shared by the loop and stop()

std::shared_ptr<FuseFrontEnd::Impl::PendingRequest> FuseFrontEnd::Impl::track(fuse_req_t req, bool interruptible) {
  auto pending = std::make_shared<PendingRequest>(shared_from_this(), req);
  // Registered before the request can be answered (which frees it); calls back at once if the
  // interrupt already arrived.
  if (interruptible) fuse_req_interrupt_func(req, &Impl::onInterrupt, this);
  return pending;
}

void FuseFrontEnd::Impl::interrupt(fuse_req_t req) {
  std::optional<host::Ticket> ticket;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(req);
    if (it == pending_.end()) return;
    it->second->interrupted_ = true;
    ticket = it->second->ticket_;
  }
  // Without a ticket yet, setTicket() cancels as soon as the loop has started the call.
  if (ticket) onLoop([this, ticket = *ticket] { host_.cancel(ticket); });
}

void FuseFrontEnd::Impl::rememberFlags(host::FileId file, int flags) {
  std::lock_guard lock(mutex_);
  if (auto it = files_.find(file); it != files_.end()) it->second.flags = flags;
}

int FuseFrontEnd::Impl::fileFlags(host::FileId file) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(file);
  return it == files_.end() ? 0 : it->second.flags;
}

void FuseFrontEnd::Impl::forgetFile(host::FileId file) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(file);
  if (it == files_.end()) return;
  if (it->second.pollHandle) fuse_pollhandle_destroy(it->second.pollHandle);
  files_.erase(it);
}

void FuseFrontEnd::Impl::notifyPoll(host::FileId file) {
  std::lock_guard lock(mutex_);
  if (!serving_) return;
  auto it = files_.find(file);
  if (it != files_.end() && it->second.pollHandle) fuse_lowlevel_notify_poll(it->second.pollHandle);
}

// ---------------------------------------------------------------------------------------------
// Tree operations: answered at once from the node table

struct stat FuseFrontEnd::Impl::statOf(const Node& node) const {
  struct stat st {};
  st.st_ino = node.ino;
  st.st_mode = (node.kind == NodeKind::Directory ? S_IFDIR : S_IFREG) | node.mode;
  st.st_nlink = node.kind == NodeKind::Directory ? 2 : 1;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_size = node.kind == NodeKind::SysfsAttribute ? kSysfsSize : 0;
  st.st_blksize = 4096;
  st.st_atime = st.st_mtime = st.st_ctime = startTime_;
  return st;
}

void FuseFrontEnd::Impl::lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  const Node* node = findChild(parent, name);
  if (!node) return (void)fuse_reply_err(req, ENOENT);
  fuse_entry_param entry{};
  entry.ino = node->ino;
  entry.attr = statOf(*node);
  entry.attr_timeout = kAttrTimeout;
  entry.entry_timeout = kAttrTimeout;
  fuse_reply_entry(req, &entry);
}

void FuseFrontEnd::Impl::getattr(fuse_req_t req, fuse_ino_t ino) {
  const Node* node = findNode(ino);
  if (!node) return (void)fuse_reply_err(req, ENOENT);
  const struct stat st = statOf(*node);
  fuse_reply_attr(req, &st, kAttrTimeout);
}

// Truncation (echo > tx_queue_limit) and time changes are accepted and ignored, as sysfs does.
void FuseFrontEnd::Impl::setattr(fuse_req_t req, fuse_ino_t ino, int toSet) {
  const Node* node = findNode(ino);
  if (!node) return (void)fuse_reply_err(req, ENOENT);
  if (toSet & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) return (void)fuse_reply_err(req, EPERM);
  const struct stat st = statOf(*node);
  fuse_reply_attr(req, &st, kAttrTimeout);
}

void FuseFrontEnd::Impl::readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset) {
  const Node* dir = findNode(ino);
  if (!dir) return (void)fuse_reply_err(req, ENOENT);
  if (dir->kind != NodeKind::Directory) return (void)fuse_reply_err(req, ENOTDIR);
  std::vector<std::pair<std::string, const Node*>> entries{{".", dir}, {"..", findNode(dir->parent)}};
  for (const Node& node : kNodes)
    if (node.parent == ino && node.ino != kRootIno) entries.emplace_back(std::string(node.name), &node);

  std::vector<char> buf(size);
  std::size_t used = 0;
  for (std::size_t i = static_cast<std::size_t>(std::max<off_t>(offset, 0)); i < entries.size(); ++i) {
    const struct stat st = statOf(*entries[i].second);
    const std::size_t need = fuse_add_direntry(req, buf.data() + used, size - used, entries[i].first.c_str(), &st,
                                               static_cast<off_t>(i + 1));
    if (need > size - used) break;
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
}

// ---------------------------------------------------------------------------------------------
// File operations: dev/mei0 maps onto MeiHost, sysfs onto its getters

void FuseFrontEnd::Impl::open(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi) {
  const Node* node = findNode(ino);
  if (!node) return (void)fuse_reply_err(req, ENOENT);
  switch (node->kind) {
    case NodeKind::Directory:
      fuse_reply_err(req, EISDIR);
      return;
    case NodeKind::SysfsAttribute:
      // default_permissions lets root past the mode bits; sysfs refuses writes without a store().
      if ((fi->flags & O_ACCMODE) != O_RDONLY && !(node->mode & 0200)) return (void)fuse_reply_err(req, EACCES);
      replyOpen(req, 0, kSysfsOpenFlags);
      return;
    case NodeKind::MeiDevice:
      openDevice(req, fi->flags);
      return;
    case NodeKind::WatchdogDevice:
      openWatchdog(req);
      return;
  }
}

void FuseFrontEnd::Impl::openDevice(fuse_req_t req, int flags) {
  auto pending = track(req, false);
  onLoop([this, pending, flags] {
    host::FileId file = 0;
    if (const int err = host_.open(file)) return pending->replyErr(err);
    {
      std::lock_guard lock(mutex_);
      files_[file].flags = flags;
    }
    if (pending->reply([file](fuse_req_t r) { return replyOpen(r, file, kDeviceOpenFlags); }) != 0) {
      // The opener gave up (a signal) or the mount is going away: no release will ever come.
      forgetFile(file);
      host_.close(file, [] {});
    }
  });
}

void FuseFrontEnd::Impl::read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset,
                              const fuse_file_info* fi) {
  const Node* node = findNode(ino);
  if (!node) return (void)fuse_reply_err(req, ENOENT);
  if (node->kind == NodeKind::SysfsAttribute) {
    auto pending = track(req, false);
    onLoop([this, pending, attribute = node->attribute, size, offset] {
      const std::string text = readAttribute(host_, attribute);
      const std::size_t begin = std::min(static_cast<std::size_t>(std::max<off_t>(offset, 0)), text.size());
      const std::size_t length = std::min(size, text.size() - begin);
      pending->reply([&](fuse_req_t r) { return fuse_reply_buf(r, text.data() + begin, length); });
    });
    return;
  }
  if (node->kind == NodeKind::WatchdogDevice) return (void)fuse_reply_err(req, EINVAL);  // no read in the core
  if (node->kind != NodeKind::MeiDevice) return (void)fuse_reply_err(req, EISDIR);

  const auto file = static_cast<host::FileId>(fi->fh);
  const bool nonblocking = fi->flags & O_NONBLOCK;  // read carries the file's current flags
  rememberFlags(file, fi->flags);
  auto pending = track(req, true);
  onLoop([this, pending, file, size, nonblocking] {
    pending->setTicket(host_.read(file, size, nonblocking, [pending](int err, hbm::Bytes data) {
      if (err) return pending->replyErr(err);
      pending->reply([&](fuse_req_t r) {
        return fuse_reply_buf(r, reinterpret_cast<const char*>(data.data()), data.size());
      });
    }));
  });
}

void FuseFrontEnd::Impl::write(fuse_req_t req, fuse_ino_t ino, const char* buf, std::size_t size,
                               const fuse_file_info* fi) {
  const Node* node = findNode(ino);
  if (!node) return (void)fuse_reply_err(req, ENOENT);
  if (node->kind == NodeKind::SysfsAttribute) {
    if (node->attribute != SysfsAttribute::TxQueueLimit) return (void)fuse_reply_err(req, EACCES);
    const auto limit = parseSysfsUnsigned(std::string_view(buf, size));
    if (!limit) return (void)fuse_reply_err(req, EINVAL);
    auto pending = track(req, false);
    onLoop([this, pending, limit = *limit, size] {
      if (const int err = host_.setTxQueueLimit(limit)) return pending->replyErr(err);
      pending->reply([size](fuse_req_t r) { return fuse_reply_write(r, size); });
    });
    return;
  }
  if (node->kind == NodeKind::WatchdogDevice) return writeWatchdog(req, buf, size);
  if (node->kind != NodeKind::MeiDevice) return (void)fuse_reply_err(req, EISDIR);

  const auto file = static_cast<host::FileId>(fi->fh);
  const bool nonblocking = fi->flags & O_NONBLOCK;
  rememberFlags(file, fi->flags);
  auto pending = track(req, true);
  hbm::Bytes message(reinterpret_cast<const std::uint8_t*>(buf), reinterpret_cast<const std::uint8_t*>(buf) + size);
  onLoop([this, pending, file, nonblocking, message = std::move(message)]() mutable {
    pending->setTicket(host_.write(file, std::move(message), nonblocking, [pending](ssize_t result) {
      if (result < 0) return pending->replyErr(static_cast<int>(-result));
      pending->reply([result](fuse_req_t r) { return fuse_reply_write(r, static_cast<std::size_t>(result)); });
    }));
  });
}

void FuseFrontEnd::Impl::fsync(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi) {
  const Node* node = findNode(ino);
  if (!node || node->kind != NodeKind::MeiDevice) return (void)fuse_reply_err(req, 0);
  auto pending = track(req, false);
  onLoop([this, pending, file = static_cast<host::FileId>(fi->fh)] {
    host_.fsync(file, [pending](int err) { pending->replyErr(err); });
  });
}

// The kernel sends RELEASE in the background once the last reference is gone; nobody waits for it.
void FuseFrontEnd::Impl::release(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi) {
  const Node* node = findNode(ino);
  if (node && node->kind == NodeKind::MeiDevice) {
    const auto file = static_cast<host::FileId>(fi->fh);
    forgetFile(file);
    onLoop([this, file] { host_.close(file, [] {}); });
  }
  if (node && node->kind == NodeKind::WatchdogDevice) releaseWatchdog();
  fuse_reply_err(req, 0);
}

void FuseFrontEnd::Impl::ioctl(fuse_req_t req, fuse_ino_t ino, unsigned cmd, const fuse_file_info* fi,
                               unsigned flags, const void* in, std::size_t inSize, std::size_t outSize) {
  const Node* node = findNode(ino);
  if (node && node->kind == NodeKind::WatchdogDevice && !(flags & FUSE_IOCTL_DIR))
    return ioctlWatchdog(req, cmd, in, inSize, outSize);
  if (!node || node->kind != NodeKind::MeiDevice || (flags & FUSE_IOCTL_DIR)) return (void)fuse_reply_err(req, ENOTTY);
  const auto file = static_cast<host::FileId>(fi->fh);
  const auto* bytes = static_cast<const std::uint8_t*>(in);

  // Restricted ioctls: the kernel copied _IOC_SIZE(cmd) bytes in and takes as many back.
  switch (cmd) {
    case uapi::kIoctlConnectClient:
      if (inSize < sizeof(uapi::ConnectClientData) || outSize < sizeof(uapi::ConnectClientData))
        return (void)fuse_reply_err(req, EFAULT);
      return connect(req, file, bytes, sizeof(uapi::ConnectClientData), false);
    case uapi::kIoctlConnectClientVtag:
      if (inSize < sizeof(uapi::ConnectClientVtagData) || outSize < sizeof(uapi::ConnectClientVtagData))
        return (void)fuse_reply_err(req, EFAULT);
      return connect(req, file, bytes, sizeof(uapi::ConnectClientVtagData), true);
    case uapi::kIoctlNotifySet: {
      if (inSize < sizeof(std::uint32_t)) return (void)fuse_reply_err(req, EFAULT);
      std::uint32_t enable = 0;
      std::memcpy(&enable, bytes, sizeof enable);
      auto pending = track(req, false);
      onLoop([this, pending, file, enable] {
        host_.notifySet(file, enable, [pending](int err) {
          if (err) return pending->replyErr(err);
          pending->replyIoctl(nullptr, 0);
        });
      });
      return;
    }
    case uapi::kIoctlNotifyGet: {
      if (outSize < sizeof(std::uint32_t)) return (void)fuse_reply_err(req, EFAULT);
      // FUSE ioctl requests carry no f_flags: use those of the file's latest open/read/write.
      const bool nonblocking = fileFlags(file) & O_NONBLOCK;
      auto pending = track(req, true);
      onLoop([this, pending, file, nonblocking] {
        pending->setTicket(host_.notifyGet(file, nonblocking, [pending](int err, std::uint32_t event) {
          if (err) return pending->replyErr(err);
          pending->replyIoctl(&event, sizeof event);
        }));
      });
      return;
    }
    default:
      fuse_reply_err(req, ENOTTY);  // the driver's -ENOIOCTLCMD as the caller sees it
  }
}

void FuseFrontEnd::Impl::connect(fuse_req_t req, host::FileId file, const std::uint8_t* in, std::size_t size,
                                 bool withVtag) {
  std::array<std::uint8_t, sizeof(uapi::ConnectClientVtagData)> data{};
  std::memcpy(data.data(), in, size);
  hbm::Guid guid;
  std::memcpy(guid.bytes.data(), data.data(), guid.bytes.size());
  auto pending = track(req, false);
  // The properties overwrite the first 8 bytes of the caller's struct; the rest comes back unchanged.
  auto done = [pending, data, size](int err, const hbm::ClientProperties& props) mutable {
    if (err) return pending->replyErr(err);
    const uapi::MeiClient client{props.maxMsgLength, props.protocolVersion, {}};
    std::memcpy(data.data(), &client, sizeof client);
    pending->replyIoctl(data.data(), size);
  };
  onLoop([this, file, guid, withVtag, vtag = data[16], done = std::move(done)]() mutable {
    if (withVtag) host_.connectVtag(file, guid, vtag, std::move(done));
    else host_.connect(file, guid, std::move(done));
  });
}

// ---------------------------------------------------------------------------------------------
// dev/watchdog0 (drivers/watchdog/watchdog_dev.c over host::MeiWdt)

void FuseFrontEnd::Impl::openWatchdog(fuse_req_t req) {
  if (!watchdog_) return (void)fuse_reply_err(req, ENODEV);
  auto pending = track(req, false);
  onLoop([this, pending] {
    if (const int err = watchdog_->open()) return pending->replyErr(err);
    if (pending->reply([](fuse_req_t r) { return replyOpen(r, 0, kDeviceOpenFlags); }) != 0)
      watchdog_->release([] {});  // the opener is gone: no release will come
  });
}

void FuseFrontEnd::Impl::writeWatchdog(fuse_req_t req, const char* buf, std::size_t size) {
  auto pending = track(req, true);
  onLoop([this, pending, data = std::string(buf, size)] {
    watchdog_->write(data, [pending](ssize_t result) {
      if (result < 0) return pending->replyErr(static_cast<int>(-result));
      pending->reply([result](fuse_req_t r) { return fuse_reply_write(r, static_cast<std::size_t>(result)); });
    });
  });
}

void FuseFrontEnd::Impl::releaseWatchdog() {
  if (watchdog_) onLoop([this] { watchdog_->release([] {}); });
}

void FuseFrontEnd::Impl::ioctlWatchdog(fuse_req_t req, unsigned cmd, const void* in, std::size_t inSize,
                                       std::size_t outSize) {
  const auto replyInt = [](const std::shared_ptr<PendingRequest>& pending, int value) {
    pending->replyIoctl(&value, sizeof value);
  };
  auto pending = track(req, false);
  switch (cmd) {
    case uapi::kWdiocGetSupport:
      if (outSize < sizeof(host::WatchdogInfo)) return pending->replyErr(EFAULT);
      return onLoop([this, pending] {
        const host::WatchdogInfo info = watchdog_->info();
        pending->replyIoctl(&info, sizeof info);
      });
    case uapi::kWdiocGetStatus:
    case uapi::kWdiocGetBootStatus:
      if (outSize < sizeof(int)) return pending->replyErr(EFAULT);
      return onLoop([this, pending, cmd, replyInt] {
        replyInt(pending, cmd == uapi::kWdiocGetStatus ? static_cast<int>(watchdog_->status()) : 0);
      });
    case uapi::kWdiocKeepalive:
      return onLoop([this, pending, replyInt] {
        // The core ignores the argument and callers pass 0 (Debian's watchdog does): copy nothing back.
        watchdog_->keepalive([pending](int err) {
          if (err) return pending->replyErr(err);
          pending->replyIoctl(nullptr, 0);
        });
      });
    case uapi::kWdiocSetTimeout: {
      if (inSize < sizeof(int) || outSize < sizeof(int)) return pending->replyErr(EFAULT);
      int seconds = 0;
      std::memcpy(&seconds, in, sizeof seconds);
      return onLoop([this, pending, seconds, replyInt] {
        watchdog_->setTimeout(seconds, [pending, replyInt](int err, int timeout) {
          if (err) return pending->replyErr(err);
          replyInt(pending, timeout);
        });
      });
    }
    case uapi::kWdiocGetTimeout:
      if (outSize < sizeof(int)) return pending->replyErr(EFAULT);
      return onLoop([this, pending, replyInt] { replyInt(pending, watchdog_->timeout()); });
    case uapi::kWdiocGetTimeLeft:
      if (outSize < sizeof(int)) return pending->replyErr(EFAULT);
      return onLoop([this, pending, replyInt] {
        int left = 0;
        if (const int err = watchdog_->timeLeft(left)) return pending->replyErr(err);
        replyInt(pending, left);
      });
    case uapi::kWdiocSetOptions:
      // _IOR although the kernel reads the argument: FUSE copies nothing in, so the option is unknown here.
      if (inSize < sizeof(int)) return pending->replyErr(EINVAL);
      {
        int options = 0;
        std::memcpy(&options, in, sizeof options);
        return onLoop([this, pending, options, replyInt] {
          watchdog_->setOptions(options, [pending, replyInt](int err) {
            if (err) return pending->replyErr(err);
            replyInt(pending, 0);
          });
        });
      }
    default:
      return pending->replyErr(ENOTTY);
  }
}

void FuseFrontEnd::Impl::poll(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi, fuse_pollhandle* ph) {
  const Node* node = findNode(ino);
  if (!node || node->kind != NodeKind::MeiDevice) {
    if (ph) fuse_pollhandle_destroy(ph);
    return (void)fuse_reply_poll(req, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
  }
  const auto file = static_cast<host::FileId>(fi->fh);
  const short requested = fi->poll_events ? static_cast<short>(fi->poll_events)
                                          : static_cast<short>(POLLIN | POLLOUT | POLLPRI | POLLRDNORM | POLLWRNORM);
  // The kernel keeps one wait queue per file; the newest handle stands for it.
  bool wantWake = false;
  if (ph) {
    std::lock_guard lock(mutex_);
    if (auto it = files_.find(file); it != files_.end()) {
      if (it->second.pollHandle) fuse_pollhandle_destroy(it->second.pollHandle);
      it->second.pollHandle = std::exchange(ph, nullptr);
      wantWake = true;
    }
  }
  if (ph) fuse_pollhandle_destroy(ph);

  auto pending = track(req, false);
  onLoop([this, pending, file, requested, wantWake] {
    std::function<void()> wake;
    if (wantWake) {
      wake = [weak = weak_from_this(), file] {
        if (auto self = weak.lock()) self->notifyPoll(file);
      };
    }
    const short events = host_.poll(file, requested, std::move(wake));
    pending->reply([events](fuse_req_t r) { return fuse_reply_poll(r, static_cast<unsigned short>(events)); });
  });
}

fuse_lowlevel_ops FuseFrontEnd::Impl::operations() {
  fuse_lowlevel_ops ops{};
  ops.lookup = [](fuse_req_t req, fuse_ino_t parent, const char* name) { of(req).lookup(req, parent, name); };
  ops.getattr = [](fuse_req_t req, fuse_ino_t ino, fuse_file_info*) { of(req).getattr(req, ino); };
  ops.setattr = [](fuse_req_t req, fuse_ino_t ino, struct stat*, int toSet, fuse_file_info*) {
    of(req).setattr(req, ino, toSet);
  };
  ops.readdir = [](fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info*) {
    of(req).readdir(req, ino, size, offset);
  };
  ops.open = [](fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { of(req).open(req, ino, fi); };
  ops.read = [](fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* fi) {
    of(req).read(req, ino, size, offset, fi);
  };
  ops.write = [](fuse_req_t req, fuse_ino_t ino, const char* buf, std::size_t size, off_t, fuse_file_info* fi) {
    of(req).write(req, ino, buf, size, fi);
  };
  ops.flush = [](fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); };
  ops.fsync = [](fuse_req_t req, fuse_ino_t ino, int, fuse_file_info* fi) { of(req).fsync(req, ino, fi); };
  ops.release = [](fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { of(req).release(req, ino, fi); };
  ops.ioctl = [](fuse_req_t req, fuse_ino_t ino, unsigned cmd, void*, fuse_file_info* fi, unsigned flags,
                 const void* in, std::size_t inSize, std::size_t outSize) {
    of(req).ioctl(req, ino, cmd, fi, flags, in, inSize, outSize);
  };
  ops.poll = [](fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, fuse_pollhandle* ph) {
    of(req).poll(req, ino, fi, ph);
  };
  return ops;
}

// ---------------------------------------------------------------------------------------------

FuseFrontEnd::FuseFrontEnd(boost::asio::io_context& io, host::MeiHost& host, std::filesystem::path mountPoint,
                           host::MeiWdt* watchdog)
    : impl_(std::make_shared<Impl>(io, host, std::move(mountPoint), watchdog)) {}

FuseFrontEnd::~FuseFrontEnd() {
  impl_->stop();
  impl_->detachHost();  // callbacks still queued on the loop must not reach a host that may be gone
}

std::string FuseFrontEnd::start() { return impl_->start(); }
void FuseFrontEnd::stop() { impl_->stop(); }
bool FuseFrontEnd::running() const { return impl_->running(); }
const std::filesystem::path& FuseFrontEnd::mountPoint() const { return impl_->mountPoint(); }

}  // namespace mesim::fuse
