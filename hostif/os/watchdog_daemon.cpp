#include "hostif/os/watchdog_daemon.h"

#include <cerrno>
#include <cstring>

#include <linux/watchdog.h>

namespace mesim::hostos {
namespace {
constexpr const char* kLog = "host-os";
}

const char* toString(WatchdogDaemon::State state) {
  switch (state) {
    case WatchdogDaemon::State::Stopped: return "stopped";
    case WatchdogDaemon::State::Waiting: return "waiting";
    case WatchdogDaemon::State::Heartbeating: return "heartbeating";
    case WatchdogDaemon::State::Frozen: return "frozen";
    case WatchdogDaemon::State::Yielded: return "yielded";
  }
  return "?";
}

WatchdogDaemon::WatchdogDaemon(host::MeiWdt& wdt, OsTimers& timers, unsigned timeoutSeconds)
    : wdt_(wdt), timers_(timers), timeoutSeconds_(timeoutSeconds) {
  auto alive = std::weak_ptr<char>(alive_);
  wdt_.onRegistration([this, alive](bool registered) {
    if (alive.expired()) return;
    if (!registered) return lostDevice();
    if (started_ && active_ && !yielded_ && !holding_) openDevice();  // dev/watchdog0 (re)appeared
  });
  wdt_.onProgramOpen([this, alive] {
    if (alive.expired()) return;
    if (holding_) MESIM_LOG(Info, kLog, "a program took dev/watchdog0 over; heartbeats stop until the next boot");
    yielded_ = true;
    holding_ = false;  // MeiWdt handed our hold to the program
    ++generation_;
    inFlight_ = false;
    cancelTimer();
  });
}

WatchdogDaemon::~WatchdogDaemon() { cancelTimer(); }

WatchdogDaemon::State WatchdogDaemon::state() const {
  if (!started_) return yielded_ ? State::Yielded : State::Stopped;
  if (yielded_) return State::Yielded;
  if (!holding_) return State::Waiting;
  return active_ ? State::Heartbeating : State::Frozen;
}

std::chrono::milliseconds WatchdogDaemon::interval() const {
  return std::chrono::milliseconds(std::max(1u, effectiveTimeout_) * 1000 / 2);
}

void WatchdogDaemon::cancelTimer() {
  if (timer_) timers_.cancel(timer_);
  timer_ = 0;
}

void WatchdogDaemon::lostDevice() {
  // The firmware went away (reset, NOT_REQUIRED): the watchdog core dropped the device under us. A running OS
  // opens it again when it comes back (registration listener above).
  if (!holding_) return;
  MESIM_LOG(Info, kLog, "dev/watchdog0 went away under the watchdog daemon");
  holding_ = false;
  inFlight_ = false;
  ++generation_;
  cancelTimer();
}

void WatchdogDaemon::newBoot() {
  vanish();
  yielded_ = false;
}

void WatchdogDaemon::start() {
  started_ = true;
  active_ = true;
  if (yielded_) {
    MESIM_LOG(Info, kLog, "a program holds or held dev/watchdog0 this boot: the watchdog daemon stays aside");
    return;
  }
  openDevice();
}

void WatchdogDaemon::openDevice() {
  if (holding_ || yielded_) return;
  const int err = wdt_.openYielding();
  if (err == ENODEV) {
    MESIM_LOG(Info, kLog, "no dev/watchdog0 yet (iamt_wdt not registered): the watchdog daemon waits for it");
    return;
  }
  if (err == EBUSY) {
    MESIM_LOG(Info, kLog, "a program holds dev/watchdog0: the watchdog daemon stays aside until the next boot");
    yielded_ = true;
    return;
  }
  holding_ = true;
  ++stats_.opens;
  const std::uint64_t gen = ++generation_;
  const int wanted = static_cast<int>(timeoutSeconds_ ? timeoutSeconds_ : static_cast<unsigned>(wdt_.timeout()));
  auto alive = std::weak_ptr<char>(alive_);
  // WDIOC_SETTIMEOUT pings once itself; the keepalives follow at half the timeout.
  wdt_.setTimeout(wanted, [this, alive, gen, wanted](int setErr, int timeout) {
    if (alive.expired() || gen != generation_) return;
    if (setErr) MESIM_LOG(Warn, kLog, "WDIOC_SETTIMEOUT " << wanted << ": " << std::strerror(setErr)
                                                           << "; keeping the driver's " << wdt_.timeout() << " s");
    effectiveTimeout_ = setErr ? static_cast<unsigned>(wdt_.timeout()) : static_cast<unsigned>(timeout);
    MESIM_LOG(Info, kLog, "watchdog daemon: dev/watchdog0 open, timeout " << effectiveTimeout_ << " s, keepalive every "
                                                                          << interval().count() << " ms");
    cancelTimer();
    timer_ = timers_.after(interval(), [this] {
      timer_ = 0;
      beat();
    });
  });
}

void WatchdogDaemon::beat() {
  if (!holding_ || !active_) return;
  if (!inFlight_) {
    inFlight_ = true;
    const std::uint64_t gen = generation_;
    wdt_.keepalive([this, alive = std::weak_ptr<char>(alive_), gen](int err) {
      if (alive.expired() || gen != generation_) return;
      inFlight_ = false;
      if (err) {
        ++stats_.heartbeatErrors;
        MESIM_LOG(Debug, kLog, "WDIOC_KEEPALIVE: " << std::strerror(err));
      } else {
        ++stats_.heartbeats;
      }
    });
  }
  timer_ = timers_.after(interval(), [this] {
    timer_ = 0;
    beat();
  });
}

void WatchdogDaemon::freeze() {
  active_ = false;
  cancelTimer();
}

void WatchdogDaemon::thaw() {
  active_ = true;
  if (!started_) return start();
  if (holding_) {
    cancelTimer();
    return beat();  // first thing after resume, as a daemon whose timer ran out while frozen
  }
  openDevice();
}

void WatchdogDaemon::stopCleanly() {
  started_ = active_ = false;
  cancelTimer();
  if (!holding_) return;
  holding_ = false;
  inFlight_ = false;
  ++generation_;
  ++stats_.cleanStops;
  // As systemd does on shutdown: WDIOS_DISABLECARD (the driver sends STOP), then the magic 'V' for good measure,
  // then close. Disabling first means no last START reaches the firmware after the STOP. Each step checks that the
  // device is still ours: a program may have taken it over meanwhile.
  auto alive = std::weak_ptr<char>(alive_);
  wdt_.setOptions(WDIOS_DISABLECARD, [this, alive](int) {
    if (alive.expired() || !wdt_.heldByYielding()) return;
    wdt_.write("V", [this, alive](ssize_t) {
      if (alive.expired() || !wdt_.heldByYielding()) return;
      wdt_.releaseYielding([] {});
    });
  });
}

void WatchdogDaemon::vanish() {
  started_ = active_ = false;
  cancelTimer();
  if (holding_) ++generation_;
  holding_ = false;
  inFlight_ = false;
  wdt_.dropYielding();  // also when a clean stop is still under way: the power is gone
}

}  // namespace mesim::hostos
