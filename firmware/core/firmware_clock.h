// The firmware's notion of wall-clock time (ARCHITECTURE.md "Directions": no direct
// std::chrono::system_clock in firmware code), so tests and QA scenarios can run time by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

namespace mesim::core {

class FirmwareClock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  using duration = std::chrono::system_clock::duration;

  using MoveListener = std::function<void()>;

  virtual ~FirmwareClock() = default;
  virtual time_point now() const = 0;
  // A clock moved by hand calls `listener` after every move (timers then fire from the move, see
  // firmware_timer_queue.h) and returns a token (> 0); a clock that runs by itself returns 0.
  virtual std::size_t onMoved(MoveListener listener) {
    (void)listener;
    return 0;
  }
  virtual void removeMoveListener(std::size_t token) { (void)token; }
};

// Real time.
class SystemFirmwareClock final : public FirmwareClock {
 public:
  time_point now() const override;
};

// Time that moves only when told to (tests, scenarios).
class ManualFirmwareClock final : public FirmwareClock {
 public:
  explicit ManualFirmwareClock(time_point start = time_point{}) : now_(start) {}
  time_point now() const override { return now_; }
  void set(time_point t) {
    now_ = t;
    moved();
  }
  void advance(duration d) { set(now_ + d); }

  std::size_t onMoved(MoveListener listener) override {
    listeners_[nextToken_] = std::move(listener);
    return nextToken_++;
  }
  void removeMoveListener(std::size_t token) override { listeners_.erase(token); }

 private:
  void moved() {
    std::vector<std::size_t> tokens;  // a listener may remove itself or another one
    for (auto& entry : listeners_) tokens.push_back(entry.first);
    for (auto token : tokens)
      if (auto it = listeners_.find(token); it != listeners_.end()) it->second();
  }

  time_point now_;
  std::map<std::size_t, MoveListener> listeners_;
  std::size_t nextToken_ = 1;
};

// Seconds since the Unix epoch, the unit AMT uses in its timestamps.
inline std::uint32_t unixSeconds(FirmwareClock::time_point t) {
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace mesim::core
