// AMT_MessageLog (PositionToFirstRecord, GetRecords) and AMT_AuditLog (ReadRecords) over the platform's
// record stores (spec/wsman.md §3.3, §3.6).
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
                  getRecords}};
  msg.enumerate = [](CimContext& ctx) {
    Instance i;
    i.set("Capabilities", Value::numbers({1, 4, 5, 6, 7}))
        .setNum("CharacterSet", 10)
        .set("CreationClassName", "AMT_MessageLog")
        .setNum("CurrentNumberOfRecords", ctx.platform.state().logs.messageLog.size())
        .set("ElementName", kMessageLogName)
        .setNum("EnabledDefault", 2)
        .setNum("EnabledState", 2)
        .setNum("HealthState", 5)
        .setBool("IsFrozen", false)
        .setNum("MaxNumberOfRecords", platform::EventLogs::kMaxMessageLogRecords)
        .setNum("MaxRecordSize", 21)
        .set("Name", kMessageLogName)
        .setNum("OverwritePolicy", 2)
        .setNum("RequestedState", 12);
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
                    readRecords}};
  audit.enumerate = [](CimContext& ctx) {
    const auto& log = ctx.platform.state().logs.auditLog;
    const auto max = platform::EventLogs::kMaxAuditLogRecords;
    Instance i;
    i.setNum("AuditState", 16)
        .set("CreationClassName", "AMT_AuditLog")
        .setNum("CurrentNumberOfRecords", log.size())
        .set("ElementName", kAuditLogName)
        .setNum("EnabledState", 2)
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
