#include "hostif/host/hbm_bus.h"

#include <algorithm>
#include <utility>

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

HbmBus::HbmBus(boost::asio::io_context& io, std::shared_ptr<link::Endpoint> link, const HostOptions& options,
               Listener& listener)
    : link_(std::move(link)), options_(options), listener_(listener), stageTimer_(io), reassembler_(1u << 20) {
  link_->onFrame([this](hbm::Frame frame) { onFrame(std::move(frame)); });
  link_->onDown([this] {
    setState(DevState::Disabled);
    listener_.onBusLost();
  });
}

HbmBus::~HbmBus() {
  link_->onFrame(nullptr);
  link_->onDown(nullptr);
}

// ------------------------------------------------------------------------------------------------ lifecycle

void HbmBus::start() {
  stopping_ = false;
  setState(DevState::Initializing);
  clients_.clear();
  reassembler_.reset();
  link_->send(hbm::makeLinkControl(hbm::LinkControl::Reset));
  expect(Stage::WaitReady);
}

void HbmBus::reset(const std::string& reason) {
  if (state_ == DevState::Disabled || state_ == DevState::PowerDown) return;
  MESIM_LOG(Warn, "host", "reset: " << reason);
  ++totalResets_;
  setState(DevState::Resetting);
  listener_.onBusLost();
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

void HbmBus::stop() {
  if (state_ == DevState::PowerDown) return;
  stopping_ = true;
  listener_.onBusLost();
  if (stage_ == Stage::Enabled) {
    sendBus(hbm::encodeStop(Command::HostStop, {0}));
    expect(Stage::WaitStop);
  }
  setState(DevState::PowerDown);
}

void HbmBus::expect(Stage stage) {
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

void HbmBus::setState(DevState state) {
  if (state_ == state) return;
  state_ = state;
  for (auto& callback : stateCallbacks_) callback(state);
}

void HbmBus::enable() {
  stage_ = Stage::Enabled;
  stageTimer_.cancel();
  consecutiveResets_ = 0;
  listener_.onEnabling();  // before the state callbacks, which may ask whether the fixup is done
  setState(DevState::Enabled);
  listener_.onEnabled();
}

// ------------------------------------------------------------------------------------------------ clients

const MeClient* HbmBus::findClient(const hbm::Guid& uuid) const {
  auto it = std::find_if(clients_.begin(), clients_.end(), [&](const MeClient& c) { return c.props.uuid == uuid; });
  return it == clients_.end() ? nullptr : &*it;
}

bool HbmBus::hasClient(std::uint8_t meAddr, const hbm::Guid& uuid) const {
  return std::any_of(clients_.begin(), clients_.end(),
                     [&](const MeClient& c) { return c.meAddr == meAddr && c.props.uuid == uuid; });
}

void HbmBus::removeClient(std::uint8_t meAddr) {
  std::erase_if(clients_, [&](const MeClient& c) { return c.meAddr == meAddr; });
}

// ------------------------------------------------------------------------------------------------ send

void HbmBus::sendBus(Bytes message) {
  hbm::Frame frame;
  frame.header.length = static_cast<std::uint16_t>(message.size());
  frame.payload = std::move(message);
  link_->send(std::move(frame));
}

void HbmBus::sendClientMessage(std::uint8_t meAddr, std::uint8_t hostAddr, const Bytes& message) {
  for (auto& frame : hbm::fragment(meAddr, hostAddr, message, options_.bufferSlots)) link_->send(std::move(frame));
}

// ------------------------------------------------------------------------------------------------ receive

void HbmBus::onFrame(hbm::Frame frame) {
  if (auto control = hbm::parseLinkControl(frame)) {
    if (*control == hbm::LinkControl::Ready) {
      if (stage_ != Stage::WaitReady) return;
      registers_ = hbm::parseReady(frame);
      setState(DevState::InitClients);
      sendBus(hbm::encode(hbm::HostStartReq{hbm::kMaxVersion}));
      expect(Stage::WaitStart);
    } else if (*control == hbm::LinkControl::Reset) {
      reset("firmware reset");
    } else if (*control == hbm::LinkControl::Registers) {
      registers_ = hbm::parseReady(frame);  // what the next read of fw_status or trc shows
    }
    return;
  }
  if (frame.header.length != frame.payload.size() || frame.header.internal)
    return reset("malformed frame from firmware");
  if (frame.header.isBusMessage()) return onBusMessage(frame.payload);
  onClientData(frame);
}

void HbmBus::onBusMessage(const Bytes& m) {
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
    case 0x86: return listener_.onConnectRes(*hbm::decodeConnectRes(m));
    case 0x87: return listener_.onDisconnectRes(*hbm::decodeConnectRes(m));
    case 0x07: {
      const hbm::ConnectReq req = *hbm::decodeConnect(m);
      sendBus(hbm::encodeConnectRes(Command::ClientDisconnect, {req.meAddr, req.hostAddr, 0}));
      return listener_.onFirmwareDisconnect(req);
    }
    case 0x08: return listener_.onFlowControl(*hbm::decodeFlowControl(m));
    case 0x90: return listener_.onNotifyRes(*hbm::decodeNotifyRes(m));
    case 0x11: return listener_.onNotification(*hbm::decodeNotification(m));
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

void HbmBus::onHostStartRes(const hbm::HostStartRes& res) {
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

void HbmBus::sendEnum() {
  std::uint8_t flags = negotiated_ >= hbm::kMinHostVersion ? 0x03 : 0x00;  // ALLOW_ADD | IMMEDIATE
  sendBus(hbm::encode(hbm::HostEnumReq{flags}));
  expect(Stage::WaitEnum);
}

void HbmBus::onEnumRes(const hbm::HostEnumRes& res) {
  if (stage_ != Stage::WaitEnum) return reset("unexpected HOST_ENUM response");
  pendingProps_.clear();
  for (unsigned a = 0; a < 256; ++a)
    if (res.validAddresses[a / 8] & (1u << (a % 8))) pendingProps_.push_back(static_cast<std::uint8_t>(a));
  requestNextProperties();
}

void HbmBus::requestNextProperties() {
  if (pendingProps_.empty()) return enable();
  sendBus(hbm::encode(hbm::PropertiesReq{pendingProps_.front()}));
  expect(Stage::WaitProps);
}

void HbmBus::onPropertiesRes(const hbm::PropertiesRes& res) {
  if (stage_ != Stage::WaitProps || pendingProps_.empty() || res.meAddr != pendingProps_.front())
    return reset("unexpected CLIENT_PROPERTIES response");
  pendingProps_.erase(pendingProps_.begin());
  if (res.status == hbm::Status::Success)
    clients_.push_back({res.meAddr, res.props});
  else if (res.status != hbm::Status::ClientNotFound)
    return reset("CLIENT_PROPERTIES failed");
  requestNextProperties();
}

void HbmBus::onClientData(const hbm::Frame& frame) {
  Bytes message;
  switch (reassembler_.add(frame, message)) {
    case hbm::Reassembler::Result::Incomplete: return;
    case hbm::Reassembler::Result::TooLong: return reset("oversized message from firmware");
    case hbm::Reassembler::Result::Complete: break;
  }
  listener_.onClientMessage(frame.header.meAddr, frame.header.hostAddr, std::move(message));
}

}  // namespace mesim::host
