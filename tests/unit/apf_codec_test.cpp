// The APF codec against spec/apf.md §1: sizes and byte layouts of every type, round trips, and malformed input.
#include <gtest/gtest.h>

#include "firmware/lme/apf_codec.h"

namespace mesim::lme::apf {
namespace {

Bytes bytesOf(std::initializer_list<int> list) {
  Bytes b;
  for (int v : list) b.push_back(static_cast<std::uint8_t>(v));
  return b;
}

std::vector<Message> samples() {
  ProtocolVersion pv;
  pv.triggerReason = 254;
  for (int i = 0; i < 16; ++i) pv.uuid[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(0xA0 + i);
  UserauthRequest none{"user", std::string(kServicePfwd), "none", std::nullopt};
  UserauthRequest password{"admin", std::string(kServicePfwd), "password", std::string("P@ssw0rd")};
  GlobalRequest forward{std::string(kTcpipForward), true, TcpipForward{"", 16992}};
  GlobalRequest cancel{std::string(kCancelTcpipForward), true, TcpipForward{"host.example", 623}};
  GlobalRequest udp{std::string(kUdpSendTo), false, UdpSendTo{"10.0.0.1", 162, "127.0.0.1", 1234, bytesOf({1, 2, 3})}};
  GlobalRequest other{"keepalive@openssh.com", true, bytesOf({9, 8, 7})};
  ChannelOpen open{std::string(kForwardedTcpip), 7, 1024, kReservedMaxPacket, "127.0.0.1", 16992, "127.0.0.1", 40000};
  return {Disconnect{2},
          ServiceRequest{std::string(kServicePfwd)},
          ServiceAccept{std::string(kServiceAuth)},
          none,
          password,
          UserauthFailure{"password", false},
          UserauthSuccess{},
          forward,
          cancel,
          udp,
          other,
          RequestSuccess{16992},
          RequestSuccess{},
          RequestFailure{},
          open,
          ChannelOpenConfirmation{7, 0, 4096, kReservedMaxPacket},
          ChannelOpenFailure{7, 4},
          ChannelWindowAdjust{0, 1024},
          ChannelData{3, bytesOf({'G', 'E', 'T'})},
          ChannelData{3, {}},
          ChannelClose{5},
          pv,
          KeepaliveRequest{0xDEADBEEF},
          KeepaliveReply{0xDEADBEEF},
          KeepaliveOptionsRequest{30, 0},
          KeepaliveOptionsReply{30, 90},
          JsonControl{"{\"action\":\"x\"}"}};
}

TEST(ApfCodec, EveryTypeRoundTrips) {
  for (const auto& m : samples()) {
    Bytes wire = encode(m);
    Decoded d = decode(wire);
    ASSERT_TRUE(d.message) << messageTypeName(wire[0]) << ": " << decodeErrorName(d.error);
    EXPECT_EQ(*d.message, m) << messageTypeName(wire[0]);
    EXPECT_EQ(d.trailingBytes, 0u);
    EXPECT_EQ(frameLength(wire), wire.size());
  }
}

TEST(ApfCodec, FixedSizesMatchTheSpec) {
  EXPECT_EQ(encode(Disconnect{2}).size(), kDisconnectSize);
  EXPECT_EQ(encode(ProtocolVersion{}).size(), kProtocolVersionSize);
  EXPECT_EQ(encode(ChannelOpenConfirmation{}).size(), kChannelOpenConfirmationSize);
  EXPECT_EQ(encode(ChannelOpenFailure{}).size(), kChannelOpenFailureSize);
  EXPECT_EQ(encode(ChannelWindowAdjust{}).size(), kWindowAdjustSize);
  EXPECT_EQ(encode(ChannelClose{}).size(), kChannelCloseSize);
  EXPECT_EQ(encode(UserauthFailure{"password", false}).size(), 14u);
  EXPECT_EQ(encode(UserauthSuccess{}).size(), 1u);
  EXPECT_EQ(encode(RequestSuccess{623}).size(), 5u);
  EXPECT_EQ(encode(RequestSuccess{}).size(), 1u);
  EXPECT_EQ(encode(KeepaliveOptionsReply{}).size(), 9u);
  EXPECT_EQ(encode(ChannelData{1, Bytes(100)}).size(), kChannelDataHeaderSize + 100);
  // tcpip-forward with an empty address: 1 + 4+13 + 1 + 4+0 + 4.
  EXPECT_EQ(encode(GlobalRequest{std::string(kTcpipForward), true, TcpipForward{"", 16992}}).size(), 27u);
  ChannelOpen open{std::string(kForwardedTcpip), 1, 1024, kReservedMaxPacket, "127.0.0.1", 16992, "::1", 1};
  EXPECT_EQ(encode(open).size(), 33u + 15 + 9 + 3);
}

TEST(ApfCodec, BigEndianLayouts) {
  EXPECT_EQ(encode(ChannelWindowAdjust{0x01020304, 0x0A0B0C0D}), bytesOf({93, 1, 2, 3, 4, 10, 11, 12, 13}));
  EXPECT_EQ(encode(Disconnect{2}), bytesOf({1, 0, 0, 0, 2, 0, 0}));
  EXPECT_EQ(encode(ServiceRequest{"ab"}), bytesOf({5, 0, 0, 0, 2, 'a', 'b'}));
  EXPECT_EQ(encodeChannelData(0x10, bytesOf({0xFF})), bytesOf({94, 0, 0, 0, 0x10, 0, 0, 0, 1, 0xFF}));
  EXPECT_EQ(encode(ChannelOpenFailure{7, 4}), bytesOf({92, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(encode(ChannelData{0x10, bytesOf({0xFF})}), encodeChannelData(0x10, bytesOf({0xFF})));
  Bytes pv = encode(ProtocolVersion{1, 0, 254, {}});
  EXPECT_EQ(Bytes(pv.begin(), pv.begin() + 13), bytesOf({192, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 254}));
  EXPECT_TRUE(std::all_of(pv.begin() + 13, pv.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST(ApfCodec, LmsProtocolVersionDecodes) {
  Bytes lms(93, 0);
  lms[0] = 192;
  lms[4] = 1;
  lms[12] = 254;
  auto d = decode(lms);
  ASSERT_TRUE(d.message);
  auto& pv = std::get<ProtocolVersion>(*d.message);
  EXPECT_EQ(pv.major, 1u);
  EXPECT_EQ(pv.minor, 0u);
  EXPECT_EQ(pv.triggerReason, 254u);
}

TEST(ApfCodec, UserauthFailureWithU16PartialSuccess) {
  Bytes mps = bytesOf({51, 0, 0, 0, 8, 'p', 'a', 's', 's', 'w', 'o', 'r', 'd', 0, 0});  // MPS style, 15 bytes
  auto d = decode(mps);
  ASSERT_TRUE(d.message);
  EXPECT_EQ(std::get<UserauthFailure>(*d.message).methods, "password");
  EXPECT_EQ(d.trailingBytes, 0u);
}

TEST(ApfCodec, ErrorsAreValues) {
  EXPECT_EQ(decode({}).error, DecodeError::Empty);
  EXPECT_EQ(decode(bytesOf({7})).error, DecodeError::UnknownType);
  EXPECT_EQ(decode(bytesOf({255, 1, 2})).error, DecodeError::UnknownType);
  EXPECT_EQ(decode(bytesOf({97, 0, 0})).error, DecodeError::Truncated);
  // A string length far beyond the message: Truncated, nothing allocated.
  EXPECT_EQ(decode(bytesOf({5, 0xFF, 0xFF, 0xFF, 0xFF, 'x'})).error, DecodeError::Truncated);
  EXPECT_EQ(decode(bytesOf({94, 0, 0, 0, 1, 0x7F, 0xFF, 0xFF, 0xFF, 1})).error, DecodeError::Truncated);
  // Data length one more than carried.
  EXPECT_EQ(decode(bytesOf({94, 0, 0, 0, 1, 0, 0, 0, 2, 1})).error, DecodeError::Truncated);
}

TEST(ApfCodec, EveryStrictPrefixOfAFixedLayoutIsTruncated) {
  for (const auto& m : samples()) {
    Bytes wire = encode(m);
    std::uint8_t type = wire[0];
    // These end in optional or open-ended parts, so a shorter prefix can be a valid message.
    if (type == 81 || type == 80 || type == 82 || type == 52) continue;
    for (std::size_t n = 1; n < wire.size(); ++n) {
      auto d = decode(ByteView(wire).first(n));
      EXPECT_EQ(d.error, DecodeError::Truncated) << messageTypeName(type) << " cut at " << n;
      EXPECT_EQ(frameLength(ByteView(wire).first(n)), std::optional<std::size_t>(0));
    }
  }
}

TEST(ApfCodec, TrailingBytesAreCountedAndIgnored) {
  Bytes wire = encode(ChannelClose{9});
  wire.push_back(0xAA);
  auto d = decode(wire);
  ASSERT_TRUE(d.message);
  EXPECT_EQ(std::get<ChannelClose>(*d.message).recipientChannel, 9u);
  EXPECT_EQ(d.trailingBytes, 1u);
}

TEST(ApfCodec, FrameLengthSplitsAStream) {
  Bytes stream;
  std::vector<std::size_t> sizes;
  for (const auto& m : samples()) {
    if (std::holds_alternative<GlobalRequest>(m) || std::holds_alternative<RequestSuccess>(m) ||
        std::holds_alternative<UserauthFailure>(m))
      continue;  // open-ended on a stream (raw data, optional port, u8/u16 flag)
    Bytes wire = encode(m);
    sizes.push_back(wire.size());
    stream.insert(stream.end(), wire.begin(), wire.end());
  }
  std::size_t at = 0;
  for (std::size_t expected : sizes) {
    auto n = frameLength(ByteView(stream).subspan(at));
    ASSERT_TRUE(n);
    ASSERT_EQ(*n, expected);
    at += *n;
  }
  EXPECT_EQ(at, stream.size());
  EXPECT_EQ(frameLength(bytesOf({3})), std::nullopt);
}

TEST(ApfCodec, UuidGoesOutInGuidOrder) {
  std::array<std::uint8_t, 16> rfc{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};
  std::array<std::uint8_t, 16> wire{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
                                    0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};
  EXPECT_EQ(uuidToWire(rfc), wire);
}

}  // namespace
}  // namespace mesim::lme::apf
