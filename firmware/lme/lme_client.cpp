#include "firmware/lme/lme_client.h"

#include "firmware/lme/lms_event.h"
#include "common/log.h"

namespace mesim::lme {

const hbm::Guid kLmeGuid = *hbm::Guid::parse("6733A4DB-0476-4E7B-B3AF-BCFC29BEE7A7");

namespace {
// The counters the client reports summed over sessions.
void addSessionTotals(ApfSession::Stats& totals, const ApfSession::Stats& session) {
  totals.channelsOpened += session.channelsOpened;
  totals.channelsClosed += session.channelsClosed;
  totals.protocolErrors += session.protocolErrors;
  totals.bytesToHost += session.bytesToHost;
  totals.bytesFromHost += session.bytesFromHost;
}
}  // namespace

LmeClient::LmeClient(platform::PlatformModel& platform, ChannelPeerFactory forwarded, LmeOptions options)
    : platform_(platform), forwarded_(std::move(forwarded)), options_(options) {}

hbm::ClientProperties LmeClient::properties() const {
  return firmware::dynamicClientProperties(kLmeGuid, 1, options_.maxConnections, options_.maxMessageLength);
}

ApfSessionOptions LmeClient::sessionOptions() const {
  ApfSessionOptions o;
  o.uuid = apf::uuidToWire(platform_.uuid());
  // AMT_TLSSettingData index 1 is the local (LMS) interface.
  o.tlsOnLocalPorts = platform_.state().tls[1].enabled;
  o.maxMessageLength = options_.maxMessageLength;
  o.channelWindow = options_.channelWindow;
  o.maxChannels = options_.maxChannels;
  o.log = platform_.logContext();
  return o;
}

void LmeClient::onConnect(const std::shared_ptr<firmware::ClientConnection>& connection) {
  auto session = std::make_shared<ApfSession>(connection, sessionOptions(), forwarded_);
  if (auto old = sessions_.find(connection->id()); old != sessions_.end()) old->second->end();
  sessions_[connection->id()] = session;
  ++sessionsStarted_;
  session->start();
}

void LmeClient::onMessage(const std::shared_ptr<firmware::ClientConnection>& connection, hbm::ByteView message) {
  auto it = sessions_.find(connection->id());
  if (it == sessions_.end()) return;
  auto session = it->second;  // the message may end it
  session->onHostMessage(message);
}

void LmeClient::onDisconnect(const std::shared_ptr<firmware::ClientConnection>& connection) {
  auto it = sessions_.find(connection->id());
  if (it == sessions_.end()) return;
  auto session = std::move(it->second);
  sessions_.erase(it);
  session->end();
  addSessionTotals(endedSessions_, session->stats());
}

std::size_t LmeClient::sendUserNotification(const UserNotification& notification) {
  std::size_t sent = 0;
  for (auto& [id, session] : sessions_) {
    if (session->state() != ApfSession::State::Established) continue;
    auto peer = std::make_shared<BufferPeer>(makeLmsEventRequest(notification));
    if (session->openDirectChannel("127.0.0.1", 0, peer)) ++sent;
  }
  eventsSent_ += sent;
  if (sent) MESIM_LOG(Info, "lme", "user notification " << notification.messageId << " to " << sent << " session(s)");
  return sent;
}

LmeClient::Stats LmeClient::stats() const {
  ApfSession::Stats totals = endedSessions_;
  Stats s;
  s.sessions = sessions_.size();
  s.sessionsStarted = sessionsStarted_;
  s.eventsSent = eventsSent_;
  for (auto& [id, session] : sessions_) {
    if (session->state() == ApfSession::State::Established) ++s.established;
    s.channels += session->openChannels();
    addSessionTotals(totals, session->stats());
  }
  s.channelsOpened = totals.channelsOpened;
  s.channelsClosed = totals.channelsClosed;
  s.protocolErrors = totals.protocolErrors;
  s.bytesToHost = totals.bytesToHost;
  s.bytesFromHost = totals.bytesFromHost;
  return s;
}

}  // namespace mesim::lme
