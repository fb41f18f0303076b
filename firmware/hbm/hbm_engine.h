// The ME side of HBM (spec/mei.md §2): start and version negotiation, enumeration, client
// properties, connect/disconnect both ways, flow-control credits, notifications, stop and reset,
// fragmentation and reassembly. Firmware clients register on its client bus.
// Single-threaded: every call and every callback runs on the io_context's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/log.h"
#include "firmware/hbm/firmware_client.h"
#include "hostif/link/hbm_wire.h"
#include "hostif/link/link.h"

namespace mesim::firmware {

struct HbmEngineOptions {
  std::uint32_t bufferSlots = hbm::kDefaultBufferSlots;  // circular-buffer depth used for fragmentation
  // HFSTS1..6 as a healthy AMT 16 corporate ME reports them (normal working state, init complete).
  hbm::ReadyInfo registers{{0x94000245, 0x09F10506, 0x00000020, 0x00004000, 0x00041F03, 0xC7E003CB}, 0};
  log::Context log;  // the device its log lines name
};

// A fault on the next `count` messages of one client in one direction (the control API's HBM faults, issue 11).
// The bus is hardware: a delay is real time, not firmware time.
struct MessageFault {
  enum class Action { Drop, Delay, Corrupt };
  enum class Direction { ToHost, ToFirmware };
  Action action = Action::Drop;
  Direction direction = Direction::ToHost;
  unsigned count = 1;                    // messages still to be hit
  std::chrono::milliseconds delay{0};    // Delay: how long each message is held
};
const char* toString(MessageFault::Action action);
const char* toString(MessageFault::Direction direction);

class HbmEngine {
 public:
  enum class State { WaitingForHost, Started, Stopped };

  struct Stats {
    std::size_t connections = 0;
    unsigned resets = 0;
    std::uint64_t messagesIn = 0;
    std::uint64_t messagesOut = 0;
    std::uint64_t flowControlViolations = 0;
    std::uint64_t messagesDropped = 0;    // by an injected MessageFault
    std::uint64_t messagesDelayed = 0;
    std::uint64_t messagesCorrupted = 0;
    // Client data (not bus messages) of one firmware client, both ways, across all its connections.
    struct ClientTraffic {
      const char* client = "";  // FirmwareClient::name()
      std::uint64_t messagesIn = 0;  // host -> firmware
      std::uint64_t bytesIn = 0;
      std::uint64_t messagesOut = 0;  // firmware -> host
      std::uint64_t bytesOut = 0;
    };
    std::vector<ClientTraffic> clients;  // by ME address
  };

  HbmEngine(boost::asio::io_context& io, HbmEngineOptions options = {});
  ~HbmEngine();
  HbmEngine(const HbmEngine&) = delete;
  HbmEngine& operator=(const HbmEngine&) = delete;

  // The client bus. Returns the ME address (1..255) given to the client; `fixedAddress` 0 = next free.
  std::uint8_t addClient(std::shared_ptr<FirmwareClient> client, std::uint8_t fixedAddress = 0);

  // Serves HBM on this link, replacing (and resetting) any previous one.
  void attach(std::shared_ptr<link::Endpoint> link);
  void detach();

  // Firmware-initiated reset (an internal error): every connection dropped, the host must restart.
  void reset(const std::string& reason);
  // ME_STOP_REQ: asks the host to stop (it answers with HOST_STOP).
  void requestStop(std::uint8_t reason);

  // ---- faults QA injects (the control API)
  // The ME address of the client whose GUID is `uuid`, if it is on the bus.
  std::optional<std::uint8_t> clientAddress(const hbm::Guid& uuid) const;
  const char* clientName(std::uint8_t meAddr) const;  // "" if none
  // Firmware-initiated disconnect (HBM CLIENT_DISCONNECT) of every connection to the client at `meAddr`, as the ME
  // does when a client fails; returns how many.
  std::size_t disconnectClient(std::uint8_t meAddr);
  // The next `fault.count` messages of the client at `meAddr` in `fault.direction` are dropped (the sender believes
  // them sent: a dropped answer keeps the host's credit, a dropped request is consumed), held for `fault.delay`
  // (later ones wait behind it) or corrupted (every byte inverted, the length kept). Replaces a pending fault of
  // that client and direction.
  void injectMessageFault(std::uint8_t meAddr, MessageFault fault);
  struct PendingMessageFault {
    std::uint8_t meAddr;
    MessageFault fault;  // `count`: messages still to be hit
  };
  std::vector<PendingMessageFault> messageFaults() const;
  void clearMessageFaults();
  // The registers the host reads outside HBM (fw_status, TRC): kept for the next READY and, while a link is
  // attached, sent at once (REGISTERS link-control frame, docs/hbm-link.md), as a status register changes under a
  // running host.
  void setRegisters(const hbm::ReadyInfo& registers);
  const hbm::ReadyInfo& registers() const { return options_.registers; }

  State state() const { return state_; }
  hbm::Version negotiatedVersion() const { return negotiated_; }
  Stats stats() const;

  const log::Context& logContext() const { return options_.log; }

 private:
  class Connection;
  struct RegisteredClient {
    std::shared_ptr<FirmwareClient> client;
    hbm::ClientProperties props;
    std::size_t connections = 0;
    Stats::ClientTraffic traffic;
  };

  void onFrame(hbm::Frame frame);
  void onBusMessage(hbm::ByteView message);
  void onClientData(const hbm::Frame& frame);
  void handleHostStart(const hbm::HostStartReq& req);
  void handleConnect(const hbm::ConnectReq& req);
  void handleHostDisconnect(const hbm::ConnectReq& req);
  void handleDisconnectResponse(const hbm::ConnectRes& res);
  void handleFlowControl(const hbm::FlowControl& fc);
  void handleNotify(const hbm::NotifyReq& req);
  void protocolError(const std::string& what);
  void sendBus(hbm::Bytes message);
  void sendMessage(std::uint8_t meAddr, std::uint8_t hostAddr, hbm::ByteView message, Stats::ClientTraffic& traffic);
  void dropConnections();
  void closeConnection(const std::shared_ptr<Connection>& connection);
  // The fault that hits the next message of `meAddr` in `direction`, counted down; none when no fault is pending.
  std::optional<MessageFault> takeMessageFault(std::uint8_t meAddr, MessageFault::Direction direction);
  void deliver(const std::shared_ptr<Connection>& connection, const hbm::Bytes& message);
  std::shared_ptr<Connection> findConnection(std::uint8_t meAddr, std::uint8_t hostAddr);

  boost::asio::io_context& io_;
  HbmEngineOptions options_;
  std::map<std::pair<std::uint8_t, MessageFault::Direction>, MessageFault> messageFaults_;
  std::shared_ptr<link::Endpoint> link_;
  State state_ = State::WaitingForHost;
  hbm::Version negotiated_{};
  std::map<std::uint8_t, RegisteredClient> clients_;  // by ME address
  std::map<std::uint16_t, std::shared_ptr<Connection>> connections_;  // key me << 8 | host
  hbm::Reassembler reassembler_;
  std::uint64_t nextConnectionId_ = 1;
  Stats stats_;
};

}  // namespace mesim::firmware
