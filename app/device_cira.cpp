#include "app/device_cira.h"

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "common/text_codecs.h"
#include "firmware/core/clock_text.h"
#include "firmware/lme/apf_session.h"
#include "firmware/lme/local_stream_peer.h"
#include "wsman/eventing/http_client.h"
#include "wsman/http/wsman_http_server.h"

namespace mesim::app {

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace {

constexpr const char* kLog = "cira";
constexpr std::uint32_t kPortRedirection = 16994;
constexpr std::uint32_t kPortRedirectionTls = 16995;
constexpr std::uint32_t kPortRfb = 5900;

}  // namespace

Result<> applyCiraPreset(platform::PlatformModel& platform, const DeviceConfig::CiraPreset& preset) {
  if (!platform.state().mpsServers.empty()) return {};
  const auto result = platform.update([&](platform::PlatformState& s) {
    const bool known = std::any_of(s.certificates.begin(), s.certificates.end(),
                                   [&](const auto& c) { return c.x509 == preset.rootDerBase64; });
    if (!known) {
      platform::StoredCertificate root;
      root.instanceId = "Intel(r) AMT Certificate: Handle: " + std::to_string(s.nextCertificateHandle++);
      root.x509 = preset.rootDerBase64;
      root.trustedRoot = true;
      s.certificates.push_back(std::move(root));
    }
    platform::MpsServer server;
    server.name = "Intel(r) AMT:Management Presence Server 0";
    server.accessInfo = preset.host;
    server.infoFormat = 201;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(preset.host, ec);
    if (!ec) server.infoFormat = address.is_v4() ? 3 : 4;
    server.port = preset.port;
    server.authMethod = 2;
    server.username = preset.user;
    server.password = preset.password;
    server.commonName = preset.commonName;
    s.mpsServers.push_back(server);
    platform::RemoteAccessPolicyRule rule;
    rule.policyRuleName = "Periodic";
    rule.trigger = 2;
    rule.tunnelLifeTime = 0;
    const std::uint32_t n = preset.intervalSeconds;
    const std::uint8_t data[8] = {0, 0, 0, 0, static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                                  static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    rule.extendedData = text::base64Encode(data);
    rule.mpsNames = {server.name};
    rule.mpsTypes = {2};  // inside and outside the enterprise alike
    std::erase_if(s.remoteAccessPolicies, [](const auto& p) { return p.trigger == 2; });
    s.remoteAccessPolicies.push_back(std::move(rule));
  });
  if (result != platform::ChangeResult::Ok) return fail("--cira-mps: the platform state could not be written");
  return {};
}

DeviceCira::DeviceCira(asio::io_context& io, core::FirmwareTimerQueue& timers, platform::PlatformModel& platform,
                       CiraServers servers, log::Context log)
    : io_(io), servers_(std::move(servers)), log_(std::move(log)) {
  cira::CiraClientOptions options;
  options.log = log_;
  options.forwardPorts.clear();
  // Real AMT's order (cira.md: 16993, 16992, 664, 623, 16995, 16994, 5900), of the ports this device serves.
  if (servers_.wsman && servers_.wsman->ports().https) options.forwardPorts.push_back(lme::kPortHttps);
  if (servers_.wsman && servers_.wsman->ports().http) options.forwardPorts.push_back(lme::kPortHttp);
  if (servers_.redirectionTlsPort && servers_.redirectionTlsPort()) options.forwardPorts.push_back(kPortRedirectionTls);
  if (servers_.redirectionPort && servers_.redirectionPort()) options.forwardPorts.push_back(kPortRedirection);
  if (servers_.rfbPort && servers_.rfbPort()) options.forwardPorts.push_back(kPortRfb);
  auto tls = [](const std::vector<std::string>& roots) {
    std::vector<std::string> pems;
    for (const auto& der : roots) pems.push_back(wsman::eventing::pemOfBase64Der(der));
    return wsman::eventing::makeVerifyingTlsClientContext(pems, false);  // AMT trusts its own store only
  };
  client_ = std::make_unique<cira::CiraClient>(
      io, timers, platform, [this](std::uint32_t port) { return openChannel(port); }, tls, options);
}

DeviceCira::~DeviceCira() = default;

std::shared_ptr<lme::ChannelPeer> DeviceCira::openChannel(std::uint32_t port) {
  auto logContext = [this] { return log_; };
  if (port == lme::kPortHttp || port == lme::kPortHttps) {
    // WS-Man in-process, over a socket pair, served as a network connection (its peer named "cira").
    if (!servers_.wsman) return nullptr;
    stream_protocol::socket ours(io_), theirs(io_);
    boost::system::error_code ec;
    asio::local::connect_pair(ours, theirs, ec);
    if (ec) {
      MESIM_LOG(Warn, kLog, "socket pair for a channel to " << port << ": " << ec.message());
      return nullptr;
    }
    if (!servers_.wsman->serveTunnel(std::move(theirs), "cira", port == lme::kPortHttps)) return nullptr;
    return std::make_shared<lme::LocalStreamPeer>(asio::generic::stream_protocol::socket(std::move(ours)));
  }
  // Redirection and KVM through their own listeners on the device's address: one more loopback hop, and the same
  // login, consent and session limits as a console that comes directly.
  std::uint16_t actual = 0;
  if (port == kPortRedirection && servers_.redirectionPort) actual = servers_.redirectionPort();
  if (port == kPortRedirectionTls && servers_.redirectionTlsPort) actual = servers_.redirectionTlsPort();
  if (port == kPortRfb && servers_.rfbPort) actual = servers_.rfbPort();
  if (!actual) return nullptr;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(servers_.listenAddress, ec);
  if (ec) return nullptr;
  asio::ip::tcp::socket socket(io_);
  // A loopback connect completes in the kernel's backlog, without the listener's accept: it does not block the loop.
  socket.connect(asio::ip::tcp::endpoint(address, actual), ec);
  if (ec) {
    MESIM_LOG(Warn, kLog, "channel to " << port << ": connect to " << servers_.listenAddress << ":" << actual << ": "
                                         << ec.message());
    return nullptr;
  }
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  return std::make_shared<lme::LocalStreamPeer>(asio::generic::stream_protocol::socket(std::move(socket)));
}

boost::json::object DeviceCira::statusJson() const {
  const auto& s = client_->status();
  boost::json::object o;
  o["state"] = cira::tunnelStateName(s.state);
  o["mps"] = s.mps;
  o["trigger"] = s.trigger ? cira::triggerName(*s.trigger) : "";
  o["last_error"] = s.lastError;
  o["environment"] = s.insideEnterprise ? "inside" : "outside";
  o["attempts"] = s.attempts;
  o["connects"] = s.connects;
  o["failures"] = s.failures;
  o["drops"] = s.drops;
  o["keepalive_interval"] = s.keepaliveIntervalSeconds;
  o["keepalives_sent"] = s.keepalivesSent;
  o["keepalives_answered"] = s.keepalivesAnswered;
  if (s.connectedSince) o["connected_since"] = core::formatUtc(*s.connectedSince);
  if (s.nextAttempt) o["next_attempt"] = core::formatUtc(*s.nextAttempt);
  boost::json::array ports;
  for (auto p : s.forwardedPorts) ports.push_back(p);
  o["forwarded_ports"] = std::move(ports);
  o["channels"] = s.openChannels;
  o["channels_opened"] = s.channelsOpened;
  return o;
}

}  // namespace mesim::app
