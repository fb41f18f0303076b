// One FUSE mount served on the event loop (docs/architecture.md, "One loop, no FUSE threads"): it prepares the
// mount point, creates the libfuse session and mounts it, then reads /dev/fuse whenever the device is readable
// and lets libfuse dispatch each request on the loop. No FUSE threads and no locks: everything after start()
// happens on the loop, and stop() hands its loop part to the loop.
//
// Threading: start() and stop() may be called from any thread, one at a time (not concurrently with each
// other). Off the loop, stop() waits for the loop to run its part, so the loop must be running then, or stopped
// (io_context::stopped()); running() may be called from any thread.
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "common/log.h"
#include "common/result.h"

namespace mesim::fuse {

class FuseMount : public std::enable_shared_from_this<FuseMount> {
 public:
  FuseMount(boost::asio::io_context& io, std::filesystem::path mountPoint, log::Context log);
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  // Mounts (creating the directory if needed), then runs `onLoop` with the new session on the loop and starts
  // reading requests there, which libfuse hands to `ops` with `userdata`. Or why not (no usable /dev/fuse, stale
  // mount, mount refused).
  Result<> start(const fuse_lowlevel_ops& ops, void* userdata,
                 std::function<void(std::shared_ptr<fuse_session>)> onLoop);
  // Stops reading requests, runs `onLoop` on the loop (the owner answers what is still waiting; no reply may be
  // sent after it), then aborts the connection and unmounts on the calling thread, so clients still inside a
  // call get an error rather than hang. Idempotent; false if there was nothing to stop.
  bool stop(const std::function<void()>& onLoop);

  bool running() const { return running_; }
  // Mounted with allow_other (root, or user_allow_other in /etc/fuse.conf): users other than the daemon's may
  // reach the mount at all; the nodes' modes then decide. Set by start().
  bool othersAllowed() const { return othersAllowed_; }
  const std::filesystem::path& mountPoint() const { return mountPoint_; }
  const log::Context& logContext() const { return log_; }

 private:
  std::string prepareMountPoint();
  void awaitRequests(std::shared_ptr<boost::asio::posix::stream_descriptor> watch);
  bool serveReadyRequests();
  void endReading();  // on the loop

  boost::asio::io_context& io_;
  const std::filesystem::path mountPoint_;
  const log::Context log_;
  // The session as start() and stop() see it (their callers' side; the loop never touches it).
  std::shared_ptr<fuse_session> mounted_;
  // running() is asked from other threads; everything else below is the loop's once start() posted to it.
  std::atomic<bool> running_{false};
  bool othersAllowed_ = false;
  fuse_session* session_ = nullptr;
  // The loop waits on a duplicate of the session's fd (the descriptor object owns and closes it), so the
  // device's last fd closes with the session's own at unmount and the kernel aborts the connection.
  std::shared_ptr<boost::asio::posix::stream_descriptor> watch_;
  bool takingRequests_ = false;
  bool stopping_ = false;
  fuse_buf buf_{};
};

}  // namespace mesim::fuse
