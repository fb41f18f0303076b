#include "hostif/os/simulated_os.h"

namespace mesim::hostos {
namespace {
constexpr const char* kLog = "host-os";
}

const char* toString(SimulatedOs::State state) {
  switch (state) {
    case SimulatedOs::State::Off: return "off";
    case SimulatedOs::State::Booting: return "booting";
    case SimulatedOs::State::Running: return "running";
    case SimulatedOs::State::ShuttingDown: return "shutting-down";
    case SimulatedOs::State::Crashed: return "crashed";
    case SimulatedOs::State::Hung: return "hung";
    case SimulatedOs::State::Suspended: return "suspended";
    case SimulatedOs::State::Hibernated: return "hibernated";
    case SimulatedOs::State::Resuming: return "resuming";
  }
  return "?";
}

const char* power::name(std::uint32_t state) {
  switch (state) {
    case kOn: return "on";
    case kSleepLight: return "sleep-light";
    case kSleepDeep: return "sleep-deep";
    case kOffHard: return "off-hard";
    case kHibernate: return "hibernate";
    case kOffSoft: return "off-soft";
    default: return "unknown";
  }
}

SimulatedOs::SimulatedOs(host::MeiWdt& wdt, OsTimers& timers, HostPower& power, SimulatedOsOptions options)
    : daemon_(wdt, timers, options.watchdogTimeout), timers_(timers), power_(power), options_(options) {}

SimulatedOs::~SimulatedOs() { cancelTimer(); }

void SimulatedOs::start() {
  const std::uint32_t now = power_.state();
  if (now == power::kOn) return boot();
  if (now == power::kHibernate) return enter(State::Hibernated);
  if (power::isAsleep(now)) return enter(State::Suspended);
  enter(State::Off);
}

void SimulatedOs::enter(State state) {
  if (state == state_) return;
  MESIM_LOG(Info, kLog, "OS " << toString(state_) << " -> " << toString(state));
  state_ = state;
  if (observer_) observer_(state);
}

void SimulatedOs::cancelTimer() {
  if (timer_) timers_.cancel(timer_);
  timer_ = 0;
}

void SimulatedOs::after(std::chrono::milliseconds delay, void (SimulatedOs::*step)()) {
  cancelTimer();
  timer_ = timers_.after(delay, [this, step] {
    timer_ = 0;
    (this->*step)();
  });
}

void SimulatedOs::boot() {
  cancelTimer();
  daemon_.newBoot();
  ++boots_;
  enter(State::Booting);
  after(options_.bootTime, &SimulatedOs::bootDone);
}

void SimulatedOs::bootDone() {
  enter(State::Running);
  daemon_.start();
}

void SimulatedOs::resumeDone() {
  enter(State::Running);
  daemon_.thaw();
}

void SimulatedOs::beginOrderlyShutdown(bool thenReset) {
  resetAfterShutdown_ = thenReset;
  enter(State::ShuttingDown);
  daemon_.stopCleanly();  // the watchdog daemon is stopped early in shutdown, before the power goes
  after(options_.shutdownTime, &SimulatedOs::shutdownDone);
}

void SimulatedOs::shutdownDone() {
  if (resetAfterShutdown_) return boot();  // a warm reset: the platform's power stays on
  // ACPI S5: the OS asks the platform to power off; powerChanged() then finds it off.
  if (auto changed = power_.change(power::kOffSoft); !changed) {
    MESIM_LOG(Error, kLog, "the OS shut down but the platform could not record the power-off: " << changed.error().message);
    enter(State::Off);
  }
}

void SimulatedOs::halt(State state, const char* why) {
  cancelTimer();
  daemon_.freeze();  // a stopped kernel closes nothing: the firmware's timer runs out
  if (state == State::Crashed) ++crashes_;
  MESIM_LOG(Warn, kLog, why);
  enter(state);
}

void SimulatedOs::powerChanged(const PowerEvent& event) {
  if (event.requested == power::kNmi) {
    if (state_ == State::Hung) return halt(State::Crashed, "NMI: the hung kernel panics (crash dump)");
    if (state_ == State::Running) MESIM_LOG(Info, kLog, "NMI: the kernel logs it and goes on");
    return;
  }
  if (power::isOff(event.to)) {
    cancelTimer();
    if (state_ == State::Running && power::isGraceful(event.requested)) {
      MESIM_LOG(Info, kLog, "graceful power-off: the OS shuts down in order");
      daemon_.stopCleanly();
    } else {
      daemon_.vanish();
    }
    return enter(State::Off);
  }
  if (power::isAsleep(event.to)) {
    if (state_ != State::Running && state_ != State::Booting && state_ != State::Resuming) {
      MESIM_LOG(Warn, kLog, "the platform went to " << power::name(event.to) << " under an OS that is " << toString(state_)
                                                    << "; it stays so");
      return;
    }
    cancelTimer();
    daemon_.freeze();
    return enter(event.to == power::kHibernate ? State::Hibernated : State::Suspended);
  }
  if (event.to != power::kOn) return;
  if (power::isAsleep(event.from)) {
    if (state_ != State::Suspended && state_ != State::Hibernated) return;
    const auto wake = state_ == State::Hibernated ? options_.bootTime : options_.resumeTime;
    enter(State::Resuming);
    return after(wake, &SimulatedOs::resumeDone);
  }
  if (power::isOff(event.from)) return boot();
  // On to on: a reset or power cycle. A graceful one lets a running OS shut down in order first.
  if (state_ == State::Running && power::isGraceful(event.requested)) return beginOrderlyShutdown(true);
  boot();
}

std::string SimulatedOs::notPossible(const char* what) const {
  return std::string("cannot ") + what + ": the OS is " + toString(state_);
}

Result<> SimulatedOs::crash() {
  switch (state_) {
    case State::Running:
    case State::Booting:
    case State::Resuming:
    case State::ShuttingDown:
    case State::Hung:
      halt(State::Crashed, "the OS crashed (kernel panic): heartbeats stop");
      return {};
    default: return fail(notPossible("crash the OS"));
  }
}

Result<> SimulatedOs::hang() {
  switch (state_) {
    case State::Running:
    case State::Booting:
    case State::Resuming:
    case State::ShuttingDown:
      halt(State::Hung, "the OS hangs: heartbeats stop");
      return {};
    default: return fail(notPossible("hang the OS"));
  }
}

Result<> SimulatedOs::shutdown() {
  if (state_ != State::Running) return fail(notPossible("shut the OS down"));
  MESIM_LOG(Info, kLog, "orderly shutdown requested");
  beginOrderlyShutdown(false);
  return {};
}

Result<> SimulatedOs::reboot() {
  if (state_ != State::Running) return fail(notPossible("reboot the OS"));
  MESIM_LOG(Info, kLog, "orderly reboot requested");
  beginOrderlyShutdown(true);
  return {};
}

std::string SimulatedOs::powerButton() {
  switch (state_) {
    case State::Running:
      MESIM_LOG(Info, kLog, "ACPI power button: the OS shuts down in order");
      beginOrderlyShutdown(false);
      return "shutting down";
    case State::Booting:
    case State::Resuming: return "ignored: the OS is still starting and does not handle the ACPI power button yet";
    case State::ShuttingDown: return "ignored: the OS is already shutting down";
    case State::Crashed: return "ignored: the OS crashed and answers nothing; hold the button to force the power off";
    case State::Hung: return "ignored: the OS is hung and does not answer; hold the button to force the power off";
    default: return std::string("ignored: the OS is ") + toString(state_);
  }
}

}  // namespace mesim::hostos
