#include "firmware/platform/alarm_clock.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "common/log.h"

namespace mesim::platform {
namespace {

constexpr std::uint64_t kMaxIntervalSeconds = std::numeric_limits<std::uint32_t>::max();
// After a failed write (a full disk) the alarm is tried again this much later rather than on every pass.
constexpr std::chrono::seconds kRetryAfterStorageError{60};

// Whether the alarm is still to go off, and when (AMT time).
bool pending(const AlarmClockOccurrence& o) { return !o.completed; }

// The first time after `now` on the grid start + k * interval.
std::int64_t nextAfter(std::int64_t start, std::uint32_t interval, std::int64_t now) {
  if (start > now) return start;
  const std::int64_t steps = (now - start) / interval + 1;
  return start + steps * static_cast<std::int64_t>(interval);
}

}  // namespace

std::optional<std::uint32_t> parseAlarmInterval(std::string_view text) {
  if (text.size() < 2 || text.front() != 'P') return std::nullopt;
  std::uint64_t total = 0;
  bool inTime = false, any = false;
  char lastUnit = 0;  // units must come in order: D, then T, then H, M, S
  constexpr std::string_view kOrder = "DHMS";
  std::size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (inTime) return std::nullopt;
      inTime = true;
      ++i;
      if (i == text.size()) return std::nullopt;  // "P1DT" is not a duration
      continue;
    }
    std::uint64_t number = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      number = number * 10 + static_cast<std::uint64_t>(text[i] - '0');
      if (number > kMaxIntervalSeconds) return std::nullopt;
      ++i;
      ++digits;
    }
    if (digits == 0 || i == text.size()) return std::nullopt;
    const char unit = text[i++];
    std::uint64_t scale = 0;
    if (unit == 'D' && !inTime) scale = 86400;
    else if (unit == 'H' && inTime) scale = 3600;
    else if (unit == 'M' && inTime) scale = 60;
    else if (unit == 'S' && inTime) scale = 1;
    else return std::nullopt;  // Y, month M, W, fractions, units out of place
    if (lastUnit && kOrder.find(unit) <= kOrder.find(lastUnit)) return std::nullopt;
    lastUnit = unit;
    total += number * scale;
    if (total > kMaxIntervalSeconds) return std::nullopt;
    any = true;
  }
  if (!any) return std::nullopt;
  return static_cast<std::uint32_t>(total);
}

std::string formatAlarmInterval(std::uint32_t seconds) {
  std::string out = "P" + std::to_string(seconds / 86400) + "DT" + std::to_string(seconds / 3600 % 24) + "H" +
                    std::to_string(seconds / 60 % 60) + "M";
  if (seconds % 60) out += std::to_string(seconds % 60) + "S";
  return out;
}

AlarmClock::AlarmClock(core::FirmwareTimerQueue& timers, PlatformModel& platform, HostPowerStateMachine& power)
    : timers_(timers), platform_(platform), power_(power) {
  subscription_ = platform_.subscribe([this] { follow(); });
  follow();
}

AlarmClock::~AlarmClock() {
  platform_.unsubscribe(subscription_);
  if (timer_) timers_.cancel(timer_);
}

std::int64_t AlarmClock::amtNow() const {
  return core::unixSeconds(timers_.now()) + platform_.state().amtClockOffset;
}

std::optional<core::FirmwareClock::time_point> AlarmClock::nextAlarm() const { return armedFor_; }

void AlarmClock::follow() {
  if (ringing_) return;  // ring() follows once it is done
  const auto& alarms = platform_.state().alarmClock;
  std::optional<std::int64_t> earliest;
  for (const auto& o : alarms.occurrences)
    if (pending(o) && (!earliest || o.startTime < *earliest)) earliest = o.startTime;
  if (alarms.legacyNextAlarmTime && (!earliest || alarms.legacyNextAlarmTime < *earliest))
    earliest = alarms.legacyNextAlarmTime;

  std::optional<core::FirmwareClock::time_point> deadline;
  if (earliest)
    deadline = core::FirmwareClock::time_point{std::chrono::seconds(*earliest - platform_.state().amtClockOffset)};
  if (deadline == armedFor_ && (timer_ || !deadline)) return;
  if (timer_) timers_.cancel(timer_);
  timer_ = 0;
  armedFor_ = deadline;
  if (deadline) timer_ = timers_.schedule(std::max(*deadline, timers_.now()), [this] { ring(); });
}

void AlarmClock::ring() {
  timer_ = 0;
  armedFor_.reset();
  const std::int64_t now = amtNow();
  const auto& current = platform_.state().alarmClock;
  std::vector<std::string> due;
  for (const auto& o : current.occurrences)
    if (pending(o) && o.startTime <= now) due.push_back(o.instanceId.empty() ? "?" : o.instanceId);
  const bool legacyDue = current.legacyNextAlarmTime && current.legacyNextAlarmTime <= now;
  if (due.empty() && !legacyDue) return follow();  // moved or deleted meanwhile, or the clock went back

  ringing_ = true;
  ++alarmsRung_;
  std::string names;
  for (const auto& n : due) names += (names.empty() ? "'" : ", '") + n + "'";
  if (legacyDue) names += names.empty() ? "NextAMTAlarmTime" : ", NextAMTAlarmTime";
  const auto status = power_.firmwareWake(kBootReasonAlarmClock);
  if (status == PowerChangeStatus::Completed) {
    ++wakes_;
    MESIM_LOG(Info, "alarm-clock", "alarm " << names << " went off: host powered on");
  } else if (status == PowerChangeStatus::InvalidState) {
    MESIM_LOG(Info, "alarm-clock", "alarm " << names << " went off: the host is on already");
  } else {
    MESIM_LOG(Error, "alarm-clock", "alarm " << names << " could not power the host on: " << platform_.lastError());
  }

  const auto result = platform_.update([&](PlatformState& s) {
    auto& alarms = s.alarmClock;
    for (auto& o : alarms.occurrences) {
      if (!pending(o) || o.startTime > now) continue;
      if (o.intervalSeconds) o.startTime = nextAfter(o.startTime, o.intervalSeconds, now);
      else o.completed = true;
    }
    std::erase_if(alarms.occurrences, [](const auto& o) { return o.completed && o.deleteOnCompletion; });
    if (alarms.legacyNextAlarmTime && alarms.legacyNextAlarmTime <= now)
      alarms.legacyNextAlarmTime =
          alarms.legacyIntervalSeconds ? nextAfter(alarms.legacyNextAlarmTime, alarms.legacyIntervalSeconds, now) : 0;
  });
  ringing_ = false;
  if (result != ChangeResult::Ok) {
    MESIM_LOG(Error, "alarm-clock", "cannot store the alarms after they went off: " << platform_.lastError());
    armedFor_ = timers_.now() + kRetryAfterStorageError;
    timer_ = timers_.schedule(*armedFor_, [this] { ring(); });
    return;
  }
  follow();
}

}  // namespace mesim::platform
