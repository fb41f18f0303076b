#include "firmware/core/firmware_clock.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace mesim::core {

namespace {
// A wait longer than this is cut short: the queue wakes, finds nothing due and waits again (no overflow of the
// steady clock's nanoseconds for a far deadline on a slow clock).
constexpr std::chrono::hours kLongestWait{24};

FirmwareClock::real_duration boundedWait(std::chrono::duration<double, std::nano> wait) {
  if (wait <= wait.zero()) return FirmwareClock::real_duration::zero();
  if (wait >= kLongestWait) return kLongestWait;
  return std::chrono::ceil<FirmwareClock::real_duration>(wait);
}
}  // namespace

// The one place firmware reads the system clock.
FirmwareClock::time_point SystemFirmwareClock::now() const { return std::chrono::system_clock::now(); }

std::optional<FirmwareClock::real_duration> SystemFirmwareClock::realTimeFor(duration d) const {
  return boundedWait(d);
}

ScaledFirmwareClock::ScaledFirmwareClock(double scale, time_point start)
    : scale_(std::clamp(scale, kMinScale, kMaxScale)), start_(start), realStart_(std::chrono::steady_clock::now()) {}

FirmwareClock::time_point ScaledFirmwareClock::now() const {
  // Monotonic: the steady clock never goes back and multiplying by a positive constant keeps the order.
  const std::chrono::duration<double, std::nano> real = std::chrono::steady_clock::now() - realStart_;
  return start_ + std::chrono::duration_cast<duration>(real * scale_);
}

std::optional<FirmwareClock::real_duration> ScaledFirmwareClock::realTimeFor(duration d) const {
  return boundedWait(std::chrono::duration<double, std::nano>(d) / scale_);
}

void ManualFirmwareClock::set(time_point t) {
  if (moving_) {  // from a timer callback: the move in progress goes on to the later of the two
    target_ = std::max(target_, t);
    return;
  }
  if (t <= now_) {
    now_ = t;
    return;
  }
  moving_ = true;
  target_ = t;
  std::size_t passesAtThisInstant = 0;
  for (auto next = earliestDeadline(); next && *next <= target_; next = earliestDeadline()) {
    if (*next > now_) {
      now_ = *next;
      passesAtThisInstant = 0;
    } else if (++passesAtThisInstant > kMaxPassesAtOneInstant) {
      break;
    }
    runDueOnAll();
  }
  now_ = target_;
  moving_ = false;
  runDueOnAll();  // after a stepping cut short, what is due now; otherwise nothing (cheap)
}

std::optional<FirmwareClock::time_point> ManualFirmwareClock::earliestDeadline() const {
  std::optional<time_point> earliest;
  for (const Follower* f : followers_)
    if (auto d = f->nextDeadline(); d && (!earliest || *d < *earliest)) earliest = d;
  return earliest;
}

void ManualFirmwareClock::runDueOnAll() {
  const auto followers = followers_;  // a callback may make a queue follow or unfollow
  for (Follower* f : followers)
    if (std::find(followers_.begin(), followers_.end(), f) != followers_.end()) f->runDue();
}

bool ManualFirmwareClock::follow(Follower& follower) {
  if (std::find(followers_.begin(), followers_.end(), &follower) == followers_.end()) followers_.push_back(&follower);
  return true;
}

void ManualFirmwareClock::unfollow(Follower& follower) {
  followers_.erase(std::remove(followers_.begin(), followers_.end(), &follower), followers_.end());
}

std::unique_ptr<FirmwareClock> makeFirmwareClock(const ClockSetting& setting) {
  const auto start = setting.start ? *setting.start : SystemFirmwareClock().now();
  switch (setting.mode) {
    case ClockSetting::Mode::Scaled:
      return std::make_unique<ScaledFirmwareClock>(setting.scale, start);
    case ClockSetting::Mode::Manual:
      return std::make_unique<ManualFirmwareClock>(start);
    case ClockSetting::Mode::Real:
      break;
  }
  return std::make_unique<SystemFirmwareClock>();
}

std::string describe(const ClockSetting& setting) {
  switch (setting.mode) {
    case ClockSetting::Mode::Scaled: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, setting.scale);  // shortest text that reads back
      return "scaled:" + (ec == std::errc{} ? std::string(buf, end) : std::string("?"));
    }
    case ClockSetting::Mode::Manual:
      return "manual";
    case ClockSetting::Mode::Real:
      break;
  }
  return "real";
}

}  // namespace mesim::core
