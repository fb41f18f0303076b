// dev/mei0, its sysfs attributes (sys/class/mei/mei0/*) and dev/watchdog0 served from a FUSE mount
// (ARCHITECTURE.md, "Facts about the FUSE device"; spec/mei.md §1). Made of a FuseMount (mount, session, reading
// /dev/fuse on the loop), a MeiNode (dev/mei0 and sysfs onto host::MeiHost) and a WatchdogNode (dev/watchdog0
// onto host::MeiWdt). Every request is processed on the loop, without locks; a request that has to wait is
// answered later from the host's callback, and a FUSE interrupt (a signal in the caller) cancels it with EINTR.
// The loop must never itself make a syscall on the mount.
//
// Threading: start() and stop() may be called from any thread, including the io_context's own (a signal
// handler's shutdown), one at a time. Off the loop, stop() hands its part to the loop and waits for it (the loop
// must be running then, or stopped), then unmounts on the calling thread. The io_context and the host must
// outlive this object, which must be stopped (the destructor does it) before the host goes.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "common/file_access.h"
#include "common/result.h"
#include "hostif/host/mei_host.h"
#include "hostif/host/mei_wdt.h"

namespace mesim::fuse {

// Sends libfuse's own messages to mesim's log (and lets start() quote its last error). libfuse has one log hook
// per process, so the process shell calls this once, before the first start(); without it libfuse writes to
// stderr and start()'s errors carry less detail.
void installProcessLogging();

// Who may open the device nodes: their mode and group, 0600 and the daemon's group by default, as Linux makes
// /dev/mei0 and /dev/watchdog0 (dev/mei0 hands any opener the OS admin account, GetLocalSystemAccount). The sysfs
// attributes keep sysfs's modes. The kernel checks them (default_permissions); other users reach the mount only
// when it is allow_other (FuseMount).
struct NodeAccess {
  FileAccess mei;       // dev/mei0
  FileAccess watchdog;  // dev/watchdog0
};
// A FUSE mount left on `mountPoint` by a process that died without unmounting (kill -9): the kernel answers
// ENOTCONN for it. Detaches it (umount2 as root, else `fusermount3 -u -z`), so that neither a new mount nor programs
// looking at the directory trip over it. True if one was cleared, false if there was none (a live mount of another
// process is left alone); an error if it stays. Blocks for as long as fusermount3 runs.
Result<bool> clearStaleMount(const std::filesystem::path& mountPoint);

class FuseFrontEnd {
 public:
  // `watchdog` (optional) serves dev/watchdog0 with the Linux watchdog API; without it the node is ENODEV.
  FuseFrontEnd(boost::asio::io_context& io, host::MeiHost& host, std::filesystem::path mountPoint,
               host::MeiWdt* watchdog = nullptr, NodeAccess access = {});
  ~FuseFrontEnd();  // stop()
  FuseFrontEnd(const FuseFrontEnd&) = delete;
  FuseFrontEnd& operator=(const FuseFrontEnd&) = delete;

  // Mounts (creating the directory if needed) and starts serving; an error says why not (no usable /dev/fuse,
  // stale mount, mount refused).
  Result<> start();
  // Answers whatever is still waiting with ENODEV and unmounts; closes the host files that were still open.
  // Idempotent; never waits for a client. Requests the loop has not read by then end with the connection's
  // abort (an error for the caller, never a hang).
  void stop();

  // Mounted and serving (false after stop() or once the connection was aborted from outside).
  bool running() const;
  const std::filesystem::path& mountPoint() const;
  // Serves one host's device: log lines name it.
  const log::Context& logContext() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mesim::fuse
