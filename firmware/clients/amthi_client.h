// The AMTHI (PTHI) firmware client, spec/mei.md §4: answers host commands from the platform model and
// persists the changes they make. One request, one response, per connection, in order.
#pragma once

#include <functional>
#include <memory>

#include "firmware/clients/amthi_codec.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/hbm/firmware_client.h"
#include "firmware/platform/platform_model.h"

namespace mesim::clients {

struct AmthiOptions {
  // LMS opens a connection per command and rpc-go holds one per operation, so allow many at once (real
  // firmware reports a small number and the host retries on EBUSY). 128 leaves room below the 255 host addresses.
  std::uint8_t maxConnections = 128;
  // rpc-go decodes fixed-size structs from a max_msg_length buffer: GetCiraLog needs 2797 bytes.
  std::uint32_t maxMessageLength = 4096;
  // Runs `then` once the platform's TLS certificate exists, making it if need be (a device makes it on first
  // use, and StartConfigurationHBased reports its hash). Unset: the stored hash is reported as it is.
  std::function<void(std::function<void()> then)> whenCertificateExists;
  // Time stamps of the audit records AMTHI writes (Unprovision); unset: 0.
  const core::FirmwareClock* clock = nullptr;
};

class AmthiClient final : public firmware::FirmwareClient {
 public:
  static constexpr std::uint8_t kProtocolVersion = 1;

  explicit AmthiClient(platform::PlatformModel& platform, AmthiOptions options = {});

  hbm::ClientProperties properties() const override;
  const char* name() const override { return "AMTHI"; }
  void onMessage(const std::shared_ptr<firmware::ClientConnection>& connection, hbm::ByteView message) override;

  // The response to one request message: what onMessage sends. Never throws; every request gets an answer
  // (malformed ones an error status) because the host blocks on its read until one comes.
  hbm::Bytes respond(hbm::ByteView request);

  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  hbm::Bytes dispatch(amthi::Command command, hbm::ByteView payload);
  hbm::Bytes unprovision(hbm::ByteView payload);
  hbm::Bytes startConfigurationHBased(hbm::ByteView payload);
  hbm::Bytes stopConfiguration();
  hbm::Bytes setEnterpriseAccess(hbm::ByteView payload);
  hbm::Bytes setHostFqdn(hbm::ByteView payload);
  hbm::Bytes userInitiatedConnection(amthi::Command command);
  hbm::Bytes lanInterfaceSettings(hbm::ByteView payload);
  hbm::Bytes ipv6LanInterfaceStatus(hbm::ByteView payload);
  hbm::Bytes featuresState(hbm::ByteView payload);
  hbm::Bytes certHashEntry(hbm::ByteView payload);
  hbm::Bytes amtState(hbm::ByteView payload);
  hbm::Bytes changeFailed(amthi::Command command, platform::ChangeResult result, amthi::Status invalidState);

  platform::PlatformModel& platform_;
  AmthiOptions options_;
};

std::unique_ptr<firmware::FirmwareClient> makeAmthiClient(platform::PlatformModel& platform, AmthiOptions options = {});

}  // namespace mesim::clients
