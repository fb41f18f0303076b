#include "hostif/host/mei_wdt.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/log.h"

namespace mesim::host {
namespace {

constexpr const char* kLog = "mei_wdt";
// drivers/watchdog/mei_wdt.c: the driver defines its own view of the protocol, as here.
constexpr hbm::Guid kWdGuid{{0x6F, 0x9A, 0xB7, 0x05, 0x28, 0x46, 0x7F, 0x4D, 0x89, 0x9D, 0xA9, 0x15, 0x14, 0xCB, 0x32, 0xAB}};
constexpr std::uint8_t kManagementControl = 0x02;
constexpr std::uint8_t kVersionNumber = 0x10;
constexpr std::uint8_t kStartReq = 0x13;
constexpr std::uint8_t kStartRes = 0x83;
constexpr std::uint8_t kStopReq = 0x14;
constexpr std::uint8_t kNotRequired = 0x01;
constexpr std::size_t kStartReqSize = 23;  // struct mei_wdt_start_request
constexpr std::size_t kStartResSize = 6;   // struct mei_wdt_start_response
constexpr std::size_t kReadSize = 512;

hbm::Bytes startRequest(std::uint16_t timeout) {
  hbm::Bytes req(kStartReqSize, 0);
  req[0] = kManagementControl;
  req[1] = static_cast<std::uint8_t>(kStartReqSize - 2);
  req[2] = kStartReq;
  req[3] = kVersionNumber;
  req[4] = static_cast<std::uint8_t>(timeout);
  req[5] = static_cast<std::uint8_t>(timeout >> 8);
  return req;
}

hbm::Bytes stopRequest() { return {kManagementControl, 0x02, kStopReq, kVersionNumber}; }

}  // namespace

const char* toString(MeiWdt::State state) {
  switch (state) {
    case MeiWdt::State::Absent: return "ABSENT";
    case MeiWdt::State::Probe: return "PROBE";
    case MeiWdt::State::Idle: return "IDLE";
    case MeiWdt::State::Start: return "START";
    case MeiWdt::State::Running: return "RUNNING";
    case MeiWdt::State::Stopping: return "STOPPING";
    case MeiWdt::State::NotRequired: return "NOT_REQUIRED";
  }
  return "?";
}

MeiWdt::MeiWdt(boost::asio::io_context& io, MeiHost& host, MeiWdtOptions options)
    : host_(host), options_(options), timeout_(static_cast<std::uint16_t>(options.minTimeout)), retry_(io) {}

MeiWdt::~MeiWdt() { stop(); }

void MeiWdt::start() {
  if (running_) return;
  running_ = true;
  probe();
}

void MeiWdt::stop() {
  if (!running_) return;
  running_ = false;
  retry_.cancel();
  registerDevice(false);
  completePing(ENODEV);
  closeFile();
  state_ = State::Absent;
}

void MeiWdt::whenProbed(std::function<void()> done) {
  if (probed_) return done();
  probeWaiters_.push_back(std::move(done));
}

void MeiWdt::probeSettled() {
  if (probed_) return;
  probed_ = true;
  for (auto& done : std::exchange(probeWaiters_, {})) done();
}

void MeiWdt::closeFile() {
  ++generation_;
  if (fileOpen_) host_.close(file_, [] {});
  fileOpen_ = false;
}

void MeiWdt::retryLater() {
  if (!running_) return;
  retry_.expires_after(options_.retry);
  retry_.async_wait([this, alive = std::weak_ptr<char>(alive_)](const boost::system::error_code& ec) {
    if (ec || alive.expired() || !running_) return;
    probe();
  });
}

// mei_wdt_probe: connect, register the rx and notification callbacks, then START (or register at once on
// protocol version 1, which sends no answers).
void MeiWdt::probe() {
  closeFile();
  completePing(ENODEV);
  registerDevice(false);
  state_ = State::Absent;
  ++stats_.probes;
  if (const int err = host_.open(file_)) {
    MESIM_LOG(Debug, kLog, "open: " << std::strerror(err) << "; retrying");
    probeSettled();
    return retryLater();
  }
  fileOpen_ = true;
  const std::uint64_t gen = generation_;
  auto alive = std::weak_ptr<char>(alive_);
  host_.connect(file_, kWdGuid, [this, gen, alive](int err, const hbm::ClientProperties& props) {
    if (alive.expired() || gen != generation_) return;
    if (err) {
      MESIM_LOG(Info, kLog, "no watchdog client (" << std::strerror(err) << ")");
      closeFile();
      probeSettled();
      if (err != ENOTTY) retryLater();
      return;
    }
    protocolVersion_ = props.protocolVersion;
    respRequired_ = props.protocolVersion > 1;
    state_ = State::Probe;
    host_.notifySet(file_, 1, [this, gen, alive](int nerr) {
      if (alive.expired() || gen != generation_) return;
      if (nerr && nerr != EOPNOTSUPP) MESIM_LOG(Warn, kLog, "notifications: " << std::strerror(nerr));
      if (!nerr) notifyLoop();
    });
    readLoop();
    if (!respRequired_) {
      state_ = State::Idle;
      return registerDevice(true);
    }
    send(startRequest(timeout_), [](int) {});
  });
}

void MeiWdt::readLoop() {
  const std::uint64_t gen = generation_;
  host_.read(file_, kReadSize, false, [this, gen, alive = std::weak_ptr<char>(alive_)](int err, hbm::Bytes data) {
    if (alive.expired() || gen != generation_) return;
    if (err) {
      // The firmware disconnected or reset: everything waiting fails; probe again when it is back.
      MESIM_LOG(Info, kLog, "connection lost (" << std::strerror(err) << ")");
      completePing(ENODEV);
      registerDevice(false);
      closeFile();
      state_ = State::Absent;
      return retryLater();
    }
    onMessage(data);
    readLoop();
  });
}

void MeiWdt::notifyLoop() {
  const std::uint64_t gen = generation_;
  host_.notifyGet(file_, false, [this, gen, alive = std::weak_ptr<char>(alive_)](int err, std::uint32_t) {
    if (alive.expired() || gen != generation_ || err) return;
    // mei_wdt_notif: only a NOT_REQUIRED watchdog cares; it registers again.
    if (state_ == State::NotRequired) {
      MESIM_LOG(Info, kLog, "firmware notification: the watchdog is required again");
      state_ = State::Idle;
      registerDevice(true);
    }
    notifyLoop();
  });
}

// mei_wdt_rx.
void MeiWdt::onMessage(const hbm::Bytes& m) {
  if (m.empty()) return;  // an empty response may follow STOP
  if (m.size() < 4) {
    MESIM_LOG(Warn, kLog, "recv small data " << m.size());
    return;
  }
  if (m[0] != kManagementControl || m[3] != kVersionNumber) {
    MESIM_LOG(Warn, kLog, "wrong command received");
    return;
  }
  if (m[2] != kStartRes || m.size() < kStartResSize) {
    MESIM_LOG(Warn, kLog, "unsupported command " << int(m[2]) << " in " << toString(state_));
    return;
  }
  const bool notRequired = m[5] & kNotRequired;
  if (state_ == State::Running) {
    if (notRequired) {
      MESIM_LOG(Info, kLog, "firmware says the watchdog is not required: unregistering");
      state_ = State::NotRequired;
      registerDevice(false);
    }
    if (m[4] == 0) lastPing_ = std::chrono::steady_clock::now();
    return completePing(m[4] == 0 ? 0 : EIO);
  }
  if (state_ == State::Probe) {
    if (notRequired) {
      state_ = State::NotRequired;
      MESIM_LOG(Info, kLog, "watchdog not required (AMT disabled or not provisioned)");
    } else {
      sendStop([](int) {});
      state_ = State::Idle;
      registerDevice(true);
    }
    return;
  }
  MESIM_LOG(Debug, kLog, "response in state " << toString(state_));
  completePing(0);
}

void MeiWdt::registerDevice(bool yes) {
  if (registered_ == yes) return;
  registered_ = yes;
  if (yes) MESIM_LOG(Info, kLog, "iamt_wdt registered (protocol version " << int(protocolVersion_) << ")");
  if (yes) probeSettled();
  if (!yes) opened_ = yieldingHolder_ = false;  // the watchdog core drops the device under its opener
  for (auto& callback : onRegistration_) callback(yes);
}

void MeiWdt::send(hbm::Bytes message, ErrCallback done) {
  if (!fileOpen_) return done(ENODEV);
  host_.write(file_, std::move(message), false,
              [done = std::move(done), alive = std::weak_ptr<char>(alive_)](ssize_t result) {
                if (alive.expired()) return;
                done(result < 0 ? static_cast<int>(-result) : 0);
              });
}

void MeiWdt::sendStop(ErrCallback done) {
  ++stats_.stops;
  send(stopRequest(), std::move(done));
}

// mei_wdt_ops_ping: only in START/RUNNING; waits for the answer when the protocol sends one.
void MeiWdt::ping(ErrCallback done) {
  if (state_ != State::Start && state_ != State::Running) return done(0);
  state_ = State::Running;
  ++stats_.pings;
  if (!respRequired_) {
    lastPing_ = std::chrono::steady_clock::now();
    return send(startRequest(timeout_), std::move(done));
  }
  pendingPings_.push_back(std::move(done));
  send(startRequest(timeout_), [this](int err) {
    if (err) completePing(err);
  });
}

void MeiWdt::completePing(int err) {
  if (err == ENODEV) {
    auto all = std::move(pendingPings_);
    pendingPings_.clear();
    for (auto& p : all) p(err);
    return;
  }
  if (pendingPings_.empty()) return;
  auto first = std::move(pendingPings_.front());
  pendingPings_.pop_front();
  first(err);
}

// ---- watchdog core ----

int MeiWdt::open() {
  if (!registered_) return ENODEV;
  if (opened_ && !yieldingHolder_) return EBUSY;  // watchdog_open: one opener at a time
  if (yieldingHolder_) MESIM_LOG(Info, kLog, "a program opened dev/watchdog0: the simulated OS's watchdog daemon steps aside");
  yieldingHolder_ = false;
  opened_ = true;
  expectClose_ = false;
  state_ = State::Start;  // mei_wdt_ops_start: nothing is sent until the first ping
  if (onProgramOpen_) onProgramOpen_();
  return 0;
}

int MeiWdt::openYielding() {
  if (!registered_) return ENODEV;
  if (opened_) return EBUSY;
  opened_ = yieldingHolder_ = true;
  expectClose_ = false;
  state_ = State::Start;
  return 0;
}

void MeiWdt::releaseYielding(std::function<void()> done) {
  if (!heldByYielding()) return done();
  yieldingHolder_ = false;
  releaseOpener(std::move(done));
}

void MeiWdt::dropYielding() {
  if (!heldByYielding()) return;
  opened_ = yieldingHolder_ = false;
  expectClose_ = false;
  if (state_ == State::Start || state_ == State::Running) state_ = State::Idle;
}

void MeiWdt::release(std::function<void()> done) {
  // A program's file opened before the device last went away cannot close the yielding opener's hold.
  if (yieldingHolder_) return done();
  releaseOpener(std::move(done));
}

void MeiWdt::releaseOpener(std::function<void()> done) {
  if (!opened_) return done();
  opened_ = false;
  if (expectClose_ || state_ != State::Running) {
    expectClose_ = false;
    if (state_ != State::Running) {
      if (state_ == State::Start) state_ = State::Idle;
      return done();
    }
    state_ = State::Stopping;  // mei_wdt_ops_stop
    return sendStop([this, done = std::move(done)](int) {
      if (state_ == State::Stopping) state_ = State::Idle;
      done();
    });
  }
  MESIM_LOG(Warn, kLog, "watchdog0: watchdog did not stop!");
  ping([done = std::move(done)](int) { done(); });  // the core's last keepalive; the firmware timer runs on
}

void MeiWdt::write(std::string_view data, std::function<void(ssize_t)> done) {
  if (!registered_) return done(-ENODEV);
  if (data.empty()) return done(0);
  expectClose_ = data.find('V') != std::string_view::npos;  // watchdog_write: the last write decides
  keepaliveSeen_ = true;
  const auto size = static_cast<ssize_t>(data.size());
  ping([done = std::move(done), size](int err) { done(err ? -err : size); });
}

void MeiWdt::keepalive(ErrCallback done) {
  if (!registered_) return done(ENODEV);
  keepaliveSeen_ = true;
  ping(std::move(done));
}

void MeiWdt::setTimeout(int seconds, std::function<void(int, int)> done) {
  if (!registered_) return done(ENODEV, 0);
  if (seconds < static_cast<int>(options_.minTimeout) || seconds > static_cast<int>(options_.maxTimeout))
    return done(EINVAL, 0);
  timeout_ = static_cast<std::uint16_t>(seconds);
  // WDIOC_SETTIMEOUT pings so the new timeout takes effect, then answers like WDIOC_GETTIMEOUT.
  ping([this, done = std::move(done)](int err) { done(err, static_cast<int>(timeout_)); });
}

int MeiWdt::timeLeft(int& seconds) const {
  if (!registered_) return ENODEV;
  if (state_ != State::Running) {
    seconds = 0;
    return 0;
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - lastPing_).count();
  seconds = static_cast<int>(std::max<long long>(0, static_cast<long long>(timeout_) - elapsed));
  return 0;
}

std::uint32_t MeiWdt::status() {
  std::uint32_t s = 0;
  if (expectClose_) s |= WDIOF_MAGICCLOSE;
  if (keepaliveSeen_) s |= WDIOF_KEEPALIVEPING;
  keepaliveSeen_ = false;
  return s;
}

void MeiWdt::setOptions(int options, ErrCallback done) {
  if (!registered_) return done(ENODEV);
  if (options & 1) {  // WDIOS_DISABLECARD
    if (state_ != State::Running) {
      state_ = State::Idle;
      return done(0);
    }
    state_ = State::Stopping;
    return sendStop([this, done = std::move(done)](int err) {
      if (state_ == State::Stopping) state_ = State::Idle;
      done(err);
    });
  }
  if (options & 2) {  // WDIOS_ENABLECARD
    if (state_ != State::Running) state_ = State::Start;
    return ping(std::move(done));
  }
  done(EINVAL);
}

watchdog_info MeiWdt::info() const {
  watchdog_info i{};
  i.options = WDIOF_KEEPALIVEPING | WDIOF_SETTIMEOUT | WDIOF_ALARMONLY;
  i.firmware_version = protocolVersion_;  // wd_info.firmware_version = mei_cldev_ver()
  std::memcpy(i.identity, "iamt_wdt", 8);
  return i;
}

}  // namespace mesim::host
