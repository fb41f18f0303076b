// The logs seen as CIM objects (docs/object-model.md): AMT_EventLogEntry (each record of AMT_MessageLog),
// CIM_LogManagesRecord and CIM_UseOfLog linking the logs, AMT_AuditPolicyRule (which events the audit log keeps),
// and IPS_ProvisioningRecordLog with the record of the last provisioning by a console.
#include <algorithm>
#include <charconv>
#include <functional>
#include <optional>

#include "firmware/platform/event_records.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kMessageLogName = "Intel(r) AMT:MessageLog 1";
constexpr const char* kAuditLogName = "Intel(r) AMT:Audit Log";
constexpr const char* kProvisioningLogName = "Intel(r) AMT:Provisioning Record Log";
constexpr const char* kAuditPolicyName = "Intel(r) AMT:Audit Policy Rule";

EndpointReference logRef(Schema schema, const char* cls, const char* name) {
  EndpointReference e;
  e.resourceUri = resourceUri(schema, cls);
  e.selectors = {soap::textSelector("CreationClassName", cls), soap::textSelector("Name", name)};
  return e;
}

bool parseUint(const std::string& text, std::uint64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// Record N of the message log, counted from the oldest (1) as AMT_MessageLog.GetRecord numbers them.
std::string entryId(std::size_t n) { return "Intel(r) AMT:MessageLog 1:" + std::to_string(n); }

void registerEventLogEntries(ClassRegistry& r) {
  ClassDef entry{.name = "AMT_EventLogEntry", .schema = Schema::Amt, .keys = {"InstanceID"}};
  entry.properties = {P("CreationTimeStamp", T::DateTime), P("DeviceAddress", T::UInt8), P("ElementName"),
                      P("Entity", T::UInt8), P("EntityInstance", T::UInt8), A("EventData", T::UInt8),
                      P("EventOffset", T::UInt8), P("EventSensorType", T::UInt8), P("EventSeverity", T::UInt8),
                      P("EventSourceType", T::UInt8), P("EventType", T::UInt8), P("InstanceID"), P("LogInstanceID"),
                      P("LogName"), P("RecordData"), P("RecordFormat"), P("SensorNumber", T::UInt8)};
  entry.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const auto& log = ctx.platform.state().logs.messageLog;
    for (std::size_t n = 0; n < log.size(); ++n) {
      auto rec = platform::decodeMessageLogRecord(log[n]);
      if (!rec) continue;
      const auto& e = rec->event;
      std::vector<std::uint32_t> data(std::begin(e.eventData), std::end(e.eventData));
      Instance i;
      i.set("CreationTimeStamp", Value::dateTime(cimDatetime(rec->timestamp)))
          .setNum("DeviceAddress", 0xFF)
          .set("ElementName", platform::describeMessageLogEvent(e))
          .setNum("Entity", e.entity)
          .setNum("EntityInstance", e.entityInstance)
          .set("EventData", Value::numbers(data))
          .setNum("EventOffset", e.offset)
          .setNum("EventSensorType", e.sensorType)
          .setNum("EventSeverity", e.severity)
          .setNum("EventSourceType", e.sourceType)
          .setNum("EventType", e.eventType)
          .set("InstanceID", entryId(n + 1))
          .set("LogInstanceID", kMessageLogName)
          .set("LogName", kMessageLogName)
          .set("RecordData", base64Encode(log[n]))
          .set("RecordFormat", "AMT_MessageLog 21-byte PET record")
          .setNum("SensorNumber", e.sensorNumber);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(entry));

  ClassDef manages{.name = "CIM_LogManagesRecord", .schema = Schema::Cim, .keys = {"Log", "Record"}};
  manages.properties = {{"Log", T::Reference}, {"Record", T::Reference}};
  manages.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const auto count = ctx.platform.state().logs.messageLog.size();
    for (std::size_t n = 1; n <= count; ++n) {
      Instance i;
      i.set("Log", Value::ref(logRef(Schema::Amt, "AMT_MessageLog", kMessageLogName)))
          .set("Record", Value::ref(instanceIdRef(Schema::Amt, "AMT_EventLogEntry", entryId(n))));
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(manages));

  // Which system each log records for: the message log the host platform's events, the audit and provisioning
  // logs AMT's own.
  ClassDef use{.name = "CIM_UseOfLog", .schema = Schema::Cim, .keys = {"Antecedent", "Dependent"}};
  use.properties = {{"Antecedent", T::Reference}, {"Dependent", T::Reference}, P("RecordedData")};
  use.enumerate = [](CimContext&) {
    std::vector<Instance> out;
    auto add = [&](EndpointReference log, const char* system, const char* what) {
      Instance i;
      i.set("Antecedent", Value::ref(std::move(log))).set("Dependent", Value::ref(computerSystemRef(system)));
      i.set("RecordedData", what);
      out.push_back(std::move(i));
    };
    add(logRef(Schema::Amt, "AMT_MessageLog", kMessageLogName), kHostSystemName, "Platform events");
    add(logRef(Schema::Amt, "AMT_AuditLog", kAuditLogName), kAmtSystemName, "Audited management operations");
    add(logRef(Schema::Ips, "IPS_ProvisioningRecordLog", kProvisioningLogName), kAmtSystemName, "Provisioning");
    return out;
  };
  r.add(std::move(use));
}

// Every (application, event) pair AMT's audit log knows, as AuditedAppID << 16 | EventID.
std::vector<std::uint32_t> knownAuditEvents() {
  std::vector<std::uint32_t> out;
  for (std::uint16_t app = 16; app <= 40; ++app)
    for (std::uint16_t event = 0; event < 32; ++event)
      if (!platform::auditEventName(app, event).empty()) out.push_back(std::uint32_t{app} << 16 | event);
  return out;
}

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// One SetAuditPolicy entry. Security Admin's events cannot be taken out of the audit (AMT records them always).
std::uint32_t applyAuditPolicy(platform::ServiceSettings& s, bool enable, std::uint64_t app, std::uint64_t event,
                               std::uint64_t policyType) {
  if (app > 0xFFFF || event > 0xFFFF || policyType > 1) return status::kInvalidParameter;
  const std::uint32_t key = static_cast<std::uint32_t>(app << 16 | event);
  if (!contains(knownAuditEvents(), key)) return status::kInvalidParameter;
  if (!enable && app == platform::audit::kSecurityAdmin) return status::kNotPermitted;
  std::erase(s.auditDisabledEvents, key);
  std::erase(s.auditCriticalEvents, key);
  if (!enable) s.auditDisabledEvents.push_back(key);
  else if (policyType == 0) s.auditCriticalEvents.push_back(key);
  return status::kSuccess;
}

void registerAuditPolicy(ClassRegistry& r) {
  ClassDef c{.name = "AMT_AuditPolicyRule", .schema = Schema::Amt,
             .keys = {"CreationClassName", "PolicyRuleName", "SystemCreationClassName", "SystemName"}};
  c.properties = {A("AuditApplicationEventID", T::UInt32), P("CreationClassName"), P("ElementName"),
                  P("Enabled", T::UInt16), A("PolicyType", T::UInt8), P("PolicyRuleName"),
                  P("SystemCreationClassName"), P("SystemName")};
  c.methods = {
      {"SetAuditPolicy",
       {In("Enable", T::Boolean), In("AuditedAppID", T::UInt16), In("EventID", T::UInt16), In("PolicyType", T::UInt8)},
       {},
       [](CimContext& ctx, const Instance&, const Arguments& in) {
         bool enable = false;
         std::uint64_t app = 0, event = 0, type = 1;
         if (!argBool(in, "Enable", enable) || !argUint(in, "AuditedAppID", app) || !argUint(in, "EventID", event) ||
             (in.count("PolicyType") && !argUint(in, "PolicyType", type)))
           return MethodResult::status(status::kInvalidParameter);
         std::uint32_t rv = status::kSuccess;
         auto result = ctx.platform.update(
             [&](platform::PlatformState& s) { rv = applyAuditPolicy(s.services, enable, app, event, type); });
         return MethodResult::status(result == platform::ChangeResult::Ok ? rv : status::kInternalError);
       }},
      {"SetAuditPolicyBulk",
       {In("Enable", T::Boolean, true), In("AuditedAppID", T::UInt16, true), In("EventID", T::UInt16, true),
        In("PolicyType", T::UInt8, true)},
       {},
       [](CimContext& ctx, const Instance&, const Arguments& in) {
         auto list = [&](const char* name) -> const std::vector<std::string>* {
           auto it = in.find(name);
           return it == in.end() ? nullptr : &it->second.items;
         };
         const auto *enable = list("Enable"), *app = list("AuditedAppID"), *event = list("EventID"),
                    *type = list("PolicyType");
         if (!enable || !app || !event || enable->empty() || enable->size() != app->size() ||
             app->size() != event->size() || (type && type->size() != app->size()))
           return MethodResult::status(status::kInvalidParameter);
         std::uint32_t rv = status::kSuccess;
         auto result = ctx.platform.update([&](platform::PlatformState& s) {
           auto settings = s.services;  // all or nothing
           for (std::size_t k = 0; k < app->size() && rv == status::kSuccess; ++k) {
             std::uint64_t a = 0, e = 0, t = 1;
             const std::string& on = (*enable)[k];
             if ((on != "true" && on != "false") || !parseUint((*app)[k], a) || !parseUint((*event)[k], e) ||
                 (type && !parseUint((*type)[k], t)))
               rv = status::kInvalidParameter;
             else
               rv = applyAuditPolicy(settings, on == "true", a, e, t);
           }
           if (rv == status::kSuccess) s.services = std::move(settings);
         });
         return MethodResult::status(result == platform::ChangeResult::Ok ? rv : status::kInternalError);
       }},
  };
  c.enumerate = [](CimContext& ctx) {
    const auto& s = ctx.platform.state().services;
    std::vector<std::uint32_t> events, types;
    for (std::uint32_t key : knownAuditEvents()) {
      if (contains(s.auditDisabledEvents, key)) continue;
      events.push_back(key);
      types.push_back(contains(s.auditCriticalEvents, key) ? 0 : 1);
    }
    Instance i;
    i.set("AuditApplicationEventID", Value::numbers(events))
        .set("CreationClassName", "AMT_AuditPolicyRule")
        .set("ElementName", kAuditPolicyName)
        .setNum("Enabled", s.auditLogEnabled ? 1 : 2)
        .set("PolicyType", Value::numbers(types))
        .set("PolicyRuleName", kAuditPolicyName)
        .set("SystemCreationClassName", "CIM_ComputerSystem")
        .set("SystemName", kAmtSystemName);
    return std::vector<Instance>{i};
  };
  r.add(std::move(c));
}

// The provisioning record of the last console provisioning (IPS_HostBasedSetupService Setup/AdminSetup), read
// from the audit log's "Provisioning Completed"; a device provisioned by its configuration has none.
struct ProvisioningRecord {
  std::uint32_t timestamp = 0;
  std::string user;
};
std::optional<ProvisioningRecord> lastProvisioning(const platform::PlatformState& s) {
  if (s.provisioningState != platform::ProvisioningState::Post || !s.services.provisioningRecordLogEnabled) return {};
  for (auto it = s.logs.auditLog.rbegin(); it != s.logs.auditLog.rend(); ++it) {
    auto rec = platform::decodeAuditRecord(*it);
    if (!rec || rec->app != platform::audit::kSecurityAdmin || rec->event != platform::audit::kProvisioningCompleted)
      continue;
    if (rec->timestamp <= s.services.provisioningRecordsClearedAt) return {};
    return ProvisioningRecord{rec->timestamp, rec->user};
  }
  return {};
}

const char* provisioningRecordClass(platform::ControlMode mode) {
  return mode == platform::ControlMode::Admin ? "IPS_AdminProvisioningRecord" : "IPS_ClientProvisioningRecord";
}

void registerProvisioningRecords(ClassRegistry& r) {
  ClassDef log{.name = "IPS_ProvisioningRecordLog", .schema = Schema::Ips, .keys = {"CreationClassName", "Name"}};
  log.properties = {P("CreationClassName"), P("CurrentNumberOfRecords", T::UInt64), P("ElementName"),
                    P("EnabledState", T::UInt16), P("MaxNumberOfRecords", T::UInt64), P("Name"),
                    P("OverwritePolicy", T::UInt16), P("RequestedState", T::UInt16)};
  log.methods = {
      {"ClearLog", {}, {},
       [](CimContext& ctx, const Instance&, const Arguments&) {
         const auto now = ctx.now();
         auto result = ctx.platform.update([&](platform::PlatformState& s) { s.services.provisioningRecordsClearedAt = now; });
         return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
       }},
      {"RequestStateChange", {In("RequestedState", T::UInt16), In("TimeoutPeriod", T::DateTime)}, {},
       [](CimContext& ctx, const Instance&, const Arguments& in) {
         std::uint64_t requested = 0;
         if (!argUint(in, "RequestedState", requested) || (requested != 2 && requested != 3))
           return MethodResult::status(5);  // CIM: invalid parameter
         auto result = ctx.platform.update(
             [&](platform::PlatformState& s) { s.services.provisioningRecordLogEnabled = requested == 2; });
         return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
       }},
  };
  log.enumerate = [](CimContext& ctx) {
    const auto& s = ctx.platform.state();
    Instance i;
    i.set("CreationClassName", "IPS_ProvisioningRecordLog")
        .setNum("CurrentNumberOfRecords", lastProvisioning(s) ? 1 : 0)
        .set("ElementName", kProvisioningLogName)
        .setNum("EnabledState", s.services.provisioningRecordLogEnabled ? 2 : 3)
        .setNum("MaxNumberOfRecords", 1)
        .set("Name", kProvisioningLogName)
        .setNum("OverwritePolicy", 2)  // wraps: the last provisioning replaces the one before
        .setNum("RequestedState", s.services.provisioningRecordLogEnabled ? 2 : 3);
    return std::vector<Instance>{i};
  };
  r.add(std::move(log));

  // Host-based setup: client control mode gives IPS_ClientProvisioningRecord, admin control mode
  // IPS_AdminProvisioningRecord. Manual (MEBx), TLS-PKI and TLS-PSK records need provisioning paths mesim has not.
  auto recordClass = [](const char* name, platform::ControlMode mode) {
    ClassDef c{.name = name, .schema = Schema::Ips, .keys = {"InstanceID"}};
    c.properties = {P("CreationTimeStamp", T::DateTime), P("ElementName"), P("InstanceID"), P("LogInstanceID"),
                    P("ProvisioningTLSMode", T::UInt8), P("RecordData"), P("UserName")};
    if (mode != platform::ControlMode::None)
      c.enumerate = [name, mode](CimContext& ctx) {
        const auto& s = ctx.platform.state();
        auto rec = lastProvisioning(s);
        std::vector<Instance> out;
        if (!rec || s.controlMode != mode) return out;
        Instance i;
        i.set("CreationTimeStamp", Value::dateTime(cimDatetime(rec->timestamp)))
            .set("ElementName", "Intel(r) AMT Provisioning Record")
            .set("InstanceID", std::string("Intel(r) AMT:") + name + " 1")
            .set("LogInstanceID", kProvisioningLogName)
            .setNum("ProvisioningTLSMode", 0)  // host-based setup runs without TLS provisioning
            .set("RecordData", mode == platform::ControlMode::Admin ? "AdminSetup" : "Setup")
            .set("UserName", rec->user);
        out.push_back(std::move(i));
        return out;
      };
    else
      c.enumerate = [](CimContext&) { return std::vector<Instance>{}; };
    return c;
  };
  r.add(recordClass("IPS_ClientProvisioningRecord", platform::ControlMode::Client));
  r.add(recordClass("IPS_AdminProvisioningRecord", platform::ControlMode::Admin));
  r.add(recordClass("IPS_ManualProvisioningRecord", platform::ControlMode::None));
  r.add(recordClass("IPS_TLSProvisioningRecord", platform::ControlMode::None));
}

// The redirection sessions open now, each linking the AMT port it runs on to the service or SAP behind it.
void registerSessionsUsingPorts(ClassRegistry& r) {
  auto portRef = [] {
    EndpointReference e;
    e.resourceUri = resourceUri(Schema::Cim, "CIM_EthernetPort");
    e.selectors = {soap::textSelector("CreationClassName", "CIM_EthernetPort"),
                   soap::textSelector("DeviceID", "Intel(r) AMT Ethernet Port 0"),
                   soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                   soap::textSelector("SystemName", kAmtSystemName)};
    return e;
  };
  auto sessionClass = [portRef](const char* name, std::function<std::optional<EndpointReference>(const platform::PlatformState&)> open) {
    ClassDef c{.name = name, .schema = Schema::Ips, .keys = {"Antecedent", "Dependent"}};
    c.properties = {{"Antecedent", T::Reference}, {"Dependent", T::Reference}};
    c.enumerate = [portRef, open](CimContext& ctx) {
      std::vector<Instance> out;
      if (auto service = open(ctx.platform.state())) {
        Instance i;
        i.set("Antecedent", Value::ref(portRef())).set("Dependent", Value::ref(*service));
        out.push_back(std::move(i));
      }
      return out;
    };
    return c;
  };
  const auto redirection = serviceRef(Schema::Amt, "AMT_RedirectionService", "Intel(r) AMT Redirection Service");
  r.add(sessionClass("IPS_SolSessionUsingPort", [redirection](const platform::PlatformState& s) {
    return s.features.solSessionOpen ? std::optional(redirection) : std::nullopt;
  }));
  r.add(sessionClass("IPS_IderSessionUsingPort", [redirection](const platform::PlatformState& s) {
    return s.features.iderSessionOpen ? std::optional(redirection) : std::nullopt;
  }));
  r.add(sessionClass("IPS_KvmSessionUsingPort", [](const platform::PlatformState& s) -> std::optional<EndpointReference> {
    if (!s.features.kvmSessionActive) return std::nullopt;
    EndpointReference e;
    e.resourceUri = resourceUri(Schema::Cim, "CIM_KVMRedirectionSAP");
    e.selectors = {soap::textSelector("CreationClassName", "CIM_KVMRedirectionSAP"),
                   soap::textSelector("Name", "KVM Redirection Service Access Point"),
                   soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                   soap::textSelector("SystemName", kAmtSystemName)};
    return e;
  }));
  r.add(sessionClass("IPS_RasSessionUsingPort", [](const platform::PlatformState& s) -> std::optional<EndpointReference> {
    if (s.remoteAccess.connectionStatus != 2) return std::nullopt;  // 2 connected (CIRA)
    return serviceRef(Schema::Amt, "AMT_RemoteAccessService", "Intel(r) AMT Remote Access Service");
  }));
}

}  // namespace

void registerLogRecords(ClassRegistry& r) {
  registerEventLogEntries(r);
  registerAuditPolicy(r);
  registerProvisioningRecords(r);
  registerSessionsUsingPorts(r);
}

std::optional<EndpointReference> provisioningRecordRef(const platform::PlatformState& s) {
  if (!lastProvisioning(s) || s.controlMode == platform::ControlMode::None) return std::nullopt;
  const std::string name = provisioningRecordClass(s.controlMode);
  return instanceIdRef(Schema::Ips, name, "Intel(r) AMT:" + name + " 1");
}

}  // namespace mesim::wsman::cim
