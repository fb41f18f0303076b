// System Defense at work (docs/system-defense.md): follows the platform model's policies and NIC slots, knows which
// policy is in force on each NIC (precedence, Timeouts on the firmware clock), writes the 0xC0 "policy invoked"
// and 0x24 "filter matched" records and raises iAMT0001, and hands the wired NIC's policy to the host network (an
// nftables ruleset in the simulated host's network namespace, app/host_netns.h) whose counters it reads back.
// Loop thread only; one per device.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/events/alert.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_model.h"
#include "firmware/platform/system_defense_monitor.h"
#include "firmware/sysdef/nft_ruleset.h"

namespace mesim::sysdef {

// Where the simulated host's traffic is filtered. Both calls finish on the loop (the implementation runs nft off it).
class HostNetwork {
 public:
  using Counters = std::map<std::uint32_t, NftCounter>;
  virtual ~HostNetwork() = default;
  virtual void apply(std::string ruleset, std::function<void(Result<>)> done) = 0;
  virtual void readCounters(std::function<void(Result<Counters>)> done) = 0;
};

class SystemDefenseEngine final : public platform::SystemDefenseMonitor {
 public:
  // `alerts` and `host` may be null (nobody listens / no host network: the policies have no effect on traffic).
  SystemDefenseEngine(boost::asio::io_context& io, core::FirmwareTimerQueue& timers, platform::PlatformModel& platform,
                      events::AlertBus* alerts, HostNetwork* host);
  ~SystemDefenseEngine() override;
  SystemDefenseEngine(const SystemDefenseEngine&) = delete;
  SystemDefenseEngine& operator=(const SystemDefenseEngine&) = delete;

  // How often the host network's counters are read while a policy is in force (real time: it is I/O).
  static constexpr std::chrono::milliseconds kCounterPoll{500};

  std::vector<platform::SdFilterStatistics> statistics(std::size_t nic) const override;
  bool updateStatistics(std::size_t nic, bool resetOnRead) override;

  std::optional<platform::SdActive> active(std::size_t nic) const { return active_[nic]; }
  // The last ruleset the host network accepted ("" before any), and how applying went, for /status and tests.
  const std::string& appliedRuleset() const { return applied_; }
  const std::string& lastHostError() const { return hostError_; }
  std::uint64_t appliedCount() const { return appliedCount_; }

  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  void evaluate();
  void applyToHost();
  void schedulePoll();
  void pollCounters();
  void countersRead(const HostNetwork::Counters& counters);
  void record(const platform::MessageLogEvent& event, std::optional<events::Alert> alert);
  void flushRecords();

  boost::asio::io_context& io_;
  core::FirmwareTimerQueue& timers_;
  platform::PlatformModel& platform_;
  events::AlertBus* alerts_;
  HostNetwork* host_;
  std::size_t observer_ = 0;
  core::FirmwareTimerQueue::TimerId expiry_ = 0;
  boost::asio::steady_timer poll_;
  std::array<std::optional<platform::SdActive>, platform::kSdNics> active_{};
  std::array<std::int64_t, platform::kSdNics> activationTime_{};
  std::array<std::int64_t, platform::kSdNics> lastResetTime_{};
  std::array<std::uint32_t, platform::kSdNics> readCount_{};
  // Wired NIC: packets nft counted, and where each count restarted (ResetOnRead).
  HostNetwork::Counters counters_, baseline_;
  std::set<std::uint32_t> eventsFired_;  // handles whose match event fired since the last read
  std::string desired_, applied_, hostError_;
  bool applying_ = false;
  bool polling_ = false;
  std::uint64_t appliedCount_ = 0;
  std::uint64_t generation_ = 0;  // bumped on every change of the wired NIC's policy: stale counters are dropped
  std::vector<std::vector<std::uint8_t>> pendingRecords_;
  std::vector<events::Alert> pendingAlerts_;
  bool flushPosted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mesim::sysdef
