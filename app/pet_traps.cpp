#include "app/pet_traps.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "firmware/platform/pet_trap.h"

namespace mesim::app {
namespace asio = boost::asio;
using asio::ip::udp;

PetTrapSender::PetTrapSender(asio::io_context& io, platform::PlatformModel& platform, const core::FirmwareClock& clock,
                             log::Context log)
    : platform_(platform), clock_(clock), log_(std::move(log)), started_(clock.now()),
      seen_(platform.state().petOutbox.raised), socket4_(io), socket6_(io) {
  observer_ = platform_.subscribe([this] { sendNew(); });
}

PetTrapSender::~PetTrapSender() { platform_.unsubscribe(observer_); }

void PetTrapSender::sendNew() {
  const auto& state = platform_.state();
  const auto& outbox = state.petOutbox;
  if (outbox.raised <= seen_) {
    seen_ = outbox.raised;  // a restarted count (a fresh state) starts over
    return;
  }
  for (const auto& alert : outbox.recent) {
    if (alert.sequence <= seen_) continue;
    // A subscriber gets an alert once even if several of its PolicyIDs' filters selected it.
    std::set<std::string> done;
    for (const auto& s : state.pet.subscribers)
      if (std::find(alert.policyIds.begin(), alert.policyIds.end(), s.policyId) != alert.policyIds.end() &&
          done.insert(s.name).second)
        send(alert, s);
  }
  const std::uint64_t oldest = outbox.recent.empty() ? outbox.raised + 1 : outbox.recent.front().sequence;
  if (oldest > seen_ + 1) stats_->missed += oldest - seen_ - 1;
  seen_ = outbox.raised;
}

void PetTrapSender::send(const platform::PetAlert& alert, const platform::SnmpSubscriber& to) {
  const auto& state = platform_.state();
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(to.accessInfo, ec);
  udp::socket& socket = address.is_v6() ? socket6_ : socket4_;
  if (!ec && !socket.is_open()) socket.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
  if (ec) {
    ++stats_->failed;
    MESIM_LOG(Warn, "pet", "trap to " << to.accessInfo << ":" << to.port << " not sent: " << ec.message());
    return;
  }
  platform::SnmpV1Trap trap;
  trap.community = to.communityString.empty() ? state.pet.defaultCommunityString : to.communityString;
  const std::uint32_t ip = state.wired.ipv4;
  trap.agentAddress = {static_cast<std::uint8_t>(ip >> 24), static_cast<std::uint8_t>(ip >> 16),
                       static_cast<std::uint8_t>(ip >> 8), static_cast<std::uint8_t>(ip)};
  trap.specificTrap = platform::petSpecificTrap(alert.record);
  const auto upFor = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - started_).count();
  trap.timeTicks = static_cast<std::uint32_t>(upFor / 10);
  trap.varbinds.emplace_back(platform::kPetVarbindOid,
                             platform::petFrame(state.uuid, static_cast<std::uint16_t>(alert.sequence), alert.record));
  auto datagram = std::make_shared<std::vector<std::uint8_t>>(platform::encodeSnmpV1Trap(trap));
  socket.async_send_to(asio::buffer(*datagram), udp::endpoint(address, to.port),
                       [datagram, stats = stats_, log = log_, where = to.accessInfo + ":" + std::to_string(to.port)](
                           boost::system::error_code error, std::size_t) {
                         if (!error) {
                           ++stats->sent;
                           return;
                         }
                         if (error == asio::error::operation_aborted) return;
                         ++stats->failed;
                         auto logContext = [&log]() -> const log::Context& { return log; };
                         MESIM_LOG(Warn, "pet", "trap to " << where << " failed: " << error.message());
                       });
  MESIM_LOG(Debug, "pet", "trap " << trap.specificTrap << " (#" << alert.sequence << ") to " << to.accessInfo << ":"
                                  << to.port);
}

}  // namespace mesim::app
