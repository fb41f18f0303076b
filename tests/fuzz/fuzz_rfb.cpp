// Arbitrary bytes from a viewer into an RFB session (wsman/redirection: rfb_codec, rfb_session over a KvmService
// and a console screen), in the 5900 mode (VNC auth) or the KVMR mode (None, so the fuzzer reaches the message
// loop), split into reads of a size the first byte picks; also every client message decoded from the raw input
// re-encodes to the same bytes. Every input must end with the session ended by end(), the screen free, the
// handshake timer cancelled: no crash, no hang, no screen held by a dead session.
#include <cstdlib>
#include <filesystem>

#include <boost/asio/io_context.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "tests/fuzz/fuzz_platform.h"
#include "wsman/redirection/console_screen.h"
#include "wsman/redirection/rfb_codec.h"
#include "wsman/redirection/rfb_session.h"

namespace {

using namespace mesim::wsman::redirection;

struct Fixture : mesim::test::FuzzPlatform {
  Fixture()
      : FuzzPlatform("fuzz-rfb"),
        timers(io, clock),
        screen(PsfFont::fallback(), {.columns = 40, .rows = 12}, [this](std::string_view b) { typed += b.size(); }) {
    platform->update([](mesim::platform::PlatformState& s) {
      s.redirection.is5900PortEnabled = true;
      s.redirection.rfbPassword = "Kvm-Pa55";
    });
    service = std::make_unique<KvmService>(*platform, timers);
    service->setScreen(&screen);
  }
  boost::asio::io_context io;
  mesim::core::ManualFirmwareClock clock;
  mesim::core::FirmwareTimerQueue timers;
  std::size_t typed = 0;
  ConsoleScreen screen;
  std::unique_ptr<KvmService> service;
};

void codecRoundTrips(std::span<const std::uint8_t> input) {
  std::size_t at = 0;
  while (at < input.size()) {
    auto decoded = rfb::decodeClientMessage(input.subspan(at));
    if (!decoded || !*decoded) return;
    const auto& d = **decoded;
    if (d.length == 0 || d.length > input.size() - at) std::abort();
    if (rfb::encodeClientMessage(d.message) != std::vector<std::uint8_t>(input.begin() + at, input.begin() + at + d.length)) {
      // SetPixelFormat and the paddings carry bytes the encoder writes as zero: compare decoded values instead.
      auto again = rfb::decodeClientMessage(rfb::encodeClientMessage(d.message));
      if (!again || !*again || rfb::encodeClientMessage((*again)->message) != rfb::encodeClientMessage(d.message)) std::abort();
    }
    at += d.length;
  }
}

}  // namespace

// A session that reaches ServerInit writes its audit records durably (fsync) at start and end: on a disk that is
// ~10 ms per input, on tmpfs microseconds. The state dir goes to /dev/shm where there is one, so the replay's
// 20000 inputs take seconds, not minutes.
static bool stateOnTmpfs() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) ::setenv("TMPDIR", "/dev/shm", 1);
  return true;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool onTmpfs = stateOnTmpfs();
  (void)onTmpfs;
  static Fixture f;
  const std::span<const std::uint8_t> input(data, size);
  codecRoundTrips(input);
  if (size == 0) return 0;
  const auto mode = (data[0] & 0x80) ? RfbSession::Mode::Standard : RfbSession::Mode::Redirection;
  const std::size_t chunk = 1 + data[0] % 32;
  const auto body = input.subspan(1);
  bool closed = false;
  {
    auto session = f.service->open(mode, {[&](std::vector<std::uint8_t>) {}, [&] { closed = true; }}, "192.0.2.1");
    session->start();
    for (std::size_t at = 0; at < body.size() && !closed; at += chunk) {
      session->receive(body.subspan(at, std::min(chunk, body.size() - at)));
      f.screen.write((at / chunk) % 8 == 7 ? "\r\n" : "x");  // the host draws (and now and then scrolls) meanwhile
    }
    if (closed != (session->state() == RfbSession::State::Ended)) std::abort();
    session->end("input done");
  }
  if (f.service->busy() || f.timers.size() != 0) std::abort();
  if (f.platform->state().logs.auditLog.size() > 64)
    f.platform->update([](mesim::platform::PlatformState& s) { s.logs.auditLog.clear(); });
  return 0;
}
