// Arbitrary MKHI requests into both MKHI clients (the tools' client and the kernel's fix client).
#include <cstdlib>

#include "firmware/clients/client_guids.h"
#include "firmware/clients/mkhi_client.h"
#include "firmware/platform/platform_model.h"
#include "tests/fuzz/fuzz_platform.h"

namespace {

struct Fixture : mesim::test::FuzzPlatform {
  Fixture() : FuzzPlatform("fuzz-mkhi") {
    mkhi = mesim::clients::makeMkhiClient(*platform, mesim::clients::kMkhiGuid);
    fix = mesim::clients::makeMkhiClient(*platform, mesim::clients::kMkhiFixGuid);
  }
  std::unique_ptr<mesim::firmware::FirmwareClient> mkhi;
  std::unique_ptr<mesim::firmware::FirmwareClient> fix;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  for (auto* client : {fixture.mkhi.get(), fixture.fix.get()}) {
    auto connection = std::make_shared<mesim::test::RecordingConnection>();
    client->onConnect(connection);
    client->onMessage(connection, mesim::hbm::ByteView(data, size));
    for (auto& reply : connection->sent)
      if (reply.size() > client->properties().maxMsgLength) std::abort();
    client->onDisconnect(connection);
  }
  return 0;
}
