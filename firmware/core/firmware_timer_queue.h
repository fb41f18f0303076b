// Callbacks at firmware-clock deadlines (ARCHITECTURE.md "Directions": time comes from the firmware clock).
// A running clock (system or scaled) is followed with one steady_timer armed for the real time until the earliest
// deadline; a manual clock (ManualFirmwareClock) steps the queue through its deadlines from inside set()/advance(),
// so a test or QA moves time and sees the consequences at once, each timer at its own due time. Ordered by (deadline, scheduling order): O(log n) schedule and cancel, one
// asio wait however many timers are pending (10,000 watchdogs cost one armed timer).
//
// Threading: single-threaded, on the io_context it was built with. Callbacks may schedule and cancel timers,
// including their own; a timer scheduled from a callback for a time already past runs in the next pass, so a
// callback that re-arms itself "now" cannot spin the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "firmware/core/firmware_clock.h"

namespace mesim::core {

class FirmwareTimerQueue final : public FirmwareClock::Follower {
 public:
  using TimerId = std::uint64_t;  // never 0, never reused
  using time_point = FirmwareClock::time_point;
  using duration = FirmwareClock::duration;
  using Callback = std::function<void()>;

  FirmwareTimerQueue(boost::asio::io_context& io, FirmwareClock& clock);
  ~FirmwareTimerQueue();
  FirmwareTimerQueue(const FirmwareTimerQueue&) = delete;
  FirmwareTimerQueue& operator=(const FirmwareTimerQueue&) = delete;

  const FirmwareClock& clock() const { return clock_; }
  time_point now() const { return clock_.now(); }

  TimerId schedule(time_point deadline, Callback callback);
  TimerId scheduleAfter(duration delay, Callback callback) { return schedule(now() + delay, std::move(callback)); }
  // False if `id` already ran or was cancelled.
  bool cancel(TimerId id);
  bool pending(TimerId id) const { return index_.count(id) != 0; }
  std::optional<time_point> deadline(TimerId id) const;

  std::size_t size() const { return index_.size(); }
  // Callbacks run since the queue was made (the clock routes report how many a move fired).
  std::uint64_t timersRun() const { return timersRun_; }
  std::optional<time_point> nextDeadline() const override;
  // Runs every timer due at now(), earliest first; returns how many ran. Called by the driver; tests
  // with a manual clock get it from advance().
  std::size_t runDue() override;

 private:
  using Key = std::pair<time_point, TimerId>;
  void arm();
  void postRun();

  boost::asio::io_context& io_;
  FirmwareClock& clock_;
  std::map<Key, Callback> timers_;
  std::unordered_map<TimerId, time_point> index_;
  TimerId nextId_ = 1;
  std::uint64_t timersRun_ = 0;
  bool driven_ = false;                // a manual clock drives the queue
  boost::asio::steady_timer wakeup_;   // a running clock: armed for `armedFor_`
  std::optional<time_point> armedFor_;
  bool runPosted_ = false;
  std::shared_ptr<char> alive_ = std::make_shared<char>();  // posted work checks it
};

}  // namespace mesim::core
