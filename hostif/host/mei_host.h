// The host's side of the link: a user-space model of the Linux mei driver (spec/mei.md §1.2, §2).
// It runs HBM over a link::Endpoint and gives each open file its own client connection with the
// kernel driver's errno, blocking and poll semantics. Front ends (FUSE, preload server, the
// in-process client) translate their calls into these. Cut along the kernel's lines: HbmBus (hbm.c: bus
// lifecycle, enumeration), HostClients (client.c: the per-file state machine), BusFixup (bus-fixup.c); this
// class joins them and formats sysfs.
//
// Threading: every method must be called on the io_context the host was built with; completion
// callbacks run there too. Front ends on other threads post into it.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>

#include "hostif/host/host_types.h"
#include "hostif/link/hbm_wire.h"
#include "hostif/link/link.h"

namespace mesim::host {

class MeiHost {
 public:
  using ErrCallback = host::ErrCallback;
  using ConnectCallback = host::ConnectCallback;
  using ReadCallback = host::ReadCallback;
  using WriteCallback = host::WriteCallback;
  using NotifyGetCallback = host::NotifyGetCallback;

  MeiHost(boost::asio::io_context& io, std::shared_ptr<link::Endpoint> link, HostOptions options = {});
  ~MeiHost();
  MeiHost(const MeiHost&) = delete;
  MeiHost& operator=(const MeiHost&) = delete;

  // Resets the link and runs HOST_START, CAPABILITIES and enumeration; ENABLED when done.
  void start();
  // Host-initiated reset (as after a protocol error or a timeout).
  void reset(const std::string& reason);
  // Sends HOST_STOP and goes to POWER_DOWN (used at shutdown).
  void stop();

  DevState state() const;
  // Called on every dev_state change (sysfs_notify in the kernel).
  void onStateChange(std::function<void(DevState)> callback);
  // `done` once the bus fixup that follows ENABLED (MKHI fix client: OS version, GET_FW_VERSION for sysfs fw_ver)
  // has finished, at once if none is running; its connection is closed by then.
  void whenFixupDone(std::function<void()> done);
  hbm::Version negotiatedVersion() const;
  std::vector<MeClient> clients() const;

  // ---- per-file operations (struct file in the kernel) ----
  // 0 and a new file id, or ENODEV (not ENABLED) / EMFILE (no host address left).
  int open(FileId& out);
  // Disconnects if connected (waits for the firmware's answer, ≤ connect timeout) and frees the file.
  void close(FileId file, std::function<void()> done);

  void connect(FileId file, const hbm::Guid& guid, ConnectCallback done);
  void connectVtag(FileId file, const hbm::Guid& guid, std::uint8_t vtag, ConnectCallback done);
  void notifySet(FileId file, std::uint32_t enable, ErrCallback done);
  // Pending event → 1; else EAGAIN when nonblocking, or waits (cancel with cancel(ticket)).
  Ticket notifyGet(FileId file, bool nonblocking, NotifyGetCallback done);

  // Queues one message; done(len) at once unless the tx queue is full (then EAGAIN or waits).
  Ticket write(FileId file, hbm::Bytes message, bool nonblocking, WriteCallback done);
  // One message per read; a short buffer gets the rest on following reads.
  Ticket read(FileId file, std::size_t length, bool nonblocking, ReadCallback done);
  // Waits until queued writes are sent.
  void fsync(FileId file, ErrCallback done);
  // Ends a waiting call with EINTR (a signal interrupted it). Unknown tickets are ignored.
  void cancel(Ticket ticket);

  // Current poll(2) events of the file. Like the kernel, polling starts a read (grants a credit).
  // `wake`, if set, is called once the next time the file's readiness may have changed.
  short poll(FileId file, short requested, std::function<void()> wake);

  // ---- sysfs attributes, in the kernel's formats (spec §1.3) ----
  std::string sysfsFwStatus() const;
  std::string sysfsFwVer() const;
  std::string sysfsHbmVer() const;
  std::string sysfsHbmVerDrv() const;
  std::string sysfsDevState() const;
  std::string sysfsTrc() const;
  std::string sysfsKind() const;
  std::string sysfsTxQueueLimit() const;
  int setTxQueueLimit(unsigned limit);  // 30..255 else EINVAL

  struct Stats {
    std::size_t openFiles = 0;
    std::size_t connectedFiles = 0;
    std::size_t pendingCalls = 0;
    unsigned resets = 0;
  };
  Stats stats() const;

  // Names this host's device in its log lines (HostOptions::log).
  const log::Context& logContext() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mesim::host
