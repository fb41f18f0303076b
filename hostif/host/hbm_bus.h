// The bus half of the host model (the kernel's hbm.c and the reset flow of init.c, spec/mei.md §2): link
// reset and ready, HOST_START, capabilities, enumeration, stop, resets, the device state, and the dispatch of
// received bus messages and client data to the host clients (HbmBus::Listener).
//
// Threading: everything on the io_context of the link; the listener is called there.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "hostif/host/host_types.h"
#include "hostif/link/link.h"

namespace mesim::host {

class HbmBus {
 public:
  // What the bus hands to the clients layer (client.c's entry points in the kernel).
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void onConnectRes(const hbm::ConnectRes& res) = 0;
    virtual void onDisconnectRes(const hbm::ConnectRes& res) = 0;
    virtual void onFirmwareDisconnect(const hbm::ConnectReq& req) = 0;
    virtual void onFlowControl(const hbm::FlowControl& credit) = 0;
    virtual void onNotifyRes(const hbm::NotifyRes& res) = 0;
    virtual void onNotification(const hbm::Notification& notification) = 0;
    // A whole message for a connected client (reassembled from its fragments).
    virtual void onClientMessage(std::uint8_t meAddr, std::uint8_t hostAddr, hbm::Bytes message) = 0;
    // The bus went down or is resetting: every open file fails.
    virtual void onBusLost() = 0;
    // Enumeration is done; called once just before the state turns ENABLED and once just after.
    virtual void onEnabling() = 0;
    virtual void onEnabled() = 0;
  };

  HbmBus(boost::asio::io_context& io, std::shared_ptr<link::Endpoint> link, const HostOptions& options,
         Listener& listener);
  ~HbmBus();
  HbmBus(const HbmBus&) = delete;
  HbmBus& operator=(const HbmBus&) = delete;

  void start();
  void reset(const std::string& reason);
  void stop();

  DevState state() const { return state_; }
  void onStateChange(std::function<void(DevState)> callback) { stateCallbacks_.push_back(std::move(callback)); }
  hbm::Version negotiatedVersion() const { return negotiated_; }
  const std::vector<MeClient>& clients() const { return clients_; }
  const MeClient* findClient(const hbm::Guid& uuid) const;
  bool hasClient(std::uint8_t meAddr, const hbm::Guid& uuid) const;
  void removeClient(std::uint8_t meAddr);  // the firmware said NOT_FOUND on connect
  const hbm::ReadyInfo& registers() const { return registers_; }
  unsigned totalResets() const { return totalResets_; }

  void sendBus(hbm::Bytes message);
  // One client message, fragmented to the firmware's buffer slots.
  void sendClientMessage(std::uint8_t meAddr, std::uint8_t hostAddr, const hbm::Bytes& message);

  const log::Context& logContext() const { return options_.log; }

 private:
  enum class Stage { Idle, WaitReady, WaitStart, WaitCaps, WaitEnum, WaitProps, Enabled, WaitStop };

  void expect(Stage stage);
  void setState(DevState state);
  void onFrame(hbm::Frame frame);
  void onBusMessage(const hbm::Bytes& message);
  void onHostStartRes(const hbm::HostStartRes& res);
  void sendEnum();
  void onEnumRes(const hbm::HostEnumRes& res);
  void requestNextProperties();
  void onPropertiesRes(const hbm::PropertiesRes& res);
  void onClientData(const hbm::Frame& frame);
  void enable();

  std::shared_ptr<link::Endpoint> link_;
  const HostOptions options_;
  Listener& listener_;
  boost::asio::steady_timer stageTimer_;
  Stage stage_ = Stage::Idle;
  DevState state_ = DevState::Initializing;
  std::vector<std::function<void(DevState)>> stateCallbacks_;
  bool stopping_ = false;
  unsigned consecutiveResets_ = 0;
  unsigned totalResets_ = 0;
  hbm::Version negotiated_{};
  std::vector<MeClient> clients_;
  std::vector<std::uint8_t> pendingProps_;
  hbm::Reassembler reassembler_;
  hbm::ReadyInfo registers_;
};

}  // namespace mesim::host
