// dev/mei0 and /sys/class/mei/mei0 served from a FUSE mount (ARCHITECTURE.md, "Facts about the FUSE
// device"; spec/mei.md §1). Every call maps 1:1 onto host::MeiHost on its io_context. The loop itself reads
// /dev/fuse when it is readable and processes the requests (no FUSE threads), so a client's call costs one
// hand-off to the loop and one back. Nothing here blocks the loop: a request that has to wait is answered later
// from the host's callback, and a FUSE interrupt (a signal in the caller) cancels it with EINTR. The loop must
// never itself make a syscall on the mount.
//
// Threading: start() and stop() may be called from any thread, including the io_context's own (a signal
// handler's shutdown); neither waits for the loop beyond the batch of requests it may be processing. The
// io_context and the host must outlive this object, which should be destroyed on the loop's thread or while the
// loop is not running; callbacks the loop runs after that no longer touch the host.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "hostif/host/mei_host.h"
#include "hostif/host/mei_wdt.h"

namespace mesim::fuse {

class FuseFrontEnd {
 public:
  // `watchdog` (optional) serves dev/watchdog0 with the Linux watchdog API; without it the node is ENODEV.
  FuseFrontEnd(boost::asio::io_context& io, host::MeiHost& host, std::filesystem::path mountPoint,
               host::MeiWdt* watchdog = nullptr);
  ~FuseFrontEnd();  // stop()
  FuseFrontEnd(const FuseFrontEnd&) = delete;
  FuseFrontEnd& operator=(const FuseFrontEnd&) = delete;

  // Mounts (creating the directory if needed) and starts serving. "" on success, else why not
  // (no usable /dev/fuse, stale mount, mount refused).
  std::string start();
  // Answers whatever is still waiting with ENODEV and unmounts; closes the host files that were still open.
  // Idempotent; never waits for a client.
  void stop();

  // Mounted and serving (false after stop() or once the connection was aborted from outside).
  bool running() const;
  const std::filesystem::path& mountPoint() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mesim::fuse
