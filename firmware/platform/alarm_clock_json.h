// platform.json's "alarmClock" object <-> AlarmClockSettings (called from platform_json.cpp). Internal to the
// platform library.
#pragma once

#include <string>

#include <boost/json/fwd.hpp>

#include "firmware/platform/alarm_clock_state.h"

namespace mesim::platform {

boost::json::value alarmClockToJson(const AlarmClockSettings& settings);
// "" on success, else what was wrong, starting with the field's path below "alarmClock" (e.g. "occurrences[1].startTime
// must be an integer"). `out` is changed only on success.
std::string alarmClockFromJson(const boost::json::value& in, AlarmClockSettings& out);

}  // namespace mesim::platform
