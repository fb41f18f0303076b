// The alarm clock's persisted state (AMT_AlarmClockService, IPS_AlarmClockOccurrence; docs/alarm-clock-and-boot.md):
// the alarms consoles added and the older single alarm of NextAMTAlarmTime. Plain data; AlarmClock
// (alarm_clock.h) acts on it, the JSON is alarm_clock_json.cpp's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mesim::platform {

// One IPS_AlarmClockOccurrence (AMT_AlarmClockService.AddAlarm).
struct AlarmClockOccurrence {
  std::string instanceId;          // the key, as the console chose it
  std::string elementName;
  std::int64_t startTime = 0;      // Unix seconds on AMT's clock (UTC); a recurring alarm's next time
  std::uint32_t intervalSeconds = 0;  // 0: once
  bool deleteOnCompletion = false;
  bool completed = false;          // a one-shot alarm that went off and stays listed (not shown over WS-Man)
  bool operator==(const AlarmClockOccurrence&) const = default;
};

struct AlarmClockSettings {
  // AddAlarm's limit: "The method would fail if 5 instances or more of IPS_AlarmClockOccurrence already exist"
  // (the AMT SDK's description of AddAlarm, as wsman-messages quotes it).
  static constexpr std::size_t kMaxOccurrences = 5;
  std::vector<AlarmClockOccurrence> occurrences;
  // AMT_AlarmClockService.NextAMTAlarmTime / AMTAlarmClockInterval, the deprecated single alarm set by Put:
  // Unix seconds on AMT's clock, 0 = none; the interval in seconds, 0 = once.
  std::int64_t legacyNextAlarmTime = 0;
  std::uint32_t legacyIntervalSeconds = 0;
  bool operator==(const AlarmClockSettings&) const = default;
};

}  // namespace mesim::platform
