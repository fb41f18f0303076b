// Arbitrary AMTHI requests into the AMTHI client over a real platform model (in a temp state dir):
// every input must get an answer or be dropped, never crash, never corrupt the state file.
#include <cstdlib>
#include <filesystem>

#include "firmware/clients/amthi_client.h"
#include "firmware/platform/platform_model.h"
#include "tests/fuzz/fuzz_platform.h"

namespace {

struct Fixture : mesim::test::FuzzPlatform {
  Fixture() : FuzzPlatform("fuzz-amthi") {
    client = mesim::clients::makeAmthiClient(*platform);
  }
  std::unique_ptr<mesim::firmware::FirmwareClient> client;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  auto connection = std::make_shared<mesim::test::RecordingConnection>();
  fixture.client->onConnect(connection);
  fixture.client->onMessage(connection, mesim::hbm::ByteView(data, size));
  for (auto& reply : connection->sent)
    if (reply.size() > fixture.client->properties().maxMsgLength) std::abort();  // never more than the MTU
  fixture.client->onDisconnect(connection);
  return 0;
}
