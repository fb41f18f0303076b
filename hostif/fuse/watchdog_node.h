// dev/watchdog0 on a FUSE mount: the watchdog core's file operations (drivers/watchdog/watchdog_dev.c) over
// host::MeiWdt, the host's iamt_wdt. Without a watchdog the node answers ENODEV.
//
// Threading: loop only (FuseMount dispatches requests there).
#pragma once

#include <fuse_lowlevel.h>

#include <cstddef>

#include "hostif/fuse/pending_request.h"
#include "hostif/host/mei_wdt.h"

namespace mesim::fuse {

class WatchdogNode {
 public:
  explicit WatchdogNode(host::MeiWdt* watchdog) : watchdog_(watchdog) {}

  void open(fuse_req_t req);
  void read(fuse_req_t req);  // the core has no read
  void write(RequestBook& book, fuse_req_t req, const char* buf, std::size_t size);
  void release();
  void ioctl(RequestBook& book, fuse_req_t req, unsigned cmd, const void* in, std::size_t inSize,
             std::size_t outSize);

 private:
  host::MeiWdt* const watchdog_;
};

}  // namespace mesim::fuse
