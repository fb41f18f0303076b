#include "hostif/fuse/watchdog_node.h"

#include <linux/watchdog.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "hostif/fuse/open_reply.h"

namespace mesim::fuse {
namespace {

void replyInt(const std::shared_ptr<PendingRequest>& pending, int value) { pending->replyIoctl(&value, sizeof value); }

}  // namespace

void WatchdogNode::open(fuse_req_t req) {
  if (!watchdog_) return (void)fuse_reply_err(req, ENODEV);
  if (const int err = watchdog_->open()) return (void)fuse_reply_err(req, err);
  if (replyOpen(req, 0, kDeviceOpenFlags) != 0) watchdog_->release([] {});  // the opener is gone: no release will come
}

void WatchdogNode::read(fuse_req_t req) { fuse_reply_err(req, EINVAL); }

void WatchdogNode::write(RequestBook& book, fuse_req_t req, const char* buf, std::size_t size) {
  if (!watchdog_) return (void)fuse_reply_err(req, ENODEV);
  auto pending = book.track(req, true);
  watchdog_->write(std::string_view(buf, size), [pending](ssize_t result) {
    if (result < 0) return pending->replyErr(static_cast<int>(-result));
    pending->reply([result](fuse_req_t r) { return fuse_reply_write(r, static_cast<std::size_t>(result)); });
  });
}

void WatchdogNode::release() {
  if (watchdog_) watchdog_->release([] {});
}

void WatchdogNode::ioctl(RequestBook& book, fuse_req_t req, unsigned cmd, const void* in, std::size_t inSize,
                         std::size_t outSize) {
  if (!watchdog_) return (void)fuse_reply_err(req, ENODEV);
  auto pending = book.track(req, false);
  switch (cmd) {
    case WDIOC_GETSUPPORT: {
      if (outSize < sizeof(watchdog_info)) return pending->replyErr(EFAULT);
      const watchdog_info info = watchdog_->info();
      return pending->replyIoctl(&info, sizeof info);
    }
    case WDIOC_GETSTATUS:
    case WDIOC_GETBOOTSTATUS:
      if (outSize < sizeof(int)) return pending->replyErr(EFAULT);
      return replyInt(pending, cmd == WDIOC_GETSTATUS ? static_cast<int>(watchdog_->status()) : 0);
    case WDIOC_KEEPALIVE:
      // The core ignores the argument and callers pass 0 (Debian's watchdog does): copy nothing back.
      return watchdog_->keepalive([pending](int err) {
        if (err) return pending->replyErr(err);
        pending->replyIoctl(nullptr, 0);
      });
    case WDIOC_SETTIMEOUT: {
      if (inSize < sizeof(int) || outSize < sizeof(int)) return pending->replyErr(EFAULT);
      int seconds = 0;
      std::memcpy(&seconds, in, sizeof seconds);
      return watchdog_->setTimeout(seconds, [pending](int err, int timeout) {
        if (err) return pending->replyErr(err);
        replyInt(pending, timeout);
      });
    }
    case WDIOC_GETTIMEOUT:
      if (outSize < sizeof(int)) return pending->replyErr(EFAULT);
      return replyInt(pending, watchdog_->timeout());
    case WDIOC_GETTIMELEFT: {
      if (outSize < sizeof(int)) return pending->replyErr(EFAULT);
      int left = 0;
      if (const int err = watchdog_->timeLeft(left)) return pending->replyErr(err);
      return replyInt(pending, left);
    }
    case WDIOC_SETOPTIONS: {
      // _IOR although the kernel reads the argument: FUSE copies nothing in, so the option is unknown here.
      if (inSize < sizeof(int)) return pending->replyErr(EINVAL);
      int options = 0;
      std::memcpy(&options, in, sizeof options);
      return watchdog_->setOptions(options, [pending](int err) {
        if (err) return pending->replyErr(err);
        replyInt(pending, 0);
      });
    }
    default:
      return pending->replyErr(ENOTTY);
  }
}

}  // namespace mesim::fuse
