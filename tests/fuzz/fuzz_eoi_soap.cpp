// Arbitrary legacy EOI SOAP requests (wsman/eoi) into LegacySoapService over a real platform model: the first byte
// picks the service's path, the rest is the body. Every input gets HTTP 200 (an answer) or 500 (a SOAP Fault)
// with a body that parses as XML, never a crash.
#include <cstdlib>
#include <string_view>

#include <pugixml.hpp>

#include "firmware/platform/host_power.h"
#include "tests/fuzz/fuzz_platform.h"
#include "wsman/eoi/eoi_service.h"
#include "wsman/eoi/eoi_soap.h"

namespace {

struct Fixture : mesim::test::FuzzPlatform {
  Fixture() : FuzzPlatform("fuzz-eoi") {
    power = std::make_unique<mesim::platform::HostPowerStateMachine>(*platform, clock);
    service = std::make_unique<mesim::wsman::eoi::LegacySoapService>(*platform, clock, *power);
  }
  mesim::core::ManualFirmwareClock clock{mesim::core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  std::unique_ptr<mesim::platform::HostPowerStateMachine> power;
  std::unique_ptr<mesim::wsman::eoi::LegacySoapService> service;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  if (size == 0) return 0;
  const auto services = mesim::wsman::eoi::eoiServices();
  // One value past the services: a path none serves.
  const std::size_t pick = data[0] % (services.size() + 1);
  const std::string path = pick < services.size() ? std::string(services[pick].path) : "/NoSuchService";
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto answer = fixture.service->handle(path, body, {"admin", false, "192.0.2.1"});
  if (answer.httpStatus != 200 && answer.httpStatus != 500) std::abort();
  pugi::xml_document doc;
  if (!doc.load_buffer(answer.body.data(), answer.body.size())) std::abort();
  fixture.clock.advance(std::chrono::seconds(1));
  return 0;
}
