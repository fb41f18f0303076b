// Arbitrary request bodies into WsmanService over a real platform model (temp state dir): every input
// gets a well-formed SOAP answer (a response or a fault) with a valid HTTP status, never a crash.
#include <cstdlib>
#include <string_view>

#include <pugixml.hpp>

#include "firmware/platform/host_power.h"
#include "tests/fuzz/fuzz_platform.h"
#include "wsman/ops/wsman_service.h"

namespace {

struct Fixture : mesim::test::FuzzPlatform {
  Fixture() : FuzzPlatform("fuzz-wsman") {
    power = std::make_unique<mesim::platform::HostPowerStateMachine>(*platform, clock);
    service = std::make_unique<mesim::wsman::ops::WsmanService>(*platform, clock, *power);
  }
  mesim::core::ManualFirmwareClock clock{mesim::core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  std::unique_ptr<mesim::platform::HostPowerStateMachine> power;
  std::unique_ptr<mesim::wsman::ops::WsmanService> service;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  mesim::wsman::ops::WsmanService::isIdentify(body);
  auto result = fixture.service->handle(body, {"admin", false});
  if (result.httpStatus != 200 && result.httpStatus != 400 && result.httpStatus != 500) std::abort();
  pugi::xml_document doc;
  if (!doc.load_buffer(result.body.data(), result.body.size())) std::abort();
  fixture.clock.advance(std::chrono::seconds(1));
  return 0;
}
