// WS-Enumeration contexts: a snapshot of the enumerated instances and a read position, identified by
// AMT-style ids ("01000000-0000-0000-0000-000000000000"), expiring on the firmware clock and capped;
// the oldest context is dropped when the cap is reached (clients such as MeshCentral never Release).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "firmware/core/firmware_clock.h"
#include "wsman/cim/class_registry.h"

namespace mesim::wsman::ops {

enum class EnumerationMode { Objects, ObjectsAndEprs, Eprs };

struct EnumerationContext {
  std::string resourceUri;
  EnumerationMode mode = EnumerationMode::Objects;
  std::vector<cim::ServedInstance> items;
  std::size_t next = 0;
  core::FirmwareClock::time_point expires;
  std::uint64_t sequence = 0;  // opening order, for eviction
  // Who opened it: only the same user on the same kind of channel may Pull or Release it (ids are sequential,
  // as AMT's are, so anyone could guess another user's).
  std::string owner;
  bool ownerLocal = false;
};

class EnumerationContexts {
 public:
  EnumerationContexts(const core::FirmwareClock& clock, std::size_t capacity, core::FirmwareClock::duration lifetime)
      : clock_(clock), capacity_(capacity), lifetime_(lifetime) {}

  // Stores `context` (its expiry set from now) and returns its id.
  std::string open(EnumerationContext context);
  // The live context `id`, or null when unknown, released or expired (an expired one is removed).
  EnumerationContext* find(const std::string& id);
  // Extends `id`'s life after a successful Pull.
  void touch(EnumerationContext& context);
  bool release(const std::string& id);
  std::size_t size() const { return contexts_.size(); }

 private:
  void dropExpired();

  const core::FirmwareClock& clock_;
  std::size_t capacity_;
  core::FirmwareClock::duration lifetime_;
  std::map<std::string, EnumerationContext> contexts_;
  std::uint64_t counter_ = 0;
};

}  // namespace mesim::wsman::ops
