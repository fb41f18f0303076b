#include "firmware/core/firmware_timer_queue.h"

#include <boost/asio/post.hpp>

namespace mesim::core {

FirmwareTimerQueue::FirmwareTimerQueue(boost::asio::io_context& io, FirmwareClock& clock)
    : io_(io), clock_(clock), wakeup_(io) {
  driven_ = clock_.follow(*this);
}

FirmwareTimerQueue::~FirmwareTimerQueue() {
  if (driven_) clock_.unfollow(*this);
}

FirmwareTimerQueue::TimerId FirmwareTimerQueue::schedule(time_point deadline, Callback callback) {
  const TimerId id = nextId_++;
  timers_.emplace(Key{deadline, id}, std::move(callback));
  index_.emplace(id, deadline);
  if (deadline <= now()) {
    postRun();  // due already: run from the loop, never inside schedule() (the caller may not expect re-entry)
  } else if (!driven_ && (!armedFor_ || deadline < *armedFor_)) {
    arm();
  }
  return id;
}

bool FirmwareTimerQueue::cancel(TimerId id) {
  auto it = index_.find(id);
  if (it == index_.end()) return false;
  timers_.erase(Key{it->second, id});
  index_.erase(it);
  // The steady_timer stays armed: it wakes, finds nothing due and re-arms for what is left.
  return true;
}

std::optional<FirmwareTimerQueue::time_point> FirmwareTimerQueue::deadline(TimerId id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::optional<FirmwareTimerQueue::time_point> FirmwareTimerQueue::nextDeadline() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

std::size_t FirmwareTimerQueue::runDue() {
  const time_point t = now();
  const TimerId newest = nextId_;  // timers scheduled by the callbacks below wait for the next pass
  std::size_t ran = 0;
  for (auto it = timers_.begin(); it != timers_.end() && it->first.first <= t;) {
    if (it->first.second >= newest) {
      ++it;
      continue;
    }
    Callback callback = std::move(it->second);
    index_.erase(it->first.second);
    timers_.erase(it);
    ++timersRun_;
    callback();
    ++ran;
    it = timers_.begin();  // callbacks may have changed the map
  }
  if (!driven_) arm();
  else if (!timers_.empty() && timers_.begin()->first.first <= t) postRun();
  return ran;
}

void FirmwareTimerQueue::postRun() {
  if (runPosted_) return;
  runPosted_ = true;
  boost::asio::post(io_, [this, alive = std::weak_ptr<char>(alive_)] {
    if (alive.expired()) return;
    runPosted_ = false;
    runDue();
  });
}

void FirmwareTimerQueue::arm() {
  if (timers_.empty()) {
    armedFor_.reset();
    wakeup_.cancel();
    return;
  }
  const time_point next = timers_.begin()->first.first;
  armedFor_ = next;
  // A running clock says how much real time its span to the deadline takes (less for a fast scaled clock).
  const auto wait = clock_.realTimeFor(std::max(duration::zero(), next - now()));
  wakeup_.expires_after(wait ? *wait : std::chrono::steady_clock::duration::zero());
  wakeup_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed or destroyed: `this` may be gone, touch nothing
    armedFor_.reset();
    runDue();
  });
}

}  // namespace mesim::core
