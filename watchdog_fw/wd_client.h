// The watchdog firmware client (GUID 05B79A6F-4628-4D7F-899D-A91514CB32AB, protocol version 2; spec/mei.md §3):
// START_WD_TIMER arms and re-arms the OS watchdog, STOP disarms it, every START is answered with {status,
// wdstate}; wdstate NOT_REQUIRED while AMT is disabled or unprovisioned (the timer is then not armed) and an
// HBM NOTIFICATION goes to every connection when that changes. The same client serves the state-independence
// commands IsChangeToAMTEnabled and SetAmtOperationalState (rpc-go, LMS).
// A host that disconnects without STOP leaves the timer running: that is what a crashed OS looks like.
#pragma once

#include <memory>
#include <vector>

#include "firmware/hbm/firmware_client.h"
#include "firmware/platform/platform_model.h"
#include "hostif/link/hbm_wire.h"
#include "watchdog_fw/os_watchdog.h"
#include "watchdog_fw/watchdog_store.h"
#include "watchdog_fw/wd_codec.h"

namespace mesim::watchdog {

// UUID_LE(0x05B79A6F, 0x4628, 0x4D7F, 0x89, 0x9D, 0xA9, 0x15, 0x14, 0xCB, 0x32, 0xAB) (mei_wdt.c MEI_UUID_WD).
inline constexpr hbm::Guid kWatchdogGuid{{0x6F, 0x9A, 0xB7, 0x05, 0x28, 0x46, 0x7F, 0x4D, 0x89, 0x9D, 0xA9, 0x15, 0x14,
                                          0xCB, 0x32, 0xAB}};

struct WatchdogClientOptions {
  std::uint8_t protocolVersion = 2;  // > 1: the kernel waits for a response to every ping
  // More than one: the kernel's mei_wdt keeps its connection for good, and rpc-go/LMS open the same GUID for
  // the manageability commands at the same time.
  std::uint8_t maxConnections = 4;
  std::uint32_t maxMessageLength = 512;
};

class WatchdogClient final : public firmware::FirmwareClient {
 public:
  WatchdogClient(platform::PlatformModel& platform, WatchdogStore& store, OsWatchdog& watchdog,
                 WatchdogClientOptions options = {});
  ~WatchdogClient() override;

  hbm::ClientProperties properties() const override;
  const char* name() const override { return "WD"; }
  void onConnect(const std::shared_ptr<firmware::ClientConnection>& connection) override;
  void onMessage(const std::shared_ptr<firmware::ClientConnection>& connection, hbm::ByteView message) override;
  void onDisconnect(const std::shared_ptr<firmware::ClientConnection>& connection) override;

  // The response to one request, or nullopt when none is due (STOP, messages that are not ours).
  std::optional<hbm::Bytes> respond(hbm::ByteView request);
  // AMT disabled or not provisioned: the host needs no OS watchdog.
  bool notRequired() const;
  // Re-evaluates NOT_REQUIRED and notifies the connections if it changed (called on platform changes).
  void checkRequired();

  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  platform::PlatformModel& platform_;
  WatchdogStore& store_;
  OsWatchdog& watchdog_;
  WatchdogClientOptions options_;
  std::vector<std::shared_ptr<firmware::ClientConnection>> connections_;
  bool lastNotRequired_;
  std::size_t observer_ = 0;
};

}  // namespace mesim::watchdog
