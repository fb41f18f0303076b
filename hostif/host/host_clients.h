// The host clients (the kernel's client.c, struct mei_cl; spec/mei.md §1.2, §2.5–2.7): one per open file, with
// its connect/disconnect/notify state machine, receive and transmit queues, flow-control credits, and the calls
// waiting on it (read, write, NOTIFY_GET, fsync) with the kernel driver's errno, blocking and poll semantics.
// It speaks to the firmware only through HbmBus and is told by it what arrived (HbmBus::Listener's client half).
//
// Threading: everything on the bus's io_context; completion callbacks are posted there, never called inline.
#pragma once

#include <poll.h>

#include <bitset>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sys/types.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "hostif/host/hbm_bus.h"
#include "hostif/host/host_types.h"

namespace mesim::host {

class HostClients {
 public:
  using ErrCallback = host::ErrCallback;
  using ConnectCallback = host::ConnectCallback;
  using ReadCallback = host::ReadCallback;
  using WriteCallback = host::WriteCallback;
  using NotifyGetCallback = host::NotifyGetCallback;

  HostClients(boost::asio::io_context& io, HbmBus& bus, const HostOptions& options);
  ~HostClients();
  HostClients(const HostClients&) = delete;
  HostClients& operator=(const HostClients&) = delete;

  // ---- per-file operations (MeiHost's, see there) ----
  int open(FileId& out);
  // The driver's own connection (bus fixup): not counted in stats, freed on any bus loss.
  void markInternal(FileId file);
  void close(FileId file, std::function<void()> done);
  void connect(FileId file, const hbm::Guid& guid, ConnectCallback done);
  void connectVtag(FileId file, ConnectCallback done);
  void notifySet(FileId file, std::uint32_t enable, ErrCallback done);
  Ticket notifyGet(FileId file, bool nonblocking, NotifyGetCallback done);
  Ticket write(FileId file, hbm::Bytes message, bool nonblocking, WriteCallback done);
  Ticket read(FileId file, std::size_t length, bool nonblocking, ReadCallback done);
  void fsync(FileId file, ErrCallback done);
  void cancel(Ticket ticket);
  // Ends every waiting call of the file with `err` (ETIME for the fixup's own timeout).
  void failWaiters(FileId file, int err);
  short poll(FileId file, short requested, std::function<void()> wake);

  int setTxQueueLimit(unsigned limit);  // 30..255 else EINVAL
  unsigned txQueueLimit() const { return txQueueLimit_; }

  struct Stats {
    std::size_t openFiles = 0;
    std::size_t connectedFiles = 0;
    std::size_t pendingCalls = 0;
  };
  Stats stats() const;

  // ---- what the bus reports (HbmBus::Listener) ----
  void onConnectRes(const hbm::ConnectRes& res);
  void onDisconnectRes(const hbm::ConnectRes& res);
  void onFirmwareDisconnect(const hbm::ConnectReq& req);
  void onFlowControl(const hbm::FlowControl& credit);
  void onNotifyRes(const hbm::NotifyRes& res);
  void onNotification(const hbm::Notification& notification);
  void onClientMessage(std::uint8_t meAddr, std::uint8_t hostAddr, hbm::Bytes message);
  void onBusLost();

  const log::Context& logContext() const { return bus_.logContext(); }

 private:
  enum class FileState { Initializing, Connecting, Connected, Disconnecting, Disconnected };
  enum class ControlOp { None, Connect, Disconnect, NotifySet };
  struct File;

  template <typename F>
  void post(F&& f);
  File* find(FileId id);
  File* findByHostAddr(std::uint8_t hostAddr);
  std::optional<std::uint8_t> allocateHostAddress();
  Ticket registerTicket(FileId id);
  void freeFile(FileId id);
  void beginControl(File& file, ControlOp op, std::chrono::milliseconds timeout);
  void endControl(File& file);
  void controlTimedOut(File& file);
  void startDisconnect(File& file);
  void clearTraffic(File& file);
  void setConnected(File& file);
  void setDisconnected(File& file);
  void failWaiters(File& file, int err);
  void wakeFile(File& file);
  void startRead(File& file);
  int takeChunk(File& file, std::size_t length, hbm::Bytes& chunk);
  void pumpTx(File& file);
  void deliverToReaders(File& file);

  boost::asio::io_context& io_;
  HbmBus& bus_;
  const HostOptions options_;
  unsigned txQueueLimit_;
  std::map<FileId, std::unique_ptr<File>> files_;
  std::bitset<256> hostAddresses_{1};  // address 0 is the bus
  FileId nextFileId_ = 1;
  Ticket nextTicket_ = 1;
  std::map<Ticket, FileId> tickets_;
};

}  // namespace mesim::host
