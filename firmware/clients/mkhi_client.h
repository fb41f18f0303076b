// The MKHI firmware client, spec/mei.md §5 and spec/apf.md §4: firmware version, MKHI version and the FWCAPS
// rules LMS reads to decide that AMT is present. The same class serves the kernel's "MKHI fix" client
// (55213584-…), which asks for the firmware version and sends the OS version without waiting for a reply.
#pragma once

#include <memory>
#include <optional>

#include "firmware/clients/mkhi_codec.h"
#include "firmware/hbm/firmware_client.h"
#include "firmware/platform/platform_model.h"

namespace mesim::clients {

struct MkhiOptions {
  // One, as on hardware: with max_conn <= 1 the kernel lists the client on the MEI bus (bus-fixup.c), which
  // the MKHI fix needs and fwupd looks for. Hosts retry EBUSY (LMS 3 x 500 ms).
  std::uint8_t maxConnections = 1;
  std::uint32_t maxMessageLength = 512;
};

class MkhiClient final : public firmware::FirmwareClient {
 public:
  static constexpr std::uint8_t kProtocolVersion = 1;
  static constexpr mkhi::MkhiVersion kMkhiVersion{1, 1};  // minor, major

  MkhiClient(platform::PlatformModel& platform, hbm::Guid guid, MkhiOptions options = {});

  hbm::ClientProperties properties() const override;
  const char* name() const override { return name_; }
  void onMessage(const std::shared_ptr<firmware::ClientConnection>& connection, hbm::ByteView message) override;

  // The response to one request, or nullopt when none is due (the OS-version message). Unknown groups and
  // commands answer result INVALID_COMMAND (0x8D), wrong sizes SIZE_ERROR (0x05), unknown rules NOT_FOUND (0x81).
  std::optional<hbm::Bytes> respond(hbm::ByteView request);

  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  hbm::Bytes getRule(std::uint8_t command, hbm::ByteView payload);

  platform::PlatformModel& platform_;
  hbm::Guid guid_;
  MkhiOptions options_;
  const char* name_;
};

// `which` is kMkhiGuid or kMkhiFixGuid (firmware/clients/client_guids.h); another GUID gets MKHI behaviour too.
std::unique_ptr<firmware::FirmwareClient> makeMkhiClient(platform::PlatformModel& platform, hbm::Guid which);

}  // namespace mesim::clients
