#include "hostif/fuse/mei_node.h"

#include <fcntl.h>
#include <linux/mei.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mesim::fuse {
namespace {

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

void MeiNode::serve() { serving_ = true; }

void MeiNode::endServing() {
  serving_ = false;
  std::vector<host::FileId> stillOpen;
  for (auto& [file, state] : files_) {
    if (state.pollHandle) fuse_pollhandle_destroy(state.pollHandle);
    stillOpen.push_back(file);
  }
  files_.clear();
  for (host::FileId file : stillOpen) host_.close(file, [] {});
}

void MeiNode::open(fuse_req_t req, const Node& node, int flags) {
  if (node.kind == NodeKind::MeiDevice) return openDevice(req, flags);
  // default_permissions lets root past the mode bits; sysfs refuses writes without a store().
  if ((flags & O_ACCMODE) != O_RDONLY && !(node.mode & 0200)) return (void)fuse_reply_err(req, EACCES);
  replyOpen(req, 0, kSysfsOpenFlags);
}

void MeiNode::openDevice(fuse_req_t req, int flags) {
  host::FileId file = 0;
  if (const int err = host_.open(file)) return (void)fuse_reply_err(req, err);
  files_[file].flags = flags;
  if (replyOpen(req, file, kDeviceOpenFlags) != 0) {
    // The opener gave up (a signal): no release will ever come.
    forgetFile(file);
    host_.close(file, [] {});
  }
}

void MeiNode::read(RequestBook& book, fuse_req_t req, const Node& node, std::size_t size, off_t offset,
                   const fuse_file_info* fi) {
  if (node.kind == NodeKind::SysfsAttribute) {
    const std::string text = readAttribute(host_, node.attribute);
    const std::size_t begin = std::min(static_cast<std::size_t>(std::max<off_t>(offset, 0)), text.size());
    const std::size_t length = std::min(size, text.size() - begin);
    fuse_reply_buf(req, text.data() + begin, length);
    return;
  }
  const auto file = static_cast<host::FileId>(fi->fh);
  const bool nonblocking = fi->flags & O_NONBLOCK;  // read carries the file's current flags
  rememberFlags(file, fi->flags);
  auto pending = book.track(req, true);
  pending->setTicket(host_.read(file, size, nonblocking, [pending](int err, hbm::Bytes data) {
    if (err) return pending->replyErr(err);
    pending->reply([&](fuse_req_t r) {
      return fuse_reply_buf(r, reinterpret_cast<const char*>(data.data()), data.size());
    });
  }));
}

void MeiNode::write(RequestBook& book, fuse_req_t req, const Node& node, const char* buf, std::size_t size,
                    const fuse_file_info* fi) {
  if (node.kind == NodeKind::SysfsAttribute) {
    if (node.attribute != SysfsAttribute::TxQueueLimit) return (void)fuse_reply_err(req, EACCES);
    const auto limit = parseSysfsUnsigned(std::string_view(buf, size));
    if (!limit) return (void)fuse_reply_err(req, EINVAL);
    if (const int err = host_.setTxQueueLimit(*limit)) return (void)fuse_reply_err(req, err);
    fuse_reply_write(req, size);
    return;
  }
  const auto file = static_cast<host::FileId>(fi->fh);
  const bool nonblocking = fi->flags & O_NONBLOCK;
  rememberFlags(file, fi->flags);
  auto pending = book.track(req, true);
  hbm::Bytes message(reinterpret_cast<const std::uint8_t*>(buf), reinterpret_cast<const std::uint8_t*>(buf) + size);
  pending->setTicket(host_.write(file, std::move(message), nonblocking, [pending](ssize_t result) {
    if (result < 0) return pending->replyErr(static_cast<int>(-result));
    pending->reply([result](fuse_req_t r) { return fuse_reply_write(r, static_cast<std::size_t>(result)); });
  }));
}

void MeiNode::fsync(RequestBook& book, fuse_req_t req, host::FileId file) {
  auto pending = book.track(req, false);
  host_.fsync(file, [pending](int err) { pending->replyErr(err); });
}

void MeiNode::release(host::FileId file) {
  forgetFile(file);
  host_.close(file, [] {});
}

void MeiNode::ioctl(RequestBook& book, fuse_req_t req, host::FileId file, unsigned cmd, const void* in,
                    std::size_t inSize, std::size_t outSize) {
  // Restricted ioctls: the kernel copied _IOC_SIZE(cmd) bytes in and takes as many back.
  switch (cmd) {
    case IOCTL_MEI_CONNECT_CLIENT:
      if (inSize < sizeof(mei_connect_client_data) || outSize < sizeof(mei_connect_client_data))
        return (void)fuse_reply_err(req, EFAULT);
      return connect(book, req, file, in, sizeof(mei_connect_client_data), false);
    case IOCTL_MEI_CONNECT_CLIENT_VTAG:
      if (inSize < sizeof(mei_connect_client_data_vtag) || outSize < sizeof(mei_connect_client_data_vtag))
        return (void)fuse_reply_err(req, EFAULT);
      return connect(book, req, file, in, sizeof(mei_connect_client_data_vtag), true);
    case IOCTL_MEI_NOTIFY_SET: {
      if (inSize < sizeof(std::uint32_t)) return (void)fuse_reply_err(req, EFAULT);
      std::uint32_t enable = 0;
      std::memcpy(&enable, in, sizeof enable);
      auto pending = book.track(req, false);
      host_.notifySet(file, enable, [pending](int err) {
        if (err) return pending->replyErr(err);
        pending->replyIoctl(nullptr, 0);
      });
      return;
    }
    case IOCTL_MEI_NOTIFY_GET: {
      if (outSize < sizeof(std::uint32_t)) return (void)fuse_reply_err(req, EFAULT);
      // FUSE ioctl requests carry no f_flags: use those of the file's latest open/read/write.
      const auto it = files_.find(file);
      const bool nonblocking = it != files_.end() && (it->second.flags & O_NONBLOCK);
      auto pending = book.track(req, true);
      pending->setTicket(host_.notifyGet(file, nonblocking, [pending](int err, std::uint32_t event) {
        if (err) return pending->replyErr(err);
        pending->replyIoctl(&event, sizeof event);
      }));
      return;
    }
    default:
      fuse_reply_err(req, ENOTTY);  // the driver's -ENOIOCTLCMD as the caller sees it
  }
}

void MeiNode::connect(RequestBook& book, fuse_req_t req, host::FileId file, const void* in, std::size_t size,
                      bool withVtag) {
  mei_connect_client_data_vtag data{};
  std::memcpy(&data, in, size);
  hbm::Guid guid;
  std::memcpy(guid.bytes.data(), data.connect.in_client_uuid.b, guid.bytes.size());
  auto pending = book.track(req, false);
  // The properties overwrite the first 8 bytes of the caller's struct; the rest comes back unchanged.
  auto done = [pending, data, size](int err, const hbm::ClientProperties& props) mutable {
    if (err) return pending->replyErr(err);
    data.out_client_properties = {props.maxMsgLength, props.protocolVersion, {}};
    pending->replyIoctl(&data, size);
  };
  if (withVtag) host_.connectVtag(file, guid, data.connect.vtag, std::move(done));
  else host_.connect(file, guid, std::move(done));
}

void MeiNode::poll(fuse_req_t req, host::FileId file, short requested, fuse_pollhandle* ph) {
  // The kernel keeps one wait queue per file; the newest handle stands for it.
  std::function<void()> wake;
  if (ph) {
    if (auto it = files_.find(file); it != files_.end()) {
      if (it->second.pollHandle) fuse_pollhandle_destroy(it->second.pollHandle);
      it->second.pollHandle = std::exchange(ph, nullptr);
      wake = [weak = weak_from_this(), file] {
        if (auto self = weak.lock()) self->notifyPoll(file);
      };
    }
  }
  if (ph) fuse_pollhandle_destroy(ph);
  const short events = host_.poll(file, requested, std::move(wake));
  fuse_reply_poll(req, static_cast<unsigned short>(events));
}

void MeiNode::rememberFlags(host::FileId file, int flags) {
  if (auto it = files_.find(file); it != files_.end()) it->second.flags = flags;
}

void MeiNode::forgetFile(host::FileId file) {
  auto it = files_.find(file);
  if (it == files_.end()) return;
  if (it->second.pollHandle) fuse_pollhandle_destroy(it->second.pollHandle);
  files_.erase(it);
}

void MeiNode::notifyPoll(host::FileId file) {
  if (!serving_) return;
  auto it = files_.find(file);
  if (it != files_.end() && it->second.pollHandle) fuse_lowlevel_notify_poll(it->second.pollHandle);
}

}  // namespace mesim::fuse
