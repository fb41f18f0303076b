// Arbitrary bytes from an NBD client into a connection (hostif/nbd nbd_protocol), split into reads of a size the
// first byte picks; the source serves 1 MiB, answering reads at once or, when the second byte says so, later (the
// IDE-R console's way). No crash, no hang, nothing buffered past the limits, every reply to a live connection.
#include <cstdlib>
#include <deque>
#include <functional>

#include "common/log.h"
#include "hostif/nbd/nbd_protocol.h"

namespace {

using namespace mesim::hostif::nbd;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (mesim::log::setThreshold(mesim::log::Level::Off), true);
  (void)quiet;
  if (size < 2) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const bool later = data[1] & 1;
  const bool available = !(data[1] & 2);
  const std::span<const std::uint8_t> body(data + 2, size - 2);

  std::deque<std::function<void()>> pending;
  NbdSource source;
  source.size = [&]() -> std::optional<std::uint64_t> {
    if (!available) return std::nullopt;
    return 1u << 20;
  };
  source.unavailableReason = [] { return std::string("no media"); };
  source.blockSize = [] { return 2048u; };
  source.read = [&](std::uint64_t offset, std::uint32_t length,
                    std::function<void(mesim::Result<std::vector<std::uint8_t>>)> done) {
    if (offset + length > (1u << 20)) std::abort();  // the connection checks bounds before reading
    auto answer = [length, done = std::move(done)] { done(std::vector<std::uint8_t>(length, 0xA5)); };
    if (later) pending.push_back(std::move(answer));
    else answer();
  };
  std::size_t written = 0;
  bool closed = false;
  {
    NbdConnection connection(source, {[&](std::vector<std::uint8_t> b) { written += b.size(); },
                                      [&](const std::string&) { closed = true; }});
    connection.start();
    for (std::size_t at = 0; at < body.size() && !closed; at += chunk) {
      connection.receive(body.subspan(at, std::min(chunk, body.size() - at)));
      if (!pending.empty() && (at / chunk) % 3 == 0) {
        auto next = std::move(pending.front());
        pending.pop_front();
        next();
      }
    }
    while (!pending.empty() && pending.size() < 1000) {
      auto next = std::move(pending.front());
      pending.pop_front();
      next();
    }
    if (connection.readsInFlight() != 0) std::abort();
  }
  // Answers that arrive after the connection is gone are dropped.
  for (auto& p : pending) p();
  return 0;
}
