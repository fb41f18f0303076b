// The firmware's notion of wall-clock time (ARCHITECTURE.md "Directions": no direct
// std::chrono::system_clock in firmware code), so tests and QA scenarios can run time by hand or faster.
// Three kinds (docs/architecture.md "Firmware clock"): real time, real time scaled by a factor from a start
// instant, and time that moves only when told (ManualFirmwareClock), which steps its timer queues through
// every deadline of a move so each timer runs with now() at its own deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mesim::core {

class FirmwareClock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  using duration = std::chrono::system_clock::duration;
  using real_duration = std::chrono::steady_clock::duration;

  // A timer queue that a clock moved by hand drives (firmware_timer_queue.h).
  class Follower {
   public:
    virtual std::optional<time_point> nextDeadline() const = 0;
    // Runs the timers due at the clock's now(); returns how many ran.
    virtual std::size_t runDue() = 0;

   protected:
    ~Follower() = default;
  };

  virtual ~FirmwareClock() = default;
  virtual time_point now() const = 0;
  // Real time a running clock takes to cover `d` of its own time (rounded up, so a wait never ends early), or
  // nothing for a clock that moves only when told.
  virtual std::optional<real_duration> realTimeFor(duration d) const = 0;
  // A clock moved by hand drives `follower` from its moves and returns true; a running clock returns false (the
  // queue then waits on real time by itself). `follower` must unfollow before it goes.
  virtual bool follow(Follower& follower) {
    (void)follower;
    return false;
  }
  virtual void unfollow(Follower& follower) { (void)follower; }
};

// Real time.
class SystemFirmwareClock final : public FirmwareClock {
 public:
  time_point now() const override;
  std::optional<real_duration> realTimeFor(duration d) const override;
};

// Real time multiplied: from `start`, firmware time runs `scale` times as fast as the real (monotonic) clock
// (scale 60: a minute per second; 0.5: half speed).
class ScaledFirmwareClock final : public FirmwareClock {
 public:
  static constexpr double kMinScale = 0.001;
  static constexpr double kMaxScale = 1'000'000;
  ScaledFirmwareClock(double scale, time_point start);
  time_point now() const override;
  std::optional<real_duration> realTimeFor(duration d) const override;
  double scale() const { return scale_; }

 private:
  double scale_;
  time_point start_;
  std::chrono::steady_clock::time_point realStart_;
};

// Time that moves only when told to (tests, QA scenarios, --clock manual).
class ManualFirmwareClock final : public FirmwareClock {
 public:
  // Passes at one instant before a move gives up stepping (a timer that keeps re-arming itself for "now").
  static constexpr std::size_t kMaxPassesAtOneInstant = 100'000;

  explicit ManualFirmwareClock(time_point start = time_point{}) : now_(start) {}
  time_point now() const override { return now_; }
  std::optional<real_duration> realTimeFor(duration) const override { return std::nullopt; }

  // Forward: steps through the deadlines of every follower up to `t`, earliest first; at each, now() is that
  // deadline while the timers due then run, so a timer sees its own due time and timers that callbacks schedule
  // within the span run within the same move. Back: no timer runs. Called from a timer callback during a move,
  // it extends that move (never shortens it). A timer that keeps re-arming for "now" ends the stepping after
  // kMaxPassesAtOneInstant passes: the clock then jumps to `t` and what is still due runs from the loop.
  void set(time_point t);
  void advance(duration d) { set(now_ + d); }

  bool follow(Follower& follower) override;
  void unfollow(Follower& follower) override;

 private:
  std::optional<time_point> earliestDeadline() const;
  void runDueOnAll();

  time_point now_;
  std::vector<Follower*> followers_;
  bool moving_ = false;
  time_point target_{};  // of the move in progress
};

// What --clock chose for a device.
struct ClockSetting {
  enum class Mode { Real, Scaled, Manual };
  Mode mode = Mode::Real;
  double scale = 1;                 // Scaled
  std::optional<FirmwareClock::time_point> start;  // Scaled and Manual; unset: the real time at start-up
};

// The clock of a setting; a scaled or manual one starts at `setting.start`, or at the real time now.
std::unique_ptr<FirmwareClock> makeFirmwareClock(const ClockSetting& setting);
// "real", "scaled:60", "manual": the text --clock takes.
std::string describe(const ClockSetting& setting);

// Seconds since the Unix epoch, the unit AMT uses in its timestamps.
inline std::uint32_t unixSeconds(FirmwareClock::time_point t) {
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace mesim::core
