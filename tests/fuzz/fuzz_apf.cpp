// The APF codec and the ME's APF session (spec/apf.md §1, §2) under arbitrary host input.
// Input: one flags byte (bit 0: run LMS's handshake first; bit 1: peers refuse writes; bit 2: USERAUTH), then
// records of u16 big-endian length + one APF message from the host. Every record is also decoded on its own:
// what decodes must re-encode to a message that decodes equal. The session must never crash, never send a
// message the codec cannot read or longer than max_msg_length, never a CHANNEL_DATA over 4095 bytes.
#include <cstdlib>

#include "firmware/lme/apf_session.h"
#include "firmware/lme/lms_event.h"
#include "tests/fuzz/fuzz_channel_peer.h"
#include "tests/unit/firmware_test_support.h"

namespace {

namespace apf = mesim::lme::apf;
using mesim::hbm::Bytes;
using mesim::hbm::ByteView;

void check(const mesim::test::RecordingConnection& connection, std::size_t mtu) {
  for (const auto& m : connection.sent) {
    if (m.size() > mtu) std::abort();
    auto d = apf::decode(m);
    if (!d.message || d.trailingBytes) std::abort();
    if (auto* data = std::get_if<apf::ChannelData>(&*d.message); data && data->data.size() > apf::kLmsMaxDataPayload)
      std::abort();
  }
}

void roundTrip(ByteView bytes) {
  auto d = apf::decode(bytes);
  if (!d.message) return;
  auto again = apf::decode(apf::encode(*d.message));
  if (!again.message || !(*again.message == *d.message)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mesim::test::LogThreshold quiet(mesim::log::Level::Off);
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  mesim::lme::ApfSessionOptions options;
  options.authenticate = flags & 4;
  options.maxBufferedFromHost = 16384;
  auto connection = std::make_shared<mesim::test::RecordingConnection>();
  auto session = std::make_shared<mesim::lme::ApfSession>(
      connection, options, [refuse = (flags & 2) != 0](std::uint32_t) {
        return std::make_shared<mesim::test::FuzzChannelPeer>(refuse, 6000, 3000);
      });
  session->start();
  if (flags & 1) {
    session->onHostMessage(apf::encode(apf::ProtocolVersion{1, 0, 254, {}}));
    if (options.authenticate) {
      session->onHostMessage(apf::encode(apf::ServiceAccept{"auth@amt.intel.com"}));
      session->onHostMessage(apf::encode(apf::UserauthSuccess{}));
    }
    session->onHostMessage(apf::encode(apf::ServiceAccept{"pfwd@amt.intel.com"}));
    session->openDirectChannel("127.0.0.1", 0, std::make_shared<mesim::lme::BufferPeer>(Bytes(2000, 'e')));
  }
  std::size_t at = 1;
  while (at + 2 <= size) {
    std::size_t length = std::size_t{data[at]} << 8 | data[at + 1];
    at += 2;
    length = std::min(length, size - at);
    ByteView message(data + at, length);
    at += length;
    roundTrip(message);
    if (message.size() <= options.maxMessageLength) session->onHostMessage(message);  // the engine's limit
  }
  check(*connection, options.maxMessageLength);
  session->end();
  return 0;
}
