#include "wsman/redirection/ider_session.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <utility>

#include "firmware/platform/event_records.h"
#include "common/byte_order.h"

namespace mesim::wsman::redirection {

namespace {
constexpr const char* kLog = "ider";
// AMT_RedirectionService.EnabledState: 32768 + 1 (IDER) + 2 (SOL).
constexpr std::uint32_t kEnabledStateIderBit = 1;
// Audit events of the Redirection Manager (application 18): IDE-R session opened and closed.
constexpr std::uint16_t kAuditIderSessionOpened = 0;
constexpr std::uint16_t kAuditIderSessionClosed = 1;
// AMT_BootSettingData.IDERBootDevice: 0 floppy, 1 CD.
constexpr std::uint32_t kIderBootCd = 1;

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  return out;
}

std::string trimmed(std::span<const std::uint8_t> bytes) {
  std::string text(bytes.begin(), bytes.end());
  while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.pop_back();
  return printable(text);
}
}  // namespace

// ------------------------------------------------------------------------------------------------
// ATAPI helpers
// ------------------------------------------------------------------------------------------------

std::array<std::uint8_t, 12> cdbTestUnitReady() { return {}; }

std::array<std::uint8_t, 12> cdbRequestSense(std::uint8_t allocation) {
  std::array<std::uint8_t, 12> cdb{};
  cdb[0] = 0x03;
  cdb[4] = allocation;
  return cdb;
}

std::array<std::uint8_t, 12> cdbReadCapacity() {
  std::array<std::uint8_t, 12> cdb{};
  cdb[0] = 0x25;
  return cdb;
}

std::array<std::uint8_t, 12> cdbRead10(std::uint32_t lba, std::uint16_t blocks) {
  std::array<std::uint8_t, 12> cdb{};
  cdb[0] = 0x28;
  cdb[2] = static_cast<std::uint8_t>(lba >> 24);
  cdb[3] = static_cast<std::uint8_t>(lba >> 16);
  cdb[4] = static_cast<std::uint8_t>(lba >> 8);
  cdb[5] = static_cast<std::uint8_t>(lba);
  cdb[7] = static_cast<std::uint8_t>(blocks >> 8);
  cdb[8] = static_cast<std::uint8_t>(blocks);
  return cdb;
}

Result<Capacity> parseReadCapacity(std::span<const std::uint8_t> data) {
  if (data.size() < 8) return fail("READ CAPACITY returned " + std::to_string(data.size()) + " bytes, not 8");
  Capacity c{bytes::be32(data, 0), bytes::be32(data, 4)};
  if (c.blockSize != 512 && c.blockSize != 2048)
    return fail("READ CAPACITY reports a block size of " + std::to_string(c.blockSize) + " bytes, not 512 or 2048");
  return c;
}

std::string describeSense(std::uint8_t key, std::uint8_t asc, std::uint8_t ascq) {
  const char* keyName = "sense";
  switch (key & 0x0F) {
    case 0x0: keyName = "NO SENSE"; break;
    case 0x2: keyName = "NOT READY"; break;
    case 0x3: keyName = "MEDIUM ERROR"; break;
    case 0x4: keyName = "HARDWARE ERROR"; break;
    case 0x5: keyName = "ILLEGAL REQUEST"; break;
    case 0x6: keyName = "UNIT ATTENTION"; break;
    case 0x7: keyName = "DATA PROTECT"; break;
    case 0xB: keyName = "ABORTED COMMAND"; break;
    default: break;
  }
  const char* what = "";
  if (asc == 0x3A) what = " / MEDIUM NOT PRESENT";
  else if (asc == 0x28) what = " / MEDIUM MAY HAVE CHANGED";
  else if (asc == 0x29) what = " / POWER ON OR RESET";
  else if (asc == 0x20) what = " / INVALID COMMAND";
  else if (asc == 0x21) what = " / LBA OUT OF RANGE";
  else if (asc == 0x24) what = " / INVALID FIELD IN CDB";
  else if (asc == 0x04) what = " / NOT READY";
  else if (asc == 0x11) what = " / UNRECOVERED READ ERROR";
  char codes[24];
  std::snprintf(codes, sizeof codes, " (%02X/%02X/%02X)", key, asc, ascq);
  return std::string(keyName) + what + codes;
}

const char* startModeName(std::uint32_t mode) {
  switch (mode & kIderStartModeMask) {
    case kIderStartOnReboot: return "on-reboot";
    case kIderStartGraceful: return "graceful";
    case kIderStartNow: return "now";
  }
  return "none";
}

// ------------------------------------------------------------------------------------------------
// IderSession
// ------------------------------------------------------------------------------------------------

IderSession::IderSession(IderHub& hub, Transport transport, std::string peer, std::string user)
    : hub_(&hub), transport_(std::move(transport)), peer_(std::move(peer)), user_(std::move(user)) {
  silenceSince_ = hub.timers_.now();
  armSilence();
}

IderSession::~IderSession() { end("closed"); }

const log::Context& IderSession::logContext() const {
  static const log::Context none;
  return hub_ ? hub_->logContext() : none;
}

void IderSession::receive(std::span<const std::uint8_t> bytes) {
  if (state_ == State::Ended) return;
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  const bool wasPinged = std::exchange(pinged_, false);
  if (hub_) silenceSince_ = hub_->timers_.now();
  // An armed timer that fires early re-arms itself from silenceSince_; one set for a ping's longer wait is moved.
  if (!silenceTimer_ || wasPinged) armSilence();
  std::size_t at = 0;
  while (state_ != State::Ended) {
    auto decoded = decodeIderMessage(std::span(buffer_).subspan(at));
    if (!decoded) return protocolError(decoded.error().message);
    if (!*decoded) break;
    at += (*decoded)->length;
    const auto& message = (*decoded)->message;
    if (message.sequence != inSequence_)
      return protocolError("sequence " + std::to_string(message.sequence) + " where " +
                           std::to_string(inSequence_) + " was due");
    ++inSequence_;
    handle(message);
  }
  if (state_ == State::Ended) return buffer_.clear();
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(at));
}

void IderSession::handle(const IderMessage& message) {
  const auto& body = message.body;
  const auto type = iderTypeOf(body);
  if (state_ == State::AwaitOpen) {
    if (const auto* open = std::get_if<IderOpenSession>(&body)) return onOpen(*open);
    if (type == IderType::CloseSession || type == IderType::CloseSessionReply) return closeSession("closed by the console");
    return protocolError(std::string(iderMessageName(type)) + " before OpenSession");
  }
  switch (type) {
    case IderType::SetFeatures: return onFeatures(std::get<IderFeatures>(body));
    case IderType::KeepAlivePing: return send(0, IderKeepAlive{true});
    case IderType::KeepAlivePong:
    case IderType::Heartbeat: return;  // they have done their work: the silence timer is re-armed
    case IderType::ResetOccurredReply:
      if (!resetPending_) return protocolError("ResetOccurredReply without a reset");
      resetPending_ = false;
      return pump();
    case IderType::CloseSession:
      send(0, IderCloseSessionReply{});
      return closeSession("closed by the console");
    case IderType::CloseSessionReply: return closeSession("closed by the console");
    case IderType::ErrorOccurred: {
      const auto& e = std::get<IderErrorOccurred>(body);
      MESIM_LOG(Info, kLog, "the console at " << peer_ << " reports an error " << int(e.data[0]) << "/"
                                              << int(e.data[1]) << "/" << int(e.data[2]));
      if (current_) finishCurrent(fail("the console reported an error"));
      return;
    }
    case IderType::CommandEndResponse: return onCommandEnd(std::get<IderCommandEnd>(body));
    case IderType::DataToHost: return onDataToHost(message, std::get<IderDataToHost>(body));
    case IderType::GetDataFromHost:
      // Only a write command asks for the host's data, and this device only reads.
      return protocolError("GetDataFromHost without a write command");
    default:
      return protocolError(std::string("a console does not send ") + iderMessageName(type));
  }
}

void IderSession::onOpen(const IderOpenSession& open) {
  auto& hub = *hub_;
  console_ = open;
  IderOpenSessionReply reply;
  const auto& version = hub.platform_.firmware().code;
  reply.firmwareMajor = static_cast<std::uint8_t>(version.major);
  reply.firmwareMinor = static_cast<std::uint8_t>(version.minor);
  reply.readBuffer = hub.options_.readBuffer;
  reply.writeBuffer = hub.options_.writeBuffer;
  state_ = State::Open;
  ++hub.stats_.sessions;
  send(0, reply);
  MESIM_LOG(Info, kLog, "IDE-R session of '" << printable(user_) << "' from " << peer_ << " opened (heartbeat "
                                              << open.heartbeat << " ms, rx timeout " << open.rxTimeout << " ms)");
  hub.record(*this, true);
  armSilence();
  armHeartbeat();
  hub.changed();
}

void IderSession::onFeatures(const IderFeatures& features) {
  switch (features.kind) {
    case IderFeatureKind::Supported:
      return send(0, IderFeatures{true, IderFeatureKind::Supported, kIderFeatureEnable});
    case IderFeatureKind::GetState:
      return send(0, IderFeatures{true, IderFeatureKind::GetState,
                                  (enabled_ ? kIderStateEnabled : 0u) | startMode_});
    case IderFeatureKind::Set: {
      const bool enable = (features.value & kIderFeatureEnable) != 0;
      startMode_ = features.value & kIderStartModeMask;
      send(0, IderFeatures{true, IderFeatureKind::Set, 1});
      if (enable && !enabled_) {
        enabled_ = true;
        MESIM_LOG(Info, kLog, "IDE-R device registered by " << peer_ << ", start " << startModeName(startMode_));
        if (startMode_ == kIderStartNow) attach("start mode now");
        else hub_->changed();
      } else if (enable && startMode_ == kIderStartNow) {
        attach("start mode now");  // a registered device switched to Now (no-op when attached already)
      } else if (!enable && enabled_) {
        enabled_ = attached_ = false;
        MESIM_LOG(Info, kLog, "IDE-R device unregistered by " << peer_);
        failAll("the console unregistered the IDE-R device");
        hub_->changed();
      }
      return;
    }
  }
}

void IderSession::attach(const char* why) {
  if (attached_ || !enabled_ || state_ != State::Open) return;
  attached_ = true;
  MESIM_LOG(Info, kLog, "IDE-R device of " << peer_ << " attached to the host (" << why << ")");
  hub_->attached(*this);
}

void IderSession::busReset() {
  if (state_ != State::Open) return;
  ++hub_->stats_.resets;
  resetPending_ = true;
  send(0, IderResetOccurred{1});
}

void IderSession::submit(const IderCommand& command, Done done) {
  if (state_ != State::Open || !hub_) return done(fail("no IDE-R session is open"));
  if (!attached_) return done(fail("the console's IDE-R device is not attached to the host"));
  if (queue_.size() >= hub_->options_.maxQueuedCommands) return done(fail("too many IDE-R commands waiting"));
  queue_.push_back(Pending{command, std::move(done)});
  pump();
}

void IderSession::pump() {
  if (current_ || resetPending_ || queue_.empty() || state_ != State::Open) return;
  current_ = std::move(queue_.front());
  queue_.pop_front();
  gathered_ = AtapiResult{};
  const auto& c = current_->command;
  IderCommandWritten packet;
  packet.featureRegister = 0;  // PIO: the data comes as 0x54 chunks either way
  packet.byteCount = static_cast<std::uint16_t>(std::min<std::uint32_t>(c.expectedBytes, 0xFFFE));
  packet.driveSelect = c.device;
  packet.cdb = c.cdb;
  ++hub_->stats_.commands;
  send(0, packet);
  auto limit = hub_->options_.commandTimeout;
  if (console_.rxTimeout) limit = std::max(std::chrono::milliseconds(console_.rxTimeout), std::chrono::milliseconds(1000));
  commandTimer_ = hub_->timers_.scheduleAfter(limit, [this, limit] {
    commandTimer_ = 0;
    if (hub_) ++hub_->stats_.commandTimeouts;
    const auto why = "the console did not answer an ATAPI command within " + std::to_string(limit.count()) + " ms";
    finishCurrent(fail(why));
    closeSession(why);
  });
}

void IderSession::onCommandEnd(const IderCommandEnd& end) {
  if (!current_) return protocolError("CommandEndResponse without a command");
  gathered_.status = end.status;
  gathered_.senseKey = end.senseKey;
  gathered_.asc = end.asc;
  gathered_.ascq = end.ascq;
  finishCurrent(std::move(gathered_));
}

void IderSession::onDataToHost(const IderMessage& message, const IderDataToHost& data) {
  if (!current_) return protocolError("DataToHost without a command");
  if (gathered_.data.size() + data.data.size() > current_->command.expectedBytes)
    return protocolError("DataToHost brings more than the " + std::to_string(current_->command.expectedBytes) +
                         " bytes the command asked for");
  gathered_.data.insert(gathered_.data.end(), data.data.begin(), data.data.end());
  hub_->stats_.bytesRead += data.data.size();
  if (message.attributes & kIderAttrCompleted) {
    gathered_.status = data.status ? data.status : kAtaStatusGood;
    finishCurrent(std::move(gathered_));
  }
}

void IderSession::finishCurrent(Result<AtapiResult> result) {
  if (!current_) return;
  if (commandTimer_ && hub_) hub_->timers_.cancel(commandTimer_);
  commandTimer_ = 0;
  auto done = std::move(current_->done);
  current_.reset();
  if (result && !result->good() && hub_) ++hub_->stats_.checkConditions;
  // The callback may submit the next command or end the session.
  done(std::move(result));
  pump();
}

void IderSession::failAll(const std::string& why) {
  if (current_) finishCurrent(fail(why));
  auto waiting = std::move(queue_);
  queue_.clear();
  for (auto& p : waiting) p.done(fail(why));
}

void IderSession::send(std::uint8_t attributes, IderBody body) {
  if (state_ == State::Ended) return;
  if (transport_.write) transport_.write(encodeIder(IderMessage{attributes, outSequence_++, std::move(body)}));
}

std::chrono::milliseconds IderSession::heartbeatPeriod() const {
  // A console may ask for any period; below a second it would only keep the firmware busy.
  if (console_.heartbeat) return std::max(std::chrono::milliseconds(console_.heartbeat), std::chrono::milliseconds(1000));
  return hub_ ? hub_->options_.heartbeat : std::chrono::milliseconds(20'000);
}

void IderSession::armSilence() {
  if (!hub_ || state_ == State::Ended) return;
  auto& timers = hub_->timers_;
  // Before the open the console has its own limit to keep; after it, one heartbeat period of silence earns a
  // ping (MeshCentral answers 0x44, and sends nothing else while the host is idle), three end the session.
  // The deadline moves with every chunk received, but the timer is not rescheduled for each (a busy session gets
  // thousands a second): it fires where it was set and, finding the console heard since, re-arms from then.
  const auto period = heartbeatPeriod();
  const auto deadline = silenceSince_ + (pinged_ ? 2 * period : period);
  if (silenceTimer_) {
    const auto armedFor = timers.deadline(silenceTimer_);
    if (armedFor && *armedFor <= deadline) return;
    timers.cancel(silenceTimer_);  // the period shrank (the open set the console's own)
  }
  silenceTimer_ = timers.schedule(deadline, [this] {
    silenceTimer_ = 0;
    if (!hub_) return;
    const auto limit = heartbeatPeriod();
    if (hub_->timers_.now() < silenceSince_ + (pinged_ ? 2 * limit : limit)) return armSilence();
    if (state_ == State::Open && !pinged_) {
      pinged_ = true;
      silenceSince_ = hub_->timers_.now();
      send(0, IderKeepAlive{false});
      return armSilence();
    }
    ++hub_->stats_.idleTimeouts;
    closeSession("nothing heard from the console in time");
  });
}

void IderSession::armHeartbeat() {
  if (state_ != State::Open || !hub_) return;
  heartbeatTimer_ = hub_->timers_.scheduleAfter(heartbeatPeriod(), [this] {
    heartbeatTimer_ = 0;
    send(0, IderHeartbeat{});
    armHeartbeat();
  });
}

void IderSession::protocolError(const std::string& why) {
  if (hub_) ++hub_->stats_.protocolErrors;
  closeSession("protocol error: " + why);
}

void IderSession::closeSession(const std::string& why) {
  if (state_ == State::Ended) return;
  auto close = transport_.close;
  end(why);
  if (close) close(why);
}

void IderSession::end(const std::string& why) {
  if (!hub_) {
    state_ = State::Ended;
    return;
  }
  auto& hub = *hub_;
  for (auto* timer : {&silenceTimer_, &heartbeatTimer_, &commandTimer_}) {
    if (*timer) hub.timers_.cancel(*timer);
    *timer = 0;
  }
  const bool wasOpen = state_ == State::Open;
  if (state_ != State::Ended) MESIM_LOG(Info, kLog, "IDE-R session from " << peer_ << " ends: " << why);
  // Commands in flight learn it first; their callbacks see a session that takes no more.
  state_ = State::Ended;
  auto waiting = std::move(queue_);
  queue_.clear();
  if (current_) {
    auto done = std::move(current_->done);
    current_.reset();
    done(fail("the IDE-R session ended: " + why));
  }
  for (auto& p : waiting) p.done(fail("the IDE-R session ended: " + why));
  if (wasOpen) hub.record(*this, false);
  hub_ = nullptr;
  hub.released(*this);
}

// ------------------------------------------------------------------------------------------------
// IderHub
// ------------------------------------------------------------------------------------------------

IderHub::IderHub(platform::PlatformModel& platform, core::FirmwareTimerQueue& timers, IderOptions options)
    : platform_(platform), timers_(timers), options_(options) {}

IderHub::~IderHub() {
  if (owner_) owner_->end("the redirection service stops");
}

bool IderHub::enabled() const {
  return platform_.state().features.iderEnabled &&
         (platform_.state().redirection.enabledState & kEnabledStateIderBit);
}

std::unique_ptr<IderSession> IderHub::open(IderSession::Transport transport, std::string peer, std::string user) {
  if (owner_) {
    ++stats_.busy;
    return nullptr;
  }
  auto session = std::make_unique<IderSession>(*this, std::move(transport), std::move(peer), std::move(user));
  owner_ = session.get();
  ++generation_;
  media_ = IderMediaInfo{};
  return session;
}

void IderHub::released(IderSession& session) {
  if (owner_ != &session) return;
  owner_ = nullptr;
  ++generation_;
  media_ = IderMediaInfo{};
  changed();
}

void IderHub::attached(IderSession& session) {
  if (owner_ != &session) return;
  changed();
  if (!booting_) probe([this] { changed(); });  // a boot probes on its own
}

bool IderHub::isHostBoot(const platform::PowerChange& change) {
  if (change.newState != platform::power::kOn) return false;
  if (change.oldState != platform::power::kOn) return true;  // power up, wake from hibernate
  return change.requested != 0 && change.requested != platform::power::kNmi;  // reset, power cycle
}

void IderHub::hostBooted() {
  const auto& boot = platform_.state().boot;
  auto* session = owner_;
  const bool ready = session && session->state() == IderSession::State::Open && session->enabled();
  if (boot.useIder) {
    const auto boots = boot_.boots;
    boot_ = IderBootResult{};
    boot_.boots = boots + 1;
    boot_.state = "running";
    boot_.device = boot.iderBootDevice == kIderBootCd ? "cd" : "floppy";
    boot_.at = core::unixSeconds(timers_.now());
  }
  if (!ready) {
    if (!boot.useIder) return;
    boot_.state = "failed";
    boot_.error = session ? "the console has not registered its IDE-R device" : "no IDE-R session is open";
    MESIM_LOG(Info, kLog, "BIOS: no boot from the IDE-R " << boot_.device << ": " << boot_.error);
    return changed();
  }
  booting_ = boot.useIder;
  if (!session->attached()) {
    session->attach("the host rebooted");
  } else {
    session->busReset();
    media_ = IderMediaInfo{};
    if (!booting_) probe([this] { changed(); });
  }
  booting_ = false;
  if (boot.useIder) biosBoot();
}

// A probe in steps: each step's callback holds the probe, so it lives exactly as long as a command of it waits.
struct IderHub::Probe : std::enable_shared_from_this<IderHub::Probe> {
  IderHub& hub;
  std::uint64_t generation;
  std::uint8_t device;
  std::function<void()> done;
  int tries = 0;

  Probe(IderHub& h, std::uint64_t g, std::uint8_t d, std::function<void()> f)
      : hub(h), generation(g), device(d), done(std::move(f)) {}

  bool current() const { return generation == hub.generation_ && hub.owner_; }
  const log::Context& logContext() const { return hub.logContext(); }

  void finish(std::string error, std::uint64_t blocks, std::uint32_t size) {
    if (generation != hub.generation_) return;
    auto& media = hub.media_;
    media.known = error.empty();
    media.error = std::move(error);
    media.device = device;
    media.blocks = blocks;
    media.blockSize = size;
    if (media.known)
      MESIM_LOG(Info, kLog, "IDE-R media: " << blocks << " blocks of " << size << " bytes");
    else
      MESIM_LOG(Info, kLog, "IDE-R media probe failed: " << media.error);
    if (done) done();
  }

  void testUnitReady() {
    if (!current()) return finish("the IDE-R session ended", 0, 0);
    hub.owner_->submit(IderCommand{cdbTestUnitReady(), device, 0}, [self = shared_from_this()](Result<AtapiResult> r) {
      if (!r) return self->finish(r.error().message, 0, 0);
      if (!r->good()) {
        // A fresh medium or a reset is reported once as a unit attention; a drive spinning up as not ready.
        const bool transient = r->senseKey == 0x06 || (r->senseKey == 0x02 && r->asc == 0x04);
        if (++self->tries < 3 && transient) return self->testUnitReady();
        return self->finish("TEST UNIT READY: " + describeSense(r->senseKey, r->asc, r->ascq), 0, 0);
      }
      self->readCapacity();
    });
  }

  void readCapacity() {
    if (!current()) return finish("the IDE-R session ended", 0, 0);
    hub.owner_->submit(IderCommand{cdbReadCapacity(), device, 8}, [self = shared_from_this()](Result<AtapiResult> c) {
      if (!c) return self->finish(c.error().message, 0, 0);
      if (!c->good()) return self->finish("READ CAPACITY: " + describeSense(c->senseKey, c->asc, c->ascq), 0, 0);
      auto capacity = parseReadCapacity(c->data);
      if (!capacity) return self->finish(capacity.error().message, 0, 0);
      self->finish("", std::uint64_t(capacity->lastLba) + 1, capacity->blockSize);
    });
  }
};

void IderHub::probe(std::function<void()> done) {
  auto* session = owner_;
  if (!session || !session->attached()) {
    media_.error = "no IDE-R device attached";
    if (done) done();
    return;
  }
  const auto& boot = platform_.state().boot;
  const std::uint8_t device = boot.useIder && boot.iderBootDevice != kIderBootCd ? kIderDeviceFloppy : kIderDeviceCdrom;
  std::make_shared<Probe>(*this, generation_, device, std::move(done))->testUnitReady();
}

// A read in READ(10)s of as many whole blocks as the 0x50's byte count can carry (0xFFFE: 31 CD blocks, 127
// floppy ones), gathered into one buffer. Each command is a round trip to the console, so fewer, larger ones are
// what a read's throughput depends on (bench_ider).
struct IderHub::Read : std::enable_shared_from_this<IderHub::Read> {
  IderHub& hub;
  std::uint64_t generation;
  std::uint64_t offset;
  std::uint32_t remaining;
  std::function<void(Result<std::vector<std::uint8_t>>)> done;
  std::vector<std::uint8_t> out;
  bool retried = false;

  Read(IderHub& h, std::uint64_t o, std::uint32_t n, std::function<void(Result<std::vector<std::uint8_t>>)> d)
      : hub(h), generation(h.generation_), offset(o), remaining(n), done(std::move(d)) {
    out.reserve(n);
  }

  void failWith(std::string why) {
    auto finish = std::move(done);
    if (finish) finish(fail(std::move(why)));
  }

  void next() {
    if (remaining == 0) {
      auto finish = std::move(done);
      if (finish) finish(std::move(out));
      return;
    }
    if (generation != hub.generation_ || !hub.owner_) return failWith("the IDE-R session ended");
    const std::uint32_t size = hub.media_.blockSize;
    const std::uint32_t maxBlocks = std::max<std::uint32_t>(1, 0xFFFE / size);
    const std::uint64_t lba = offset / size;
    const auto skip = static_cast<std::uint32_t>(offset % size);
    const auto blocks = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(maxBlocks, (std::uint64_t(skip) + remaining + size - 1) / size));
    const std::uint8_t device = hub.media_.device;
    hub.owner_->submit(
        IderCommand{cdbRead10(static_cast<std::uint32_t>(lba), static_cast<std::uint16_t>(blocks)), device,
                    blocks * size},
        [self = shared_from_this(), skip, blocks, size](Result<AtapiResult> r) {
          if (!r) return self->failWith(r.error().message);
          if (!r->good()) {
            if (r->senseKey == 0x06 && !self->retried) {  // a unit attention is reported once: again
              self->retried = true;
              return self->next();
            }
            return self->failWith("READ(10): " + describeSense(r->senseKey, r->asc, r->ascq));
          }
          if (r->data.size() != std::size_t(blocks) * size)
            return self->failWith("READ(10) of " + std::to_string(blocks) + " blocks brought " +
                                  std::to_string(r->data.size()) + " bytes");
          const std::uint32_t take = std::min<std::uint32_t>(self->remaining, blocks * size - skip);
          self->out.insert(self->out.end(), r->data.begin() + skip, r->data.begin() + skip + take);
          self->offset += take;
          self->remaining -= take;
          self->next();
        });
  }
};

void IderHub::read(std::uint64_t offset, std::uint32_t length,
                   std::function<void(Result<std::vector<std::uint8_t>>)> done) {
  if (!owner_ || !owner_->attached()) return done(fail("no IDE-R device attached"));
  if (!media_.known)
    return done(fail("the IDE-R media is not known yet" + (media_.error.empty() ? std::string() : ": " + media_.error)));
  if (offset > media_.bytes() || length > media_.bytes() - offset)
    return done(fail("read beyond the end of the IDE-R media"));
  std::make_shared<Read>(*this, offset, length, std::move(done))->next();
}

void IderHub::biosBoot() {
  const bool cd = boot_.device == "cd";
  auto failed = [this](std::string why) {
    boot_.state = "failed";
    boot_.error = std::move(why);
    MESIM_LOG(Info, kLog, "BIOS: no boot from the IDE-R " << boot_.device << ": " << boot_.error);
    changed();
  };
  MESIM_LOG(Info, kLog, "BIOS: boot from the IDE-R " << boot_.device << " (AMT_BootSettingData UseIDER)");
  // As a BIOS does: TEST UNIT READY until ready, READ CAPACITY, then the boot records.
  probe([this, cd, failed] {
    if (!media_.known) return failed(media_.error.empty() ? "no media" : media_.error);
    if (cd != (media_.blockSize == 2048)) return failed("the media's blocks are not those of a " + boot_.device);
    if (!cd) {
      return read(0, 512, [this, failed](Result<std::vector<std::uint8_t>> sector) {
        if (!sector) return failed(sector.error().message);
        if ((*sector)[510] != 0x55 || (*sector)[511] != 0xAA) return failed("the floppy's boot sector does not end 55 AA");
        boot_.state = "booted";
        MESIM_LOG(Info, kLog, "BIOS: booting from the IDE-R floppy");
        changed();
      });
    }
    read(16 * 2048, 2 * 2048, [this, failed](Result<std::vector<std::uint8_t>> blocks) {
      if (!blocks) return failed(blocks.error().message);
      const auto pvd = std::span(*blocks).first(2048);
      const auto record = std::span(*blocks).subspan(2048, 2048);
      static constexpr char kCd001[] = "CD001";
      if (pvd[0] != 0x01 || !std::equal(kCd001, kCd001 + 5, pvd.begin() + 1))
        return failed("LBA 16 is not an ISO 9660 primary volume descriptor (01 CD001)");
      boot_.volumeId = trimmed(pvd.subspan(40, 32));
      static constexpr char kElTorito[] = "EL TORITO SPECIFICATION";
      if (record[0] != 0x00 || !std::equal(kElTorito, kElTorito + 23, record.begin() + 7))
        return failed("volume '" + boot_.volumeId + "': LBA 17 holds no El Torito boot record, not bootable");
      boot_.elTorito = true;
      boot_.bootCatalogLba = bytes::le32(record, 0x47);
      boot_.state = "booted";
      MESIM_LOG(Info, kLog, "BIOS: booting from the IDE-R CD, volume '" << boot_.volumeId << "', boot catalog at LBA "
                                                                      << boot_.bootCatalogLba);
      changed();
    });
  });
}

void IderHub::record(const IderSession& session, bool started) {
  const auto now = core::unixSeconds(timers_.now());
  platform::AuditInitiator who;
  who.user = session.user();
  who.address = session.peer();
  auto audit = platform::makeAuditRecord(platform::audit::kRedirectionManager,
                                         started ? kAuditIderSessionOpened : kAuditIderSessionClosed, who, now);
  platform::MessageLogEvent event;
  event.sensorType = platform::kSensorTypeRedirection;
  event.eventData[0] = 0xAA;
  event.eventData[1] = 0x30;
  event.eventData[2] = started ? platform::kRedirectionIderStarted : platform::kRedirectionIderEnded;
  auto logRecord = platform::makeMessageLogRecord(event, now);
  const auto result = platform_.update([&](platform::PlatformState& s) {
    s.features.iderSessionOpen = started;
    platform::appendAuditRecord(s, std::move(audit));
    platform::appendMessageLogRecord(s, std::move(logRecord));
  });
  if (result != platform::ChangeResult::Ok)
    MESIM_LOG(Warn, kLog, "cannot record an IDE-R session in the logs: " << platform::toString(result) << " "
                                                                          << platform_.lastError());
}

}  // namespace mesim::wsman::redirection
