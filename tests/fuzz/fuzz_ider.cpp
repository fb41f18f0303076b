// Arbitrary bytes from a console into an IDE-R session (wsman/redirection ider_codec and ider_session), split into
// reads of a size the first byte picks; the second byte picks whether the host boots (and from IDE-R) and whether
// the media is read, so that the console's answers meet commands in flight. Every input must end with the session
// ended once the firmware clock passes every limit, its timers cancelled, the slot free and every read answered.
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

#include <boost/asio/io_context.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "tests/fuzz/fuzz_platform.h"
#include "wsman/redirection/ider_codec.h"
#include "wsman/redirection/ider_session.h"

namespace {

using namespace mesim::wsman::redirection;

// Every session writes its audit and message-log records durably (fsync): on tmpfs that costs microseconds, on a
// disk milliseconds, which 20,000 replayed inputs cannot afford.
const char* stateOnTmpfs() {
  if (std::filesystem::is_directory("/dev/shm")) ::setenv("TMPDIR", "/dev/shm", 1);
  return "fuzz-ider";
}

struct Fixture : mesim::test::FuzzPlatform {
  Fixture() : FuzzPlatform(stateOnTmpfs()), timers(io, clock), hub(*platform, timers) {}
  boost::asio::io_context io;
  mesim::core::ManualFirmwareClock clock;
  mesim::core::FirmwareTimerQueue timers;
  IderHub hub;
};

void codecRoundTrips(std::span<const std::uint8_t> input) {
  std::size_t at = 0;
  while (at < input.size()) {
    auto decoded = decodeIderMessage(input.subspan(at));
    if (!decoded || !*decoded) return;
    const auto& d = **decoded;
    if (d.length == 0 || d.length > input.size() - at) std::abort();
    const auto again = encodeIder(d.message);
    auto redecoded = decodeIderMessage(again);
    if (!redecoded || !*redecoded || (*redecoded)->length != again.size()) std::abort();
    if (encodeIder((*redecoded)->message) != again) std::abort();
    at += d.length;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  const std::span<const std::uint8_t> input(data, size);
  codecRoundTrips(input);
  (void)parseReadCapacity(input);
  if (size < 2) return 0;

  const std::size_t chunk = 1 + data[0] % 64;
  const std::uint8_t control = data[1];
  const auto body = input.subspan(2);
  const bool useIder = control & 1;
  const std::uint32_t bootDevice = (control >> 1) & 1;
  if (f.platform->state().boot.useIder != useIder || f.platform->state().boot.iderBootDevice != bootDevice)
    f.platform->update([&](mesim::platform::PlatformState& s) {
      s.boot.useIder = useIder;
      s.boot.iderBootDevice = bootDevice;
    });
  bool closed = false;
  int reads = 0, answered = 0;
  {
    auto session = f.hub.open({[](std::vector<std::uint8_t>) {}, [&](const std::string&) { closed = true; }},
                              "192.0.2.1", "admin");
    if (!session) std::abort();
    bool booted = false;
    for (std::size_t at = 0; at < body.size() && !closed; at += chunk) {
      if (session->attached() && !booted && (control & 4)) {
        booted = true;
        f.hub.hostBooted();
      }
      if (session->attached() && f.hub.media().known && reads < 4 && (control & 8)) {
        ++reads;
        f.hub.read(control * 512ull, 4096, [&](mesim::Result<std::vector<std::uint8_t>>) { ++answered; });
      }
      session->receive(body.subspan(at, std::min(chunk, body.size() - at)));
    }
    if (closed != (session->state() == IderSession::State::Ended)) std::abort();
    f.clock.advance(std::chrono::minutes(4));  // past every limit: 3 heartbeats or a command timeout of <= 65.5 s
    if (session->state() != IderSession::State::Ended) std::abort();
  }
  if (answered != reads) std::abort();  // a read was never answered
  if (f.hub.session() != nullptr) std::abort();
  if (f.timers.size() != 0) std::abort();  // a timer outlived its session
  if (f.platform->state().logs.auditLog.size() > 64 || f.platform->state().logs.messageLog.size() > 64)
    f.platform->update([](mesim::platform::PlatformState& s) {
      s.logs.auditLog.clear();
      s.logs.messageLog.clear();
    });
  return 0;
}
