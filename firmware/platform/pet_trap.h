// The PET trap AMT sends (features.md §6, docs/pet.md): an SNMPv1 Trap-PDU, enterprise 1.3.6.1.4.1.3183.1.1,
// generic trap 6, the specific trap from the record's sensor type, event type and offset, and one varbind
// 1.3.6.1.4.1.3183.1.1.1 whose OCTET STRING is the PET frame. The BER is encoded here: one PDU does not need an SNMP
// library (net-snmp keeps process-global MIB state).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mesim::platform {

// BER (X.690) of the few SNMP types a trap needs.
namespace ber {
using Bytes = std::vector<std::uint8_t>;
Bytes length(std::size_t n);                          // short form below 128, else 0x8N + big-endian bytes
Bytes tlv(std::uint8_t tag, const Bytes& content);
Bytes integer(std::int64_t value);                    // tag 0x02, minimal two's complement
Bytes unsignedValue(std::uint8_t tag, std::uint32_t value);  // TimeTicks (0x43), Counter: minimal, never negative
Bytes octetString(std::string_view text);             // tag 0x04
Bytes octetString(const Bytes& bytes);
Bytes oid(const std::vector<std::uint32_t>& arcs);    // tag 0x06; at least two arcs
Bytes ipAddress(const std::array<std::uint8_t, 4>& address);  // [APPLICATION 0] 0x40
Bytes sequence(const Bytes& content);                 // tag 0x30
}  // namespace ber

inline constexpr std::uint32_t kUnixTo1998 = 883612800;  // 1998-01-01T00:00:00Z in Unix seconds (PET time base)
extern const std::vector<std::uint32_t> kPetEnterpriseOid;  // 1.3.6.1.4.1.3183.1.1
extern const std::vector<std::uint32_t> kPetVarbindOid;     // 1.3.6.1.4.1.3183.1.1.1

// SensorType << 16 | EventType << 8 | offset byte (bit 7 = deassertion) of a 21-byte message-log record.
std::uint32_t petSpecificTrap(const std::vector<std::uint8_t>& record);

// The 47-byte PET frame of a 21-byte message-log record: GUID, sequence, local time since 1998 (the record's time),
// UTC offset FFFF (not given), trap source type, event source type, severity, sensor device, sensor number,
// entity, instance, event data 1-8, language 19h, IANA 343 (Intel), system ID 0000, end of OEM fields C1h.
std::vector<std::uint8_t> petFrame(const std::array<std::uint8_t, 16>& guid, std::uint16_t sequence,
                                   const std::vector<std::uint8_t>& record);

struct SnmpV1Trap {
  std::string community;
  std::vector<std::uint32_t> enterprise = kPetEnterpriseOid;
  std::array<std::uint8_t, 4> agentAddress{};
  std::int32_t genericTrap = 6;  // enterpriseSpecific
  std::uint32_t specificTrap = 0;
  std::uint32_t timeTicks = 0;   // hundredths of a second since the agent started
  std::vector<std::pair<std::vector<std::uint32_t>, std::vector<std::uint8_t>>> varbinds;  // OID, OCTET STRING
};
// Message ::= SEQUENCE { version 0, community, Trap-PDU [4] { enterprise, agent-addr, generic, specific,
// time-stamp, variable-bindings } } (RFC 1157).
std::vector<std::uint8_t> encodeSnmpV1Trap(const SnmpV1Trap& trap);

}  // namespace mesim::platform
