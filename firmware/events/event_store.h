// The event delivery's state in the state dir, one file per concern (ARCHITECTURE.md, STYLE.md "state survives
// restarts"), each replaced atomically: <state>/events/subscriptions.json (the subscribers and their credentials),
// queue-<id>.json (one subscriber's pending alerts and retry state) and indications.json (the IndicationIdentifier
// numbers handed out so far, reserved in blocks so the counter is not written for every alert).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "common/result.h"
#include "firmware/core/disk_full_switch.h"
#include "firmware/events/delivery_queue.h"
#include "firmware/events/subscription.h"

namespace mesim::events {

struct StoredEvents {
  std::vector<Subscription> subscriptions;
  std::uint32_t nextId = 1;
  std::map<std::uint32_t, DeliveryQueue::State> queues;  // by subscription id
  std::uint64_t indicationReserve = 0;                   // every identifier handed out is below this
};

class EventStore {
 public:
  explicit EventStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Reads what is there (a missing dir or file is an empty state). An error names an unreadable file.
  Result<StoredEvents> load() const;
  std::error_code saveSubscriptions(const std::vector<Subscription>& subscriptions, std::uint32_t nextId) const;
  std::error_code saveQueue(std::uint32_t id, const DeliveryQueue::State& queue) const;
  std::error_code removeQueue(std::uint32_t id) const;
  std::error_code saveIndicationReserve(std::uint64_t reserve) const;
  const std::filesystem::path& dir() const { return dir_; }
  // Every write fails with ENOSPC while `disk` is full (null: never).
  void setDiskFullSwitch(const core::DiskFullSwitch* disk) { disk_ = disk; }

 private:
  std::error_code write(const std::string& name, const std::string& json) const;
  std::filesystem::path dir_;
  const core::DiskFullSwitch* disk_ = nullptr;
};

}  // namespace mesim::events
