#include "hostif/fuse/fuse_front_end.h"

#include <fuse_lowlevel.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "hostif/fuse/fs_tree.h"
#include "hostif/fuse/fuse_mount.h"
#include "hostif/fuse/mei_node.h"
#include "hostif/fuse/pending_request.h"
#include "hostif/fuse/watchdog_node.h"

namespace mesim::fuse {
namespace {

constexpr const char* kLog = "fuse";
constexpr double kAttrTimeout = 1.0;
constexpr off_t kSysfsSize = 4096;  // what sysfs reports for every attribute

}  // namespace

// The mount and its nodes: libfuse hands every request to this object on the loop, which answers the tree
// operations from the node table and passes file operations to the node they are about.
class FuseFrontEnd::Impl {
 public:
  Impl(boost::asio::io_context& io, host::MeiHost& host, std::filesystem::path mountPoint, host::MeiWdt* watchdog,
       NodeAccess access)
      : host_(host),
        mount_(std::make_shared<FuseMount>(io, std::move(mountPoint), host.logContext())),
        mei_(std::make_shared<MeiNode>(host)),
        watchdog_(watchdog),
        hasWatchdog_(watchdog != nullptr),
        access_(access),
        uid_(::geteuid()),
        gid_(::getegid()),
        startTime_(::time(nullptr)) {}

  Result<> start() {
    const fuse_lowlevel_ops ops = operations();
    auto started = mount_->start(ops, this, [this](std::shared_ptr<fuse_session> session) {
      book_ = std::make_shared<RequestBook>(std::move(session), host_);
      mei_->serve();
    });
    if (!started) return started.error();
    MESIM_LOG(Info, kLog, "serving dev/mei0 (" << describe(access_.mei) << ")"
                              << (hasWatchdog_ ? ", dev/watchdog0 (" + describe(access_.watchdog) + ")" : "")
                              << " and sys/class/mei/mei0 on " << mount_->mountPoint().string());
    const bool sharing = (access_.mei.mode & 0077) != 0 || (hasWatchdog_ && (access_.watchdog.mode & 0077) != 0);
    if (sharing && !mount_->othersAllowed())
      MESIM_LOG(Warn, kLog, "the device nodes' modes let other users in, but the mount admits only this user "
                            "(allow_other needs root or user_allow_other in /etc/fuse.conf)");
    return {};
  }

  void stop() {
    mount_->stop([this] {
      // On the loop: whatever still waits gets ENODEV, and no reply is sent after this.
      if (book_) book_->answerAll(ENODEV);
      book_.reset();
      mei_->endServing();
    });
  }

  bool running() const { return mount_->running(); }
  const std::filesystem::path& mountPoint() const { return mount_->mountPoint(); }
  const log::Context& logContext() const { return mount_->logContext(); }

 private:
  static Impl& of(fuse_req_t req) { return *static_cast<Impl*>(fuse_req_userdata(req)); }
  static fuse_lowlevel_ops operations();

  struct stat statOf(const Node& node) const;
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

  host::MeiHost& host_;
  const std::shared_ptr<FuseMount> mount_;
  const std::shared_ptr<MeiNode> mei_;
  WatchdogNode watchdog_;
  const bool hasWatchdog_;
  const NodeAccess access_;
  const uid_t uid_;
  const gid_t gid_;
  const time_t startTime_;
  std::shared_ptr<RequestBook> book_;  // the current session's requests (loop, once start() posted)
};

// ---------------------------------------------------------------------------------------------
// Tree operations: answered at once from the node table

struct stat FuseFrontEnd::Impl::statOf(const Node& node) const {
  struct stat st {};
  const FileAccess* access = node.kind == NodeKind::MeiDevice        ? &access_.mei
                             : node.kind == NodeKind::WatchdogDevice ? &access_.watchdog
                                                                     : nullptr;
  st.st_ino = node.ino;
  st.st_mode = (node.kind == NodeKind::Directory ? S_IFDIR : S_IFREG) | (access ? access->mode : node.mode);
  st.st_nlink = node.kind == NodeKind::Directory ? 2 : 1;
  st.st_uid = uid_;
  st.st_gid = access && access->group ? *access->group : gid_;
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
// File operations: to the node they are about

void FuseFrontEnd::Impl::open(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi) {
  const Node* node = findNode(ino);
  if (!node) return (void)fuse_reply_err(req, ENOENT);
  switch (node->kind) {
    case NodeKind::Directory: return (void)fuse_reply_err(req, EISDIR);
    case NodeKind::MeiDevice:
    case NodeKind::SysfsAttribute: return mei_->open(req, *node, fi->flags);
    case NodeKind::WatchdogDevice: return watchdog_.open(req);
  }
}

void FuseFrontEnd::Impl::read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset,
                              const fuse_file_info* fi) {
  const Node* node = findNode(ino);
  if (!node) return (void)fuse_reply_err(req, ENOENT);
  switch (node->kind) {
    case NodeKind::Directory: return (void)fuse_reply_err(req, EISDIR);
    case NodeKind::MeiDevice:
    case NodeKind::SysfsAttribute: return mei_->read(*book_, req, *node, size, offset, fi);
    case NodeKind::WatchdogDevice: return watchdog_.read(req);
  }
}

void FuseFrontEnd::Impl::write(fuse_req_t req, fuse_ino_t ino, const char* buf, std::size_t size,
                               const fuse_file_info* fi) {
  const Node* node = findNode(ino);
  if (!node) return (void)fuse_reply_err(req, ENOENT);
  switch (node->kind) {
    case NodeKind::Directory: return (void)fuse_reply_err(req, EISDIR);
    case NodeKind::MeiDevice:
    case NodeKind::SysfsAttribute: return mei_->write(*book_, req, *node, buf, size, fi);
    case NodeKind::WatchdogDevice: return watchdog_.write(*book_, req, buf, size);
  }
}

void FuseFrontEnd::Impl::fsync(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi) {
  const Node* node = findNode(ino);
  if (!node || node->kind != NodeKind::MeiDevice) return (void)fuse_reply_err(req, 0);
  mei_->fsync(*book_, req, static_cast<host::FileId>(fi->fh));
}

// The kernel sends RELEASE in the background once the last reference is gone; nobody waits for it.
void FuseFrontEnd::Impl::release(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi) {
  const Node* node = findNode(ino);
  if (node && node->kind == NodeKind::MeiDevice) mei_->release(static_cast<host::FileId>(fi->fh));
  if (node && node->kind == NodeKind::WatchdogDevice) watchdog_.release();
  fuse_reply_err(req, 0);
}

void FuseFrontEnd::Impl::ioctl(fuse_req_t req, fuse_ino_t ino, unsigned cmd, const fuse_file_info* fi,
                               unsigned flags, const void* in, std::size_t inSize, std::size_t outSize) {
  const Node* node = findNode(ino);
  if (!node || (flags & FUSE_IOCTL_DIR)) return (void)fuse_reply_err(req, ENOTTY);
  if (node->kind == NodeKind::WatchdogDevice) return watchdog_.ioctl(*book_, req, cmd, in, inSize, outSize);
  if (node->kind != NodeKind::MeiDevice) return (void)fuse_reply_err(req, ENOTTY);
  mei_->ioctl(*book_, req, static_cast<host::FileId>(fi->fh), cmd, in, inSize, outSize);
}

void FuseFrontEnd::Impl::poll(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi, fuse_pollhandle* ph) {
  const Node* node = findNode(ino);
  if (!node || node->kind != NodeKind::MeiDevice) {
    if (ph) fuse_pollhandle_destroy(ph);
    return (void)fuse_reply_poll(req, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
  }
  const short requested = fi->poll_events ? static_cast<short>(fi->poll_events)
                                          : static_cast<short>(POLLIN | POLLOUT | POLLPRI | POLLRDNORM | POLLWRNORM);
  mei_->poll(req, static_cast<host::FileId>(fi->fh), requested, ph);
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
                           host::MeiWdt* watchdog, NodeAccess access)
    : impl_(std::make_unique<Impl>(io, host, std::move(mountPoint), watchdog, access)) {}

FuseFrontEnd::~FuseFrontEnd() { impl_->stop(); }

Result<> FuseFrontEnd::start() { return impl_->start(); }
void FuseFrontEnd::stop() { impl_->stop(); }
bool FuseFrontEnd::running() const { return impl_->running(); }
const std::filesystem::path& FuseFrontEnd::mountPoint() const { return impl_->mountPoint(); }
const log::Context& FuseFrontEnd::logContext() const { return impl_->logContext(); }

}  // namespace mesim::fuse
