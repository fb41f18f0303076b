// IDE redirection sessions (../shared/spec/features.md §1.3). In IDE-R the console holds the media (an ISO or a
// floppy image) and AMT is the IDE/ATAPI device the host sees: the host's ATAPI commands go to the console as 0x50
// command packets, and the console answers with data (0x54) and an ending status with sense (0x51).
//
// An IderSession is one console's IDE-R protocol after its login (RedirectionSession hands it the bytes): open
// (0x40/0x41), features and start modes (0x48/0x49), keep-alives, heartbeats, resets (0x46/0x47), close; and the
// device side, submit(): one ATAPI command at a time, queued, answered asynchronously. IderHub is what sessions
// share: the one IDE-R slot, the device's media as the last probe saw it, the simulated BIOS's boot from it, the
// audit and message-log records, and counters.
//
//   hub.session()->submit(IderCommand{cdbRead10(16, 1), kIderDeviceCdrom}, [](Result<AtapiResult> r) { ... });
//   hub.hostBooted();   // the host powered on or reset: the OnReboot device appears; the BIOS may boot from it
//
// Threading: the device's loop. Timers: the firmware clock.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_model.h"
#include "wsman/redirection/ider_codec.h"

namespace mesim::wsman::redirection {

struct IderOptions {
  std::uint16_t readBuffer = 8192;   // announced in 0x41: the largest data chunk the console sends
  std::uint16_t writeBuffer = 8192;
  // A command the console leaves unanswered this long ends the session (the console's rx_timeout wins when set).
  std::chrono::milliseconds commandTimeout{30'000};
  // AMT's heartbeat (0x4B) period when the console's 0x40 asks for none; a console silent for a period gets a ping
  // (0x44), silent for three periods is closed.
  std::chrono::milliseconds heartbeat{20'000};
  std::size_t maxQueuedCommands = 256;   // more waiting commands are refused, not buffered
};

// One ATAPI command toward the console.
struct IderCommand {
  std::array<std::uint8_t, 12> cdb{};
  std::uint8_t device = kIderDeviceCdrom;
  std::uint32_t expectedBytes = 0;  // how much data the command reads at most (more from the console is an error)
};

// How a command ended, as the console said.
struct AtapiResult {
  std::uint8_t status = kAtaStatusGood;
  std::uint8_t senseKey = 0, asc = 0, ascq = 0;
  std::vector<std::uint8_t> data;
  bool good() const { return (status & 0x01) == 0; }
};

struct IderStats {
  std::uint64_t sessions = 0;       // IDE-R sessions opened (0x41 sent)
  std::uint64_t busy = 0;           // refused: another IDE-R session holds the slot
  std::uint64_t refused = 0;        // refused: IDER disabled in AMT_RedirectionService
  std::uint64_t commands = 0;       // 0x50 sent
  std::uint64_t checkConditions = 0;  // commands that ended with sense
  std::uint64_t commandTimeouts = 0;
  std::uint64_t bytesRead = 0;      // data bytes from the console (0x54)
  std::uint64_t resets = 0;         // 0x46 sent
  std::uint64_t protocolErrors = 0;
  std::uint64_t idleTimeouts = 0;
};

class IderHub;

class IderSession {
 public:
  struct Transport {
    std::function<void(std::vector<std::uint8_t> message)> write;  // one message, one write
    std::function<void(const std::string& why)> close;            // the connection is to end (after the writes)
  };
  enum class State { AwaitOpen, Open, Ended };
  using Done = std::function<void(Result<AtapiResult>)>;

  IderSession(IderHub& hub, Transport transport, std::string peer, std::string user);
  ~IderSession();
  IderSession(const IderSession&) = delete;
  IderSession& operator=(const IderSession&) = delete;

  // Bytes from the console, in any split, after its login.
  void receive(std::span<const std::uint8_t> bytes);
  // The connection is gone: fails the waiting commands, frees the slot, records the end. Idempotent; no writes.
  void end(const std::string& why);

  // Queues one command; `done` runs once: when the console ends it, or with an error when the session ends, the
  // command times out, or at once (before submit returns) when the device is not attached or the queue is full.
  void submit(const IderCommand& command, Done done);
  // The host reset its IDE bus: 0x46, and no command goes out until the console's 0x47.
  void busReset();

  State state() const { return state_; }
  bool enabled() const { return enabled_; }        // the console registered the device (0x48 set, bit 0)
  std::uint32_t startMode() const { return startMode_; }
  bool attached() const { return attached_; }      // the host sees the device (now, or after a reboot)
  const std::string& peer() const { return peer_; }
  const std::string& user() const { return user_; }
  const IderOpenSession& consoleSettings() const { return console_; }
  std::size_t queuedCommands() const { return queue_.size() + (current_ ? 1 : 0); }

 private:
  friend class IderHub;
  struct Pending {
    IderCommand command;
    Done done;
  };
  void handle(const IderMessage& message);
  void onOpen(const IderOpenSession& open);
  void onFeatures(const IderFeatures& features);
  void onCommandEnd(const IderCommandEnd& end);
  void onDataToHost(const IderMessage& message, const IderDataToHost& data);
  void finishCurrent(Result<AtapiResult> result);
  void pump();
  void send(std::uint8_t attributes, IderBody body);
  void attach(const char* why);
  void armSilence();
  void armHeartbeat();
  void protocolError(const std::string& why);
  void closeSession(const std::string& why);
  void failAll(const std::string& why);
  std::chrono::milliseconds heartbeatPeriod() const;
  const log::Context& logContext() const;

  IderHub* hub_;  // null once ended
  Transport transport_;
  std::string peer_, user_;
  State state_ = State::AwaitOpen;
  std::vector<std::uint8_t> buffer_;
  std::uint32_t inSequence_ = 0, outSequence_ = 0;
  IderOpenSession console_;
  bool enabled_ = false;
  bool attached_ = false;
  std::uint32_t startMode_ = 0;
  bool resetPending_ = false;
  std::optional<Pending> current_;
  AtapiResult gathered_;
  std::deque<Pending> queue_;
  core::FirmwareTimerQueue::TimerId silenceTimer_ = 0, heartbeatTimer_ = 0, commandTimer_ = 0;
  bool pinged_ = false;
  core::FirmwareTimerQueue::time_point silenceSince_{};  // last heard from the console, or pinged it
};

// What the last probe of the redirected media found, and the simulated BIOS's last boot from it.
struct IderMediaInfo {
  bool known = false;
  std::uint8_t device = kIderDeviceCdrom;
  std::uint64_t blocks = 0;
  std::uint32_t blockSize = 0;
  std::string error;  // why the probe failed, empty on success
  std::uint64_t bytes() const { return blocks * blockSize; }
};
struct IderBootResult {
  std::string state = "none";  // none, running, booted, failed
  std::string device;          // "cd" or "floppy"
  std::string volumeId;        // ISO 9660 PVD volume identifier (CD)
  bool elTorito = false;       // LBA 17 holds an El Torito boot record
  std::uint32_t bootCatalogLba = 0;
  std::string error;
  std::uint64_t boots = 0;     // boots attempted from IDE-R
  std::int64_t at = 0;         // firmware time (unix seconds) of the last attempt
};

class IderHub {
 public:
  IderHub(platform::PlatformModel& platform, core::FirmwareTimerQueue& timers, IderOptions options = {});
  ~IderHub();
  IderHub(const IderHub&) = delete;
  IderHub& operator=(const IderHub&) = delete;

  // AMT_RedirectionService.EnabledState has the IDER bit and the feature is on.
  bool enabled() const;
  // The one IDE-R slot: the session holding it, if any.
  IderSession* session() const { return owner_; }
  // For RedirectionSession: a new IDE-R session taking the slot, or null when it is taken (counted as busy).
  std::unique_ptr<IderSession> open(IderSession::Transport transport, std::string peer, std::string user);
  void countBusy() { ++stats_.busy; }
  void countRefused() { ++stats_.refused; }

  // The host booted (powered on, reset, power cycled): an OnReboot/Graceful device appears, the bus is reset, the
  // media probed, and when AMT_BootSettingData asks for IDE-R (UseIDER) the simulated BIOS boots from it.
  void hostBooted();
  static bool isHostBoot(const platform::PowerChange& change);

  // Probes the media of the attached device (TEST UNIT READY until ready, READ CAPACITY): media() after `done`.
  void probe(std::function<void()> done = {});
  // Reads `length` bytes at byte `offset` of the attached media, in READ(10) commands of whole blocks.
  void read(std::uint64_t offset, std::uint32_t length, std::function<void(Result<std::vector<std::uint8_t>>)> done);

  const IderMediaInfo& media() const { return media_; }
  const IderBootResult& lastBoot() const { return boot_; }
  const IderStats& stats() const { return stats_; }
  const IderOptions& options() const { return options_; }
  core::FirmwareTimerQueue& timers() { return timers_; }
  platform::PlatformModel& platform() { return platform_; }
  const log::Context& logContext() const { return platform_.logContext(); }
  // Runs after a session opens, attaches or ends (the app publishes the NBD export's availability from it).
  void onChange(std::function<void()> observer) { observer_ = std::move(observer); }

 private:
  friend class IderSession;
  struct Probe;
  struct Read;
  void released(IderSession& session);
  void attached(IderSession& session);
  void record(const IderSession& session, bool started);
  void biosBoot();
  void changed() { if (observer_) observer_(); }

  platform::PlatformModel& platform_;
  core::FirmwareTimerQueue& timers_;
  IderOptions options_;
  IderSession* owner_ = nullptr;
  IderMediaInfo media_;
  IderBootResult boot_;
  IderStats stats_;
  bool booting_ = false;          // hostBooted() is attaching for a BIOS boot, which probes by itself
  std::uint64_t generation_ = 0;  // bumps when the slot changes hands: late completions of an old session are dropped
  std::function<void()> observer_;
};

// ---- ATAPI helpers (MMC/SPC CDBs; multi-byte CDB fields are big-endian)
std::array<std::uint8_t, 12> cdbTestUnitReady();
std::array<std::uint8_t, 12> cdbRequestSense(std::uint8_t allocation = 18);
std::array<std::uint8_t, 12> cdbReadCapacity();
std::array<std::uint8_t, 12> cdbRead10(std::uint32_t lba, std::uint16_t blocks);
struct Capacity {
  std::uint32_t lastLba = 0;
  std::uint32_t blockSize = 0;
};
Result<Capacity> parseReadCapacity(std::span<const std::uint8_t> data);
// "NOT READY / MEDIUM NOT PRESENT (02/3A/00)" and the like.
std::string describeSense(std::uint8_t key, std::uint8_t asc, std::uint8_t ascq);
const char* startModeName(std::uint32_t mode);

}  // namespace mesim::wsman::redirection
