#include "hostif/preload/preload_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/log.h"
#include "hostif/preload/preload_protocol.h"

namespace mesim::preload {
namespace {

using Protocol = boost::asio::generic::seq_packet_protocol;
using Socket = Protocol::socket;

constexpr short kAlwaysReported = POLLERR | POLLHUP | POLLNVAL;  // poll(2) reports these unasked
constexpr std::size_t kMaxArms = 16;                             // waiting poll() calls per file
// What one session may make the daemon hold. A program has one waiting call per thread blocked on the fd, as with
// the kernel; a client writing packets itself could otherwise pile up blocked WRITEs (each holding its message) or
// never take its replies.
constexpr std::size_t kMaxWaitingCalls = 256;  // more are answered -ENOMEM
constexpr std::size_t kMaxQueuedReplies = 64;  // then the session's requests are not read until the program reads

bool makeAddress(const std::filesystem::path& path, sockaddr_un& addr, socklen_t& length) {
  const std::string& text = path.native();
  if (text.empty() || text.size() >= sizeof(addr.sun_path)) return false;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, text.data(), text.size());
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size() + 1);
  return true;
}

// A socket file left by a daemon that died: nobody accepts on it any more.
bool isStaleSocket(const sockaddr_un& addr, socklen_t length) {
  int probe = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (probe < 0) return false;
  int rc = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), length);
  int err = errno;
  ::close(probe);
  return rc != 0 && (err == ECONNREFUSED || err == ENOENT);
}

std::string_view opName(std::uint16_t op) {
  switch (static_cast<Op>(op)) {
    case Op::Open:
      return "OPEN";
    case Op::Close:
      return "CLOSE";
    case Op::Connect:
      return "CONNECT";
    case Op::ConnectVtag:
      return "CONNECT_VTAG";
    case Op::NotifySet:
      return "NOTIFY_SET";
    case Op::NotifyGet:
      return "NOTIFY_GET";
    case Op::Write:
      return "WRITE";
    case Op::Read:
      return "READ";
    case Op::Fsync:
      return "FSYNC";
    case Op::Cancel:
      return "CANCEL";
    case Op::PollArm:
      return "POLL_ARM";
    case Op::PollEvent:
      return "POLL_EVENT";
  }
  return "?";
}

}  // namespace

// One accepted connection = one open file on the host model.
class PreloadServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(PreloadServer& server, Socket socket, std::uint64_t id)
      : server_(&server),
        host_(server.host_),
        io_(server.io_),
        socket_(std::move(socket)),
        id_(id),
        rx_(kMaxPacket + 1) {}

  void start() { receive(); }
  void shutdown() { end("daemon stopping"); }
  const log::Context& logContext() const { return host_.logContext(); }
  void detach() { server_ = nullptr; }

 private:
  enum class State { AwaitOpen, Open, Closing, Closed };

  // ---- socket ----
  void receive() {
    socket_.async_receive(
        boost::asio::buffer(rx_), rxFlags_,
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) { self->onReceive(ec, n); });
  }

  void onReceive(const boost::system::error_code& ec, std::size_t n) {
    if (ended_) return;
    if (ec || n == 0) {
      end(ec ? ec.message() : "peer closed");
      return;
    }
    if (n < sizeof(PacketHeader) || n > kMaxPacket || (rxFlags_ & MSG_TRUNC)) {
      malformed("bad packet size " + std::to_string(n));
      return;
    }
    PacketHeader header;
    std::memcpy(&header, rx_.data(), sizeof header);
    hbm::ByteView payload(rx_.data() + sizeof header, n - sizeof header);
    if (std::string problem = handle(header, payload); !problem.empty()) {
      malformed(std::string(opName(header.op)) + " seq " + std::to_string(header.seq) + ": " + problem);
      return;
    }
    if (ended_) return;
    // Back-pressure: a program that does not take its replies is not read either (flush() resumes).
    if (tx_.size() >= kMaxQueuedReplies) {
      receivePaused_ = true;
      return;
    }
    receive();
  }

  void resumeReceiving() {
    if (!receivePaused_ || ended_) return;
    receivePaused_ = false;
    receive();
  }

  void sendPacket(Op op, std::uint32_t seq, std::int32_t result, std::uint32_t arg, hbm::ByteView payload) {
    if (!socket_.is_open()) return;
    PacketHeader header;
    header.op = static_cast<std::uint16_t>(op);
    header.seq = seq;
    header.result = result;
    header.arg = arg;
    hbm::Bytes packet(sizeof header + payload.size());
    std::memcpy(packet.data(), &header, sizeof header);
    if (!payload.empty()) std::memcpy(packet.data() + sizeof header, payload.data(), payload.size());
    tx_.push_back(std::move(packet));
    if (tx_.size() == 1) flush();
  }

  void flush() {
    socket_.async_send(boost::asio::buffer(tx_.front()), 0,
                       [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                         if (ec) {
                           self->tx_.clear();  // the receive side sees the peer go and ends the session
                           self->resumeReceiving();
                           return;
                         }
                         self->tx_.pop_front();
                         if (self->tx_.size() <= kMaxQueuedReplies / 2) self->resumeReceiving();
                         if (!self->tx_.empty()) {
                           self->flush();
                         } else if (self->closeAfterFlush_) {
                           self->end("closed by the program");
                         }
                       });
  }

  void closeSocket() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  void malformed(const std::string& what) {
    MESIM_LOG(Warn, "preload", "session " << id_ << ": malformed request (" << what << "), closing it");
    end("malformed request");
  }

  // The program closed the fd, died, sent garbage, or the daemon stops: release the host file.
  void end(std::string_view why) {
    if (ended_) return;
    ended_ = true;
    MESIM_LOG(Debug, "preload", "session " << id_ << " ends: " << why);
    closeSocket();
    arms_.clear();
    if (state_ == State::Open) {
      state_ = State::Closing;
      host_.close(file_, [self = shared_from_this()] {
        self->state_ = State::Closed;
        self->pending_.clear();
        self->maybeFinish();
      });
    }
    maybeFinish();
  }

  void maybeFinish() {
    if (finished_ || socket_.is_open() || state_ == State::Open || state_ == State::Closing) return;
    finished_ = true;
    if (server_) server_->forget(shared_from_this());
  }

  // ---- requests ----
  // "" when handled; otherwise why the packet is malformed.
  std::string handle(const PacketHeader& h, hbm::ByteView payload) {
    if (h.flags & ~kNonBlocking) return "unknown flags";
    const bool nonblocking = (h.flags & kNonBlocking) != 0;
    const Op op = static_cast<Op>(h.op);

    if (state_ == State::AwaitOpen) {
      if (op != Op::Open) return "first request must be OPEN";
      if (!payload.empty()) return "unexpected payload";
      return handleOpen(h);
    }
    if (op == Op::Open || op == Op::PollEvent) return "not allowed now";
    if (op == Op::Cancel) {
      if (!payload.empty()) return "unexpected payload";
      handleCancel(h.arg);
      return {};
    }
    if (pending_.contains(h.seq)) return "sequence number in use";

    switch (op) {
      case Op::Connect:
        if (payload.size() != sizeof(hbm::Guid::bytes)) return "GUID must be 16 bytes";
        break;
      case Op::ConnectVtag:
        if (payload.size() != sizeof(mei_connect_client_vtag)) return "payload must be 20 bytes";
        break;
      case Op::Write:
        break;
      case Op::Close:
      case Op::NotifySet:
      case Op::NotifyGet:
      case Op::Read:
      case Op::Fsync:
      case Op::PollArm:
        if (!payload.empty()) return "unexpected payload";
        break;
      default:
        return "unknown op";
    }
    if (state_ != State::Open) {  // a racing thread of the program after CLOSE
      sendPacket(op, h.seq, op == Op::PollArm ? (POLLERR | POLLHUP) : -ENODEV, 0, {});
      return {};
    }
    if (op != Op::PollArm && op != Op::Close && pending_.size() >= kMaxWaitingCalls) {
      if (!warnedWaiting_)
        MESIM_LOG(Warn, "preload", "session " << id_ << ": " << kMaxWaitingCalls
                                              << " calls already wait; refusing more with ENOMEM");
      warnedWaiting_ = true;
      sendPacket(op, h.seq, -ENOMEM, 0, {});
      return {};
    }

    switch (op) {
      case Op::Close:
        handleClose(h);
        break;
      case Op::Connect:
        handleConnect(h, payload);
        break;
      case Op::ConnectVtag:
        handleConnectVtag(h, payload);
        break;
      case Op::NotifySet:
        handleNotifySet(h);
        break;
      case Op::NotifyGet:
        handleNotifyGet(h, nonblocking);
        break;
      case Op::Write:
        handleWrite(h, payload, nonblocking);
        break;
      case Op::Read:
        handleRead(h, nonblocking);
        break;
      case Op::Fsync:
        handleFsync(h);
        break;
      case Op::PollArm:
        handlePollArm(h);
        break;
      default:
        break;
    }
    return {};
  }

  std::string handleOpen(const PacketHeader& h) {
    if (h.arg != kProtocolVersion) {
      MESIM_LOG(Warn, "preload",
                "session " << id_ << ": preload library speaks protocol " << h.arg << ", daemon " << kProtocolVersion
                           << "; refusing the open");
      sendPacket(Op::Open, h.seq, -ENODEV, kProtocolVersion, {});
      return {};
    }
    int err = host_.open(file_);
    if (err == 0) state_ = State::Open;
    MESIM_LOG(Debug, "preload",
              "session " << id_ << " open: " << (err ? std::strerror(err) : "file " + std::to_string(file_)));
    sendPacket(Op::Open, h.seq, -err, kProtocolVersion, {});
    return {};
  }

  void handleClose(const PacketHeader& h) {
    state_ = State::Closing;
    arms_.clear();
    host_.close(file_, [self = shared_from_this(), seq = h.seq] {
      self->state_ = State::Closed;
      for (const auto& [waiting, call] : self->pending_) {  // the file is gone; every call gets its answer
        self->sendPacket(call.op, waiting, -ENODEV, 0, {});
      }
      self->pending_.clear();
      self->sendPacket(Op::Close, seq, 0, 0, {});
      self->closeAfterFlush_ = true;  // the session ends once the reply is out
      self->maybeFinish();            // or now, if the program is already gone
    });
  }

  void handleConnect(const PacketHeader& h, hbm::ByteView payload) {
    hbm::Guid guid;
    std::memcpy(guid.bytes.data(), payload.data(), guid.bytes.size());
    track(h);
    host_.connect(file_, guid, connectDone(h));
  }

  void handleConnectVtag(const PacketHeader& h, hbm::ByteView payload) {
    mei_connect_client_vtag data{};
    std::memcpy(&data, payload.data(), sizeof data);
    hbm::Guid guid;
    std::memcpy(guid.bytes.data(), data.in_client_uuid.b, guid.bytes.size());
    track(h);
    host_.connectVtag(file_, guid, data.vtag, connectDone(h));
  }

  host::MeiHost::ConnectCallback connectDone(const PacketHeader& h) {
    return [self = shared_from_this(), h](int err, const hbm::ClientProperties& props) {
      mei_client client{};
      if (err == 0) {
        client.max_msg_length = props.maxMsgLength;
        client.protocol_version = props.protocolVersion;
      }
      auto bytes = reinterpret_cast<const std::uint8_t*>(&client);
      self->complete(h, -err, 0, err == 0 ? hbm::ByteView(bytes, sizeof client) : hbm::ByteView());
    };
  }

  void handleNotifySet(const PacketHeader& h) {
    track(h);
    host_.notifySet(file_, h.arg, [self = shared_from_this(), h](int err) { self->complete(h, -err, 0, {}); });
  }

  void handleNotifyGet(const PacketHeader& h, bool nonblocking) {
    track(h);
    host::Ticket ticket =
        host_.notifyGet(file_, nonblocking, [self = shared_from_this(), h](int err, std::uint32_t event) {
          self->complete(h, -err, err == 0 ? event : 0, {});
        });
    setTicket(h.seq, ticket);
  }

  void handleWrite(const PacketHeader& h, hbm::ByteView payload, bool nonblocking) {
    track(h);
    host::Ticket ticket = host_.write(file_, hbm::Bytes(payload.begin(), payload.end()), nonblocking,
                                      [self = shared_from_this(), h](ssize_t result) {
                                        self->complete(h, static_cast<std::int32_t>(result), 0, {});
                                      });
    setTicket(h.seq, ticket);
  }

  void handleRead(const PacketHeader& h, bool nonblocking) {
    track(h);
    std::size_t length = std::min<std::size_t>(h.arg, kMaxData);
    host::Ticket ticket =
        host_.read(file_, length, nonblocking, [self = shared_from_this(), h](int err, hbm::Bytes data) {
          if (err == 0 && data.size() > kMaxData) err = EMSGSIZE;  // cannot happen: the host honours `length`
          self->complete(h, err ? -err : static_cast<std::int32_t>(data.size()), 0,
                         err ? hbm::ByteView() : hbm::ByteView(data));
        });
    setTicket(h.seq, ticket);
  }

  void handleFsync(const PacketHeader& h) {
    track(h);
    host_.fsync(file_, [self = shared_from_this(), h](int err) { self->complete(h, -err, 0, {}); });
  }

  void handleCancel(std::uint32_t seq) {
    arms_.erase(seq);
    auto it = pending_.find(seq);
    if (it != pending_.end() && it->second.ticket != 0) host_.cancel(it->second.ticket);
  }

  // Like the kernel's poll: answer now; if nothing is ready, keep the arm and answer when it is.
  void handlePollArm(const PacketHeader& h) {
    short requested = static_cast<short>(h.arg & 0xffff);
    short ready = static_cast<short>(host_.poll(file_, requested, wakeHandler()) & (requested | kAlwaysReported));
    sendPacket(Op::PollArm, h.seq, ready, 0, {});
    if (ready != 0) return;
    if (arms_.size() >= kMaxArms) arms_.erase(arms_.begin());  // the oldest poll() surely returned long ago
    arms_[h.seq] = requested;
  }

  std::function<void()> wakeHandler() {
    // Posted, so a wake called from inside MeiHost never re-enters it.
    return [weak = weak_from_this(), &io = io_] {
      boost::asio::post(io, [weak] {
        if (auto self = weak.lock()) self->rearm();
      });
    };
  }

  void rearm() {
    if (state_ != State::Open || arms_.empty()) return;
    short wanted = 0;
    for (const auto& [seq, events] : arms_) wanted = static_cast<short>(wanted | events);
    short ready = host_.poll(file_, wanted, wakeHandler());
    for (auto it = arms_.begin(); it != arms_.end();) {
      short revents = static_cast<short>(ready & (it->second | kAlwaysReported));
      if (revents == 0) {
        ++it;
        continue;
      }
      sendPacket(Op::PollEvent, it->first, revents, 0, {});
      it = arms_.erase(it);
    }
  }

  // Every request that waits on the host is tracked until it is answered (exactly once).
  void track(const PacketHeader& h) { pending_[h.seq] = PendingCall{0, static_cast<Op>(h.op)}; }
  void setTicket(std::uint32_t seq, host::Ticket ticket) {
    if (auto it = pending_.find(seq); it != pending_.end()) it->second.ticket = ticket;  // not if answered at once
  }
  void complete(const PacketHeader& h, std::int32_t result, std::uint32_t arg, hbm::ByteView payload) {
    if (pending_.erase(h.seq) == 0) return;
    sendPacket(static_cast<Op>(h.op), h.seq, result, arg, payload);
  }

  PreloadServer* server_;
  host::MeiHost& host_;
  boost::asio::io_context& io_;
  Socket socket_;
  std::uint64_t id_;
  std::vector<std::uint8_t> rx_;
  boost::asio::socket_base::message_flags rxFlags_ = 0;
  std::deque<hbm::Bytes> tx_;
  State state_ = State::AwaitOpen;
  host::FileId file_ = 0;
  struct PendingCall {
    host::Ticket ticket = 0;  // 0: not cancellable
    Op op = Op::Open;
  };
  std::map<std::uint32_t, PendingCall> pending_;  // by seq
  std::map<std::uint32_t, short> arms_;           // PollArm seq → requested events, not yet ready
  bool ended_ = false;
  bool receivePaused_ = false;  // tx_ is full: requests wait in the socket until the program reads
  bool warnedWaiting_ = false;
  bool finished_ = false;
  bool closeAfterFlush_ = false;
};

PreloadServer::PreloadServer(boost::asio::io_context& io, host::MeiHost& host, std::filesystem::path socketPath,
                             FileAccess access)
    : io_(io), host_(host), path_(std::move(socketPath)), access_(access), acceptor_(io), retryTimer_(io) {}

PreloadServer::~PreloadServer() {
  stop();
  for (const auto& session : sessions_) session->detach();
}

Result<> PreloadServer::start() {
  if (listening_) return {};
  sockaddr_un addr;
  socklen_t length = 0;
  if (!makeAddress(path_, addr, length)) return fail("preload socket path is empty or too long: " + path_.string());

  std::error_code fsEc;
  if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), fsEc);
  auto status = std::filesystem::symlink_status(path_, fsEc);
  if (std::filesystem::exists(status)) {
    if (!std::filesystem::is_socket(status)) return fail(path_.string() + " exists and is not a socket");
    if (!isStaleSocket(addr, length)) return fail(path_.string() + " is in use by a running daemon");
    std::filesystem::remove(path_, fsEc);
  }

  Protocol::endpoint endpoint(&addr, length);
  boost::system::error_code ec;
  acceptor_.open(Protocol(AF_UNIX, 0), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (ec) {
    std::string error = "cannot bind " + path_.string() + ": " + ec.message();
    acceptor_.close(ec);
    return fail(std::move(error));
  }
  // Before listen(): until then nobody can connect, whatever mode bind() left.
  if (auto applied = applyFileAccess(path_, access_); !applied) {
    acceptor_.close(ec);
    std::filesystem::remove(path_, fsEc);
    return applied.error();
  }
  acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string error = "cannot listen on " + path_.string() + ": " + ec.message();
    acceptor_.close(ec);
    std::filesystem::remove(path_, fsEc);
    return fail(std::move(error));
  }
  listening_ = true;
  MESIM_LOG(Info, "preload", "listening on " << path_.string() << " (" << describe(access_) << ")");
  accept();
  return {};
}

void PreloadServer::stop() {
  if (listening_) {
    listening_ = false;
    boost::system::error_code ec;
    acceptor_.close(ec);
    retryTimer_.cancel();
    std::error_code fsEc;
    std::filesystem::remove(path_, fsEc);
  }
  auto sessions = sessions_;  // ending may forget a session at once
  for (const auto& session : sessions) session->shutdown();
}

void PreloadServer::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, Socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;  // stopped; `this` may be gone
    if (!listening_) return;
    if (ec) {
      // EMFILE and friends: the daemon goes on and tries again shortly.
      MESIM_LOG(Warn, "preload", "accept: " << ec.message());
      retryTimer_.expires_after(std::chrono::milliseconds(100));
      retryTimer_.async_wait([this](const boost::system::error_code& waitEc) {
        if (!waitEc && listening_) accept();
      });
      return;
    } else {
      auto session = std::make_shared<Session>(*this, std::move(socket), nextSessionId_++);
      sessions_.insert(session);
      session->start();
    }
    accept();
  });
}

void PreloadServer::forget(const std::shared_ptr<Session>& session) { sessions_.erase(session); }

}  // namespace mesim::preload
