#include "watchdog_fw/wd_client.h"

#include <algorithm>

#include "common/log.h"

namespace mesim::watchdog {

namespace {
constexpr const char* kLog = "watchdog";
constexpr std::uint32_t kAmtStatusSuccess = 0;
constexpr std::uint32_t kAmtStatusInternalError = 1;
}  // namespace

WatchdogClient::WatchdogClient(platform::PlatformModel& platform, WatchdogStore& store, OsWatchdog& watchdog,
                               WatchdogClientOptions options)
    : platform_(platform), store_(store), watchdog_(watchdog), options_(options), lastNotRequired_(notRequired()) {
  observer_ = platform_.subscribe([this] { checkRequired(); });
}

WatchdogClient::~WatchdogClient() { platform_.unsubscribe(observer_); }

hbm::ClientProperties WatchdogClient::properties() const {
  return firmware::dynamicClientProperties(kWatchdogGuid, options_.protocolVersion, options_.maxConnections, options_.maxMessageLength);
}

bool WatchdogClient::notRequired() const {
  return !store_.data().amtOperational || platform_.provisioningState() != platform::ProvisioningState::Post;
}

void WatchdogClient::checkRequired() {
  const bool now = notRequired();
  if (now == lastNotRequired_) return;
  lastNotRequired_ = now;
  MESIM_LOG(Info, kLog, "OS watchdog " << (now ? "no longer required" : "required again") << ": notifying "
                                        << connections_.size() << " connection(s)");
  if (now) watchdog_.stop();
  for (auto& c : connections_) c->notify();
}

void WatchdogClient::onConnect(const std::shared_ptr<firmware::ClientConnection>& connection) {
  connections_.push_back(connection);
}

void WatchdogClient::onDisconnect(const std::shared_ptr<firmware::ClientConnection>& connection) {
  std::erase(connections_, connection);
  if (watchdog_.state() == OsWatchdog::State::Running)
    MESIM_LOG(Info, kLog, "host connection closed without STOP: the OS watchdog keeps running ("
                              << watchdog_.timeout() << " s)");
}

void WatchdogClient::onMessage(const std::shared_ptr<firmware::ClientConnection>& connection, hbm::ByteView message) {
  if (auto response = respond(message)) connection->send(std::move(*response));
}

std::optional<hbm::Bytes> WatchdogClient::respond(hbm::ByteView request) {
  wd::Header header;
  auto decoded = wd::decodeRequest(request, &header);
  if (auto* error = std::get_if<wd::DecodeError>(&decoded)) {
    MESIM_LOG(Warn, kLog, "malformed request (" << request.size() << " bytes): " << wd::toString(*error));
    // A START the host waits an answer for gets a failing one; anything else is dropped.
    if (header.command == wd::kManagementControl && header.subcommand == wd::sub::kStartTimer)
      return wd::encodeStartResponse(wd::kStatusInvalidParameter, notRequired() ? wd::kWdStateNotRequired : 0);
    return std::nullopt;
  }
  if (auto* start = std::get_if<wd::StartTimer>(&decoded)) {
    const bool skip = notRequired();
    const std::uint8_t wdstate = skip ? wd::kWdStateNotRequired : 0;
    if (start->timeout < wd::kMinTimeout) return wd::encodeStartResponse(wd::kStatusInvalidParameter, wdstate);
    if (!skip) watchdog_.start(start->timeout);
    return wd::encodeStartResponse(wd::kStatusSuccess, wdstate);
  }
  if (std::holds_alternative<wd::StopTimer>(decoded)) {
    watchdog_.stop();
    return std::nullopt;  // mei_wdt sends STOP without waiting; an answer is optional (spec/mei.md §3)
  }
  if (std::holds_alternative<wd::IsChangeToAmtEnabled>(decoded)) {
    std::uint8_t bits = wd::kChangeEnabled | wd::kNewInterface;
    if (store_.data().amtOperational) bits |= wd::kAmtOperational;
    return wd::encodeIsChangeToAmtEnabledResponse(bits);
  }
  if (auto* set = std::get_if<wd::SetAmtOperationalState>(&decoded)) {
    const bool enable = set->enable;
    bool ok = store_.data().amtOperational == enable || store_.update([&](WatchdogStoreData& d) { d.amtOperational = enable; });
    if (ok) MESIM_LOG(Info, kLog, "AMT operational state set to " << (enable ? "enabled" : "disabled"));
    checkRequired();
    return wd::encodeSetAmtOperationalStateResponse(ok ? kAmtStatusSuccess : kAmtStatusInternalError);
  }
  return std::nullopt;
}

}  // namespace mesim::watchdog
