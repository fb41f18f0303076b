// The CIRA client's input from an MPS (spec/apf.md §3): arbitrary bytes cut by the tunnel's own stream reader
// (firmware/cira/apf_stream.h) and fed to an APF session with the tunnel's options, in chunks the input chooses.
// Input: one flags byte (bit 0: the MPS admits the device first; bit 1: channel peers refuse writes; bits 4-7: the
// chunk size), then the stream. The session must never crash and never send a message the codec cannot read or a
// CHANNEL_DATA beyond its payload limit; the reader must never hand out a message longer than it allows.
#include <cstdlib>

#include "firmware/cira/apf_stream.h"
#include "firmware/cira/cira_client.h"
#include "firmware/lme/lms_event.h"
#include "tests/fuzz/fuzz_channel_peer.h"
#include "tests/unit/firmware_test_support.h"

namespace apf = mesim::lme::apf;
using mesim::hbm::ByteView;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mesim::test::LogThreshold quiet(mesim::log::Level::Off);
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  auto options = mesim::cira::tunnelSessionOptions({16993, 16992, 16995, 16994, 5900}, 32 * 1024);
  options.authUser = "0123456789abcdef";
  options.authPassword = "P@ssw0rd";
  options.maxBufferedFromHost = 64 * 1024;
  options.onKeepaliveOptions = [](std::uint32_t interval, std::uint32_t timeout) { return std::make_pair(interval, timeout); };
  options.onKeepaliveReply = [](std::uint32_t) {};
  auto connection = std::make_shared<mesim::test::RecordingConnection>();
  auto session = std::make_shared<mesim::lme::ApfSession>(
      connection, options, [refuse = (flags & 2) != 0](std::uint32_t) {
        return std::make_shared<mesim::test::FuzzChannelPeer>(refuse, 40000, 20000);
      });
  session->start();
  mesim::cira::ApfStreamReader reader;
  if (flags & 1) {
    for (const apf::Message& m : std::initializer_list<apf::Message>{
             apf::ServiceAccept{"auth@amt.intel.com"}, apf::UserauthSuccess{}, apf::ServiceAccept{"pfwd@amt.intel.com"}}) {
      auto bytes = apf::encode(m);
      reader.append(bytes);
    }
  }
  const std::size_t chunk = std::size_t{1} << (flags >> 4);  // 1 .. 32768 bytes per read
  bool over = false;
  for (std::size_t at = 1; at < size && !over; at += chunk) {
    reader.append(ByteView(data + at, std::min(chunk, size - at)));
    ByteView message;
    auto outcome = reader.next(message);
    for (; outcome == mesim::cira::ApfStreamReader::Outcome::Message && !over; outcome = reader.next(message)) {
      if (message.size() > mesim::cira::ApfStreamReader::kMaxFrame) std::abort();
      session->onHostMessage(message);
      over = session->state() == mesim::lme::ApfSession::State::Closed;
    }
    // The tunnel ends on a stream it cannot cut (unknown type, oversized frame).
    over = over || outcome == mesim::cira::ApfStreamReader::Outcome::UnknownType ||
           outcome == mesim::cira::ApfStreamReader::Outcome::TooLong;
  }
  for (const auto& m : connection->sent) {
    auto d = apf::decode(m);
    if (!d.message || d.trailingBytes) std::abort();
    if (auto* out = std::get_if<apf::ChannelData>(&*d.message); out && out->data.size() > session->maxDataPayload())
      std::abort();
  }
  session->end();
  return 0;
}
