// The watchdog daemon of the simulated host OS: what Debian's `watchdog` (or systemd's RuntimeWatchdogSec) does
// with /dev/watchdog0, done through the host's iamt_wdt driver model (host::MeiWdt), so every heartbeat crosses
// the same HBM path to the firmware's watchdog client as a real program's: open, WDIOC_SETTIMEOUT, then
// WDIOC_KEEPALIVE every half timeout (systemd's rule), and on an orderly shutdown the magic 'V' before close so the
// firmware's timer stops. Heartbeats run on the firmware clock (OsTimers).
//
// A program on dev/watchdog0 takes precedence: the daemon opens the device "yielding" (MeiWdt::openYielding), a
// program's open takes it over as it is, and the daemon then stays aside until the OS boots again, so a program
// that takes over and dies is noticed by the firmware as on a real host whose watchdog daemon was replaced.
//
// Threading: the device's loop, like MeiWdt.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "common/log.h"
#include "hostif/host/mei_wdt.h"
#include "hostif/os/host_services.h"

namespace mesim::hostos {

class WatchdogDaemon {
 public:
  // What GET /host reports: "stopped" (not started this boot), "waiting" (no dev/watchdog0 yet), "heartbeating",
  // "frozen" (the device is held, nothing is sent: the OS crashed, hung or sleeps), "yielded" (a program has it).
  enum class State { Stopped, Waiting, Heartbeating, Frozen, Yielded };
  struct Stats {
    std::uint64_t heartbeats = 0;        // keepalives the firmware acknowledged
    std::uint64_t heartbeatErrors = 0;   // keepalives that failed (device gone, firmware error)
    std::uint64_t opens = 0;
    std::uint64_t cleanStops = 0;        // magic closes
  };

  // `timeoutSeconds` 0: the driver's default timeout (MeiWdt's minimum, 120 s as Linux).
  WatchdogDaemon(host::MeiWdt& wdt, OsTimers& timers, unsigned timeoutSeconds = 0);
  ~WatchdogDaemon();
  WatchdogDaemon(const WatchdogDaemon&) = delete;
  WatchdogDaemon& operator=(const WatchdogDaemon&) = delete;

  void newBoot();   // a fresh OS: whatever the last one held is gone (nothing sent); programs' precedence starts over
  void start();     // the OS reached user space: open dev/watchdog0 (once it exists) and heartbeat
  void freeze();    // the OS stopped running (crash, hang, sleep): no more heartbeats, the device stays open
  void thaw();      // the OS runs again after sleep: heartbeats go on
  void stopCleanly();  // orderly shutdown: 'V', then close: the firmware's timer stops
  void vanish();    // the host lost power: the file is gone and nothing is sent

  State state() const;
  const Stats& stats() const { return stats_; }
  unsigned timeout() const { return effectiveTimeout_; }
  std::chrono::milliseconds interval() const;
  const log::Context& logContext() const { return wdt_.logContext(); }

 private:
  void openDevice();
  void beat();
  void cancelTimer();
  void lostDevice();

  host::MeiWdt& wdt_;
  OsTimers& timers_;
  unsigned timeoutSeconds_;
  unsigned effectiveTimeout_ = 0;
  bool started_ = false;   // start() this boot, until stopCleanly/vanish
  bool active_ = false;    // the OS runs: heartbeats wanted
  bool holding_ = false;   // the device is ours (MeiWdt's yielding opener)
  bool yielded_ = false;   // a program took precedence this boot
  bool inFlight_ = false;  // a keepalive waits for the firmware (the daemon blocks in the ioctl meanwhile)
  OsTimers::TimerId timer_ = 0;
  std::uint64_t generation_ = 0;  // bumps whenever the device changes hands: late answers check it
  Stats stats_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

const char* toString(WatchdogDaemon::State state);

}  // namespace mesim::hostos
