// An LMS-like APF host for tests and benchmarks (spec/apf.md §2, as LMS's Protocol.cpp behaves): it connects
// to the LME client over a blocking MEI transport (the FUSE dev/mei0 of a real daemon, or MeiFile on an
// InProcessMachine), answers the ME's handshake, opens a local TCP listener for each tcpip-forward and
// forwards every accepted TCP client as a forwarded-tcpip channel: initial window 1024 by default, reads of at
// most min(window, max_msg_length - 9), WINDOW_ADJUST after each socket write, CHANNEL_DATA over 4095 bytes
// dropped, CHANNEL_CLOSE both ways. ME-opened direct-tcpip channels to port 0 are parsed as LMS events.
// Threads: one reading MEI, one per listener, one per TCP client; MEI writes are serialized.
#pragma once

#include <fcntl.h>
#include <linux/mei.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "firmware/lme/apf_codec.h"

namespace mesim::test {

namespace apf = lme::apf;

// One MEI connection to the LME client, used from several threads: read() by one, write() serialized by the host.
class MeiTransport {
 public:
  virtual ~MeiTransport() = default;
  // 0 or an errno; `maxMsgLength` from the connect.
  virtual int connect(std::uint32_t& maxMsgLength) = 0;
  // A message (bytes > 0), 0 on timeout, or -errno.
  virtual ssize_t read(std::uint8_t* buffer, std::size_t size, std::chrono::milliseconds timeout) = 0;
  virtual ssize_t write(const std::uint8_t* data, std::size_t size) = 0;
  virtual void close() = 0;
};

// dev/mei0 with plain syscalls, as metee does (spec/apf.md §2.1).
class FdMeiTransport : public MeiTransport {
 public:
  explicit FdMeiTransport(std::string path) : path_(std::move(path)) {}
  ~FdMeiTransport() override { close(); }
  int connect(std::uint32_t& maxMsgLength) override {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return errno;
    // LME GUID 6733A4DB-0476-4E7B-B3AF-BCFC29BEE7A7 in uuid_le order.
    std::uint8_t data[16] = {0xDB, 0xA4, 0x33, 0x67, 0x76, 0x04, 0x7B, 0x4E,
                             0xB3, 0xAF, 0xBC, 0xFC, 0x29, 0xBE, 0xE7, 0xA7};
    if (::ioctl(fd_, IOCTL_MEI_CONNECT_CLIENT, data) != 0) {
      int err = errno;
      close();
      return err;
    }
    std::memcpy(&maxMsgLength, data, 4);
    return 0;
  }
  ssize_t read(std::uint8_t* buffer, std::size_t size, std::chrono::milliseconds timeout) override {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r == 0) return 0;
    if (r < 0) return -errno;
    ssize_t n = ::read(fd_, buffer, size);
    return n < 0 ? -errno : (n == 0 ? -ENODEV : n);
  }
  ssize_t write(const std::uint8_t* data, std::size_t size) override {
    ssize_t n = ::write(fd_, data, size);
    return n < 0 ? -errno : n;
  }
  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

struct LmsHostOptions {
  std::uint32_t window = 1024;      // RX_WINDOW_SIZE of LMS
  bool adjustAfterWrite = true;     // false: a stalled host that never grants window
  std::chrono::milliseconds pollInterval{50};
};

struct LmsEvent {
  std::string messageId;
  std::string arguments;
  std::string message;
};

class LmsHost {
 public:
  using TransportFactory = std::function<std::unique_ptr<MeiTransport>()>;

  LmsHost(TransportFactory transports, LmsHostOptions options = {})
      : transports_(std::move(transports)), options_(options) {}
  ~LmsHost() { stop(); }
  LmsHost(const LmsHost&) = delete;
  LmsHost& operator=(const LmsHost&) = delete;

  // Connects and starts the RX thread; 0 or an errno.
  int start() {
    stop();
    transport_ = transports_();
    int err = transport_->connect(maxMsgLength_);
    if (err) return err;
    stopping_ = false;
    {
      std::lock_guard lock(mutex_);
      versionSent_ = false;
      deinitialized_ = false;
      disconnectReason_.reset();
    }
    rx_ = std::thread([this] { rxLoop(); });
    return 0;
  }

  // Tears everything down like LMS's de-init: sockets, listeners, MEI.
  void stop() {
    stopping_ = true;
    {
      std::lock_guard lock(mutex_);
      for (auto& [port, l] : listeners_) ::shutdown(l.fd, SHUT_RDWR);
      for (auto& [id, c] : channels_) ::shutdown(c->fd, SHUT_RDWR);
      cv_.notify_all();
    }
    if (rx_.joinable()) rx_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      for (auto& [port, l] : listeners_) threads.push_back(std::move(l.thread));
      for (auto& [id, c] : channels_) threads.push_back(std::move(c->thread));
      for (auto& t : finished_) threads.push_back(std::move(t));
      finished_.clear();
    }
    for (auto& t : threads)
      if (t.joinable()) t.join();
    std::lock_guard lock(mutex_);
    for (auto& [port, l] : listeners_) ::close(l.fd);
    listeners_.clear();
    channels_.clear();
    if (transport_) transport_->close();
    transport_.reset();
  }

  // Waits until the local port for AMT `port` is listening; 0 on timeout.
  std::uint16_t localPort(std::uint32_t amtPort, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return listeners_.count(amtPort) > 0 || deinitialized_; });
    auto it = listeners_.find(amtPort);
    return it == listeners_.end() ? 0 : it->second.localPort;
  }

  // Raw bytes to the ME as one MEI message (malformed-input tests).
  ssize_t sendRaw(const hbm::Bytes& message) { return writeMei(message); }
  ssize_t send(const apf::Message& message) { return writeMei(apf::encode(message)); }

  bool waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return predicate(); });
  }

  // Observations (read under waitFor's lock or after stop()).
  std::optional<std::uint32_t> disconnectReason() const { return disconnectReason_; }
  bool deinitialized() const { return deinitialized_; }
  std::size_t openChannels() const { return channels_.size(); }
  const std::vector<LmsEvent>& events() const { return events_; }
  std::uint64_t windowViolations() const { return windowViolations_; }
  std::uint64_t oversizedData() const { return oversizedData_; }
  std::uint64_t openFailures() const { return openFailures_; }
  std::uint64_t bytesFromMe() const { return bytesFromMe_; }
  std::uint32_t maxMsgLength() const { return maxMsgLength_; }
  std::vector<std::uint32_t> forwardedPorts() const {
    std::vector<std::uint32_t> ports;
    for (auto& [port, l] : listeners_) ports.push_back(port);
    return ports;
  }
  std::mutex& mutex() { return mutex_; }
  // Grants window by hand (with adjustAfterWrite=false): to every channel that holds unadjusted bytes.
  void releaseWindow() {
    std::lock_guard lock(mutex_);
    for (auto& [id, c] : channels_) {
      if (c->unadjusted && c->state == ChannelState::Open) {
        writeMeiLocked(apf::encode(apf::ChannelWindowAdjust{c->meId, c->unadjusted}));
        c->rxOutstanding -= c->unadjusted;
        c->unadjusted = 0;
      }
    }
  }

 private:
  enum class ChannelState { Opening, Open, WaitingClose };
  // The socket lives as long as the channel: its fd number is the host's channel id, so it must not be
  // reused while either side may still name it (a thread or the ME's late CHANNEL_CLOSE).
  struct Channel {
    ~Channel() {
      if (fd >= 0) ::close(fd);
    }
    int fd = -1;
    std::uint32_t hostId = 0;
    std::uint32_t meId = 0;
    std::uint32_t txWindow = 0;
    std::uint32_t rxOutstanding = 0;  // bytes received, not yet adjusted
    std::uint32_t unadjusted = 0;
    ChannelState state = ChannelState::Opening;
    bool closed = false;  // both sides closed
    bool event = false;  // ME-opened port-0 channel, no client thread
    std::string eventBuffer;
    std::thread thread;
  };
  struct Listener {
    int fd = -1;
    std::uint16_t localPort = 0;
    std::thread thread;
  };

  ssize_t writeMei(const hbm::Bytes& message) {
    std::lock_guard lock(mutex_);
    return writeMeiLocked(message);
  }
  ssize_t writeMeiLocked(const hbm::Bytes& message) {
    if (!transport_) return -ENODEV;
    return transport_->write(message.data(), message.size());
  }

  void rxLoop() {
    std::vector<std::uint8_t> buffer(maxMsgLength_ ? maxMsgLength_ : 4096);
    while (!stopping_) {
      ssize_t n = transport_->read(buffer.data(), buffer.size(), options_.pollInterval);
      if (n == 0) continue;
      if (n < 0) {
        deinit();
        return;
      }
      if (!handle(hbm::ByteView(buffer.data(), static_cast<std::size_t>(n)))) {
        deinit();
        return;
      }
    }
  }

  // LMS's de-init after DISCONNECT or an error: sockets and listeners closed (the MEI link by stop()).
  void deinit() {
    std::lock_guard lock(mutex_);
    deinitialized_ = true;
    for (auto& [port, l] : listeners_) ::shutdown(l.fd, SHUT_RDWR);
    for (auto& [id, c] : channels_) ::shutdown(c->fd, SHUT_RDWR);
    cv_.notify_all();
  }

  bool handle(hbm::ByteView raw) {
    apf::Decoded d = apf::decode(raw);
    if (d.error == apf::DecodeError::UnknownType) return true;  // LMS drops unknown types
    if (!d.message) {
      writeMei(apf::encode(apf::Disconnect{2}));
      return false;
    }
    std::unique_lock lock(mutex_);
    bool keep = std::visit([&](auto& m) { return on(m); }, *d.message);
    cv_.notify_all();
    return keep;
  }

  bool on(const apf::ProtocolVersion& m) {
    if (m.major < 1) {
      writeMeiLocked(apf::encode(apf::Disconnect{8}));
      return false;
    }
    if (!versionSent_) {
      versionSent_ = true;
      writeMeiLocked(apf::encode(apf::ProtocolVersion{1, 0, 254, {}}));
    }
    return true;
  }
  bool on(const apf::ServiceRequest& m) {
    if (m.service != apf::kServicePfwd && m.service != apf::kServiceAuth) {
      writeMeiLocked(apf::encode(apf::Disconnect{7}));
      return false;
    }
    writeMeiLocked(apf::encode(apf::ServiceAccept{m.service}));
    return true;
  }
  bool on(const apf::UserauthRequest&) {
    writeMeiLocked(apf::encode(apf::UserauthSuccess{}));
    return true;
  }
  bool on(const apf::GlobalRequest& m) {
    if (m.name == apf::kTcpipForward) {
      auto& f = std::get<apf::TcpipForward>(m.data);
      if (listeners_.count(f.port)) {
        writeMeiLocked(apf::encode(apf::RequestFailure{}));
        return true;
      }
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof addr;
      if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
          ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        writeMeiLocked(apf::encode(apf::RequestFailure{}));
        writeMeiLocked(apf::encode(apf::Disconnect{2}));
        return false;
      }
      Listener& l = listeners_[f.port];
      l.fd = fd;
      l.localPort = ntohs(addr.sin_port);
      l.thread = std::thread([this, fd, port = f.port] { acceptLoop(fd, port); });
      writeMeiLocked(apf::encode(apf::RequestSuccess{f.port}));
    } else if (m.name == apf::kCancelTcpipForward) {
      auto& f = std::get<apf::TcpipForward>(m.data);
      auto it = listeners_.find(f.port);
      if (it == listeners_.end()) {
        writeMeiLocked(apf::encode(apf::RequestFailure{}));
        return true;
      }
      ::shutdown(it->second.fd, SHUT_RDWR);
      finished_.push_back(std::move(it->second.thread));
      ::close(it->second.fd);
      listeners_.erase(it);
      writeMeiLocked(apf::encode(apf::RequestSuccess{}));
    } else if (m.name == apf::kUdpSendTo) {
      ++udpDatagrams_;  // sent as UDP by LMS, no reply
    }
    return true;  // unknown requests: no reply
  }
  bool on(const apf::ChannelOpenConfirmation& m) {
    auto it = channels_.find(m.recipientChannel);
    if (it == channels_.end() || it->second->state != ChannelState::Opening) return true;
    it->second->meId = m.senderChannel;
    it->second->txWindow = m.initialWindow;
    it->second->state = ChannelState::Open;
    return true;
  }
  bool on(const apf::ChannelOpenFailure& m) {
    auto it = channels_.find(m.recipientChannel);
    if (it == channels_.end()) return true;
    ++openFailures_;
    lastOpenFailure_ = m.reason;
    ::shutdown(it->second->fd, SHUT_RDWR);
    it->second->state = ChannelState::WaitingClose;
    closeChannelLocked(it);
    return true;
  }
  bool on(const apf::ChannelWindowAdjust& m) {
    auto c = findOpen(m.recipientChannel);
    if (c) c->txWindow += m.bytesToAdd;
    return true;
  }
  bool on(apf::ChannelData& m) {
    auto c = findOpen(m.recipientChannel);
    if (!c) return true;
    if (m.data.size() > apf::kLmsMaxDataPayload) {
      ++oversizedData_;  // LMS drops it silently, with no adjust
      return true;
    }
    c->rxOutstanding += static_cast<std::uint32_t>(m.data.size());
    if (c->rxOutstanding > options_.window) ++windowViolations_;
    bytesFromMe_ += m.data.size();
    if (c->event) {
      c->eventBuffer.append(m.data.begin(), m.data.end());
      parseEvent(*c);
    } else if (!sendAll(c->fd, m.data)) {
      return true;  // the client went away; its thread sends the close
    }
    if (options_.adjustAfterWrite) {
      writeMeiLocked(apf::encode(apf::ChannelWindowAdjust{c->meId, static_cast<std::uint32_t>(m.data.size())}));
      c->rxOutstanding -= static_cast<std::uint32_t>(m.data.size());
    } else {
      c->unadjusted += static_cast<std::uint32_t>(m.data.size());
    }
    return true;
  }
  bool on(const apf::ChannelClose& m) {
    auto it = channels_.find(m.recipientChannel);
    if (it == channels_.end() || it->second->state == ChannelState::Opening) return true;  // unknown: ignored
    if (it->second->state == ChannelState::Open) writeMeiLocked(apf::encode(apf::ChannelClose{it->second->meId}));
    it->second->state = ChannelState::WaitingClose;
    closeChannelLocked(it);
    return true;
  }
  bool on(const apf::ChannelOpen& m) {
    if (m.channelType != apf::kDirectTcpip) return true;  // ignored without a reply
    if (m.connectedPort != 0) {
      writeMeiLocked(apf::encode(apf::ChannelOpenFailure{m.senderChannel, 2}));
      return true;
    }
    auto c = std::make_shared<Channel>();
    c->fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);  // a stand-in fd number, as LMS uses its socket's
    c->hostId = static_cast<std::uint32_t>(c->fd);
    c->meId = m.senderChannel;
    c->txWindow = m.initialWindow;
    c->state = ChannelState::Open;
    c->event = true;
    channels_[c->hostId] = c;
    writeMeiLocked(apf::encode(apf::ChannelOpenConfirmation{m.senderChannel, c->hostId, options_.window, 0xFFFFFFFF}));
    return true;
  }
  bool on(const apf::Disconnect& m) {
    disconnectReason_ = m.reason;
    return false;
  }
  template <class T>
  bool on(const T&) {
    return true;
  }

  void parseEvent(Channel& c) {
    auto headerEnd = c.eventBuffer.find("\r\n\r\n");
    if (headerEnd == std::string::npos) return;
    auto lengthAt = c.eventBuffer.find("Content-Length: ");
    if (lengthAt == std::string::npos || lengthAt > headerEnd) return;
    std::size_t length = std::stoul(c.eventBuffer.substr(lengthAt + 16));
    if (c.eventBuffer.size() < headerEnd + 4 + length) return;
    auto field = [&](const std::string& tag) {
      auto open = "<g:" + tag + ">", close = "</g:" + tag + ">";
      auto a = c.eventBuffer.find(open);
      if (a == std::string::npos) return std::string();
      a += open.size();
      return c.eventBuffer.substr(a, c.eventBuffer.find(close, a) - a);
    };
    events_.push_back({field("MessageID"), field("MessageArguments"), field("Message")});
    // LMS never answers; it closes once the event is parsed (spec/apf.md §2.7).
    writeMeiLocked(apf::encode(apf::ChannelClose{c.meId}));
    c.state = ChannelState::WaitingClose;
  }

  static bool sendAll(int fd, const hbm::Bytes& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Messages from the ME name the host's own channel id as their recipient.
  std::shared_ptr<Channel> findOpen(std::uint32_t hostId) {
    auto it = channels_.find(hostId);
    return it == channels_.end() || it->second->state == ChannelState::Opening ? nullptr : it->second;
  }

  // Frees a channel once both sides closed; its client thread is joined later and the fd closes with the
  // last reference.
  void closeChannelLocked(std::map<std::uint32_t, std::shared_ptr<Channel>>::iterator it) {
    auto c = it->second;
    c->closed = true;
    ::shutdown(c->fd, SHUT_RDWR);
    if (c->thread.joinable()) finished_.push_back(std::move(c->thread));
    channels_.erase(it);
  }

  void acceptLoop(int listenFd, std::uint32_t amtPort) {
    while (!stopping_) {
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      int fd = ::accept4(listenFd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) continue;
        return;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard lock(mutex_);
      if (deinitialized_ || stopping_) {
        ::close(fd);
        return;
      }
      auto c = std::make_shared<Channel>();
      c->fd = fd;
      c->hostId = static_cast<std::uint32_t>(fd);  // LMS uses the socket's fd number (§2.4)
      channels_[c->hostId] = c;
      writeMeiLocked(apf::encode(apf::ChannelOpen{std::string(apf::kForwardedTcpip), c->hostId, options_.window,
                                                  0xFFFFFFFF, "127.0.0.1", amtPort, "127.0.0.1", ntohs(peer.sin_port)}));
      c->thread = std::thread([this, c] { clientLoop(c); });
    }
  }

  // Socket -> ME: only while the ME's window is open, at most min(window, max_msg_length - 9) a message.
  void clientLoop(std::shared_ptr<Channel> c) {
    std::vector<std::uint8_t> buffer(maxMsgLength_ - apf::kChannelDataHeaderSize);
    while (!stopping_) {
      std::size_t want;
      {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, options_.pollInterval, [&] {
          return stopping_ || c->closed || c->state == ChannelState::WaitingClose ||
                 (c->state == ChannelState::Open && c->txWindow > 0);
        });
        if (stopping_ || c->closed || c->state == ChannelState::WaitingClose) return;
        if (c->state != ChannelState::Open || c->txWindow == 0) continue;
        want = std::min<std::size_t>(c->txWindow, buffer.size());
      }
      pollfd p{c->fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(options_.pollInterval.count())) == 0) continue;
      ssize_t n = ::recv(c->fd, buffer.data(), want, 0);
      std::lock_guard lock(mutex_);
      if (c->closed || c->state != ChannelState::Open) return;
      if (n <= 0) {
        // Client EOF: CHANNEL_CLOSE, then WAITING_CLOSE until the ME's close arrives (§2.6).
        writeMeiLocked(apf::encode(apf::ChannelClose{c->meId}));
        c->state = ChannelState::WaitingClose;
        return;
      }
      c->txWindow -= static_cast<std::uint32_t>(n);
      writeMeiLocked(apf::encodeChannelData(c->meId, hbm::ByteView(buffer.data(), static_cast<std::size_t>(n))));
    }
  }

  TransportFactory transports_;
  LmsHostOptions options_;
  std::unique_ptr<MeiTransport> transport_;
  std::uint32_t maxMsgLength_ = 0;
  std::thread rx_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool versionSent_ = false;
  bool deinitialized_ = false;
  std::optional<std::uint32_t> disconnectReason_;
  std::map<std::uint32_t, Listener> listeners_;                    // by AMT port
  std::map<std::uint32_t, std::shared_ptr<Channel>> channels_;     // by host id
  std::vector<std::thread> finished_;
  std::vector<LmsEvent> events_;
  std::uint64_t windowViolations_ = 0;
  std::uint64_t oversizedData_ = 0;
  std::uint64_t openFailures_ = 0;
  std::uint32_t lastOpenFailure_ = 0;
  std::uint64_t bytesFromMe_ = 0;
  std::uint64_t udpDatagrams_ = 0;
};

}  // namespace mesim::test
