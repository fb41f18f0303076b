#include "firmware/clients/mkhi_codec.h"

#include "firmware/clients/byte_io.h"

namespace mesim::clients::mkhi {

void writeHeader(const Header& h, Bytes& out) {
  ByteWriter(out)
      .u8(h.group)
      .u8(static_cast<std::uint8_t>((h.command & 0x7F) | (h.isResponse ? kResponseBit : 0)))
      .u8(h.reserved)
      .u8(h.result);
}

std::optional<Header> readHeader(ByteView message) {
  if (message.size() < kHeaderSize) return std::nullopt;
  Header h;
  h.group = message[0];
  h.command = message[1] & 0x7F;
  h.isResponse = (message[1] & kResponseBit) != 0;
  h.reserved = message[2];
  h.result = message[3];
  return h;
}

Bytes makeRequest(std::uint8_t group, std::uint8_t command, ByteView payload) {
  Bytes out;
  writeHeader({group, command, false, 0, 0}, out);
  ByteWriter(out).bytes(payload);
  return out;
}

Bytes makeResponse(std::uint8_t group, std::uint8_t command, Result result, ByteView payload) {
  Bytes out;
  writeHeader({group, command, true, 0, static_cast<std::uint8_t>(result)}, out);
  ByteWriter(out).bytes(payload);
  return out;
}

Bytes encodeFwVersion(std::span<const FwVersionBlock> blocks) {
  Bytes out;
  ByteWriter w(out);
  for (const auto& b : blocks) w.u16(b.minor).u8(b.major).u8(b.platform).u16(b.buildNo).u16(b.hotfix);
  return out;
}

std::optional<std::vector<FwVersionBlock>> decodeFwVersion(ByteView payload) {
  if (payload.empty() || payload.size() % kFwVersionBlockSize != 0) return std::nullopt;
  ByteReader r(payload);
  std::vector<FwVersionBlock> blocks;
  while (r.remaining() > 0) {
    FwVersionBlock b;
    b.minor = r.u16();
    b.major = r.u8();
    b.platform = r.u8();
    b.buildNo = r.u16();
    b.hotfix = r.u16();
    blocks.push_back(b);
  }
  return blocks;
}

Bytes encode(const MkhiVersion& v) {
  Bytes out;
  ByteWriter(out).u16(v.minor).u16(v.major);
  return out;
}

std::optional<MkhiVersion> decodeMkhiVersion(ByteView payload) {
  ByteReader r(payload);
  MkhiVersion v;
  v.minor = r.u16();
  v.major = r.u16();
  if (!r.atEnd()) return std::nullopt;
  return v;
}

Bytes encodeRuleId(std::uint32_t ruleId) {
  Bytes out;
  ByteWriter(out).u32(ruleId);
  return out;
}

std::optional<std::uint32_t> decodeRuleId(ByteView payload) {
  ByteReader r(payload);
  std::uint32_t id = r.u32();
  if (!r.atEnd()) return std::nullopt;
  return id;
}

Bytes encodeRuleResponse(std::uint32_t ruleId, ByteView data) {
  Bytes out;
  ByteWriter(out).u32(ruleId).u8(static_cast<std::uint8_t>(data.size())).bytes(data);
  return out;
}

std::optional<RuleData> decodeRuleResponse(ByteView payload) {
  ByteReader r(payload);
  RuleData rule;
  rule.ruleId = r.u32();
  std::uint8_t n = r.u8();
  ByteView data = r.bytes(n);
  if (!r.atEnd()) return std::nullopt;
  rule.data.assign(data.begin(), data.end());
  return rule;
}

Bytes encode(const OsVersion& v) {
  Bytes out;
  ByteWriter(out)
      .u32(makeRuleId(kFeaturePtt, 0))
      .u8(8)
      .u16(v.build)
      .u16(0)
      .u8(v.osType)
      .u8(v.major)
      .u8(v.minor)
      .u8(0);
  return out;
}

std::optional<OsVersion> decodeOsVersion(ByteView payload) {
  ByteReader r(payload);
  std::uint32_t ruleId = r.u32();
  std::uint8_t length = r.u8();
  OsVersion v;
  v.build = r.u16();
  r.u16();
  v.osType = r.u8();
  v.major = r.u8();
  v.minor = r.u8();
  r.u8();
  if (!r.atEnd() || ruleId != makeRuleId(kFeaturePtt, 0) || length != 8) return std::nullopt;
  return v;
}

}  // namespace mesim::clients::mkhi
