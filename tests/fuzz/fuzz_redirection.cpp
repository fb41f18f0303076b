// Arbitrary bytes from a console into a redirection session (wsman/redirection: the codec, the login data, the
// session state machine over the Digest authenticator and a serial host), split into reads of a size the first byte
// picks; its top bit opens the session as the web variant's (/ws-redirection: an HTTP user behind it, so the empty
// Kerberos login is taken). Every input must end with the session ended or in a state it can leave, its firmware
// timers cancelled by the end, and the SOL slot free once it ended: no crash, no hang, no slot held by a dead session.
#include <cstdlib>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "tests/fuzz/fuzz_platform.h"
#include "wsman/http/digest_auth.h"
#include "wsman/redirection/redirection_codec.h"
#include "wsman/redirection/redirection_session.h"

namespace {

using namespace mesim::wsman::redirection;

struct NullSerialHost final : SerialPortHost {
  void toHost(std::string_view bytes) override { received += bytes.size(); }
  void setFromHost(Sink s) override { sink = std::move(s); }
  std::string describe() const override { return "null"; }
  std::size_t received = 0;
  Sink sink;
};

struct Fixture : mesim::test::FuzzPlatform {
  Fixture() : FuzzPlatform("fuzz-redirection"), timers(io, clock) {
    mesim::wsman::http::DigestOptions digest;
    digest.auditSuccessfulLogins = false;
    digest.lockoutThreshold = 1'000'000;  // keep inputs independent
    auth = std::make_unique<mesim::wsman::http::DigestAuthenticator>(*platform, clock, digest);
    service = std::make_unique<RedirectionService>(*platform, timers, *auth);
    service->setSerialHost(&serial);
  }
  boost::asio::io_context io;
  mesim::core::ManualFirmwareClock clock;
  mesim::core::FirmwareTimerQueue timers;
  std::unique_ptr<mesim::wsman::http::DigestAuthenticator> auth;
  NullSerialHost serial;
  std::unique_ptr<RedirectionService> service;
};

// Decodes every message of `input` and checks that each re-encodes to bytes that decode the same way.
void codecRoundTrips(std::span<const std::uint8_t> input) {
  std::size_t at = 0;
  while (at < input.size()) {
    auto decoded = decodeMessage(input.subspan(at));
    if (!decoded || !*decoded) return;
    const auto& d = **decoded;
    if (d.length == 0 || d.length > input.size() - at) std::abort();
    const auto again = encode(d.message);
    auto redecoded = decodeMessage(again);
    if (!redecoded || !*redecoded || (*redecoded)->length != again.size()) std::abort();
    if (encode((*redecoded)->message) != again) std::abort();
    at += d.length;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  const std::span<const std::uint8_t> input(data, size);
  codecRoundTrips(input);
  (void)decodeCleartext(input);
  (void)decodeDigest(input);
  (void)decodeDigestChallenge(input);
  if (size == 0) return 0;

  const std::size_t chunk = 1 + data[0] % 32;
  RedirectionSessionOptions options;
  if (data[0] & 0x80) options.httpUser = "admin";
  const auto body = input.subspan(1);
  bool closed = false;
  std::size_t written = 0;
  {
    auto session = f.service->open({[&](std::vector<std::uint8_t> m) { written += m.size(); }, [&] { closed = true; }},
                                   "192.0.2.1", options);
    for (std::size_t at = 0; at < body.size() && !closed; at += chunk)
      session->receive(body.subspan(at, std::min(chunk, body.size() - at)));
    if (f.serial.sink) f.serial.sink("host output");  // the host talks while SOL may be open
    if (closed != (session->state() == RedirectionSession::State::Ended)) std::abort();
    f.clock.advance(std::chrono::minutes(4));  // past every silence limit: 60 s, or 3 heartbeats of at most 65.5 s
    if (session->state() != RedirectionSession::State::Ended) std::abort();
  }
  if (f.service->solSession() != nullptr || f.service->sessionCount() != 0) std::abort();
  if (f.timers.size() != 0) std::abort();  // a timer outlived its session
  if (f.platform->state().logs.auditLog.size() > 64 || f.platform->state().logs.messageLog.size() > 64)
    f.platform->update([](mesim::platform::PlatformState& s) {
      s.logs.auditLog.clear();
      s.logs.messageLog.clear();
    });
  return 0;
}
