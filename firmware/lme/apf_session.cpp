#include "firmware/lme/apf_session.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "common/log.h"

namespace mesim::lme {

namespace {
constexpr std::size_t kPeerReadChunk = 16 * 1024;
}  // namespace

const char* sessionStateName(ApfSession::State state) {
  switch (state) {
    case ApfSession::State::AwaitingVersion: return "awaiting-version";
    case ApfSession::State::AwaitingAuthService: return "awaiting-auth-service";
    case ApfSession::State::AwaitingAuth: return "awaiting-auth";
    case ApfSession::State::AwaitingPfwd: return "awaiting-pfwd";
    case ApfSession::State::Established: return "established";
    case ApfSession::State::Closed: return "closed";
  }
  return "?";
}

// One channel: its two windows, the host bytes queued for the peer and the peer bytes waiting for window.
class ApfSession::Channel : public std::enable_shared_from_this<Channel> {
 public:
  enum class State { Opening, Open, CloseSent };

  Channel(ApfSession& session, std::uint32_t id, std::shared_ptr<ChannelPeer> peer)
      : session_(session), id_(id), peer_(std::move(peer)) {}

  const log::Context& logContext() const { return session_.logContext(); }

  // Host window known (OPEN from the host, or CONFIRMATION of the ME's OPEN): data may flow.
  void open(std::uint32_t hostId, std::uint32_t hostWindow) {
    hostId_ = hostId;
    hostWindow_ = hostWindow;
    meWindow_ = session_.options_.channelWindow;
    state_ = State::Open;
    wasOpen_ = true;
    readFromPeer();
  }

  // ---- host -> peer
  void onData(Bytes data) {
    if (state_ != State::Open) {
      ++session_.stats_.ignored;
      return;
    }
    if (data.size() > meWindow_) {
      // LMS never does this; accept the bytes (MEI back-pressure bounds memory) but note it.
      ++session_.stats_.windowViolations;
      MESIM_LOG(Debug, session_.options_.logTag, "channel " << id_ << ": " << data.size() << " bytes beyond a window of " << meWindow_);
      meWindow_ = 0;
    } else {
      meWindow_ -= static_cast<std::uint32_t>(data.size());
    }
    session_.stats_.bytesFromHost += data.size();
    session_.bufferedFromHost(static_cast<std::ptrdiff_t>(data.size()));
    toPeerBytes_ += data.size();
    toPeer_.push_back(std::move(data));
    writeToPeer();
  }

  // ---- peer -> host
  void onWindowAdjust(std::uint32_t bytes) {
    if (state_ != State::Open) return;
    std::uint64_t sum = std::uint64_t{hostWindow_} + bytes;
    hostWindow_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(sum, std::numeric_limits<std::uint32_t>::max()));
    flushToHost();
  }

  // The host's CHANNEL_CLOSE: echoed unless the ME closed first; the caller frees the id.
  void onHostClose() {
    if (state_ == State::Open) session_.send(apf::ChannelClose{hostId_});  // echo (§2.6)
    shutdown();
  }

  // The ME ends the channel: CHANNEL_CLOSE and wait for the host's.
  void closeFromMe() {
    if (state_ != State::Open) return;
    state_ = State::CloseSent;
    session_.send(apf::ChannelClose{hostId_});
    stopPeer();
  }

  // Session over: drop everything without a word to the host.
  void shutdown() {
    state_ = State::CloseSent;
    stopPeer();
  }

  State state() const { return state_; }
  // Data could flow at some point: it counts as opened, and so as closed once it goes.
  bool wasOpen() const { return wasOpen_; }
  std::uint32_t hostId() const { return hostId_; }
  bool direct = false;
  OpenResult onOpened;

 private:
  void stopPeer() {
    if (peer_) peer_->close();
    peer_.reset();
    session_.bufferedFromHost(-static_cast<std::ptrdiff_t>(toPeerBytes_));
    toPeer_.clear();
    toPeerBytes_ = 0;
    fromPeer_.clear();
    fromPeerOffset_ = 0;
  }

  void writeToPeer() {
    if (writing_ || toPeer_.empty() || !peer_) return;
    writing_ = true;
    std::size_t size = toPeer_.front().size();
    auto peer = peer_;  // an in-memory peer may complete inside write(), and the handler may drop peer_
    peer->write(std::move(toPeer_.front()), [weak = weak_from_this(), size](bool ok) {
      auto self = weak.lock();
      if (!self || !self->peer_) return;
      self->writing_ = false;
      self->toPeer_.pop_front();
      self->toPeerBytes_ -= size;
      self->session_.bufferedFromHost(-static_cast<std::ptrdiff_t>(size));
      if (!ok) return self->closeFromMe();
      // Grant the window back as the peer takes the bytes, once half of it is used (the MPS style, §2.5): the
      // host never runs dry, and a small request costs no extra MEI message before its answer.
      self->unadjusted_ += size;
      if (self->unadjusted_ > 0 && self->unadjusted_ >= self->session_.options_.channelWindow / 2) {
        auto bytes = static_cast<std::uint32_t>(std::min<std::size_t>(self->unadjusted_, 0xFFFFFFFFu));
        self->unadjusted_ -= bytes;
        self->meWindow_ += bytes;
        self->session_.send(apf::ChannelWindowAdjust{self->hostId_, bytes});
      }
      self->writeToPeer();
    });
  }

  void readFromPeer() {
    if (state_ != State::Open || reading_ || peerEof_ || !peer_ || fromPeerOffset_ < fromPeer_.size() ||
        hostWindow_ == 0)
      return;
    reading_ = true;
    auto peer = peer_;
    peer->read(kPeerReadChunk, [weak = weak_from_this()](ByteView data) {
      auto self = weak.lock();
      if (!self || !self->peer_) return;
      self->reading_ = false;
      if (data.empty()) {
        self->peerEof_ = true;
      } else {
        self->fromPeer_.assign(data.begin(), data.end());
        self->fromPeerOffset_ = 0;
      }
      self->flushToHost();
    });
  }

  void flushToHost() {
    const std::size_t maxPayload = session_.maxDataPayload();
    while (fromPeerOffset_ < fromPeer_.size() && hostWindow_ > 0) {
      std::size_t n = std::min({fromPeer_.size() - fromPeerOffset_, std::size_t{hostWindow_}, maxPayload});
      session_.sendRaw(apf::encodeChannelData(hostId_, ByteView(fromPeer_).subspan(fromPeerOffset_, n)));
      session_.stats_.bytesToHost += n;
      hostWindow_ -= static_cast<std::uint32_t>(n);
      fromPeerOffset_ += n;
    }
    if (fromPeerOffset_ < fromPeer_.size()) return;  // stalled on the host's window
    fromPeer_.clear();
    fromPeerOffset_ = 0;
    if (peerEof_) return closeFromMe();
    readFromPeer();
  }

  ApfSession& session_;
  std::uint32_t id_;
  std::shared_ptr<ChannelPeer> peer_;
  State state_ = State::Opening;
  bool wasOpen_ = false;
  std::uint32_t hostId_ = 0;
  std::uint32_t hostWindow_ = 0;  // bytes the ME may still send
  std::uint32_t meWindow_ = 0;    // bytes the host may still send
  std::size_t unadjusted_ = 0;    // taken by the peer, not yet granted back
  std::deque<Bytes> toPeer_;
  std::size_t toPeerBytes_ = 0;
  bool writing_ = false;
  Bytes fromPeer_;
  std::size_t fromPeerOffset_ = 0;
  bool reading_ = false;
  bool peerEof_ = false;
};

ApfSession::ApfSession(std::shared_ptr<firmware::ClientConnection> connection, ApfSessionOptions options,
                       ChannelPeerFactory forwarded)
    : connection_(std::move(connection)), options_(std::move(options)), forwardedFactory_(std::move(forwarded)) {}

ApfSession::~ApfSession() { closeAllChannels(); }

std::uint32_t ApfSession::maxDataPayload() const {
  std::uint32_t byMtu = options_.maxMessageLength > apf::kChannelDataHeaderSize
                            ? options_.maxMessageLength - static_cast<std::uint32_t>(apf::kChannelDataHeaderSize)
                            : 1;
  return std::max<std::uint32_t>(1, std::min<std::uint32_t>(byMtu, options_.maxDataPayload));
}

void ApfSession::start() {
  apf::ProtocolVersion version;
  version.triggerReason = options_.triggerReason;
  version.uuid = options_.uuid;
  send(version);
  if (!options_.awaitHostVersion) requestFirstService();
}

bool ApfSession::sendKeepalive(std::uint32_t cookie) {
  if (state_ == State::Closed) return false;
  send(apf::KeepaliveRequest{cookie});
  return true;
}

void ApfSession::send(const apf::Message& message) { sendRaw(apf::encode(message)); }

void ApfSession::sendRaw(Bytes message) {
  if (state_ == State::Closed) return;
  connection_->send(std::move(message));
}

void ApfSession::end() {
  state_ = State::Closed;
  closeAllChannels();
  pending_.clear();
}

void ApfSession::disconnect(apf::DisconnectReason reason) {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  disconnectReason_ = static_cast<std::uint32_t>(reason);
  closeAllChannels();
  pending_.clear();
  connection_->send(apf::encode(apf::Disconnect{static_cast<std::uint32_t>(reason)}));
}

void ApfSession::protocolError(const std::string& what) {
  ++stats_.protocolErrors;
  MESIM_LOG(Warn, options_.logTag, "connection " << connection_->id() << ": " << what << "; DISCONNECT(PROTOCOL_ERROR)");
  disconnect(apf::DisconnectReason::ProtocolError);
}

void ApfSession::closeAllChannels() {
  auto channels = std::move(channels_);
  channels_.clear();
  for (auto& [id, channel] : channels) {
    if (channel->wasOpen()) ++stats_.channelsClosed;
    channel->shutdown();
    if (channel->onOpened && channel->state() != Channel::State::Open) std::exchange(channel->onOpened, {})(false);
  }
}

void ApfSession::onHostMessage(ByteView message) {
  if (state_ == State::Closed) {
    ++stats_.ignored;
    return;
  }
  apf::Decoded decoded = apf::decode(message);
  if (decoded.error == apf::DecodeError::UnknownType) {
    // LMS drops types it does not know (keep-alives included); so does the ME.
    ++stats_.ignored;
    MESIM_LOG(Debug, options_.logTag, "ignoring APF type " << int(decoded.type));
    return;
  }
  if (!decoded.message)
    return protocolError(std::string(apf::decodeErrorName(decoded.error)) + " (" +
                         apf::messageTypeName(decoded.type) + ", " + std::to_string(message.size()) + " bytes)");
  dispatch(*decoded.message);
}

void ApfSession::dispatch(apf::Message& message) {
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, apf::ProtocolVersion>) onProtocolVersion(m);
        else if constexpr (std::is_same_v<T, apf::ServiceAccept>) onServiceAccept(m);
        else if constexpr (std::is_same_v<T, apf::UserauthSuccess>) onUserauthResult(true);
        else if constexpr (std::is_same_v<T, apf::UserauthFailure>) onUserauthResult(false);
        else if constexpr (std::is_same_v<T, apf::RequestSuccess>) onRequestResult(true, &m);
        else if constexpr (std::is_same_v<T, apf::RequestFailure>) onRequestResult(false, nullptr);
        else if constexpr (std::is_same_v<T, apf::GlobalRequest>) onGlobalRequest(m);
        else if constexpr (std::is_same_v<T, apf::ChannelOpen>) onChannelOpen(m);
        else if constexpr (std::is_same_v<T, apf::ChannelOpenConfirmation>) onOpenConfirmation(m);
        else if constexpr (std::is_same_v<T, apf::ChannelOpenFailure>) onOpenFailure(m);
        else if constexpr (std::is_same_v<T, apf::ChannelWindowAdjust>) onWindowAdjust(m);
        else if constexpr (std::is_same_v<T, apf::ChannelData>) onChannelData(m);
        else if constexpr (std::is_same_v<T, apf::ChannelClose>) onChannelClose(m);
        else if constexpr (std::is_same_v<T, apf::Disconnect>) {
          MESIM_LOG(Info, options_.logTag, "connection " << connection_->id() << ": host DISCONNECT(" << m.reason << ")");
          disconnectReason_ = m.reason;
          disconnectedByHost_ = true;
          end();
        } else if constexpr (std::is_same_v<T, apf::KeepaliveRequest>) {
          send(apf::KeepaliveReply{m.cookie});
        } else if constexpr (std::is_same_v<T, apf::KeepaliveReply>) {
          if (options_.onKeepaliveReply) options_.onKeepaliveReply(m.cookie);
          else ++stats_.ignored;
        } else if constexpr (std::is_same_v<T, apf::KeepaliveOptionsRequest>) {
          if (!options_.onKeepaliveOptions) {
            ++stats_.ignored;
            return;
          }
          auto [interval, timeout] = options_.onKeepaliveOptions(m.intervalSeconds, m.timeoutSeconds);
          send(apf::KeepaliveOptionsReply{interval, timeout});
        } else {
          // SERVICE_REQUEST, USERAUTH_REQUEST, keep-alive replies/options, JSON: the host has no business
          // sending them on LME; LMS-style, they are dropped.
          ++stats_.ignored;
          MESIM_LOG(Debug, options_.logTag, "ignoring a host message the ME does not expect on LME");
        }
      },
      message);
}

void ApfSession::onProtocolVersion(const apf::ProtocolVersion& m) {
  // rpc-go sends its own first and echoes the ME's too: any further one is a no-op (§2.2).
  if (hostVersionSeen_) {
    ++stats_.ignored;
    return;
  }
  hostVersionSeen_ = true;
  if (m.major < apf::kMajorVersion) {
    MESIM_LOG(Warn, options_.logTag, "host APF version " << m.major << "." << m.minor << " is below 1.0");
    return disconnect(apf::DisconnectReason::ProtocolVersionNotSupported);
  }
  if (state_ != State::AwaitingVersion) return;  // an MPS-style session went on without it
  requestFirstService();
}

void ApfSession::requestFirstService() {
  if (options_.authenticate) {
    state_ = State::AwaitingAuthService;
    send(apf::ServiceRequest{std::string(apf::kServiceAuth)});
  } else {
    state_ = State::AwaitingPfwd;
    send(apf::ServiceRequest{std::string(apf::kServicePfwd)});
  }
}

void ApfSession::onServiceAccept(const apf::ServiceAccept& m) {
  if (state_ == State::AwaitingAuthService && m.service == apf::kServiceAuth) {
    state_ = State::AwaitingAuth;
    apf::UserauthRequest auth;
    auth.user = options_.authUser;
    auth.service = std::string(apf::kServicePfwd);
    auth.method = options_.authPassword ? "password" : "none";
    auth.password = options_.authPassword;
    return send(auth);
  }
  if (state_ == State::AwaitingPfwd && m.service == apf::kServicePfwd) {
    state_ = State::Established;
    MESIM_LOG(Info, options_.logTag, "connection " << connection_->id() << ": APF session established");
    return requestForwards();
  }
  protocolError("unexpected SERVICE_ACCEPT \"" + m.service + "\" in state " + sessionStateName(state_));
}

void ApfSession::onUserauthResult(bool success) {
  if (state_ != State::AwaitingAuth) return protocolError("unexpected USERAUTH reply");
  if (!success) {
    authRefused_ = true;
    MESIM_LOG(Warn, options_.logTag, "host refused USERAUTH");
    return disconnect(apf::DisconnectReason::NoMoreAuthMethodsAvailable);
  }
  state_ = State::AwaitingPfwd;
  send(apf::ServiceRequest{std::string(apf::kServicePfwd)});
}

void ApfSession::requestForwards() {
  // Real firmware forwards the management port and the redirection port (§2.2 step 4), with an empty
  // address so LMS leaves /etc/hosts alone (§2.3).
  std::vector<std::uint32_t> ports = options_.forwardPorts;
  if (ports.empty())
    ports = {options_.tlsOnLocalPorts ? kPortHttps : kPortHttp,
             options_.tlsOnLocalPorts ? kPortRedirectionTls : kPortRedirection};
  for (std::uint32_t port : ports) {
    apf::GlobalRequest request;
    request.name = std::string(apf::kTcpipForward);
    request.wantReply = true;
    request.data = apf::TcpipForward{options_.forwardAddress, port};
    pending_.push_back({PendingKind::Forward, port, {}});
    send(request);
  }
}

void ApfSession::onRequestResult(bool success, const apf::RequestSuccess* m) {
  if (pending_.empty()) {
    // MC-LME answers udp-send-to with REQUEST_FAILURE (§2.3): nothing was waiting for it.
    ++stats_.ignored;
    return;
  }
  PendingRequest request = std::move(pending_.front());
  pending_.pop_front();
  if (request.kind == PendingKind::Forward) {
    if (success) {
      if (m && m->portBound && *m->portBound != request.port)
        MESIM_LOG(Debug, options_.logTag, "tcpip-forward " << request.port << " bound as " << *m->portBound);
      forwarded_.push_back(request.port);
    } else {
      MESIM_LOG(Info, options_.logTag, "host refused tcpip-forward for port " << request.port);
    }
  } else if (success) {
    forwarded_.erase(std::remove(forwarded_.begin(), forwarded_.end(), request.port), forwarded_.end());
  }
  if (request.done) request.done(success);
}

void ApfSession::onGlobalRequest(const apf::GlobalRequest& m) {
  // The ME is the one that asks; a host request gets the SSH answer for "not supported".
  ++stats_.ignored;
  MESIM_LOG(Debug, options_.logTag, "host GLOBAL_REQUEST \"" << m.name << "\" refused");
  if (m.wantReply && requireEstablished("GLOBAL_REQUEST")) send(apf::RequestFailure{});
}

bool ApfSession::requireEstablished(const char* what) {
  if (state_ == State::Established) return true;
  if (options_.channelsBeforePfwd && state_ == State::AwaitingPfwd) return true;
  // LMS itself drops the link for channel traffic before the handshake ends (§2.2, _checkProtocolFlow).
  protocolError(std::string(what) + " before the APF handshake completed");
  return false;
}

std::optional<std::uint32_t> ApfSession::freeId(std::uint32_t first, std::size_t count) const {
  for (std::uint32_t id = first; id < first + count; ++id)
    if (!channels_.count(id)) return id;
  return std::nullopt;
}

ApfSession::Channel* ApfSession::find(std::uint32_t id) {
  auto it = channels_.find(id);
  return it == channels_.end() ? nullptr : it->second.get();
}

void ApfSession::release(std::uint32_t id) {
  auto it = channels_.find(id);
  if (it == channels_.end()) return;
  if (it->second->wasOpen()) ++stats_.channelsClosed;  // a refused open was never open
  channels_.erase(it);
}

void ApfSession::onChannelOpen(const apf::ChannelOpen& m) {
  if (!requireEstablished("CHANNEL_OPEN")) return;
  auto refuse = [&](apf::OpenFailureReason reason, const std::string& why) {
    ++stats_.openFailures;
    MESIM_LOG(Info, options_.logTag, "CHANNEL_OPEN " << m.channelType << " to port " << m.connectedPort << " refused: " << why);
    send(apf::ChannelOpenFailure{m.senderChannel, static_cast<std::uint32_t>(reason)});
  };
  if (m.channelType != apf::kForwardedTcpip)
    return refuse(apf::OpenFailureReason::UnknownChannelType, "unknown channel type");
  if (m.connectedPort == kPortRedirection || m.connectedPort == kPortRedirectionTls)
    return refuse(apf::OpenFailureReason::ConnectFailed, "redirection is not served over LMS");
  const bool extra = std::find(options_.extraChannelPorts.begin(), options_.extraChannelPorts.end(),
                               m.connectedPort) != options_.extraChannelPorts.end();
  if (m.connectedPort != kPortHttp && m.connectedPort != kPortHttps && !extra)
    return refuse(apf::OpenFailureReason::AdministrativelyProhibited, "not an AMT port");
  auto id = freeId(0, options_.maxChannels);
  if (!id) return refuse(apf::OpenFailureReason::ResourceShortage, "all channels in use");
  std::shared_ptr<ChannelPeer> peer = forwardedFactory_ ? forwardedFactory_(m.connectedPort) : nullptr;
  if (!peer) return refuse(apf::OpenFailureReason::ConnectFailed, "nothing serves the port");

  auto channel = std::make_shared<Channel>(*this, *id, std::move(peer));
  channels_[*id] = channel;
  ++stats_.channelsOpened;
  MESIM_LOG(Debug, options_.logTag, "channel " << *id << " open for host channel " << m.senderChannel << " to port "
                                    << m.connectedPort << " (host window " << m.initialWindow << ")");
  send(apf::ChannelOpenConfirmation{m.senderChannel, *id, options_.channelWindow, apf::kReservedMaxPacket});
  channel->open(m.senderChannel, m.initialWindow);
}

void ApfSession::onOpenConfirmation(const apf::ChannelOpenConfirmation& m) {
  if (!requireEstablished("CHANNEL_OPEN_CONFIRMATION")) return;
  Channel* channel = find(m.recipientChannel);
  if (!channel || !channel->direct || channel->state() != Channel::State::Opening) {
    ++stats_.ignored;
    return;
  }
  ++stats_.channelsOpened;
  auto done = std::exchange(channel->onOpened, {});
  channel->open(m.senderChannel, m.initialWindow);
  if (done) done(true);
}

void ApfSession::onOpenFailure(const apf::ChannelOpenFailure& m) {
  if (!requireEstablished("CHANNEL_OPEN_FAILURE")) return;
  Channel* channel = find(m.recipientChannel);
  if (!channel || !channel->direct || channel->state() != Channel::State::Opening) {
    ++stats_.ignored;
    return;
  }
  MESIM_LOG(Info, options_.logTag, "host refused ME channel " << m.recipientChannel << " (reason " << m.reason << ")");
  auto done = std::exchange(channel->onOpened, {});
  channel->shutdown();
  release(m.recipientChannel);
  if (done) done(false);
}

void ApfSession::onWindowAdjust(const apf::ChannelWindowAdjust& m) {
  if (!requireEstablished("CHANNEL_WINDOW_ADJUST")) return;
  if (auto it = channels_.find(m.recipientChannel); it != channels_.end()) {
    auto keep = it->second;  // flushing may close the channel
    keep->onWindowAdjust(m.bytesToAdd);
  } else {
    ++stats_.ignored;
  }
}

void ApfSession::onChannelData(apf::ChannelData& m) {
  if (!requireEstablished("CHANNEL_DATA")) return;
  if (auto it = channels_.find(m.recipientChannel); it != channels_.end()) {
    auto keep = it->second;
    keep->onData(std::move(m.data));
  } else {
    ++stats_.ignored;
  }
}

void ApfSession::onChannelClose(const apf::ChannelClose& m) {
  if (!requireEstablished("CHANNEL_CLOSE")) return;
  auto it = channels_.find(m.recipientChannel);
  if (it == channels_.end()) {
    ++stats_.ignored;  // unknown or stale ids are ignored, as LMS does (§2.6)
    return;
  }
  auto channel = it->second;
  auto done = std::exchange(channel->onOpened, {});
  channel->onHostClose();
  release(m.recipientChannel);
  if (done) done(false);
}

void ApfSession::bufferedFromHost(std::ptrdiff_t delta) {
  bufferedFromHost_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(bufferedFromHost_) + delta);
  // A host that ignores the windows is held back by MEI flow control rather than by memory.
  if (!receivePaused_ && bufferedFromHost_ > options_.maxBufferedFromHost) {
    receivePaused_ = true;
    connection_->pauseReceive();
  } else if (receivePaused_ && bufferedFromHost_ <= options_.maxBufferedFromHost / 2) {
    receivePaused_ = false;
    connection_->resumeReceive();
  }
}

bool ApfSession::cancelForward(std::uint32_t port, RequestResult done) {
  if (state_ != State::Established) return false;
  apf::GlobalRequest request;
  request.name = std::string(apf::kCancelTcpipForward);
  request.wantReply = true;
  request.data = apf::TcpipForward{"", port};
  pending_.push_back({PendingKind::Cancel, port, std::move(done)});
  send(request);
  return true;
}

bool ApfSession::sendUdp(apf::UdpSendTo datagram) {
  if (state_ != State::Established) return false;
  apf::GlobalRequest request;
  request.name = std::string(apf::kUdpSendTo);
  request.wantReply = false;
  request.data = std::move(datagram);
  send(request);
  return true;
}

bool ApfSession::openDirectChannel(const std::string& address, std::uint32_t port, std::shared_ptr<ChannelPeer> peer,
                                   OpenResult done) {
  if (state_ != State::Established || !peer) return false;
  auto id = freeId(static_cast<std::uint32_t>(options_.maxChannels), options_.maxDirectChannels);
  if (!id) return false;
  auto channel = std::make_shared<Channel>(*this, *id, std::move(peer));
  channel->direct = true;
  channel->onOpened = std::move(done);
  channels_[*id] = channel;
  apf::ChannelOpen open;
  open.channelType = std::string(apf::kDirectTcpip);
  open.senderChannel = *id;
  open.initialWindow = options_.channelWindow;
  open.connectedAddress = address;
  open.connectedPort = port;
  open.originatorAddress = "127.0.0.1";
  open.originatorPort = 0;
  send(open);
  return true;
}

}  // namespace mesim::lme
