// Arbitrary bytes into the watchdog codec and the WD firmware client (OS watchdog on a manual clock): no
// crash, every answer a well-formed START response or one of the manageability replies.
#include <cstdlib>

#include <boost/asio/io_context.hpp>

#include "firmware/core/firmware_timer_queue.h"
#include "tests/fuzz/fuzz_platform.h"
#include "watchdog_fw/watchdog_feature.h"

namespace {

struct Fixture : mesim::test::FuzzPlatform {
  Fixture() : FuzzPlatform("fuzz-wd") {
    auto created = mesim::watchdog::WatchdogFeature::create(timers, *platform, nullptr, nullptr, {});
    if (!created) std::abort();
    feature = std::move(*created);
  }
  boost::asio::io_context io;
  mesim::core::ManualFirmwareClock clock;
  mesim::core::FirmwareTimerQueue timers{io, clock};
  std::unique_ptr<mesim::watchdog::WatchdogFeature> feature;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  mesim::hbm::ByteView in(data, size);
  (void)mesim::watchdog::wd::decodeRequest(in);
  mesim::watchdog::wd::StartResponse r;
  (void)mesim::watchdog::wd::decodeStartResponse(in, r);
  auto connection = std::make_shared<mesim::test::RecordingConnection>();
  auto client = f.feature->client();
  client->onConnect(connection);
  client->onMessage(connection, in);
  for (auto& reply : connection->sent) {
    if (reply.size() > client->properties().maxMsgLength) std::abort();
    if (reply.size() == 6 && !mesim::watchdog::wd::decodeStartResponse(reply, r)) std::abort();
  }
  client->onDisconnect(connection);
  f.clock.advance(std::chrono::seconds(size % 7));  // let armed timers expire now and then
  f.io.poll();
  f.io.restart();
  return 0;
}
