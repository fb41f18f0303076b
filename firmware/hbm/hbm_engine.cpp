#include "firmware/hbm/hbm_engine.h"

#include <deque>

#include "common/log.h"

namespace mesim::firmware {

using hbm::Command;

class HbmEngine::Connection : public ClientConnection, public std::enable_shared_from_this<Connection> {
 public:
  // The client is owned by the engine's bus; a connection only reaches it while attached, so a
  // client may keep its connections without creating an ownership cycle.
  Connection(HbmEngine* engine, std::uint8_t meAddr, std::uint8_t hostAddr, std::uint64_t id, FirmwareClient* client,
             Stats::ClientTraffic& traffic)
      : engine_(engine), meAddr_(meAddr), hostAddr_(hostAddr), id_(id), client_(client), traffic_(traffic) {}

  void send(Bytes message) override {
    if (!engine_ || closing_) return;
    outbox_.push_back(std::move(message));
    pump();
  }
  void notify() override {
    if (!engine_ || closing_ || !notifyEnabled_) return;
    engine_->sendBus(hbm::encode(hbm::Notification{meAddr_, hostAddr_}));
  }
  void disconnect() override {
    if (!engine_ || closing_) return;
    closing_ = true;  // wait for the host's 0x87; nothing more goes out meanwhile
    outbox_.clear();
    engine_->sendBus(hbm::encodeConnect(Command::ClientDisconnect, {meAddr_, hostAddr_}));
  }
  void pauseReceive() override { paused_ = true; }
  void resumeReceive() override {
    paused_ = false;
    grantCredit();
  }
  bool isOpen() const override { return engine_ != nullptr && !closing_; }
  std::uint8_t hostAddress() const override { return hostAddr_; }
  std::uint64_t id() const override { return id_; }

  // Host granted one message of credit.
  void addHostCredit() {
    ++hostCredits_;
    pump();
  }
  void pump() {
    bool sent = false;
    while (engine_ && !closing_ && hostCredits_ > 0 && !outbox_.empty()) {
      --hostCredits_;
      Bytes message = std::move(outbox_.front());
      outbox_.pop_front();
      engine_->sendMessage(meAddr_, hostAddr_, message, traffic_);
      sent = true;
    }
    if (sent && outbox_.empty()) grantCredit();  // the answers are out: the next request may come
  }
  // A client takes its next message once the host has taken its answers: an ME client has one buffer each way,
  // so a host that writes and never reads is held by its driver's tx queue limit (EAGAIN or a blocked write)
  // instead of the firmware queueing answers without bound.
  void grantCredit() {
    if (!engine_ || closing_ || paused_ || fwCreditOutstanding_ || !outbox_.empty()) return;
    fwCreditOutstanding_ = true;
    engine_->sendBus(hbm::encode(hbm::FlowControl{meAddr_, hostAddr_}));
  }
  // Takes the host's right to send one message; false when the host sent without a credit.
  bool consumeCredit() {
    if (!fwCreditOutstanding_) return false;
    fwCreditOutstanding_ = false;
    return true;
  }
  void detachFromEngine() { engine_ = nullptr; }

  std::uint8_t meAddr() const { return meAddr_; }
  std::uint16_t key() const { return static_cast<std::uint16_t>(meAddr_ << 8 | hostAddr_); }
  FirmwareClient* client() const { return client_; }
  bool closing() const { return closing_; }
  void setNotify(bool enabled) { notifyEnabled_ = enabled; }
  bool notifyEnabled() const { return notifyEnabled_; }

 private:
  HbmEngine* engine_;
  std::uint8_t meAddr_;
  std::uint8_t hostAddr_;
  std::uint64_t id_;
  FirmwareClient* client_;
  Stats::ClientTraffic& traffic_;  // its client's, in the engine's bus (used only while attached to the engine)
  std::deque<Bytes> outbox_;
  unsigned hostCredits_ = 0;
  bool fwCreditOutstanding_ = false;
  bool closing_ = false;
  bool paused_ = false;
  bool notifyEnabled_ = false;
};

HbmEngine::HbmEngine(boost::asio::io_context&, HbmEngineOptions options) : options_(options) {}

HbmEngine::~HbmEngine() {
  for (auto& [key, connection] : connections_) connection->detachFromEngine();
  if (link_) link_->onFrame(nullptr);
}

std::uint8_t HbmEngine::addClient(std::shared_ptr<FirmwareClient> client, std::uint8_t fixedAddress) {
  std::uint8_t address = fixedAddress;
  if (address == 0) {
    address = 1;
    while (clients_.count(address) && address < 255) ++address;
  }
  if (clients_.count(address)) throw std::logic_error("ME address already taken");
  auto props = client->properties();
  props.fixedAddress = fixedAddress;
  const char* name = client->name();
  clients_[address] = RegisteredClient{std::move(client), props, 0, {name}};
  return address;
}

void HbmEngine::attach(std::shared_ptr<link::Endpoint> link) {
  detach();
  link_ = std::move(link);
  link_->onFrame([this](hbm::Frame frame) { onFrame(std::move(frame)); });
  state_ = State::WaitingForHost;
}

void HbmEngine::detach() {
  dropConnections();
  reassembler_.reset();
  if (link_) {
    link_->onFrame(nullptr);
    link_.reset();
  }
  state_ = State::WaitingForHost;
}

HbmEngine::Stats HbmEngine::stats() const {
  Stats s = stats_;
  s.connections = connections_.size();
  for (const auto& [address, registered] : clients_) s.clients.push_back(registered.traffic);
  return s;
}

void HbmEngine::reset(const std::string& reason) {
  MESIM_LOG(Warn, "hbm", "firmware reset: " << reason);
  ++stats_.resets;
  dropConnections();
  reassembler_.reset();
  state_ = State::WaitingForHost;
  if (link_) link_->send(hbm::makeLinkControl(hbm::LinkControl::Reset));
}

void HbmEngine::requestStop(std::uint8_t reason) {
  if (state_ != State::Started) return;
  sendBus(hbm::encodeStop(Command::MeStop, {reason}));
}

void HbmEngine::protocolError(const std::string& what) { reset("protocol error: " + what); }

void HbmEngine::sendBus(hbm::Bytes message) {
  if (!link_) return;
  hbm::Frame frame;
  frame.header.length = static_cast<std::uint16_t>(message.size());
  frame.payload = std::move(message);
  link_->send(std::move(frame));
}

void HbmEngine::sendMessage(std::uint8_t meAddr, std::uint8_t hostAddr, hbm::ByteView message,
                             Stats::ClientTraffic& traffic) {
  if (!link_) return;
  ++stats_.messagesOut;
  ++traffic.messagesOut;
  traffic.bytesOut += message.size();
  for (auto& frame : hbm::fragment(meAddr, hostAddr, message, options_.bufferSlots)) link_->send(std::move(frame));
}

void HbmEngine::onFrame(hbm::Frame frame) {
  if (auto control = hbm::parseLinkControl(frame)) {
    if (*control == hbm::LinkControl::Reset) {
      // Host reset (H_RST): drop everything, then report ready.
      dropConnections();
      reassembler_.reset();
      state_ = State::WaitingForHost;
      if (link_) link_->send(hbm::makeReady(options_.registers));
    }
    return;
  }
  if (frame.header.internal) return protocolError("unknown link-control frame");
  if (frame.header.length != frame.payload.size()) return protocolError("fragment length mismatch");
  if (frame.payload.size() > hbm::maxFragmentPayload(options_.bufferSlots))
    return protocolError("fragment larger than the circular buffer");
  if (frame.header.extended || frame.header.dmaRing) return protocolError("extended/DMA header not negotiated");
  if (frame.header.isBusMessage()) {
    if (!frame.header.complete) return protocolError("fragmented bus message");
    return onBusMessage(frame.payload);
  }
  if (state_ != State::Started) return protocolError("client data before HOST_START");
  onClientData(frame);
}

void HbmEngine::onBusMessage(hbm::ByteView message) {
  if (message.empty()) return protocolError("empty bus message");
  const std::uint8_t code = message[0];
  auto size = hbm::busMessageSize(code);
  if (!size || *size != message.size())
    return protocolError(std::string("malformed ") + hbm::commandName(code) + " (" + std::to_string(message.size()) +
                         " bytes)");
  if (code == 0x01) return handleHostStart(*hbm::decodeHostStartReq(message));
  if (state_ != State::Started) return protocolError(std::string(hbm::commandName(code)) + " before HOST_START");

  switch (code) {
    case 0x02:  // HOST_STOP
      dropConnections();
      sendBus(hbm::encodeHostStopRes());
      state_ = State::Stopped;
      return;
    case 0x04: {  // HOST_ENUM
      hbm::HostEnumRes res;
      for (auto& [address, registered] : clients_) res.validAddresses[address / 8] |= 1u << (address % 8);
      return sendBus(hbm::encode(res));
    }
    case 0x05: {  // CLIENT_PROPERTIES
      auto req = *hbm::decodePropertiesReq(message);
      auto it = clients_.find(req.meAddr);
      if (it == clients_.end()) return sendBus(hbm::encode(hbm::PropertiesRes{req.meAddr, hbm::Status::ClientNotFound, {}}));
      return sendBus(hbm::encode(hbm::PropertiesRes{req.meAddr, hbm::Status::Success, it->second.props}));
    }
    case 0x06: return handleConnect(*hbm::decodeConnect(message));
    case 0x07: return handleHostDisconnect(*hbm::decodeConnect(message));
    case 0x87: return handleDisconnectResponse(*hbm::decodeConnectRes(message));
    case 0x08: return handleFlowControl(*hbm::decodeFlowControl(message));
    case 0x10: {
      auto req = hbm::decodeNotifyReq(message);
      if (!req) return protocolError("malformed NOTIFY");
      return handleNotify(*req);
    }
    case 0x0a:  // power-gating isolation: nothing to isolate in a simulator, acknowledge
      return sendBus({0x8a, 0, 0, 0});
    case 0x8b: return;  // host acknowledged PG exit
    case 0x13:  // CAPABILITIES: no vtag, GSC or client DMA granted
      return sendBus(hbm::encodeCapabilities(true, {}));
    case 0x12:  // DMA_SETUP: decline, the host then uses the circular buffer only
      return sendBus(hbm::encodeSimple(0x92, 1));
    case 0x14: return sendBus(hbm::encodeSimple(0x94, 1));
    case 0x15: return sendBus(hbm::encodeSimple(0x95, 1));
    case 0x8f: return;  // ADD_CLIENT answer: mesim never adds clients at run time
    default:
      return protocolError(std::string("unexpected ") + hbm::commandName(code) + " from host");
  }
}

void HbmEngine::handleHostStart(const hbm::HostStartReq& req) {
  // A restart without a reset drops what the previous start had built.
  dropConnections();
  reassembler_.reset();
  const bool supported = req.host >= hbm::kMinHostVersion && req.host <= hbm::kMaxVersion;
  sendBus(hbm::encode(hbm::HostStartRes{supported, hbm::kMaxVersion}));
  if (supported || req.host > hbm::kMaxVersion) {
    negotiated_ = supported ? req.host : hbm::kMaxVersion;
    state_ = State::Started;
    MESIM_LOG(Debug, "hbm", "host started, HBM " << int(negotiated_.major) << "." << int(negotiated_.minor));
  } else {
    // A host below 2.0 cannot use this firmware; it is expected to send HOST_STOP.
    state_ = State::Stopped;
    MESIM_LOG(Warn, "hbm", "host HBM version " << int(req.host.major) << "." << int(req.host.minor)
                                               << " not supported (2.0 or later required)");
  }
}

void HbmEngine::handleConnect(const hbm::ConnectReq& req) {
  auto reply = [&](hbm::ConnectStatus status) {
    sendBus(hbm::encodeConnectRes(Command::ClientConnect, {req.meAddr, req.hostAddr, static_cast<std::uint8_t>(status)}));
  };
  auto it = clients_.find(req.meAddr);
  if (it == clients_.end()) return reply(hbm::ConnectStatus::NotFound);
  if (req.hostAddr == 0) return reply(hbm::ConnectStatus::NotAllowed);
  if (findConnection(req.meAddr, req.hostAddr)) return reply(hbm::ConnectStatus::AlreadyStarted);
  auto& registered = it->second;
  if (registered.connections >= registered.props.maxConnections)
    return reply(registered.props.maxConnections == 1 ? hbm::ConnectStatus::AlreadyStarted
                                                      : hbm::ConnectStatus::OutOfResources);
  auto connection =
      std::make_shared<Connection>(this, req.meAddr, req.hostAddr, nextConnectionId_++, registered.client.get(),
                                   registered.traffic);
  connections_[connection->key()] = connection;
  ++registered.connections;
  reply(hbm::ConnectStatus::Success);
  registered.client->onConnect(connection);
  connection->grantCredit();
}

void HbmEngine::handleHostDisconnect(const hbm::ConnectReq& req) {
  auto connection = findConnection(req.meAddr, req.hostAddr);
  sendBus(hbm::encodeConnectRes(Command::ClientDisconnect, {req.meAddr, req.hostAddr, 0}));
  if (connection) closeConnection(connection);
}

void HbmEngine::handleDisconnectResponse(const hbm::ConnectRes& res) {
  auto connection = findConnection(res.meAddr, res.hostAddr);
  if (connection && connection->closing()) closeConnection(connection);
}

void HbmEngine::handleFlowControl(const hbm::FlowControl& fc) {
  if (auto connection = findConnection(fc.meAddr, fc.hostAddr)) connection->addHostCredit();
}

void HbmEngine::handleNotify(const hbm::NotifyReq& req) {
  auto connection = findConnection(req.meAddr, req.hostAddr);
  if (!connection) {
    return sendBus(hbm::encode(hbm::NotifyRes{req.meAddr, req.hostAddr, hbm::Status::ClientNotFound, req.start}));
  }
  const bool was = connection->notifyEnabled();
  connection->setNotify(req.start);
  sendBus(hbm::encode(hbm::NotifyRes{req.meAddr, req.hostAddr, hbm::Status::Success, req.start}));
  if (was != req.start) connection->client()->onNotifyChange(connection, req.start);
}

void HbmEngine::onClientData(const hbm::Frame& frame) {
  hbm::Bytes message;
  switch (reassembler_.add(frame, message)) {
    case hbm::Reassembler::Result::Incomplete: return;
    case hbm::Reassembler::Result::TooLong: return protocolError("message exceeds any client's maximum");
    case hbm::Reassembler::Result::Complete: break;
  }
  auto connection = findConnection(frame.header.meAddr, frame.header.hostAddr);
  if (!connection || connection->closing()) {
    MESIM_LOG(Debug, "hbm", "dropped message for unconnected " << int(frame.header.meAddr) << ":"
                                                                 << int(frame.header.hostAddr));
    return;
  }
  auto& registered = clients_.at(connection->meAddr());
  if (!connection->consumeCredit() || message.size() > registered.props.maxMsgLength) {
    ++stats_.flowControlViolations;
    MESIM_LOG(Warn, "hbm", "host " << int(frame.header.hostAddr) << " broke flow control on "
                                   << connection->client()->name() << " (" << message.size()
                                   << " bytes); disconnecting it");
    connection->disconnect();
    return;
  }
  ++stats_.messagesIn;
  ++registered.traffic.messagesIn;
  registered.traffic.bytesIn += message.size();
  auto keepAlive = connection;
  connection->client()->onMessage(connection, message);
  connection->grantCredit();
}

std::shared_ptr<HbmEngine::Connection> HbmEngine::findConnection(std::uint8_t meAddr, std::uint8_t hostAddr) {
  auto it = connections_.find(static_cast<std::uint16_t>(meAddr << 8 | hostAddr));
  return it == connections_.end() ? nullptr : it->second;
}

void HbmEngine::closeConnection(const std::shared_ptr<Connection>& connection) {
  // `connection` may refer to the map entry erased below: work on a copy.
  std::shared_ptr<Connection> keep = connection;
  connections_.erase(keep->key());
  reassembler_.drop(keep->meAddr(), keep->hostAddress());
  if (auto it = clients_.find(keep->meAddr()); it != clients_.end() && it->second.connections > 0)
    --it->second.connections;
  keep->detachFromEngine();
  keep->client()->onDisconnect(keep);
}

void HbmEngine::dropConnections() {
  while (!connections_.empty()) closeConnection(connections_.begin()->second);
}

}  // namespace mesim::firmware
