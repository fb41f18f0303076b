// The host's iAMT watchdog driver: a model of Linux drivers/watchdog/mei_wdt.c together with the parts of the
// watchdog core (drivers/watchdog/watchdog_dev.c) that /dev/watchdog users see. Like the kernel's in-kernel
// client it talks to the firmware only through the mei driver (MeiHost: open, connect, notify, write, read),
// over HBM; it never includes firmware code (spec/mei.md §3).
//
// Probe: connect to the WD client, enable notifications, send START; NOT_REQUIRED -> stay unregistered until a
// NOTIFICATION, else STOP and register (dev/watchdog0 opens). Heartbeat = START with the current timeout; with
// protocol version > 1 each ping waits for the firmware's answer. Release without the magic 'V' leaves the
// firmware timer running (one last ping, as the core does): that is how a dead watchdog daemon looks.
//
// Two kinds of opener share the one /dev/watchdog0: programs (through FUSE) and the simulated host OS's watchdog
// daemon inside mesim (hostif/os), which opens "yielding": a program always gets the device, taking it over as it
// is, so the simulation is never why a real watchdog daemon sees EBUSY.
//
// Threading: like MeiHost, everything on its io_context; callbacks run there.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <linux/watchdog.h>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "hostif/host/mei_host.h"

namespace mesim::host {

struct MeiWdtOptions {
  unsigned minTimeout = 120;   // MEI_WDT_MIN_TIMEOUT; also the default timeout (--watchdog-min-timeout)
  unsigned maxTimeout = 65535; // MEI_WDT_MAX_TIMEOUT
  std::chrono::milliseconds retry{1000};  // re-probe after the firmware went away (reset, no client yet)
};

class MeiWdt {
 public:
  // The kernel driver's states (mei_wdt_state) plus Absent (no connection to the firmware client).
  enum class State { Absent, Probe, Idle, Start, Running, Stopping, NotRequired };
  using ErrCallback = std::function<void(int err)>;

  MeiWdt(boost::asio::io_context& io, MeiHost& host, MeiWdtOptions options = {});
  ~MeiWdt();
  MeiWdt(const MeiWdt&) = delete;
  MeiWdt& operator=(const MeiWdt&) = delete;

  void start();  // probe now (the host should be ENABLED) and keep re-probing after resets
  void stop();   // disconnect; the firmware timer is left as it is
  State state() const { return state_; }
  bool registered() const { return registered_; }
  // `done` once the first probe has settled: the device registered, or the firmware has no watchdog client or
  // refused the connection (re-probing goes on in the background). At once if that already happened.
  void whenProbed(std::function<void()> done);
  // Called when registration changes (the device appears or goes away); every callback given is kept.
  void onRegistration(std::function<void(bool)> callback) { onRegistration_.push_back(std::move(callback)); }

  // ---- /dev/watchdog0 (watchdog core semantics) ----
  // A program's open: 0, ENODEV (not registered) or EBUSY (a program holds it). A yielding opener's hold passes
  // to the program as it is: a running firmware timer runs on, now the program's to keep alive.
  int open();
  void release(std::function<void()> done);             // magic close stops, otherwise one last ping
  void write(std::string_view data, std::function<void(ssize_t)> done);  // 'V' arms magic close; pings
  void keepalive(ErrCallback done);
  void setTimeout(int seconds, std::function<void(int err, int timeout)> done);  // EINVAL outside min..max
  int timeout() const { return static_cast<int>(timeout_); }
  int timeLeft(int& seconds) const;                    // host-side estimate from the last acknowledged ping
  std::uint32_t status();                              // WDIOF_MAGICCLOSE / WDIOF_KEEPALIVEPING
  void setOptions(int options, ErrCallback done);      // WDIOS_DISABLECARD 1, WDIOS_ENABLECARD 2
  watchdog_info info() const;

  // ---- the yielding opener (the simulated host OS's watchdog daemon, hostif/os) ----
  // As open(), but gives way to any program that opens later; EBUSY while a program holds the device. Between it and
  // releaseYielding() the opener drives the device with write/keepalive/setTimeout/setOptions as a program would.
  int openYielding();
  void releaseYielding(std::function<void()> done);  // as release(); nothing if the opener lost the device meanwhile
  // The opener's host lost power or was reset: its file is gone and nothing is sent (release() would ping or STOP;
  // a host without power sends nothing).
  void dropYielding();
  bool heldByProgram() const { return opened_ && !yieldingHolder_; }
  bool heldByYielding() const { return opened_ && yieldingHolder_; }
  // Called after every open by a program, once the yielding opener (if it held the device) has lost it.
  void onProgramOpen(std::function<void()> callback) { onProgramOpen_ = std::move(callback); }

  struct Stats {
    std::uint64_t pings = 0;
    std::uint64_t stops = 0;
    std::uint64_t probes = 0;
  };
  const Stats& stats() const { return stats_; }
  // The watchdog belongs to its host's device: log lines name it.
  const log::Context& logContext() const { return host_.logContext(); }

 private:
  void probe();
  void retryLater();
  void closeFile();
  void readLoop();
  void notifyLoop();
  void onMessage(const hbm::Bytes& message);
  void registerDevice(bool yes);
  void ping(ErrCallback done);
  void sendStop(ErrCallback done);
  void send(hbm::Bytes message, ErrCallback done);
  void completePing(int err);
  void probeSettled();
  void releaseOpener(std::function<void()> done);

  MeiHost& host_;
  MeiWdtOptions options_;
  State state_ = State::Absent;
  bool running_ = false;
  bool registered_ = false;
  bool respRequired_ = true;
  std::uint8_t protocolVersion_ = 0;
  std::uint16_t timeout_;
  FileId file_ = 0;
  bool fileOpen_ = false;
  std::uint64_t generation_ = 0;  // bumps on every (re)probe: stale callbacks check it
  boost::asio::steady_timer retry_;
  std::deque<ErrCallback> pendingPings_;
  std::vector<std::function<void(bool)>> onRegistration_;
  std::function<void()> onProgramOpen_;
  bool probed_ = false;  // the first probe settled (whenProbed)
  std::vector<std::function<void()>> probeWaiters_;

  // watchdog core state
  bool opened_ = false;
  bool yieldingHolder_ = false;  // opened_ by the yielding opener, not a program
  bool expectClose_ = false;
  bool keepaliveSeen_ = false;
  std::chrono::steady_clock::time_point lastPing_{};
  Stats stats_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

const char* toString(MeiWdt::State state);

}  // namespace mesim::host
