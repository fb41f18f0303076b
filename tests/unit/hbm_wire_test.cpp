#include <gtest/gtest.h>

#include "hostif/link/hbm_wire.h"

namespace mesim::hbm {
namespace {

TEST(GuidTest, ParsesIntoUuidLeOrder) {
  auto g = Guid::parse("12F80028-B4B7-4B2D-ACA8-46E0FF65814C");
  ASSERT_TRUE(g);
  const std::array<std::uint8_t, 16> expected{0x28, 0x00, 0xf8, 0x12, 0xb7, 0xb4, 0x2d, 0x4b,
                                               0xac, 0xa8, 0x46, 0xe0, 0xff, 0x65, 0x81, 0x4c};
  EXPECT_EQ(g->bytes, expected);
  EXPECT_EQ(g->toString(), "12F80028-B4B7-4B2D-ACA8-46E0FF65814C");
  EXPECT_FALSE(Guid::parse("12F80028-B4B7-4B2D-ACA8-46E0FF65814"));
  EXPECT_FALSE(Guid::parse("12F80028-B4B7-4B2D-ACA8-46E0FF65814G"));
  EXPECT_FALSE(Guid::parse("12F80028xB4B7-4B2D-ACA8-46E0FF65814C"));
}

TEST(HeaderTest, PacksBitfieldsLsbFirst) {
  MsgHeader h;
  h.meAddr = 0x12;
  h.hostAddr = 0x34;
  h.length = 0x1ab;
  h.complete = true;
  EXPECT_EQ(h.pack(), 0x81ab3412u);
  auto back = MsgHeader::unpack(0x81ab3412u);
  EXPECT_EQ(back.meAddr, 0x12);
  EXPECT_EQ(back.hostAddr, 0x34);
  EXPECT_EQ(back.length, 0x1ab);
  EXPECT_TRUE(back.complete);
  EXPECT_FALSE(back.internal);
  EXPECT_TRUE(MsgHeader::unpack(1u << 30).internal);
  EXPECT_TRUE(MsgHeader::unpack(1u << 28).extended);
  EXPECT_TRUE(MsgHeader::unpack(1u << 29).dmaRing);
}

TEST(FragmentTest, SplitsByBufferDepth) {
  Bytes message(1200, 0xab);
  auto frames = fragment(3, 4, message, 128);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].payload.size(), 508u);
  EXPECT_EQ(frames[1].payload.size(), 508u);
  EXPECT_EQ(frames[2].payload.size(), 184u);
  EXPECT_FALSE(frames[0].header.complete);
  EXPECT_TRUE(frames[2].header.complete);
  EXPECT_EQ(fragment(3, 4, message, 32).size(), 10u);  // 124-byte fragments
  EXPECT_EQ(fragment(3, 4, Bytes{}, 128).size(), 1u);   // a zero-length message is one frame
  Reassembler r;
  Bytes out;
  for (auto& f : frames) {
    auto result = r.add(f, out);
    EXPECT_EQ(result, f.header.complete ? Reassembler::Result::Complete : Reassembler::Result::Incomplete);
  }
  EXPECT_EQ(out, message);
}

TEST(FragmentTest, ReassemblyKeepsAddressPairsApartAndCapsSize) {
  Reassembler r(1000);
  Bytes out;
  Frame a{{1, 1, 2, false, false, false, false}, {1, 2}};
  Frame b{{1, 2, 2, false, false, false, true}, {9, 9}};
  Frame a2{{1, 1, 1, false, false, false, true}, {3}};
  EXPECT_EQ(r.add(a, out), Reassembler::Result::Incomplete);
  EXPECT_EQ(r.add(b, out), Reassembler::Result::Complete);
  EXPECT_EQ(out, (Bytes{9, 9}));
  EXPECT_EQ(r.add(a2, out), Reassembler::Result::Complete);
  EXPECT_EQ(out, (Bytes{1, 2, 3}));
  Frame huge{{1, 1, 0, false, false, false, false}, Bytes(600, 0)};
  EXPECT_EQ(r.add(huge, out), Reassembler::Result::Incomplete);
  EXPECT_EQ(r.add(huge, out), Reassembler::Result::TooLong);
}

TEST(BusCodecTest, RoundTripsAndRejectsWrongSizes) {
  EXPECT_EQ(encode(HostStartReq{{2, 2}}), (Bytes{0x01, 0, 2, 2}));  // minor first
  EXPECT_EQ(decodeHostStartReq(Bytes{0x01, 0, 0, 2})->host, (Version{2, 0}));
  EXPECT_FALSE(decodeHostStartReq(Bytes{0x01, 0, 0}));
  ClientProperties p;
  p.uuid = *Guid::parse("12F80028-B4B7-4B2D-ACA8-46E0FF65814C");
  p.protocolVersion = 1;
  p.maxConnections = 5;
  p.maxMsgLength = 4096;
  auto res = encode(PropertiesRes{7, Status::Success, p});
  ASSERT_EQ(res.size(), 28u);
  EXPECT_EQ(res[24], 0x00);
  EXPECT_EQ(res[25], 0x10);  // 4096 little-endian
  auto back = decodePropertiesRes(res);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->props.uuid, p.uuid);
  EXPECT_EQ(back->props.maxMsgLength, 4096u);
  EXPECT_EQ(busMessageSize(0x08), 8u);
  EXPECT_FALSE(busMessageSize(0x55));
  EXPECT_FALSE(decodeNotifyReq(Bytes{0x10, 1, 1, 2}));  // start must be 0 or 1
  ReadyInfo info{{1, 2, 3, 4, 5, 6}, 7};
  auto ready = makeReady(info);
  EXPECT_EQ(parseLinkControl(ready), LinkControl::Ready);
  EXPECT_EQ(parseReady(ready).fwStatus[5], 6u);
  EXPECT_EQ(parseReady(ready).trc, 7u);
}

}  // namespace
}  // namespace mesim::hbm
