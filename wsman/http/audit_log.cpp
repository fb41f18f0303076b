#include "wsman/http/audit_log.h"

#include <algorithm>

namespace mesim::wsman::http {
namespace {

void putU16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void putU32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

template <class Bytes>
void putCounted(std::vector<std::uint8_t>& out, const Bytes& bytes) {
  const std::size_t n = std::min<std::size_t>(bytes.size(), 255);
  out.push_back(static_cast<std::uint8_t>(n));
  out.insert(out.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
}

class Cursor {
 public:
  explicit Cursor(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool u8(std::uint8_t& v) {
    if (pos_ + 1 > bytes_.size()) return false;
    v = bytes_[pos_++];
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (pos_ + 2 > bytes_.size()) return false;
    v = static_cast<std::uint16_t>(bytes_[pos_] << 8 | bytes_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (pos_ + 4 > bytes_.size()) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | bytes_[pos_++];
    return true;
  }
  template <class Out>
  bool counted(Out& out) {
    std::uint8_t n = 0;
    if (!u8(n) || pos_ + n > bytes_.size()) return false;
    out.assign(bytes_.begin() + static_cast<std::ptrdiff_t>(pos_), bytes_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return true;
  }
  bool atEnd() const { return pos_ == bytes_.size(); }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

}  // namespace

std::vector<std::uint8_t> encodeAuditRecord(const AuditRecord& r) {
  std::vector<std::uint8_t> out;
  out.reserve(16 + r.initiator.size() + r.netAddress.size() + r.extendedData.size());
  putU16(out, r.appId);
  putU16(out, r.eventId);
  out.push_back(static_cast<std::uint8_t>(r.initiatorType));
  switch (r.initiatorType) {
    case AuditInitiator::Digest: putCounted(out, r.initiator); break;
    case AuditInitiator::Kerberos:
      putU32(out, 0);
      putCounted(out, r.initiator);
      break;
    case AuditInitiator::Local:
    case AuditInitiator::KvmDefaultPort: break;
  }
  putU32(out, r.timestamp);
  out.push_back(static_cast<std::uint8_t>(r.addressType));
  putCounted(out, r.netAddress);
  putCounted(out, r.extendedData);
  return out;
}

std::optional<AuditRecord> decodeAuditRecord(std::span<const std::uint8_t> bytes) {
  Cursor c(bytes);
  AuditRecord r;
  std::uint8_t type = 0;
  if (!c.u16(r.appId) || !c.u16(r.eventId) || !c.u8(type) || type > 3) return std::nullopt;
  r.initiatorType = static_cast<AuditInitiator>(type);
  if (r.initiatorType == AuditInitiator::Digest && !c.counted(r.initiator)) return std::nullopt;
  if (r.initiatorType == AuditInitiator::Kerberos) {
    std::uint32_t inDomain = 0;
    if (!c.u32(inDomain) || !c.counted(r.initiator)) return std::nullopt;
  }
  std::uint8_t addressType = 0;
  if (!c.u32(r.timestamp) || !c.u8(addressType) || !c.counted(r.netAddress) || !c.counted(r.extendedData) ||
      !c.atEnd())
    return std::nullopt;
  r.addressType = static_cast<AuditAddressType>(addressType);
  return r;
}

platform::ChangeResult appendAuditRecord(platform::PlatformModel& platform, const AuditRecord& record) {
  auto bytes = encodeAuditRecord(record);
  return platform.update([&](platform::PlatformState& s) {
    auto& log = s.logs.auditLog;
    log.push_back(std::move(bytes));
    constexpr std::size_t cap = platform::EventLogs::kMaxAuditLogRecords;
    if (log.size() > cap) log.erase(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(log.size() - cap));
  });
}

}  // namespace mesim::wsman::http
