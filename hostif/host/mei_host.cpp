#include "hostif/host/mei_host.h"

#include <algorithm>
#include <bitset>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.h"

namespace mesim::host {

using hbm::Bytes;
using hbm::Command;

const char* devStateName(DevState state) {
  switch (state) {
    case DevState::Initializing: return "INITIALIZING";
    case DevState::InitClients: return "INIT_CLIENTS";
    case DevState::Enabled: return "ENABLED";
    case DevState::Resetting: return "RESETTING";
    case DevState::Disabled: return "DISABLED";
    case DevState::PowerDown: return "POWER_DOWN";
    case DevState::PowerUp: return "POWER_UP";
  }
  return "UNKNOWN";
}

namespace {
// The kernel's MKHI "fix" client, which the bus fixup asks for the firmware version (spec §2.4, §5).
const hbm::Guid kMkhiFixGuid = *hbm::Guid::parse("55213584-9A29-4916-BADF-0FB7ED682AEB");
constexpr std::chrono::milliseconds kFixupTimeout{500};
}  // namespace

class MeiHost::Impl {
 public:
  Impl(boost::asio::io_context& io, std::shared_ptr<link::Endpoint> link, HostOptions options)
      : io_(io), link_(std::move(link)), options_(options), stageTimer_(io), reassembler_(1u << 20) {
    link_->onFrame([this](hbm::Frame frame) { onFrame(std::move(frame)); });
    link_->onDown([this] { setState(DevState::Disabled); failAllFiles(); });
  }

  ~Impl() {
    link_->onFrame(nullptr);
    link_->onDown(nullptr);
  }

  // ---------------------------------------------------------------- device lifecycle
  enum class Stage { Idle, WaitReady, WaitStart, WaitCaps, WaitEnum, WaitProps, Enabled, WaitStop };

  void start() {
    stopping_ = false;
    setState(DevState::Initializing);
    clients_.clear();
    reassembler_.reset();
    link_->send(hbm::makeLinkControl(hbm::LinkControl::Reset));
    expect(Stage::WaitReady);
  }

  void reset(const std::string& reason) {
    if (state_ == DevState::Disabled || state_ == DevState::PowerDown) return;
    MESIM_LOG(Warn, "host", "reset: " << reason);
    ++totalResets_;
    setState(DevState::Resetting);
    failAllFiles();
    clients_.clear();
    if (++consecutiveResets_ > options_.maxResets) {
      MESIM_LOG(Error, "host", "too many consecutive resets; device DISABLED");
      stage_ = Stage::Idle;
      stageTimer_.cancel();
      setState(DevState::Disabled);
      return;
    }
    start();
  }

  void stop() {
    if (state_ == DevState::PowerDown) return;
    stopping_ = true;
    failAllFiles();
    if (stage_ == Stage::Enabled) {
      sendBus(hbm::encodeStop(Command::HostStop, {0}));
      expect(Stage::WaitStop);
    }
    setState(DevState::PowerDown);
  }

  void expect(Stage stage) {
    stage_ = stage;
    stageTimer_.expires_after(options_.startTimeout);
    stageTimer_.async_wait([this, stage](boost::system::error_code ec) {
      if (ec || stage_ != stage) return;
      if (stage == Stage::WaitStop) {
        stage_ = Stage::Idle;
        return;
      }
      reset("timeout waiting for the firmware");
    });
  }

  // See MeiHost::whenFixupDone.
  void whenFixupDone(std::function<void()> done) {
    if (!fixupRunning_) return done();
    fixupWaiters_.push_back(std::move(done));
  }

  void setState(DevState state) {
    if (state_ == state) return;
    state_ = state;
    for (auto& callback : stateCallbacks_) callback(state);
  }

  // ---------------------------------------------------------------- files
  enum class FileState { Initializing, Connecting, Connected, Disconnecting, Disconnected };
  enum class ControlOp { None, Connect, Disconnect, NotifySet };

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

  struct File {
    explicit File(boost::asio::io_context& io) : controlTimer(io) {}
    FileId id = 0;
    std::uint8_t hostAddr = 0;
    FileState state = FileState::Initializing;
    std::uint8_t meAddr = 0;
    hbm::ClientProperties props;
    bool internal = false;  // the driver's own connection (bus fixup), not a user file

    std::deque<Bytes> rx;        // complete messages, the front one possibly partly read
    std::size_t rxOffset = 0;
    bool rxCredit = false;       // a FLOW_CONTROL is outstanding at the firmware
    std::deque<Bytes> tx;        // queued messages waiting for a firmware credit
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
    std::function<void(Bytes)> internalReceive;  // for internal files
  };

  int open(FileId& out) {
    if (state_ != DevState::Enabled) return ENODEV;
    auto address = allocateHostAddress();
    if (!address) return EMFILE;
    auto file = std::make_unique<File>(io_);
    file->id = nextFileId_++;
    file->hostAddr = *address;
    out = file->id;
    files_.emplace(file->id, std::move(file));
    return 0;
  }

  void close(FileId id, std::function<void()> done) {
    File* file = find(id);
    if (!file) return post(std::move(done));
    failWaiters(*file, EBADF);
    file->closeRequested = true;
    file->closeDone = std::move(done);
    if (file->state == FileState::Connected && state_ == DevState::Enabled && file->props.fixedAddress == 0) {
      startDisconnect(*file);
      return;  // freed when the firmware answers or the timer fires
    }
    if (file->op == ControlOp::None) freeFile(id);
  }

  void connect(FileId id, const hbm::Guid& guid, ConnectCallback done) {
    File* file = find(id);
    auto fail = [&](int err) { post([done = std::move(done), err] { done(err, {}); }); };
    if (!file || state_ != DevState::Enabled) return fail(ENODEV);
    if (file->state == FileState::Connecting || file->state == FileState::Connected ||
        file->state == FileState::Disconnecting || file->op != ControlOp::None)
      return fail(EBUSY);
    auto client = std::find_if(clients_.begin(), clients_.end(), [&](const MeClient& c) { return c.props.uuid == guid; });
    if (client == clients_.end()) return fail(ENOTTY);
    if (client->props.fixedAddress != 0) {
      // Fixed-address clients: one connection, no HBM connect (spec §1.2).
      if (negotiated_ < hbm::kMinHostVersion) return fail(ENOTTY);
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
    sendBus(hbm::encodeConnect(Command::ClientConnect, {file->meAddr, file->hostAddr}));
  }

  void connectVtag(FileId id, const hbm::Guid&, std::uint8_t, ConnectCallback done) {
    // mesim's firmware grants no vtag capability, so the driver refuses as the kernel does (spec §1.2).
    int err = find(id) && state_ == DevState::Enabled ? EOPNOTSUPP : ENODEV;
    post([done = std::move(done), err] { done(err, {}); });
  }

  void notifySet(FileId id, std::uint32_t enable, ErrCallback done) {
    File* file = find(id);
    auto finish = [&](int err) { post([done = std::move(done), err] { done(err); }); };
    if (enable > 1) return finish(EINVAL);
    if (!file || state_ != DevState::Enabled) return finish(ENODEV);
    if (negotiated_ < hbm::kMinHostVersion) return finish(EOPNOTSUPP);
    if (file->state != FileState::Connected) return finish(ENODEV);
    if (file->op != ControlOp::None) return finish(EBUSY);
    file->notifySetDone = std::move(done);
    file->notifySetValue = enable;
    beginControl(*file, ControlOp::NotifySet, options_.connectTimeout);
    sendBus(hbm::encode(hbm::NotifyReq{file->meAddr, file->hostAddr, enable == 1}));
  }

  Ticket notifyGet(FileId id, bool nonblocking, NotifyGetCallback done) {
    File* file = find(id);
    auto finish = [&](int err, std::uint32_t value) { post([done = std::move(done), err, value] { done(err, value); }); };
    if (!file || state_ != DevState::Enabled || file->state != FileState::Connected) {
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

  Ticket write(FileId id, Bytes message, bool nonblocking, WriteCallback done) {
    File* file = find(id);
    auto finish = [&](ssize_t result) { post([done = std::move(done), result] { done(result); }); };
    if (!file || state_ != DevState::Enabled) return finish(-ENODEV), 0;
    if (file->state != FileState::Connected) return finish(-ENODEV), 0;
    if (!clientStillPresent(*file)) return finish(-ENOTTY), 0;
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

  Ticket read(FileId id, std::size_t length, bool nonblocking, ReadCallback done) {
    File* file = find(id);
    auto finish = [&](int err) { post([done = std::move(done), err] { done(err, {}); }); };
    if (!file || state_ != DevState::Enabled) return finish(ENODEV), 0;
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

  void fsync(FileId id, ErrCallback done) {
    File* file = find(id);
    if (!file || state_ != DevState::Enabled || file->state != FileState::Connected)
      return post([done = std::move(done)] { done(ENODEV); });
    if (file->tx.empty() && file->writers.empty()) return post([done = std::move(done)] { done(0); });
    file->fsyncWaiters.push_back(std::move(done));
  }

  void cancel(Ticket ticket) {
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

  short poll(FileId id, short requested, std::function<void()> wake) {
    File* file = find(id);
    if (!file || state_ != DevState::Enabled || file->state != FileState::Connected) {
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

  // ---------------------------------------------------------------- sysfs
  std::string fwStatus() const {
    std::string out;
    char line[16];
    for (auto v : registers_.fwStatus) {
      std::snprintf(line, sizeof line, "%08X\n", v);
      out += line;
    }
    return out;
  }
  std::string fwVer() const {
    std::string out;
    char line[64];
    for (int i = 0; i < 3; ++i) {
      const FwVersionBlock& b = i < static_cast<int>(fwVersions_.size()) ? fwVersions_[i] : FwVersionBlock{};
      std::snprintf(line, sizeof line, "%u:%u.%u.%u.%u\n", b.platform, b.major, b.minor, b.hotfix, b.build);
      out += line;
    }
    return out;
  }
  std::string hbmVer() const { return std::to_string(negotiated_.major) + "." + std::to_string(negotiated_.minor) + "\n"; }
  std::string trc() const {
    char line[16];
    std::snprintf(line, sizeof line, "%08X\n", registers_.trc);
    return line;
  }
  int setTxQueueLimit(unsigned limit) {
    if (limit < 30 || limit > 255) return EINVAL;
    txQueueLimit_ = limit;
    return 0;
  }
  unsigned txQueueLimit() const { return txQueueLimit_; }

  Stats stats() const {
    Stats s;
    for (auto& [id, file] : files_) {
      if (file->internal) continue;
      ++s.openFiles;
      if (file->state == FileState::Connected) ++s.connectedFiles;
      s.pendingCalls += file->readers.size() + file->writers.size() + file->notifyWaiters.size();
    }
    s.resets = totalResets_;
    return s;
  }

  DevState state_ = DevState::Initializing;
  hbm::Version negotiated_{};
  std::vector<MeClient> clients_;
  std::vector<std::function<void(DevState)>> stateCallbacks_;

 private:
  struct FwVersionBlock {
    unsigned platform = 0, major = 0, minor = 0, hotfix = 0, build = 0;
  };

  template <typename F>
  void post(F&& f) {
    boost::asio::post(io_, std::forward<F>(f));
  }

  File* find(FileId id) {
    auto it = files_.find(id);
    return it == files_.end() ? nullptr : it->second.get();
  }
  File* findByHostAddr(std::uint8_t hostAddr) {
    for (auto& [id, file] : files_)
      if (file->hostAddr == hostAddr) return file.get();
    return nullptr;
  }
  std::optional<std::uint8_t> allocateHostAddress() {
    for (unsigned a = 1; a < 256; ++a) {
      if (!hostAddresses_[a]) {
        hostAddresses_[a] = true;
        return static_cast<std::uint8_t>(a);
      }
    }
    return std::nullopt;
  }
  Ticket registerTicket(FileId id) {
    Ticket t = nextTicket_++;
    tickets_[t] = id;
    return t;
  }
  bool clientStillPresent(const File& file) const {
    return std::any_of(clients_.begin(), clients_.end(),
                       [&](const MeClient& c) { return c.meAddr == file.meAddr && c.props.uuid == file.props.uuid; });
  }

  void freeFile(FileId id) {
    auto it = files_.find(id);
    if (it == files_.end()) return;
    auto file = std::move(it->second);
    files_.erase(it);
    hostAddresses_[file->hostAddr] = false;
    file->controlTimer.cancel();
    failWaiters(*file, EBADF);
    if (file->closeDone) post(std::move(file->closeDone));
  }

  void beginControl(File& file, ControlOp op, std::chrono::milliseconds timeout) {
    file.op = op;
    file.controlTimer.expires_after(timeout);
    file.controlTimer.async_wait([this, id = file.id, op](boost::system::error_code ec) {
      if (ec) return;
      File* f = find(id);
      if (!f || f->op != op) return;
      controlTimedOut(*f);
    });
  }

  void endControl(File& file) {
    file.op = ControlOp::None;
    file.controlTimer.cancel();
  }

  void controlTimedOut(File& file) {
    MESIM_LOG(Warn, "host", "firmware did not answer on host address " << int(file.hostAddr));
    ControlOp op = file.op;
    endControl(file);
    switch (op) {
      case ControlOp::Connect: {
        // HBM >= 2.0: disconnect on connect timeout rather than reset (spec §2.6).
        file.state = FileState::Disconnected;
        sendBus(hbm::encodeConnect(Command::ClientDisconnect, {file.meAddr, file.hostAddr}));
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

  void startDisconnect(File& file) {
    file.state = FileState::Disconnecting;
    beginControl(file, ControlOp::Disconnect, options_.connectTimeout);
    sendBus(hbm::encodeConnect(Command::ClientDisconnect, {file.meAddr, file.hostAddr}));
  }

  void setConnected(File& file) {
    file.state = FileState::Connected;
    file.rx.clear();
    file.rxOffset = 0;
    file.rxCredit = false;
    file.tx.clear();
    file.txCredits = file.props.fixedAddress ? 1 : 0;
    file.notifyEnabled = false;
    file.notifyPending = false;
  }

  // The firmware disconnected the client, or the device reset: every call now fails with ENODEV.
  void setDisconnected(File& file) {
    file.state = FileState::Disconnected;
    file.rx.clear();
    file.rxOffset = 0;
    file.rxCredit = false;
    file.tx.clear();
    file.notifyEnabled = false;
    file.notifyPending = false;
    failWaiters(file, ENODEV);
    wakeFile(file);
  }

  void failWaiters(File& file, int err) {
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

  void failAllFiles() {
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

  void wakeFile(File& file) {
    if (auto wake = std::move(file.wake)) {
      file.wake = nullptr;
      wake();
    }
  }

  void startRead(File& file) {
    if (file.rxCredit || file.state != FileState::Connected || file.props.fixedAddress) return;
    file.rxCredit = true;
    sendBus(hbm::encode(hbm::FlowControl{file.meAddr, file.hostAddr}));
  }

  int takeChunk(File& file, std::size_t length, Bytes& chunk) {
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

  void pumpTx(File& file) {
    while (file.txCredits > 0 && !file.tx.empty()) {
      --file.txCredits;
      Bytes message = std::move(file.tx.front());
      file.tx.pop_front();
      for (auto& frame : hbm::fragment(file.meAddr, file.hostAddr, message, options_.bufferSlots))
        link_->send(std::move(frame));
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

  void sendBus(Bytes message) {
    hbm::Frame frame;
    frame.header.length = static_cast<std::uint16_t>(message.size());
    frame.payload = std::move(message);
    link_->send(std::move(frame));
  }

  // ---------------------------------------------------------------- receive path
  void onFrame(hbm::Frame frame) {
    if (auto control = hbm::parseLinkControl(frame)) {
      if (*control == hbm::LinkControl::Ready) {
        if (stage_ != Stage::WaitReady) return;
        registers_ = hbm::parseReady(frame);
        setState(DevState::InitClients);
        sendBus(hbm::encode(hbm::HostStartReq{hbm::kMaxVersion}));
        expect(Stage::WaitStart);
      } else if (*control == hbm::LinkControl::Reset) {
        reset("firmware reset");
      }
      return;
    }
    if (frame.header.length != frame.payload.size() || frame.header.internal)
      return reset("malformed frame from firmware");
    if (frame.header.isBusMessage()) return onBusMessage(frame.payload);
    onClientData(frame);
  }

  void onBusMessage(const Bytes& m) {
    if (m.empty()) return reset("empty bus message");
    const std::uint8_t code = m[0];
    auto size = hbm::busMessageSize(code);
    if (!size || *size != m.size()) return reset(std::string("malformed ") + hbm::commandName(code));
    switch (code) {
      case 0x81: return onHostStartRes(*hbm::decodeHostStartRes(m));
      case 0x93:
        if (stage_ == Stage::WaitCaps) sendEnum();
        return;
      case 0x84: return onEnumRes(*hbm::decodeHostEnumRes(m));
      case 0x85: return onPropertiesRes(*hbm::decodePropertiesRes(m));
      case 0x86: return onConnectRes(*hbm::decodeConnectRes(m));
      case 0x87: return onDisconnectRes(*hbm::decodeConnectRes(m));
      case 0x07: return onFirmwareDisconnect(*hbm::decodeConnect(m));
      case 0x08: return onFlowControl(*hbm::decodeFlowControl(m));
      case 0x90: return onNotifyRes(*hbm::decodeNotifyRes(m));
      case 0x11: return onNotification(*hbm::decodeNotification(m));
      case 0x03:  // ME_STOP_REQ: answer with HOST_STOP; the stop response then resets the device
        sendBus(hbm::encodeStop(Command::HostStop, {0}));
        expect(Stage::WaitStop);
        return;
      case 0x82:
        if (stopping_) {
          stage_ = Stage::Idle;
          stageTimer_.cancel();
          return;
        }
        return reset("stop response");
      case 0x0b:  // PG isolation exit request
        return sendBus({0x8b, 0, 0, 0});
      case 0x8a: return;
      case 0x0f: {  // ADD_CLIENT: the driver accepts dynamic clients
        auto props = hbm::readProperties(m.data() + 4);
        clients_.push_back({m[1], props});
        return sendBus({0x8f, m[1], 0, 0});
      }
      default: return reset(std::string("unexpected ") + hbm::commandName(code) + " from firmware");
    }
  }

  void onHostStartRes(const hbm::HostStartRes& res) {
    if (stage_ != Stage::WaitStart) return reset("unexpected HOST_START response");
    if (res.hostVersionSupported) {
      negotiated_ = hbm::kMaxVersion;
    } else if (res.meMax <= hbm::kMaxVersion && res.meMax >= hbm::Version{1, 0}) {
      negotiated_ = res.meMax;
    } else {
      sendBus(hbm::encodeStop(Command::HostStop, {0}));
      return reset("firmware HBM version not supported");
    }
    if (negotiated_ >= hbm::Version{2, 2}) {
      sendBus(hbm::encodeCapabilities(false, {}));
      expect(Stage::WaitCaps);
    } else {
      sendEnum();
    }
  }

  void sendEnum() {
    std::uint8_t flags = negotiated_ >= hbm::kMinHostVersion ? 0x03 : 0x00;  // ALLOW_ADD | IMMEDIATE
    sendBus(hbm::encode(hbm::HostEnumReq{flags}));
    expect(Stage::WaitEnum);
  }

  void onEnumRes(const hbm::HostEnumRes& res) {
    if (stage_ != Stage::WaitEnum) return reset("unexpected HOST_ENUM response");
    pendingProps_.clear();
    for (unsigned a = 0; a < 256; ++a)
      if (res.validAddresses[a / 8] & (1u << (a % 8))) pendingProps_.push_back(static_cast<std::uint8_t>(a));
    requestNextProperties();
  }

  void requestNextProperties() {
    if (pendingProps_.empty()) return enable();
    sendBus(hbm::encode(hbm::PropertiesReq{pendingProps_.front()}));
    expect(Stage::WaitProps);
  }

  void onPropertiesRes(const hbm::PropertiesRes& res) {
    if (stage_ != Stage::WaitProps || pendingProps_.empty() || res.meAddr != pendingProps_.front())
      return reset("unexpected CLIENT_PROPERTIES response");
    pendingProps_.erase(pendingProps_.begin());
    if (res.status == hbm::Status::Success)
      clients_.push_back({res.meAddr, res.props});
    else if (res.status != hbm::Status::ClientNotFound)
      return reset("CLIENT_PROPERTIES failed");
    requestNextProperties();
  }

  void enable() {
    stage_ = Stage::Enabled;
    stageTimer_.cancel();
    consecutiveResets_ = 0;
    fixupRunning_ = true;  // before the state callbacks, which may ask whenFixupDone()
    setState(DevState::Enabled);
    runFirmwareVersionFixup();
  }

  void finishFixup() {
    fixupRunning_ = false;
    for (auto& done : std::exchange(fixupWaiters_, {})) done();
  }

  // The kernel's bus fixup: connect to the MKHI fix client, send the OS version (no reply) and
  // ask GET_FW_VERSION for sysfs fw_ver (spec §2.4 step 5, §5).
  void runFirmwareVersionFixup() {
    auto client = std::find_if(clients_.begin(), clients_.end(), [](const MeClient& c) { return c.props.uuid == kMkhiFixGuid; });
    if (client == clients_.end()) return finishFixup();
    FileId id;
    if (open(id) != 0) return finishFixup();
    File* file = find(id);
    file->internal = true;
    connect(id, kMkhiFixGuid, [this, id](int err, const hbm::ClientProperties&) {
      File* f = find(id);
      if (!f) return finishFixup();
      if (err) return close(id, [this] { finishFixup(); });
      // OS version: rule FeatureID 0x10, Linux (os_type 2)
      Bytes osVersion{0x03, 0x06, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x08, 0, 0, 0, 0, 2, 6, 1, 0};
      write(id, osVersion, true, [](ssize_t) {});
      write(id, Bytes{0xFF, 0x02, 0x00, 0x00}, true, [](ssize_t) {});
      auto timer = std::make_shared<boost::asio::steady_timer>(io_, kFixupTimeout);
      read(id, f->props.maxMsgLength, false, [this, id, timer](int readErr, Bytes data) {
        timer->cancel();
        if (!readErr) parseFirmwareVersion(data);
        close(id, [this] { finishFixup(); });
      });
      timer->async_wait([this, id](boost::system::error_code ec) {
        if (ec) return;
        if (File* g = find(id)) failWaiters(*g, ETIME);
      });
    });
  }

  void parseFirmwareVersion(const Bytes& data) {
    if (data.size() < 12 || data[0] != 0xFF || data[1] != 0x82 || data[3] != 0) return;
    fwVersions_.clear();
    for (std::size_t off = 4; off + 8 <= data.size() && fwVersions_.size() < 3; off += 8) {
      FwVersionBlock b;
      b.minor = data[off] | data[off + 1] << 8;
      b.major = data[off + 2];
      b.platform = data[off + 3];
      b.build = data[off + 4] | data[off + 5] << 8;
      b.hotfix = data[off + 6] | data[off + 7] << 8;
      fwVersions_.push_back(b);
    }
  }

  void onConnectRes(const hbm::ConnectRes& res) {
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
      if (err == ENOTTY) std::erase_if(clients_, [&](const MeClient& c) { return c.meAddr == res.meAddr; });
    }
    if (done) post([done = std::move(done), err, props = file->props] { done(err, err ? hbm::ClientProperties{} : props); });
    if (file->closeRequested) {
      if (err == 0) return startDisconnect(*file);
      freeFile(file->id);
    }
  }

  void onDisconnectRes(const hbm::ConnectRes& res) {
    File* file = findByHostAddr(res.hostAddr);
    if (!file || file->op != ControlOp::Disconnect) return;
    endControl(*file);
    setDisconnected(*file);
    if (file->closeRequested) freeFile(file->id);
  }

  void onFirmwareDisconnect(const hbm::ConnectReq& req) {
    sendBus(hbm::encodeConnectRes(Command::ClientDisconnect, {req.meAddr, req.hostAddr, 0}));
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

  void onFlowControl(const hbm::FlowControl& fc) {
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

  void onNotifyRes(const hbm::NotifyRes& res) {
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

  void onNotification(const hbm::Notification& n) {
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

  void onClientData(const hbm::Frame& frame) {
    Bytes message;
    switch (reassembler_.add(frame, message)) {
      case hbm::Reassembler::Result::Incomplete: return;
      case hbm::Reassembler::Result::TooLong: return reset("oversized message from firmware");
      case hbm::Reassembler::Result::Complete: break;
    }
    File* file = findByHostAddr(frame.header.hostAddr);
    if (!file || file->state != FileState::Connected || file->meAddr != frame.header.meAddr) return;
    if (!file->rxCredit && !file->props.fixedAddress) {
      MESIM_LOG(Warn, "host", "firmware sent without a credit on host address " << int(file->hostAddr) << "; dropped");
      return;
    }
    file->rxCredit = false;
    file->rx.push_back(std::move(message));
    deliverToReaders(*file);
    wakeFile(*file);
  }

  void deliverToReaders(File& file) {
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

  boost::asio::io_context& io_;
  std::shared_ptr<link::Endpoint> link_;
  HostOptions options_;
  boost::asio::steady_timer stageTimer_;
  Stage stage_ = Stage::Idle;
  bool stopping_ = false;
  unsigned consecutiveResets_ = 0;
  unsigned totalResets_ = 0;
  unsigned txQueueLimit_ = 50;
  std::vector<std::uint8_t> pendingProps_;
  hbm::Reassembler reassembler_;
  hbm::ReadyInfo registers_;
  std::vector<FwVersionBlock> fwVersions_;
  bool fixupRunning_ = false;
  std::vector<std::function<void()>> fixupWaiters_;
  std::map<FileId, std::unique_ptr<File>> files_;
  std::bitset<256> hostAddresses_{1};  // address 0 is the bus
  FileId nextFileId_ = 1;
  Ticket nextTicket_ = 1;
  std::map<Ticket, FileId> tickets_;
};

MeiHost::MeiHost(boost::asio::io_context& io, std::shared_ptr<link::Endpoint> link, HostOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(link), options)) {
  impl_->setTxQueueLimit(options.txQueueLimit);
}
MeiHost::~MeiHost() = default;

void MeiHost::start() { impl_->start(); }
void MeiHost::reset(const std::string& reason) { impl_->reset(reason); }
void MeiHost::stop() { impl_->stop(); }
DevState MeiHost::state() const { return impl_->state_; }
void MeiHost::onStateChange(std::function<void(DevState)> callback) {
  impl_->stateCallbacks_.push_back(std::move(callback));
}
void MeiHost::whenFixupDone(std::function<void()> done) { impl_->whenFixupDone(std::move(done)); }
hbm::Version MeiHost::negotiatedVersion() const { return impl_->negotiated_; }
std::vector<MeClient> MeiHost::clients() const { return impl_->clients_; }
int MeiHost::open(FileId& out) { return impl_->open(out); }
void MeiHost::close(FileId file, std::function<void()> done) { impl_->close(file, std::move(done)); }
void MeiHost::connect(FileId file, const hbm::Guid& guid, ConnectCallback done) {
  impl_->connect(file, guid, std::move(done));
}
void MeiHost::connectVtag(FileId file, const hbm::Guid& guid, std::uint8_t vtag, ConnectCallback done) {
  impl_->connectVtag(file, guid, vtag, std::move(done));
}
void MeiHost::notifySet(FileId file, std::uint32_t enable, ErrCallback done) {
  impl_->notifySet(file, enable, std::move(done));
}
Ticket MeiHost::notifyGet(FileId file, bool nonblocking, NotifyGetCallback done) {
  return impl_->notifyGet(file, nonblocking, std::move(done));
}
Ticket MeiHost::write(FileId file, hbm::Bytes message, bool nonblocking, WriteCallback done) {
  return impl_->write(file, std::move(message), nonblocking, std::move(done));
}
Ticket MeiHost::read(FileId file, std::size_t length, bool nonblocking, ReadCallback done) {
  return impl_->read(file, length, nonblocking, std::move(done));
}
void MeiHost::fsync(FileId file, ErrCallback done) { impl_->fsync(file, std::move(done)); }
void MeiHost::cancel(Ticket ticket) { impl_->cancel(ticket); }
short MeiHost::poll(FileId file, short requested, std::function<void()> wake) {
  return impl_->poll(file, requested, std::move(wake));
}
std::string MeiHost::sysfsFwStatus() const { return impl_->fwStatus(); }
std::string MeiHost::sysfsFwVer() const { return impl_->fwVer(); }
std::string MeiHost::sysfsHbmVer() const { return impl_->hbmVer(); }
std::string MeiHost::sysfsHbmVerDrv() const { return "2.2\n"; }
std::string MeiHost::sysfsDevState() const { return devStateName(impl_->state_); }
std::string MeiHost::sysfsTrc() const { return impl_->trc(); }
std::string MeiHost::sysfsKind() const { return "mei\n"; }
std::string MeiHost::sysfsTxQueueLimit() const { return std::to_string(impl_->txQueueLimit()) + "\n"; }
int MeiHost::setTxQueueLimit(unsigned limit) { return impl_->setTxQueueLimit(limit); }
MeiHost::Stats MeiHost::stats() const { return impl_->stats(); }

}  // namespace mesim::host
