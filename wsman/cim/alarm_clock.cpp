// AMT_AlarmClockService (AddAlarm; Put of the deprecated NextAMTAlarmTime / AMTAlarmClockInterval) and the
// IPS_AlarmClockOccurrence instances AddAlarm creates (Enumerate, Get, Delete). They change the alarms in the
// platform state; platform::AlarmClock powers the host on when one goes off (docs/alarm-clock-and-boot.md).
#include <algorithm>

#include "firmware/core/clock_text.h"
#include "firmware/platform/alarm_clock.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kServiceClass = "AMT_AlarmClockService";
constexpr const char* kServiceName = "Intel(r) AMT Alarm Clock Service";
constexpr const char* kOccurrenceClass = "IPS_AlarmClockOccurrence";
constexpr std::size_t kMaxInstanceIdLength = 256;

// AMT's clock: the firmware clock plus the offset SetHighAccuracyTimeSynch set.
std::int64_t amtNow(const CimContext& ctx) { return std::int64_t{ctx.now()} + ctx.platform.state().amtClockOffset; }

// A CIM datetime a console sent ("2026-06-01T03:00:00Z"): Unix seconds, or nothing if it is not one.
std::optional<std::int64_t> parseTime(const std::string& text) {
  auto t = core::parseUtc(text);
  if (!t) return std::nullopt;
  return core::unixSeconds(*t);
}

MethodResult addAlarm(CimContext& ctx, const Instance&, const Arguments& in) {
  platform::AlarmClockOccurrence alarm;
  std::string start, interval;
  if (!argString(in, "AlarmTemplate.InstanceID", alarm.instanceId) || alarm.instanceId.empty() ||
      alarm.instanceId.size() > kMaxInstanceIdLength || !argString(in, "AlarmTemplate.StartTime", start))
    return MethodResult::status(status::kInvalidParameter);
  argString(in, "AlarmTemplate.ElementName", alarm.elementName);
  if (alarm.elementName.size() > kMaxInstanceIdLength) return MethodResult::status(status::kInvalidParameter);
  const auto startTime = parseTime(start);
  // An alarm must lie ahead of AMT's clock (MeshCommander: "Verify the alarm is for a future time").
  if (!startTime || *startTime <= amtNow(ctx)) return MethodResult::status(status::kInvalidParameter);
  alarm.startTime = *startTime;
  if (argString(in, "AlarmTemplate.Interval", interval) && !interval.empty()) {
    auto seconds = platform::parseAlarmInterval(interval);
    if (!seconds) return MethodResult::status(status::kInvalidParameter);
    alarm.intervalSeconds = *seconds;
  }
  if (in.count("AlarmTemplate.DeleteOnCompletion") && !argBool(in, "AlarmTemplate.DeleteOnCompletion", alarm.deleteOnCompletion))
    return MethodResult::status(status::kInvalidParameter);

  const auto& known = ctx.platform.state().alarmClock.occurrences;
  if (std::any_of(known.begin(), known.end(), [&](const auto& o) { return o.instanceId == alarm.instanceId; }))
    return MethodResult::status(status::kDuplicate);
  if (known.size() >= platform::AlarmClockSettings::kMaxOccurrences)
    return MethodResult::status(status::kMaxLimitReached);
  auto result = ctx.platform.update([&](platform::PlatformState& s) { s.alarmClock.occurrences.push_back(alarm); });
  if (result == platform::ChangeResult::InvalidParameter) return MethodResult::status(status::kInvalidParameter);
  if (result != platform::ChangeResult::Ok) return MethodResult::status(status::kInternalError);
  MethodResult r;
  r.outputs["AlarmClock"] = Value::ref(instanceIdRef(Schema::Ips, kOccurrenceClass, alarm.instanceId));
  return r;
}

ChangeFault putService(CimContext& ctx, const Instance&, const Arguments& changes) {
  auto settings = ctx.platform.state().alarmClock;
  std::string text;
  if (argString(changes, "NextAMTAlarmTime", text)) {
    const auto t = parseTime(text);
    if (!t || *t <= amtNow(ctx)) return invalidParameter("NextAMTAlarmTime must be a time ahead of AMT's clock.");
    settings.legacyNextAlarmTime = *t;
  }
  if (argString(changes, "AMTAlarmClockInterval", text)) {
    const auto seconds = platform::parseAlarmInterval(text);
    if (!seconds) return invalidParameter("AMTAlarmClockInterval must be a duration such as P1DT0H0M.");
    settings.legacyIntervalSeconds = *seconds;
  }
  return changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.alarmClock = settings; }));
}

}  // namespace

void registerAlarmClock(ClassRegistry& r) {
  ClassDef svc{.name = kServiceClass, .schema = Schema::Amt, .keys = kServiceKeys};
  svc.properties = {P("CreationClassName"), P("ElementName"), P("Name"), P("SystemCreationClassName"), P("SystemName"),
                    W("NextAMTAlarmTime", T::DateTime), W("AMTAlarmClockInterval", T::DateTime)};
  svc.methods = {{"AddAlarm", {In("AlarmTemplate")}, {Out("AlarmClock", T::Reference)}, addAlarm}};
  svc.enumerate = [](CimContext& ctx) {
    // As captured on AMT 16 (go-wsman-messages testdata): scoped to the host system. The deprecated alarm's two
    // properties appear only while it is set.
    Instance i;
    i.set("CreationClassName", kServiceClass)
        .set("ElementName", kServiceName)
        .set("Name", kServiceName)
        .set("SystemCreationClassName", "CIM_ComputerSystem")
        .set("SystemName", kHostSystemName);
    const auto& alarms = ctx.platform.state().alarmClock;
    if (alarms.legacyNextAlarmTime) {
      i.set("NextAMTAlarmTime", Value::dateTime(cimDatetime(alarms.legacyNextAlarmTime)));
      i.set("AMTAlarmClockInterval", Value::dateTime(platform::formatAlarmInterval(alarms.legacyIntervalSeconds)));
    }
    return std::vector<Instance>{i};
  };
  svc.put = putService;
  r.add(std::move(svc));

  ClassDef occ{.name = kOccurrenceClass, .schema = Schema::Ips, .keys = {"InstanceID"}};
  occ.properties = {P("DeleteOnCompletion", T::Boolean), P("ElementName"), P("InstanceID"),
                    P("Interval", T::DateTime), P("StartTime", T::DateTime)};
  occ.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& o : ctx.platform.state().alarmClock.occurrences) {
      Instance i;
      i.setBool("DeleteOnCompletion", o.deleteOnCompletion)
          .set("ElementName", o.elementName)
          .set("InstanceID", o.instanceId)
          .set("StartTime", Value::dateTime(cimDatetime(o.startTime)));
      // A one-shot alarm has no Interval (MeshCommander prints "each ..." when there is one).
      if (o.intervalSeconds) i.set("Interval", Value::dateTime(platform::formatAlarmInterval(o.intervalSeconds)));
      out.push_back(std::move(i));
    }
    return out;
  };
  occ.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string id = target.str("InstanceID");
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      std::erase_if(s.alarmClock.occurrences, [&](const auto& o) { return o.instanceId == id; });
    }));
  };
  r.add(std::move(occ));
}

}  // namespace mesim::wsman::cim
