#include "firmware/platform/event_records.h"

#include <algorithm>

namespace mesim::platform {
namespace {

void putBe16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void putBe32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void putShortString(std::vector<std::uint8_t>& out, const std::string& s) {
  auto len = std::min<std::size_t>(s.size(), 255);
  out.push_back(static_cast<std::uint8_t>(len));
  out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(len));
}

}  // namespace

std::vector<std::uint8_t> makeAuditRecord(std::uint16_t app, std::uint16_t event, const AuditInitiator& who,
                                          std::uint32_t timestamp, const std::vector<std::uint8_t>& extended) {
  std::vector<std::uint8_t> out;
  putBe16(out, app);
  putBe16(out, event);
  if (who.local && who.user.empty()) {
    out.push_back(2);  // local initiator
  } else {
    out.push_back(0);  // HTTP Digest
    putShortString(out, who.user);
  }
  putBe32(out, timestamp);
  out.push_back(0);  // MCLocationType
  putShortString(out, who.address);
  auto extLen = std::min<std::size_t>(extended.size(), 255);
  out.push_back(static_cast<std::uint8_t>(extLen));
  out.insert(out.end(), extended.begin(), extended.begin() + static_cast<std::ptrdiff_t>(extLen));
  return out;
}

std::vector<std::uint8_t> makeMessageLogRecord(const MessageLogEvent& e, std::uint32_t timestamp) {
  std::vector<std::uint8_t> out(21);
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(timestamp >> (8 * i));
  out[4] = 0xFF;
  out[5] = e.sensorType;
  out[6] = e.eventType;
  out[7] = e.offset;
  out[8] = e.sourceType;
  out[9] = e.severity;
  out[10] = e.sensorNumber;
  out[11] = e.entity;
  out[12] = e.entityInstance;
  std::copy(std::begin(e.eventData), std::end(e.eventData), out.begin() + 13);
  return out;
}

void appendAuditRecord(PlatformState& state, std::vector<std::uint8_t> record) {
  auto& log = state.logs.auditLog;
  log.push_back(std::move(record));
  if (log.size() > EventLogs::kMaxAuditLogRecords)
    log.erase(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(log.size() - EventLogs::kMaxAuditLogRecords));
}

void appendMessageLogRecord(PlatformState& state, std::vector<std::uint8_t> record) {
  auto& log = state.logs.messageLog;
  log.push_back(std::move(record));
  if (log.size() > EventLogs::kMaxMessageLogRecords)
    log.erase(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(log.size() - EventLogs::kMaxMessageLogRecords));
}

}  // namespace mesim::platform
