#include "firmware/platform/pet_trap.h"

namespace mesim::platform {

namespace ber {

Bytes length(std::size_t n) {
  if (n < 0x80) return {static_cast<std::uint8_t>(n)};
  Bytes digits;
  for (; n; n >>= 8) digits.insert(digits.begin(), static_cast<std::uint8_t>(n & 0xFF));
  digits.insert(digits.begin(), static_cast<std::uint8_t>(0x80 | digits.size()));
  return digits;
}

Bytes tlv(std::uint8_t tag, const Bytes& content) {
  Bytes out{tag};
  const Bytes len = length(content.size());
  out.insert(out.end(), len.begin(), len.end());
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Bytes integer(std::int64_t value) {
  Bytes content;
  for (int shift = 56; shift >= 0; shift -= 8) content.push_back(static_cast<std::uint8_t>(value >> shift));
  // Minimal: drop a leading byte while it only repeats the sign of the next one.
  while (content.size() > 1 && ((content[0] == 0x00 && !(content[1] & 0x80)) || (content[0] == 0xFF && (content[1] & 0x80))))
    content.erase(content.begin());
  return tlv(0x02, content);
}

Bytes unsignedValue(std::uint8_t tag, std::uint32_t value) {
  Bytes content;
  for (int shift = 24; shift >= 0; shift -= 8) content.push_back(static_cast<std::uint8_t>(value >> shift));
  while (content.size() > 1 && content[0] == 0x00 && !(content[1] & 0x80)) content.erase(content.begin());
  if (content[0] & 0x80) content.insert(content.begin(), 0x00);  // an unsigned value is never read as negative
  return tlv(tag, content);
}

Bytes octetString(std::string_view text) { return tlv(0x04, Bytes(text.begin(), text.end())); }
Bytes octetString(const Bytes& bytes) { return tlv(0x04, bytes); }

Bytes oid(const std::vector<std::uint32_t>& arcs) {
  Bytes content;
  auto arc = [&](std::uint64_t v) {
    Bytes base128{static_cast<std::uint8_t>(v & 0x7F)};
    for (v >>= 7; v; v >>= 7) base128.insert(base128.begin(), static_cast<std::uint8_t>(0x80 | (v & 0x7F)));
    content.insert(content.end(), base128.begin(), base128.end());
  };
  if (arcs.size() >= 2) {
    arc(std::uint64_t{arcs[0]} * 40 + arcs[1]);
    for (std::size_t i = 2; i < arcs.size(); ++i) arc(arcs[i]);
  }
  return tlv(0x06, content);
}

Bytes ipAddress(const std::array<std::uint8_t, 4>& address) { return tlv(0x40, Bytes(address.begin(), address.end())); }
Bytes sequence(const Bytes& content) { return tlv(0x30, content); }

}  // namespace ber

const std::vector<std::uint32_t> kPetEnterpriseOid = {1, 3, 6, 1, 4, 1, 3183, 1, 1};
const std::vector<std::uint32_t> kPetVarbindOid = {1, 3, 6, 1, 4, 1, 3183, 1, 1, 1};

std::uint32_t petSpecificTrap(const std::vector<std::uint8_t>& r) {
  if (r.size() < 8) return 0;
  return std::uint32_t{r[5]} << 16 | std::uint32_t{r[6]} << 8 | r[7];
}

std::vector<std::uint8_t> petFrame(const std::array<std::uint8_t, 16>& guid, std::uint16_t sequence,
                                   const std::vector<std::uint8_t>& r) {
  std::vector<std::uint8_t> f(guid.begin(), guid.end());
  auto be16 = [&](std::uint16_t v) { f.insert(f.end(), {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}); };
  auto be32 = [&](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<std::uint8_t>(v >> shift));
  };
  auto at = [&](std::size_t i) -> std::uint8_t { return i < r.size() ? r[i] : 0xFF; };
  be16(sequence);
  // The record's timestamp is little-endian Unix seconds; PET counts from 1998-01-01, 0 = not given.
  const std::uint32_t unixTime = r.size() >= 4 ? std::uint32_t{r[0]} | std::uint32_t{r[1]} << 8 |
                                                     std::uint32_t{r[2]} << 16 | std::uint32_t{r[3]} << 24
                                               : 0;
  be32(unixTime > kUnixTo1998 ? unixTime - kUnixTo1998 : 0);
  be16(0xFFFF);                 // UTC offset: not given (AMT's clock is UTC)
  f.push_back(at(8));           // trap source type: the record's source (68h ASF)
  f.push_back(at(8));           // event source type
  f.push_back(at(9));           // severity
  f.push_back(at(4));           // sensor device
  f.push_back(at(10));          // sensor number
  f.push_back(at(11));          // entity
  f.push_back(at(12));          // entity instance
  for (std::size_t i = 13; i < 21; ++i) f.push_back(r.size() >= 21 ? r[i] : 0x00);  // event data 1-8
  f.push_back(0x19);            // language: English
  be32(343);                    // IANA enterprise number of Intel
  be16(0x0000);                 // system ID
  f.push_back(0xC1);            // no OEM custom fields
  return f;
}

std::vector<std::uint8_t> encodeSnmpV1Trap(const SnmpV1Trap& trap) {
  ber::Bytes bindings;
  for (const auto& [name, value] : trap.varbinds) {
    ber::Bytes bind = ber::oid(name);
    const ber::Bytes v = ber::octetString(value);
    bind.insert(bind.end(), v.begin(), v.end());
    const ber::Bytes seq = ber::sequence(bind);
    bindings.insert(bindings.end(), seq.begin(), seq.end());
  }
  ber::Bytes pdu;
  for (const ber::Bytes& part : {ber::oid(trap.enterprise), ber::ipAddress(trap.agentAddress), ber::integer(trap.genericTrap),
                                 ber::integer(trap.specificTrap), ber::unsignedValue(0x43, trap.timeTicks),
                                 ber::sequence(bindings)})
    pdu.insert(pdu.end(), part.begin(), part.end());
  ber::Bytes message;
  for (const ber::Bytes& part : {ber::integer(0), ber::octetString(trap.community), ber::tlv(0xA4, pdu)})
    message.insert(message.end(), part.begin(), part.end());
  return ber::sequence(message);
}

}  // namespace mesim::platform
