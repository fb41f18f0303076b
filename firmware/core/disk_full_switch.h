// A device's state disk as QA can fill it (issue 11, "a full state disk"): while it is full, every write the
// firmware asks of the device's state dir fails with ENOSPC before any file is touched, so what is stored stays as
// it was, and works again once it is cleared. One per device (no global): each writer of the state dir holds it.
// Atomic, because a TLS key pair is written on a worker thread.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <system_error>

namespace mesim::core {

class DiskFullSwitch {
 public:
  void setFull(bool full) { full_.store(full, std::memory_order_relaxed); }
  bool full() const { return full_.load(std::memory_order_relaxed); }
  // ENOSPC while full (and the refusal counted), else no error.
  std::error_code checkWrite() const {
    if (!full()) return {};
    refused_.fetch_add(1, std::memory_order_relaxed);
    return {ENOSPC, std::generic_category()};
  }
  std::uint64_t refusedWrites() const { return refused_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> full_{false};
  mutable std::atomic<std::uint64_t> refused_{0};
};

}  // namespace mesim::core
