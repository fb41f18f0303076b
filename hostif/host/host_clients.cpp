#include "hostif/host/host_clients.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include <boost/asio/post.hpp>

namespace mesim::host {

using hbm::Bytes;
using hbm::Command;

namespace {
constexpr unsigned kDefaultTxQueueLimit = 50;  // the kernel's MEI_TX_QUEUE_LIMIT_DEFAULT
}  // namespace

struct HostClients::File {
  struct PendingRead {
    Ticket ticket;
    std::size_t length;
    ReadCallback done;
  };
  struct PendingWrite {
    Ticket ticket;
    Bytes message;
    WriteCallback done;
  };
  struct PendingNotifyGet {
    Ticket ticket;
    NotifyGetCallback done;
  };

  explicit File(boost::asio::io_context& io) : controlTimer(io) {}
  FileId id = 0;
  std::uint8_t hostAddr = 0;
  FileState state = FileState::Initializing;
  std::uint8_t meAddr = 0;
  hbm::ClientProperties props;
  bool internal = false;  // the driver's own connection (bus fixup), not a user file

  std::deque<Bytes> rx;  // complete messages, the front one possibly partly read
  std::size_t rxOffset = 0;
  bool rxCredit = false;  // a FLOW_CONTROL is outstanding at the firmware
  std::deque<Bytes> tx;   // queued messages waiting for a firmware credit
  unsigned txCredits = 0;
  bool notifyEnabled = false;
  bool notifyPending = false;

  ControlOp op = ControlOp::None;
  boost::asio::steady_timer controlTimer;
  ConnectCallback connectDone;
  ErrCallback notifySetDone;
  std::uint32_t notifySetValue = 0;
  std::function<void()> closeDone;
  bool closeRequested = false;

  std::deque<PendingRead> readers;
  std::deque<PendingWrite> writers;
  std::deque<PendingNotifyGet> notifyWaiters;
  std::vector<ErrCallback> fsyncWaiters;
  std::function<void()> wake;
};

HostClients::HostClients(boost::asio::io_context& io, HbmBus& bus, const HostOptions& options)
    : io_(io), bus_(bus), options_(options), txQueueLimit_(kDefaultTxQueueLimit) {
  setTxQueueLimit(options.txQueueLimit);
}

HostClients::~HostClients() = default;

template <typename F>
void HostClients::post(F&& f) {
  boost::asio::post(io_, std::forward<F>(f));
}

// ------------------------------------------------------------------------------------------------ file calls

int HostClients::open(FileId& out) {
  if (bus_.state() != DevState::Enabled) return ENODEV;
  auto address = allocateHostAddress();
  if (!address) return EMFILE;
  auto file = std::make_unique<File>(io_);
  file->id = nextFileId_++;
  file->hostAddr = *address;
  out = file->id;
  files_.emplace(file->id, std::move(file));
  return 0;
}

void HostClients::markInternal(FileId id) {
  if (File* file = find(id)) file->internal = true;
}

void HostClients::close(FileId id, std::function<void()> done) {
  File* file = find(id);
  if (!file) return post(std::move(done));
  failWaiters(*file, EBADF);
  file->closeRequested = true;
  file->closeDone = std::move(done);
  if (file->state == FileState::Connected && bus_.state() == DevState::Enabled && file->props.fixedAddress == 0) {
    startDisconnect(*file);
    return;  // freed when the firmware answers or the timer fires
  }
  if (file->op == ControlOp::None) freeFile(id);
}

void HostClients::connect(FileId id, const hbm::Guid& guid, ConnectCallback done) {
  File* file = find(id);
  auto fail = [&](int err) { post([done = std::move(done), err] { done(err, {}); }); };
  if (!file || bus_.state() != DevState::Enabled) return fail(ENODEV);
  if (file->state == FileState::Connecting || file->state == FileState::Connected ||
      file->state == FileState::Disconnecting || file->op != ControlOp::None)
    return fail(EBUSY);
  const MeClient* client = bus_.findClient(guid);
  if (!client) return fail(ENOTTY);
  if (client->props.fixedAddress != 0) {
    // Fixed-address clients: one connection, no HBM connect (spec §1.2).
    if (bus_.negotiatedVersion() < hbm::kMinHostVersion) return fail(ENOTTY);
    for (auto& [otherId, other] : files_)
      if (other->meAddr == client->meAddr && other->state == FileState::Connected) return fail(EBUSY);
    file->meAddr = client->meAddr;
    file->props = client->props;
    setConnected(*file);
    return post([done = std::move(done), props = client->props] { done(0, props); });
  }
  file->meAddr = client->meAddr;
  file->props = client->props;
  file->state = FileState::Connecting;
  file->connectDone = std::move(done);
  beginControl(*file, ControlOp::Connect, options_.connectTimeout);
  bus_.sendBus(hbm::encodeConnect(Command::ClientConnect, {file->meAddr, file->hostAddr}));
}

void HostClients::connectVtag(FileId id, ConnectCallback done) {
  // mesim's firmware grants no vtag capability, so the driver refuses as the kernel does (spec §1.2).
  int err = find(id) && bus_.state() == DevState::Enabled ? EOPNOTSUPP : ENODEV;
  post([done = std::move(done), err] { done(err, {}); });
}

void HostClients::notifySet(FileId id, std::uint32_t enable, ErrCallback done) {
  File* file = find(id);
  auto finish = [&](int err) { post([done = std::move(done), err] { done(err); }); };
  if (enable > 1) return finish(EINVAL);
  if (!file || bus_.state() != DevState::Enabled) return finish(ENODEV);
  if (bus_.negotiatedVersion() < hbm::kMinHostVersion) return finish(EOPNOTSUPP);
  if (file->state != FileState::Connected) return finish(ENODEV);
  if (file->op != ControlOp::None) return finish(EBUSY);
  file->notifySetDone = std::move(done);
  file->notifySetValue = enable;
  beginControl(*file, ControlOp::NotifySet, options_.connectTimeout);
  bus_.sendBus(hbm::encode(hbm::NotifyReq{file->meAddr, file->hostAddr, enable == 1}));
}

Ticket HostClients::notifyGet(FileId id, bool nonblocking, NotifyGetCallback done) {
  File* file = find(id);
  auto finish = [&](int err, std::uint32_t value) { post([done = std::move(done), err, value] { done(err, value); }); };
  if (!file || bus_.state() != DevState::Enabled || file->state != FileState::Connected) {
    finish(ENODEV, 0);
    return 0;
  }
  if (file->notifyPending) {
    file->notifyPending = false;
    finish(0, 1);
    return 0;
  }
  if (nonblocking) {
    finish(EAGAIN, 0);
    return 0;
  }
  Ticket ticket = registerTicket(id);
  file->notifyWaiters.push_back({ticket, std::move(done)});
  return ticket;
}

Ticket HostClients::write(FileId id, Bytes message, bool nonblocking, WriteCallback done) {
  File* file = find(id);
  auto finish = [&](ssize_t result) { post([done = std::move(done), result] { done(result); }); };
  if (!file || bus_.state() != DevState::Enabled) return finish(-ENODEV), 0;
  if (file->state != FileState::Connected) return finish(-ENODEV), 0;
  if (!bus_.hasClient(file->meAddr, file->props.uuid)) return finish(-ENOTTY), 0;
  if (message.size() > file->props.maxMsgLength) return finish(-EFBIG), 0;
  if (message.empty()) return finish(0), 0;
  if (file->tx.size() >= txQueueLimit_) {
    if (nonblocking) return finish(-EAGAIN), 0;
    Ticket ticket = registerTicket(id);
    file->writers.push_back({ticket, std::move(message), std::move(done)});
    return ticket;
  }
  const auto length = static_cast<ssize_t>(message.size());
  file->tx.push_back(std::move(message));
  pumpTx(*file);
  finish(length);
  return 0;
}

Ticket HostClients::read(FileId id, std::size_t length, bool nonblocking, ReadCallback done) {
  File* file = find(id);
  auto finish = [&](int err) { post([done = std::move(done), err] { done(err, {}); }); };
  if (!file || bus_.state() != DevState::Enabled) return finish(ENODEV), 0;
  if (length == 0) return finish(0), 0;
  if (file->state != FileState::Connected) return finish(ENODEV), 0;
  if (!file->rx.empty() && file->readers.empty()) {
    Bytes chunk;
    int err = takeChunk(*file, length, chunk);
    post([done = std::move(done), err, chunk = std::move(chunk)]() mutable { done(err, std::move(chunk)); });
    return 0;
  }
  startRead(*file);
  if (nonblocking) return finish(EAGAIN), 0;
  Ticket ticket = registerTicket(id);
  file->readers.push_back({ticket, length, std::move(done)});
  return ticket;
}

void HostClients::fsync(FileId id, ErrCallback done) {
  File* file = find(id);
  if (!file || bus_.state() != DevState::Enabled || file->state != FileState::Connected)
    return post([done = std::move(done)] { done(ENODEV); });
  if (file->tx.empty() && file->writers.empty()) return post([done = std::move(done)] { done(0); });
  file->fsyncWaiters.push_back(std::move(done));
}

void HostClients::cancel(Ticket ticket) {
  auto it = tickets_.find(ticket);
  if (it == tickets_.end()) return;
  FileId id = it->second;
  tickets_.erase(it);
  File* file = find(id);
  if (!file) return;
  auto match = [&](const auto& pending) { return pending.ticket == ticket; };
  if (auto r = std::find_if(file->readers.begin(), file->readers.end(), match); r != file->readers.end()) {
    auto done = std::move(r->done);
    file->readers.erase(r);
    return post([done = std::move(done)] { done(EINTR, {}); });
  }
  if (auto w = std::find_if(file->writers.begin(), file->writers.end(), match); w != file->writers.end()) {
    auto done = std::move(w->done);
    file->writers.erase(w);
    return post([done = std::move(done)] { done(-EINTR); });
  }
  if (auto n = std::find_if(file->notifyWaiters.begin(), file->notifyWaiters.end(), match);
      n != file->notifyWaiters.end()) {
    auto done = std::move(n->done);
    file->notifyWaiters.erase(n);
    return post([done = std::move(done)] { done(EINTR, 0); });
  }
}

void HostClients::failWaiters(FileId id, int err) {
  if (File* file = find(id)) failWaiters(*file, err);
}

short HostClients::poll(FileId id, short requested, std::function<void()> wake) {
  File* file = find(id);
  if (!file || bus_.state() != DevState::Enabled || file->state != FileState::Connected) {
    if (file) file->wake = std::move(wake);
    return POLLERR;
  }
  short mask = 0;
  if (requested & (POLLIN | POLLRDNORM)) {
    if (!file->rx.empty())
      mask |= POLLIN | POLLRDNORM;
    else
      startRead(*file);
  }
  if ((requested & POLLPRI) && file->notifyEnabled && file->notifyPending) mask |= POLLPRI;
  if ((requested & (POLLOUT | POLLWRNORM)) && file->tx.size() < txQueueLimit_) mask |= POLLOUT | POLLWRNORM;
  file->wake = std::move(wake);
  return mask;
}

int HostClients::setTxQueueLimit(unsigned limit) {
  if (limit < 30 || limit > 255) return EINVAL;
  txQueueLimit_ = limit;
  return 0;
}

HostClients::Stats HostClients::stats() const {
  Stats s;
  for (auto& [id, file] : files_) {
    if (file->internal) continue;
    ++s.openFiles;
    if (file->state == FileState::Connected) ++s.connectedFiles;
    s.pendingCalls += file->readers.size() + file->writers.size() + file->notifyWaiters.size();
  }
  return s;
}

// ------------------------------------------------------------------------------------------------ bookkeeping

HostClients::File* HostClients::find(FileId id) {
  auto it = files_.find(id);
  return it == files_.end() ? nullptr : it->second.get();
}

HostClients::File* HostClients::findByHostAddr(std::uint8_t hostAddr) {
  for (auto& [id, file] : files_)
    if (file->hostAddr == hostAddr) return file.get();
  return nullptr;
}

std::optional<std::uint8_t> HostClients::allocateHostAddress() {
  for (unsigned a = 1; a < 256; ++a) {
    if (!hostAddresses_[a]) {
      hostAddresses_[a] = true;
      return static_cast<std::uint8_t>(a);
    }
  }
  return std::nullopt;
}

Ticket HostClients::registerTicket(FileId id) {
  Ticket t = nextTicket_++;
  tickets_[t] = id;
  return t;
}

void HostClients::freeFile(FileId id) {
  auto it = files_.find(id);
  if (it == files_.end()) return;
  auto file = std::move(it->second);
  files_.erase(it);
  hostAddresses_[file->hostAddr] = false;
  file->controlTimer.cancel();
  failWaiters(*file, EBADF);
  if (file->closeDone) post(std::move(file->closeDone));
}

// ------------------------------------------------------------------------------------------------ state machine

void HostClients::beginControl(File& file, ControlOp op, std::chrono::milliseconds timeout) {
  file.op = op;
  file.controlTimer.expires_after(timeout);
  file.controlTimer.async_wait([this, id = file.id, op](boost::system::error_code ec) {
    if (ec) return;
    File* f = find(id);
    if (!f || f->op != op) return;
    controlTimedOut(*f);
  });
}

void HostClients::endControl(File& file) {
  file.op = ControlOp::None;
  file.controlTimer.cancel();
}

void HostClients::controlTimedOut(File& file) {
  MESIM_LOG(Warn, "host", "firmware did not answer on host address " << int(file.hostAddr));
  ControlOp op = file.op;
  endControl(file);
  switch (op) {
    case ControlOp::Connect: {
      // HBM >= 2.0: disconnect on connect timeout rather than reset (spec §2.6).
      file.state = FileState::Disconnected;
      bus_.sendBus(hbm::encodeConnect(Command::ClientDisconnect, {file.meAddr, file.hostAddr}));
      auto done = std::move(file.connectDone);
      if (done) post([done = std::move(done)] { done(EFAULT, {}); });
      break;
    }
    case ControlOp::NotifySet: {
      auto done = std::move(file.notifySetDone);
      if (done) post([done = std::move(done)] { done(EFAULT); });
      break;
    }
    case ControlOp::Disconnect:
      file.state = FileState::Disconnected;
      break;
    case ControlOp::None: break;
  }
  if (file.closeRequested) freeFile(file.id);
}

void HostClients::startDisconnect(File& file) {
  file.state = FileState::Disconnecting;
  beginControl(file, ControlOp::Disconnect, options_.connectTimeout);
  bus_.sendBus(hbm::encodeConnect(Command::ClientDisconnect, {file.meAddr, file.hostAddr}));
}

// A new connection, or none: nothing queued either way, no credit, no notification.
void HostClients::clearTraffic(File& file) {
  file.rx.clear();
  file.rxOffset = 0;
  file.rxCredit = false;
  file.tx.clear();
  file.notifyEnabled = false;
  file.notifyPending = false;
}

void HostClients::setConnected(File& file) {
  file.state = FileState::Connected;
  clearTraffic(file);
  file.txCredits = file.props.fixedAddress ? 1 : 0;
}

// The firmware disconnected the client, or the device reset: every call now fails with ENODEV.
void HostClients::setDisconnected(File& file) {
  file.state = FileState::Disconnected;
  clearTraffic(file);
  failWaiters(file, ENODEV);
  wakeFile(file);
}

void HostClients::failWaiters(File& file, int err) {
  for (auto& r : file.readers) {
    tickets_.erase(r.ticket);
    post([done = std::move(r.done), err] { done(err, {}); });
  }
  file.readers.clear();
  for (auto& w : file.writers) {
    tickets_.erase(w.ticket);
    post([done = std::move(w.done), err] { done(-err); });
  }
  file.writers.clear();
  for (auto& n : file.notifyWaiters) {
    tickets_.erase(n.ticket);
    post([done = std::move(n.done), err] { done(err, 0); });
  }
  file.notifyWaiters.clear();
  for (auto& f : file.fsyncWaiters) post([done = std::move(f), err] { done(err); });
  file.fsyncWaiters.clear();
}

void HostClients::onBusLost() {
  std::vector<FileId> toFree;
  for (auto& [id, file] : files_) {
    if (file->op == ControlOp::Connect && file->connectDone)
      post([done = std::move(file->connectDone)] { done(ENODEV, {}); });
    if (file->op == ControlOp::NotifySet && file->notifySetDone)
      post([done = std::move(file->notifySetDone)] { done(ENODEV); });
    endControl(*file);
    if (file->state != FileState::Initializing) setDisconnected(*file);
    if (file->closeRequested || file->internal) toFree.push_back(id);
  }
  for (auto id : toFree) freeFile(id);
}

void HostClients::wakeFile(File& file) {
  if (auto wake = std::move(file.wake)) {
    file.wake = nullptr;
    wake();
  }
}

void HostClients::startRead(File& file) {
  if (file.rxCredit || file.state != FileState::Connected || file.props.fixedAddress) return;
  file.rxCredit = true;
  bus_.sendBus(hbm::encode(hbm::FlowControl{file.meAddr, file.hostAddr}));
}

int HostClients::takeChunk(File& file, std::size_t length, Bytes& chunk) {
  Bytes& front = file.rx.front();
  if (front.size() > file.props.maxMsgLength) {
    file.rx.pop_front();
    file.rxOffset = 0;
    return EMSGSIZE;
  }
  std::size_t n = std::min(length, front.size() - file.rxOffset);
  chunk.assign(front.begin() + file.rxOffset, front.begin() + file.rxOffset + n);
  file.rxOffset += n;
  if (file.rxOffset == front.size()) {
    file.rx.pop_front();
    file.rxOffset = 0;
  }
  return 0;
}

void HostClients::pumpTx(File& file) {
  while (file.txCredits > 0 && !file.tx.empty()) {
    --file.txCredits;
    Bytes message = std::move(file.tx.front());
    file.tx.pop_front();
    bus_.sendClientMessage(file.meAddr, file.hostAddr, message);
  }
  bool freed = false;
  while (!file.writers.empty() && file.tx.size() < txQueueLimit_) {
    auto w = std::move(file.writers.front());
    file.writers.pop_front();
    tickets_.erase(w.ticket);
    const auto length = static_cast<ssize_t>(w.message.size());
    file.tx.push_back(std::move(w.message));
    post([done = std::move(w.done), length] { done(length); });
    freed = true;
  }
  if (freed) pumpTx(file);
  if (file.tx.empty() && file.writers.empty()) {
    for (auto& f : file.fsyncWaiters) post([done = std::move(f)] { done(0); });
    file.fsyncWaiters.clear();
  }
}

void HostClients::deliverToReaders(File& file) {
  while (!file.readers.empty() && !file.rx.empty()) {
    auto reader = std::move(file.readers.front());
    file.readers.pop_front();
    tickets_.erase(reader.ticket);
    Bytes chunk;
    int err = takeChunk(file, reader.length, chunk);
    post([done = std::move(reader.done), err, chunk = std::move(chunk)]() mutable { done(err, std::move(chunk)); });
  }
  if (!file.readers.empty()) startRead(file);
}

// ------------------------------------------------------------------------------------------------ bus events

void HostClients::onConnectRes(const hbm::ConnectRes& res) {
  File* file = findByHostAddr(res.hostAddr);
  if (!file || file->op != ControlOp::Connect || file->meAddr != res.meAddr) return;
  endControl(*file);
  auto done = std::move(file->connectDone);
  int err = 0;
  switch (static_cast<hbm::ConnectStatus>(res.status)) {
    case hbm::ConnectStatus::Success: err = 0; break;
    case hbm::ConnectStatus::NotFound: err = ENOTTY; break;
    case hbm::ConnectStatus::AlreadyStarted:
    case hbm::ConnectStatus::OutOfResources:
    case hbm::ConnectStatus::NotAllowed: err = EBUSY; break;
    default: err = EINVAL; break;
  }
  if (err == 0) {
    setConnected(*file);
  } else {
    file->state = FileState::Disconnected;
    if (err == ENOTTY) bus_.removeClient(res.meAddr);
  }
  if (done) post([done = std::move(done), err, props = file->props] { done(err, err ? hbm::ClientProperties{} : props); });
  if (file->closeRequested) {
    if (err == 0) return startDisconnect(*file);
    freeFile(file->id);
  }
}

void HostClients::onDisconnectRes(const hbm::ConnectRes& res) {
  File* file = findByHostAddr(res.hostAddr);
  if (!file || file->op != ControlOp::Disconnect) return;
  endControl(*file);
  setDisconnected(*file);
  if (file->closeRequested) freeFile(file->id);
}

void HostClients::onFirmwareDisconnect(const hbm::ConnectReq& req) {
  File* file = findByHostAddr(req.hostAddr);
  if (!file || file->meAddr != req.meAddr) return;
  if (file->op == ControlOp::Disconnect) {
    endControl(*file);
    setDisconnected(*file);
    if (file->closeRequested) freeFile(file->id);
    return;
  }
  if (file->state == FileState::Connected) setDisconnected(*file);
}

void HostClients::onFlowControl(const hbm::FlowControl& fc) {
  File* file = nullptr;
  if (fc.hostAddr == 0) {  // single_recv_buf: a credit for the ME client, shared by its connections
    for (auto& [id, f] : files_)
      if (f->meAddr == fc.meAddr && f->state == FileState::Connected && (!file || !f->tx.empty())) file = f.get();
  } else {
    file = findByHostAddr(fc.hostAddr);
  }
  if (!file || file->state != FileState::Connected) return;
  ++file->txCredits;
  pumpTx(*file);
  wakeFile(*file);
}

void HostClients::onNotifyRes(const hbm::NotifyRes& res) {
  File* file = findByHostAddr(res.hostAddr);
  if (!file || file->op != ControlOp::NotifySet) return;
  endControl(*file);
  const bool start = file->notifySetValue == 1;
  const bool ok = res.status == hbm::Status::Success ||
                  (start ? res.status == hbm::Status::AlreadyStarted : res.status == hbm::Status::NotStarted);
  if (ok) file->notifyEnabled = start;
  if (!start) file->notifyPending = false;
  auto done = std::move(file->notifySetDone);
  if (done) post([done = std::move(done), ok] { done(ok ? 0 : EINVAL); });
}

void HostClients::onNotification(const hbm::Notification& n) {
  File* file = findByHostAddr(n.hostAddr);
  if (!file || file->state != FileState::Connected || !file->notifyEnabled) return;
  if (!file->notifyWaiters.empty()) {
    auto waiter = std::move(file->notifyWaiters.front());
    file->notifyWaiters.pop_front();
    tickets_.erase(waiter.ticket);
    post([done = std::move(waiter.done)] { done(0, 1); });
  } else {
    file->notifyPending = true;
  }
  wakeFile(*file);
}

void HostClients::onClientMessage(std::uint8_t meAddr, std::uint8_t hostAddr, Bytes message) {
  File* file = findByHostAddr(hostAddr);
  if (!file || file->state != FileState::Connected || file->meAddr != meAddr) return;
  if (!file->rxCredit && !file->props.fixedAddress) {
    MESIM_LOG(Warn, "host", "firmware sent without a credit on host address " << int(file->hostAddr) << "; dropped");
    return;
  }
  file->rxCredit = false;
  file->rx.push_back(std::move(message));
  deliverToReaders(*file);
  wakeFile(*file);
}

}  // namespace mesim::host
