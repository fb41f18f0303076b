// Runs an io_context the way the firmware's loop runs: it keeps polling for `spin` after its last handler before
// it sleeps. On a VM the wake-up of a sleeping thread (a halted vCPU) costs tens of microseconds, more than a
// request's own work, and a busy client's next call usually comes within that window. Idle, it sleeps as run()
// does; `spin` of zero is plain run().
#pragma once

#include <chrono>

#include <boost/asio/io_context.hpp>

namespace mesim::core {

inline void runSpinning(boost::asio::io_context& io, std::chrono::microseconds spin) {
  if (spin.count() <= 0) {
    io.run();
    return;
  }
  using Clock = std::chrono::steady_clock;
  auto lastWork = Clock::now();
  while (!io.stopped()) {
    if (io.poll() > 0) {
      lastWork = Clock::now();
    } else if (Clock::now() - lastWork >= spin) {
      if (io.run_one() == 0) return;  // out of work
      lastWork = Clock::now();
    }
  }
}

}  // namespace mesim::core
