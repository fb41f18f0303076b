// AMT_MessageLog (PositionToFirstRecord, GetRecords) and AMT_AuditLog (ReadRecords) over the platform's
// record stores (spec/wsman.md §3.3, §3.6).
#include <functional>
#include <string>

#include "firmware/platform/event_records.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kMessageLogName = "Intel(r) AMT:MessageLog 1";
constexpr const char* kAuditLogName = "Intel(r) AMT:Audit Log";
constexpr std::size_t kMaxIterators = 16;
constexpr std::uint64_t kAuditRecordsPerRead = 10;

// AMT_MessageLog.GetRecords return values.
constexpr std::uint32_t kInvalidIterator = 2;
constexpr std::uint32_t kNoRecord = 1;  // CIM_MessageLog: "failed", the position is past the last record
constexpr std::uint32_t kStateChangeInvalid = 5;  // CIM RequestStateChange: invalid parameter
// Event Manager audit events (firmware/platform/event_records.cpp names them).
constexpr std::uint16_t kEventManagerApp = 24;
constexpr std::uint16_t kEventLogCleared = 2;
constexpr std::uint16_t kEventLogFrozen = 3;

MethodResult positionToFirstRecord(CimContext& ctx, const Instance&, const Arguments&) {
  auto& it = ctx.runtime.messageLogIterators;
  if (it.size() >= kMaxIterators) it.erase(it.begin());  // the oldest iteration is forgotten
  std::uint32_t id = ctx.runtime.nextIterationId++;
  it[id] = 0;
  MethodResult r;
  r.outputs["IterationIdentifier"] = Value::number(id);
  return r;
}

// Newest record first, as AMT reads its event log.
MethodResult getRecords(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t id = 0, max = 0;
  if (!argUint(in, "IterationIdentifier", id) || !argUint(in, "MaxReadRecords", max))
    return MethodResult::status(status::kInvalidParameter);
  auto& iterators = ctx.runtime.messageLogIterators;
  auto found = iterators.find(static_cast<std::uint32_t>(id));
  if (found == iterators.end()) return MethodResult::status(kInvalidIterator);
  const auto& log = ctx.platform.state().logs.messageLog;
  Value records;
  std::size_t& next = found->second;
  while (next < log.size() && records.items.size() < max) {
    records.items.push_back(base64Encode(log[log.size() - 1 - next]));
    ++next;
  }
  MethodResult r;
  r.outputs["IterationIdentifier"] = Value::number(id);
  r.outputs["NoMoreRecords"] = Value::boolean(next >= log.size());
  if (!records.items.empty()) r.outputs["RecordArray"] = std::move(records);
  return r;
}

MethodResult changeLogState(CimContext& ctx, const Arguments& in, bool platform::ServiceSettings::*flag) {
  std::uint64_t requested = 0;
  if (!argUint(in, "RequestedState", requested) || (requested != 2 && requested != 3))
    return MethodResult::status(kStateChangeInvalid);
  auto result = ctx.platform.update([&](platform::PlatformState& s) { s.services.*flag = requested == 2; });
  return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
}

MethodResult auditedChange(CimContext& ctx, std::uint16_t auditEvent, const std::function<void(platform::PlatformState&)>& change) {
  const auto now = ctx.now();
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    change(s);
    platform::appendAuditRecord(s, platform::makeAuditRecord(kEventManagerApp, auditEvent, ctx.initiator(), now));
  });
  return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
}

// The records are gone, and so is every iteration over them.
MethodResult clearMessageLog(CimContext& ctx, const Instance&, const Arguments&) {
  ctx.runtime.messageLogIterators.clear();
  return auditedChange(ctx, kEventLogCleared, [](platform::PlatformState& s) { s.logs.messageLog.clear(); });
}

// While frozen nothing is added (platform::appendMessageLogRecord), so a console can read a still picture.
MethodResult freezeMessageLog(CimContext& ctx, const Instance&, const Arguments& in) {
  bool freeze = false;
  if (!argBool(in, "Freeze", freeze)) return MethodResult::status(status::kInvalidParameter);
  if (!freeze) {
    auto result = ctx.platform.update([](platform::PlatformState& s) { s.services.messageLogFrozen = false; });
    return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
  }
  // Audited before the freeze takes hold: the audit log is not the message log, so the order does not matter.
  return auditedChange(ctx, kEventLogFrozen, [](platform::PlatformState& s) { s.services.messageLogFrozen = true; });
}

// The iteration `in` names, or null.
std::size_t* iterationOf(CimContext& ctx, const Arguments& in, std::uint64_t& id) {
  if (!argUint(in, "IterationIdentifier", id)) return nullptr;
  auto found = ctx.runtime.messageLogIterators.find(static_cast<std::uint32_t>(id));
  return found == ctx.runtime.messageLogIterators.end() ? nullptr : &found->second;
}

// The record at the iteration's position (newest first, as GetRecords reads), and the position moves on.
MethodResult getRecord(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t id = 0;
  std::size_t* next = iterationOf(ctx, in, id);
  if (!next) return MethodResult::status(kInvalidIterator);
  const auto& log = ctx.platform.state().logs.messageLog;
  if (*next >= log.size()) return MethodResult::status(kNoRecord);
  MethodResult r;
  r.outputs["RecordData"] = Value::text(base64Encode(log[log.size() - 1 - *next]));
  ++*next;
  r.outputs["IterationIdentifier"] = Value::number(id);
  return r;
}

// MoveAbsolute: RecordNumber counts from the newest record (0); otherwise it moves the position by RecordNumber.
MethodResult positionAtRecord(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t id = 0;
  std::size_t* next = iterationOf(ctx, in, id);
  if (!next) return MethodResult::status(kInvalidIterator);
  bool absolute = false;
  std::string number;
  long long n = 0;
  if (!argBool(in, "MoveAbsolute", absolute) || !argString(in, "RecordNumber", number))
    return MethodResult::status(status::kInvalidParameter);
  try {
    std::size_t used = 0;
    n = std::stoll(number, &used);
    if (used != number.size()) return MethodResult::status(status::kInvalidParameter);
  } catch (const std::exception&) {
    return MethodResult::status(status::kInvalidParameter);
  }
  const long long size = static_cast<long long>(ctx.platform.state().logs.messageLog.size());
  const long long target = absolute ? n : static_cast<long long>(*next) + n;
  if (target < 0 || target > size) return MethodResult::status(kNoRecord);
  *next = static_cast<std::size_t>(target);
  MethodResult r;
  r.outputs["IterationIdentifier"] = Value::number(id);
  return r;
}

MethodResult cancelIteration(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t id = 0;
  if (!iterationOf(ctx, in, id)) return MethodResult::status(kInvalidIterator);
  ctx.runtime.messageLogIterators.erase(static_cast<std::uint32_t>(id));
  return MethodResult::status(status::kSuccess);
}

MethodResult clearAuditLog(CimContext& ctx, const Instance&, const Arguments&) {
  auto result = ctx.platform.update([](platform::PlatformState& s) { s.logs.auditLog.clear(); });
  return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
}

MethodResult readRecords(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t start = 1;
  if (!argUint(in, "StartIndex", start) || start == 0) return MethodResult::status(status::kInvalidParameter);
  const auto& log = ctx.platform.state().logs.auditLog;
  Value records;
  for (std::uint64_t i = start - 1; i < log.size() && records.items.size() < kAuditRecordsPerRead; ++i)
    records.items.push_back(base64Encode(log[i]));
  MethodResult r;
  r.outputs["TotalRecordCount"] = Value::number(log.size());
  r.outputs["RecordsReturned"] = Value::number(records.items.size());
  if (!records.items.empty()) r.outputs["EventRecords"] = std::move(records);
  return r;
}

}  // namespace

void registerEventLogs(ClassRegistry& r) {
  ClassDef msg{.name = "AMT_MessageLog", .schema = Schema::Amt, .keys = {"CreationClassName", "Name"}};
  msg.properties = {A("Capabilities", T::UInt16), P("CharacterSet", T::UInt16), P("CreationClassName"),
                    P("CurrentNumberOfRecords", T::UInt64), P("ElementName"), P("EnabledDefault", T::UInt16),
                    P("EnabledState", T::UInt16), P("HealthState", T::UInt16), P("IsFrozen", T::Boolean),
                    P("MaxNumberOfRecords", T::UInt64), P("MaxRecordSize", T::UInt64), P("Name"),
                    P("OverwritePolicy", T::UInt16), P("RequestedState", T::UInt16)};
  msg.methods = {{"PositionToFirstRecord", {}, {Out("IterationIdentifier", T::UInt32)}, positionToFirstRecord},
                 {"GetRecords",
                  {In("IterationIdentifier", T::UInt32), In("MaxReadRecords", T::UInt32)},
                  {Out("IterationIdentifier", T::UInt32), Out("NoMoreRecords", T::Boolean),
                   Out("RecordArray", T::Base64, true)},
                  getRecords},
                 {"GetRecord", {In("IterationIdentifier", T::UInt32), In("PositionToNext", T::Boolean)},
                  {Out("IterationIdentifier", T::UInt32), Out("RecordData", T::Base64)}, getRecord},
                 {"PositionAtRecord",
                  {In("IterationIdentifier", T::UInt32), In("MoveAbsolute", T::Boolean), In("RecordNumber", T::SInt32)},
                  {Out("IterationIdentifier", T::UInt32)}, positionAtRecord},
                 {"CancelIteration", {In("IterationIdentifier", T::UInt32)}, {}, cancelIteration},
                 {"ClearLog", {}, {}, clearMessageLog},
                 {"FreezeLog", {In("Freeze", T::Boolean)}, {}, freezeMessageLog},
                 {"RequestStateChange", {In("RequestedState", T::UInt16), In("TimeoutPeriod", T::DateTime)}, {},
                  [](CimContext& ctx, const Instance&, const Arguments& in) {
                    return changeLogState(ctx, in, &platform::ServiceSettings::messageLogEnabled);
                  }}};
  msg.enumerate = [](CimContext& ctx) {
    Instance i;
    const auto& services = ctx.platform.state().services;
    i.set("Capabilities", Value::numbers({1, 4, 5, 6, 7}))
        .setNum("CharacterSet", 10)
        .set("CreationClassName", "AMT_MessageLog")
        .setNum("CurrentNumberOfRecords", ctx.platform.state().logs.messageLog.size())
        .set("ElementName", kMessageLogName)
        .setNum("EnabledDefault", 2)
        .setNum("EnabledState", services.messageLogEnabled ? 2 : 3)
        .setNum("HealthState", 5)
        .setBool("IsFrozen", services.messageLogFrozen)
        .setNum("MaxNumberOfRecords", platform::EventLogs::kMaxMessageLogRecords)
        .setNum("MaxRecordSize", 21)
        .set("Name", kMessageLogName)
        .setNum("OverwritePolicy", 2)
        .setNum("RequestedState", services.messageLogEnabled ? 2 : 3);
    return std::vector<Instance>{i};
  };
  r.add(std::move(msg));

  ClassDef audit{.name = "AMT_AuditLog", .schema = Schema::Amt, .keys = {"CreationClassName", "Name"}};
  audit.properties = {P("AuditState", T::UInt16), P("CreationClassName"), P("CurrentNumberOfRecords", T::UInt64),
                      P("ElementName"), P("EnabledState", T::UInt16), P("MaxAllowedAuditors", T::UInt8),
                      P("MaxNumberOfRecords", T::UInt64), P("Name"), P("OverwritePolicy", T::UInt16),
                      P("PercentageFree", T::UInt8), P("RequestedState", T::UInt16), P("StoragePolicy", T::UInt8),
                      P("TimeOfLastRecord", T::DateTime)};
  audit.methods = {{"ReadRecords",
                    {In("StartIndex", T::UInt32)},
                    {Out("TotalRecordCount", T::UInt32), Out("RecordsReturned", T::UInt32),
                     Out("EventRecords", T::Base64, true)},
                    readRecords},
                   {"ClearLog", {}, {}, clearAuditLog},
                   {"RequestStateChange", {In("RequestedState", T::UInt16), In("TimeoutPeriod", T::DateTime)}, {},
                    [](CimContext& ctx, const Instance&, const Arguments& in) {
                      return changeLogState(ctx, in, &platform::ServiceSettings::auditLogEnabled);
                    }}};
  for (auto& method : auditLogAuditorMethods()) audit.methods.push_back(std::move(method));
  audit.enumerate = [](CimContext& ctx) {
    const auto& log = ctx.platform.state().logs.auditLog;
    const auto max = platform::EventLogs::kMaxAuditLogRecords;
    Instance i;
    i.setNum("AuditState", auditLogState(ctx.platform.state(), ctx.now()))
        .set("CreationClassName", "AMT_AuditLog")
        .setNum("CurrentNumberOfRecords", log.size())
        .set("ElementName", kAuditLogName)
        .setNum("EnabledState", ctx.platform.state().services.auditLogEnabled ? 2 : 3)
        .setNum("MaxAllowedAuditors", 1)
        .setNum("MaxNumberOfRecords", max)
        .set("Name", kAuditLogName)
        .setNum("OverwritePolicy", 2)
        .setNum("PercentageFree", (max - log.size()) * 100 / max)
        .setNum("RequestedState", 12)
        .setNum("StoragePolicy", 1);
    if (!log.empty() && log.back().size() >= 4) {
      // The timestamp follows the app/event ids and the initiator (makeAuditRecord layout).
      const auto& rec = log.back();
      std::size_t at = 5 + (rec[4] == 0 && rec.size() > 5 ? 1 + rec[5] : 0);
      if (at + 4 <= rec.size()) {
        std::int64_t t = (std::int64_t{rec[at]} << 24) | (rec[at + 1] << 16) | (rec[at + 2] << 8) | rec[at + 3];
        i.set("TimeOfLastRecord", Value::dateTime(cimDatetime(t)));
      }
    }
    return std::vector<Instance>{i};
  };
  r.add(std::move(audit));
}

}  // namespace mesim::wsman::cim
