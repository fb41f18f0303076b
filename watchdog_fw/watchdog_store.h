// What the watchdog feature keeps across restarts, in its own file (STYLE.md: one file per concern):
// `stateDir/watchdog.json` holds the agent-presence watchdog definitions and their actions, the
// IPS_WatchDogAction settings and AMT's operational state (SetAmtOperationalState). Runtime state (timers,
// current states, sequence numbers) is not persisted: after a restart every agent is NotStarted, as after
// S5 -> S0. Written with core::writeFileAtomic before a change becomes visible.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "firmware/core/disk_full_switch.h"
#include "firmware/platform/agent_presence.h"

namespace mesim::watchdog {

struct StoredAgent {
  platform::AgentGuid guid{};
  std::uint32_t startupInterval = 0;
  std::uint32_t timeoutInterval = 0;
  std::string description;
  std::vector<platform::AgentPresenceAction> actions;
};

struct WatchdogStoreData {
  bool amtOperational = true;
  platform::WatchdogActionSettings actions;
  std::vector<StoredAgent> agents;
  std::uint32_t nextActionId = 1;
};

class WatchdogStore {
 public:
  static constexpr const char* kFileName = "watchdog.json";

  // Loads `stateDir/watchdog.json` (defaults when missing). An empty `stateDir` keeps everything in memory
  // (tests, benchmarks). A file that exists but cannot be parsed is an error, never overwritten. `log` is the
  // device its log lines name.
  static Result<std::unique_ptr<WatchdogStore>> open(const std::filesystem::path& stateDir, log::Context log = {});

  const WatchdogStoreData& data() const { return data_; }
  // All-or-nothing: `change` edits a copy, kept only if it was written. False (and logged) otherwise.
  bool update(const std::function<void(WatchdogStoreData&)>& change);
  // Updates fail (ENOSPC) while `disk` is full (null: never).
  void setDiskFullSwitch(const core::DiskFullSwitch* disk) { disk_ = disk; }

  const log::Context& logContext() const { return log_; }

 private:
  WatchdogStore(std::filesystem::path file, WatchdogStoreData data, log::Context log)
      : file_(std::move(file)), data_(std::move(data)), log_(std::move(log)) {}
  std::filesystem::path file_;
  WatchdogStoreData data_;
  log::Context log_;
  const core::DiskFullSwitch* disk_ = nullptr;
};

// JSON form (exposed for tests).
std::string toJson(const WatchdogStoreData& data);
Result<WatchdogStoreData> fromJson(const std::string& text);

}  // namespace mesim::watchdog
