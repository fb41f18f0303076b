// What a firmware client (AMTHI, MKHI, LME, watchdog) sees of the HBM engine.
#pragma once

#include <cstdint>
#include <memory>

#include "hostif/link/hbm_wire.h"

namespace mesim::firmware {

using hbm::ByteView;
using hbm::Bytes;

// One host connection to a firmware client. The engine owns it; clients may keep a
// shared_ptr across async work: once closed, send() and notify() do nothing.
class ClientConnection {
 public:
  virtual ~ClientConnection() = default;
  // Queues one whole message for the host; sent when the host grants a credit, fragmented as needed.
  virtual void send(Bytes message) = 0;
  // Raises an HBM NOTIFICATION if the host enabled notifications on this connection.
  virtual void notify() = 0;
  // Firmware-initiated disconnect (HBM CLIENT_DISCONNECT 0x07).
  virtual void disconnect() = 0;
  // Back-pressure: after pauseReceive() (typically inside onMessage) the host gets no new credit,
  // so it may not send, until resumeReceive(). A host that sends anyway is disconnected.
  virtual void pauseReceive() = 0;
  virtual void resumeReceive() = 0;
  virtual bool isOpen() const = 0;
  virtual std::uint8_t hostAddress() const = 0;
  virtual std::uint64_t id() const = 0;  // unique for the engine's lifetime
};

// The properties of an ordinary (dynamic-address, multi-buffer) firmware client.
inline hbm::ClientProperties dynamicClientProperties(const hbm::Guid& uuid, std::uint8_t protocolVersion,
                                                     std::uint8_t maxConnections, std::uint32_t maxMsgLength) {
  hbm::ClientProperties props;
  props.uuid = uuid;
  props.protocolVersion = protocolVersion;
  props.maxConnections = maxConnections;
  props.maxMsgLength = maxMsgLength;
  return props;
}

class FirmwareClient {
 public:
  virtual ~FirmwareClient() = default;
  virtual hbm::ClientProperties properties() const = 0;
  virtual const char* name() const = 0;
  // The host connected; the engine grants the first credit after this returns.
  virtual void onConnect(const std::shared_ptr<ClientConnection>& connection) { (void)connection; }
  // One complete message from the host (never longer than max_msg_length).
  virtual void onMessage(const std::shared_ptr<ClientConnection>& connection, ByteView message) = 0;
  // The connection ended (host disconnect, firmware disconnect, reset or host stop).
  virtual void onDisconnect(const std::shared_ptr<ClientConnection>& connection) { (void)connection; }
  // The host turned notifications on or off on this connection.
  virtual void onNotifyChange(const std::shared_ptr<ClientConnection>& connection, bool enabled) {
    (void)connection;
    (void)enabled;
  }
};

}  // namespace mesim::firmware
