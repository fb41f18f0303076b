// The ME side of HBM (spec/mei.md §2): start and version negotiation, enumeration, client
// properties, connect/disconnect both ways, flow-control credits, notifications, stop and reset,
// fragmentation and reassembly. Firmware clients register on its client bus.
// Single-threaded: every call and every callback runs on the io_context's thread.
#pragma once

#include <cstdint>
#include <map>
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

class HbmEngine {
 public:
  enum class State { WaitingForHost, Started, Stopped };

  struct Stats {
    std::size_t connections = 0;
    unsigned resets = 0;
    std::uint64_t messagesIn = 0;
    std::uint64_t messagesOut = 0;
    std::uint64_t flowControlViolations = 0;
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
  std::shared_ptr<Connection> findConnection(std::uint8_t meAddr, std::uint8_t hostAddr);

  HbmEngineOptions options_;
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
