// The PET trap sender of one device (docs/pet.md): after each platform change it picks up the alerts the PET
// filters raised (PlatformState::petOutbox, pet_filters.h) and sends each, as an SNMPv1 trap (pet_trap.h), to every
// AMT_SNMPEventSubscriber of the alert's PolicyIDs. Sending is fire-and-forget on the device's io_context: a
// receiver that is down or unreachable costs a counted, logged failure, never a block or a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "common/log.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/platform/platform_model.h"

namespace mesim::app {

class PetTrapSender {
 public:
  PetTrapSender(boost::asio::io_context& io, platform::PlatformModel& platform, const core::FirmwareClock& clock,
                log::Context log);
  ~PetTrapSender();
  PetTrapSender(const PetTrapSender&) = delete;
  PetTrapSender& operator=(const PetTrapSender&) = delete;

  struct Stats {
    std::uint64_t sent = 0;     // datagrams handed to the network
    std::uint64_t failed = 0;   // sends that failed (address, socket or network error)
    std::uint64_t missed = 0;   // alerts dropped because more were raised in one change than the outbox keeps
  };
  const Stats& stats() const { return *stats_; }
  const log::Context& logContext() const { return log_; }

 private:
  void sendNew();
  void send(const platform::PetAlert& alert, const platform::SnmpSubscriber& to);

  platform::PlatformModel& platform_;
  const core::FirmwareClock& clock_;
  log::Context log_;
  core::FirmwareClock::time_point started_;
  std::uint64_t seen_ = 0;  // the outbox's `raised` when last looked at
  std::size_t observer_ = 0;
  boost::asio::ip::udp::socket socket4_;
  boost::asio::ip::udp::socket socket6_;
  // Shared with the completion handlers of sends still in flight, which may finish after this object is gone.
  std::shared_ptr<Stats> stats_ = std::make_shared<Stats>();
};

}  // namespace mesim::app
