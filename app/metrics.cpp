#include "app/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <string>

#include "app/control_routes.h"
#include "app/device.h"
#include "firmware/events/event_delivery.h"
#include "firmware/hbm/hbm_engine.h"
#include "firmware/cira/cira_client.h"
#include "firmware/lme/lme_client.h"
#include "watchdog_fw/watchdog_feature.h"
#include "wsman/http/wsman_http_server.h"
#include "wsman/ops/wsman_service.h"
#include "wsman/redirection/redirection_session.h"
#include "wsman/redirection/rfb_session.h"

namespace mesim::app {

namespace {

constexpr auto kCounter = MetricType::Counter;
constexpr auto kGauge = MetricType::Gauge;

// ---- the process
constexpr MetricFamily kBuildInfo{"mesim_build_info", kGauge, "Always 1; the version label names the build."};
constexpr MetricFamily kDevices{"mesim_devices", kGauge, "Devices configured in this process."};
constexpr MetricFamily kDevicesReady{"mesim_devices_ready", kGauge, "Devices that are ready."};
constexpr MetricFamily kControlConnections{"mesim_control_connections", kGauge, "Control API connections open now."};
constexpr MetricFamily kControlConnectionsTotal{"mesim_control_connections_total", kCounter,
                                                "Control API connections accepted."};
constexpr MetricFamily kControlRejected{"mesim_control_rejected_total", kCounter,
                                        "Control API connections or requests refused, by reason."};
constexpr MetricFamily kCpu{"process_cpu_seconds_total", kCounter, "User and system CPU time spent, in seconds."};
constexpr MetricFamily kResident{"process_resident_memory_bytes", kGauge, "Resident memory size in bytes."};
constexpr MetricFamily kVirtual{"process_virtual_memory_bytes", kGauge, "Virtual memory size in bytes."};
constexpr MetricFamily kOpenFds{"process_open_fds", kGauge, "Open file descriptors."};
constexpr MetricFamily kMaxFds{"process_max_fds", kGauge, "The file descriptor limit (RLIMIT_NOFILE, soft)."};
constexpr MetricFamily kStartTime{"process_start_time_seconds", kGauge,
                                  "Start time of the process since the Unix epoch, in seconds."};

// ---- per device
constexpr MetricFamily kDeviceReady{"mesim_device_ready", kGauge, "1 once the device is ready, else 0."};
constexpr MetricFamily kFaults{"mesim_faults_injected_total", kCounter,
                               "Faults injected through the control API (POST /faults/KIND), by kind."};
// WS-Management
constexpr MetricFamily kWsmanRequests{
    "mesim_wsman_requests_total", kCounter,
    "WS-Man requests answered, by operation, class (\"unknown\" for a class not served), method (Invoke) and "
    "status (ok or the fault subcode)."};
constexpr MetricFamily kWsmanHttpRequests{"mesim_wsman_http_requests_total", kCounter,
                                          "HTTP requests read on the WS-Man ports (network and LMS)."};
constexpr MetricFamily kWsmanHttpErrors{
    "mesim_wsman_http_errors_total", kCounter,
    "HTTP requests answered before WS-Man: unauthorized (401), bad_request (400), too_large (413/431), "
    "timeout (408 or a connection timed out)."};
constexpr MetricFamily kWsmanConnections{"mesim_wsman_connections", kGauge, "WS-Man connections being served now."};
constexpr MetricFamily kWsmanConnectionsTotal{"mesim_wsman_connections_total", kCounter,
                                              "WS-Man connections accepted and served."};
constexpr MetricFamily kWsmanConnectionsShed{
    "mesim_wsman_connections_shed_total", kCounter,
    "WS-Man connections refused or closed by the connection limits, by reason."};
constexpr MetricFamily kDigestLogins{"mesim_wsman_digest_logins_total", kCounter,
                                     "Digest logins by result: success, failure, locked_out (refused unchecked)."};
constexpr MetricFamily kDigestLockouts{"mesim_wsman_digest_lockouts_total", kCounter,
                                       "User names locked out after successive failed logins."};
constexpr MetricFamily kEnumerationContexts{"mesim_wsman_enumeration_contexts", kGauge,
                                            "WS-Enumeration contexts open now."};
// MEI / HBM
constexpr MetricFamily kMeiMessages{"mesim_mei_messages_total", kCounter,
                                    "MEI client messages by firmware client and direction (to_firmware, to_host)."};
constexpr MetricFamily kMeiBytes{"mesim_mei_bytes_total", kCounter,
                                 "MEI client message bytes by firmware client and direction."};
constexpr MetricFamily kMeiConnections{"mesim_mei_connections", kGauge, "Host connections to firmware clients now."};
constexpr MetricFamily kHbmResets{"mesim_hbm_resets_total", kCounter, "Firmware-initiated resets of the HBM link."};
constexpr MetricFamily kHbmFlowViolations{"mesim_hbm_flow_control_violations_total", kCounter,
                                          "Host messages sent without a flow-control credit (the host was disconnected)."};
// LME / APF
constexpr MetricFamily kApfSessions{"mesim_apf_sessions", kGauge, "APF sessions (LMS connections to LME) now."};
constexpr MetricFamily kApfSessionsTotal{"mesim_apf_sessions_total", kCounter, "APF sessions started."};
constexpr MetricFamily kApfChannels{"mesim_apf_channels", kGauge, "APF channels open now."};
constexpr MetricFamily kApfChannelsOpened{"mesim_apf_channels_opened_total", kCounter, "APF channels opened."};
constexpr MetricFamily kApfChannelsClosed{"mesim_apf_channels_closed_total", kCounter, "APF channels closed."};
constexpr MetricFamily kApfBytes{"mesim_apf_bytes_total", kCounter,
                                 "APF channel data bytes by direction (to_firmware, to_host)."};
constexpr MetricFamily kApfProtocolErrors{"mesim_apf_protocol_errors_total", kCounter,
                                          "APF sessions ended for a protocol error."};
constexpr MetricFamily kLmsNotifications{"mesim_lms_notifications_total", kCounter,
                                         "Alerts forwarded to LMS sessions as user notifications."};
// CIRA (docs/cira.md)
constexpr MetricFamily kCiraConnected{"mesim_cira_connected", kGauge,
                                      "1 while the CIRA tunnel to an MPS is up, else 0."};
constexpr MetricFamily kCiraAttempts{"mesim_cira_attempts_total", kCounter, "CIRA connections begun."};
constexpr MetricFamily kCiraConnects{"mesim_cira_connects_total", kCounter, "CIRA tunnels established."};
constexpr MetricFamily kCiraFailures{"mesim_cira_failures_total", kCounter,
                                     "CIRA attempts that ended before the tunnel was up (TLS, login, refused, timeout)."};
constexpr MetricFamily kCiraDrops{"mesim_cira_drops_total", kCounter,
                                  "CIRA tunnels that ended unasked (lost, keep-alive timeout, DISCONNECT from the MPS)."};
constexpr MetricFamily kCiraChannels{"mesim_cira_channels", kGauge, "Channels the MPS holds open in the tunnel now."};
constexpr MetricFamily kCiraChannelsOpened{"mesim_cira_channels_opened_total", kCounter,
                                           "Channels the MPS opened in CIRA tunnels."};
constexpr MetricFamily kCiraKeepalives{"mesim_cira_keepalives_total", kCounter,
                                       "CIRA keep-alives by outcome (sent, answered)."};
// Watchdogs
constexpr MetricFamily kWatchdogExpiries{"mesim_watchdog_expiries_total", kCounter,
                                         "Expiries of the OS watchdog (the host's heartbeats stopped)."};
constexpr MetricFamily kAgentExpiries{"mesim_agent_presence_expiries_total", kCounter,
                                      "Expiries of agent-presence watchdogs."};
constexpr MetricFamily kAgentWatchdogs{"mesim_agent_presence_watchdogs", kGauge,
                                       "Agent-presence watchdogs defined."};
// Alerts
constexpr MetricFamily kAlertsRaised{"mesim_alerts_raised_total", kCounter, "Alerts raised on the device."};
constexpr MetricFamily kAlertsDelivered{"mesim_alerts_delivered_total", kCounter,
                                        "Alerts delivered to WS-Eventing subscribers."};
constexpr MetricFamily kAlertFailures{"mesim_alert_delivery_failures_total", kCounter,
                                      "Failed delivery attempts (each retry counts)."};
constexpr MetricFamily kAlertsQueued{"mesim_alerts_queued", kGauge,
                                     "Alerts waiting for delivery, over all subscriptions."};
constexpr MetricFamily kAlertStoreErrors{"mesim_alert_store_errors_total", kCounter,
                                         "Event delivery state files that could not be written."};
constexpr MetricFamily kAlertsUnreserved{"mesim_alerts_unqueued_total", kCounter,
                                         "Alerts not queued: no indication identifier could be reserved durably."};
constexpr MetricFamily kSubscriptions{"mesim_alert_subscriptions", kGauge, "WS-Eventing subscriptions now."};
constexpr MetricFamily kSubscriptionsRemoved{"mesim_alert_subscriptions_removed_total", kCounter,
                                             "Subscriptions removed by the firmware, by reason (terminated, expired)."};
constexpr MetricFamily kSubscriptionQueued{"mesim_alert_subscription_queued", kGauge,
                                           "Alerts waiting for one subscription."};
constexpr MetricFamily kSubscriptionDelivered{"mesim_alert_subscription_delivered_total", kCounter,
                                              "Alerts delivered to one subscription."};
constexpr MetricFamily kSubscriptionDropped{
    "mesim_alert_subscription_dropped_total", kCounter,
    "Alerts of one subscription given up: pushed out of a full queue or dropped by its failure policy."};
// Redirection (16994/16995, 5900)
constexpr MetricFamily kRedirectionConnections{"mesim_redirection_connections_total", kCounter,
                                               "Connections to the redirection ports given a session."};
constexpr MetricFamily kRedirectionSessions{
    "mesim_redirection_sessions_total", kCounter,
    "Redirection sessions started, by kind (sol, ider, kvm) and port (redirection, 5900)."};
constexpr MetricFamily kRedirectionActive{"mesim_redirection_sessions_active", kGauge,
                                          "Redirection sessions running now, by kind (one of each at most)."};
constexpr MetricFamily kRedirectionRefused{
    "mesim_redirection_refused_total", kCounter,
    "Redirection logins and session starts refused, by kind and reason (auth_failure, busy, disabled, "
    "consent_required, unsupported)."};
constexpr MetricFamily kRedirectionEnded{
    "mesim_redirection_sessions_ended_total", kCounter,
    "Redirection sessions the firmware ended, by kind and reason (idle_timeout, protocol_error)."};
constexpr MetricFamily kSolBytes{"mesim_sol_bytes_total", kCounter,
                                 "Serial-over-LAN data bytes by direction (to_host, to_console)."};
constexpr MetricFamily kSolHostPauses{"mesim_sol_host_pauses_total", kCounter,
                                      "Times a SOL console was held back because the host side read too slowly."};
constexpr MetricFamily kKvmUpdates{"mesim_kvm_updates_total", kCounter, "RFB FramebufferUpdate messages sent."};
constexpr MetricFamily kKvmRectangles{"mesim_kvm_rectangles_total", kCounter, "Rectangles in those updates."};
constexpr MetricFamily kKvmInput{"mesim_kvm_input_events_total", kCounter,
                                 "Viewer input events by type (key, pointer)."};
constexpr MetricFamily kIderCommands{"mesim_ider_commands_total", kCounter,
                                     "ATAPI commands sent to the IDE-R console, by result (ok, check_condition, "
                                     "timeout)."};
constexpr MetricFamily kIderBytes{"mesim_ider_read_bytes_total", kCounter, "Data bytes read from the IDE-R media."};
constexpr MetricFamily kIderResets{"mesim_ider_resets_total", kCounter, "Device resets sent to the IDE-R console."};

// In the order of the exposition; a family is listed even while it has no series.
constexpr const MetricFamily* kProcessFamilies[] = {
    &kBuildInfo, &kDevices, &kDevicesReady, &kControlConnections, &kControlConnectionsTotal, &kControlRejected,
    &kCpu, &kResident, &kVirtual, &kOpenFds, &kMaxFds, &kStartTime,
};
constexpr const MetricFamily* kDeviceFamilies[] = {
    &kDeviceReady, &kFaults,
    &kWsmanRequests, &kWsmanHttpRequests, &kWsmanHttpErrors, &kWsmanConnections, &kWsmanConnectionsTotal,
    &kWsmanConnectionsShed, &kDigestLogins, &kDigestLockouts, &kEnumerationContexts,
    &kMeiMessages, &kMeiBytes, &kMeiConnections, &kHbmResets, &kHbmFlowViolations,
    &kApfSessions, &kApfSessionsTotal, &kApfChannels, &kApfChannelsOpened, &kApfChannelsClosed, &kApfBytes,
    &kApfProtocolErrors, &kLmsNotifications,
    &kCiraConnected, &kCiraAttempts, &kCiraConnects, &kCiraFailures, &kCiraDrops, &kCiraChannels, &kCiraChannelsOpened,
    &kCiraKeepalives,
    &kWatchdogExpiries, &kAgentExpiries, &kAgentWatchdogs,
    &kAlertsRaised, &kAlertsDelivered, &kAlertFailures, &kAlertsQueued, &kAlertStoreErrors, &kAlertsUnreserved,
    &kSubscriptions, &kSubscriptionsRemoved, &kSubscriptionQueued, &kSubscriptionDelivered, &kSubscriptionDropped,
    &kRedirectionConnections, &kRedirectionSessions, &kRedirectionActive, &kRedirectionRefused, &kRedirectionEnded,
    &kSolBytes, &kSolHostPauses, &kKvmUpdates, &kKvmRectangles, &kKvmInput, &kIderCommands, &kIderBytes, &kIderResets,
};

constexpr std::string_view kToFirmware = "to_firmware";
constexpr std::string_view kToHost = "to_host";

void writeWsman(MetricsText& out, std::string_view device, const wsman::ops::WsmanService* service,
                const wsman::http::WsmanHttpServer* http) {
  if (service) {
    for (const auto& [key, count] : service->stats().requests) {
      const std::string_view status = key.fault ? wsman::soap::faultName(*key.fault) : "ok";
      out.add(kWsmanRequests,
              {{"device", device}, {"operation", wsman::ops::actionName(key.action)}, {"class", key.className},
               {"method", key.method}, {"status", status}},
              count);
    }
    out.add(kEnumerationContexts, {{"device", device}}, service->openEnumerationContexts());
  }
  if (!http) return;
  const auto& s = http->stats();
  out.add(kWsmanHttpRequests, {{"device", device}}, s.requests);
  out.add(kWsmanHttpErrors, {{"device", device}, {"reason", "unauthorized"}}, s.unauthorized);
  out.add(kWsmanHttpErrors, {{"device", device}, {"reason", "bad_request"}}, s.badRequests);
  out.add(kWsmanHttpErrors, {{"device", device}, {"reason", "too_large"}}, s.tooLarge);
  out.add(kWsmanHttpErrors, {{"device", device}, {"reason", "timeout"}}, s.timeouts);
  out.add(kWsmanConnections, {{"device", device}}, http->activeConnections());
  out.add(kWsmanConnectionsTotal, {{"device", device}}, s.connections);
  out.add(kWsmanConnectionsShed, {{"device", device}, {"reason", "busy"}}, s.rejectedBusy);
  out.add(kWsmanConnectionsShed, {{"device", device}, {"reason", "dropped"}}, s.dropped);
  out.add(kWsmanConnectionsShed, {{"device", device}, {"reason", "evicted"}}, s.evicted);
  out.add(kWsmanConnectionsShed, {{"device", device}, {"reason", "over_address_cap"}}, s.overAddressCap);
  out.add(kWsmanConnectionsShed, {{"device", device}, {"reason", "descriptors_short"}}, s.descriptorsShort);
  out.add(kWsmanConnectionsShed, {{"device", device}, {"reason", "not_provisioned"}}, s.notProvisioned);
  const auto& d = http->digestStats();
  out.add(kDigestLogins, {{"device", device}, {"result", "success"}}, d.successes);
  out.add(kDigestLogins, {{"device", device}, {"result", "failure"}}, d.failures);
  out.add(kDigestLogins, {{"device", device}, {"result", "locked_out"}}, d.lockedOutAttempts);
  out.add(kDigestLockouts, {{"device", device}}, d.lockouts);
}

void writeMei(MetricsText& out, std::string_view device, const firmware::HbmEngine& engine) {
  const auto s = engine.stats();
  for (const auto& c : s.clients) {
    out.add(kMeiMessages, {{"device", device}, {"client", c.client}, {"direction", kToFirmware}}, c.messagesIn);
    out.add(kMeiMessages, {{"device", device}, {"client", c.client}, {"direction", kToHost}}, c.messagesOut);
    out.add(kMeiBytes, {{"device", device}, {"client", c.client}, {"direction", kToFirmware}}, c.bytesIn);
    out.add(kMeiBytes, {{"device", device}, {"client", c.client}, {"direction", kToHost}}, c.bytesOut);
  }
  out.add(kMeiConnections, {{"device", device}}, s.connections);
  out.add(kHbmResets, {{"device", device}}, s.resets);
  out.add(kHbmFlowViolations, {{"device", device}}, s.flowControlViolations);
}

void writeApf(MetricsText& out, std::string_view device, const lme::LmeClient& lme) {
  const auto s = lme.stats();
  out.add(kApfSessions, {{"device", device}}, s.sessions);
  out.add(kApfSessionsTotal, {{"device", device}}, s.sessionsStarted);
  out.add(kApfChannels, {{"device", device}}, s.channels);
  out.add(kApfChannelsOpened, {{"device", device}}, s.channelsOpened);
  out.add(kApfChannelsClosed, {{"device", device}}, s.channelsClosed);
  out.add(kApfBytes, {{"device", device}, {"direction", kToFirmware}}, s.bytesFromHost);
  out.add(kApfBytes, {{"device", device}, {"direction", kToHost}}, s.bytesToHost);
  out.add(kApfProtocolErrors, {{"device", device}}, s.protocolErrors);
  out.add(kLmsNotifications, {{"device", device}}, s.eventsSent);
}

void writeCira(MetricsText& out, std::string_view device, const cira::CiraClient& client) {
  const auto& s = client.status();
  out.add(kCiraConnected, {{"device", device}}, s.state == cira::TunnelState::Connected ? 1 : 0);
  out.add(kCiraAttempts, {{"device", device}}, s.attempts);
  out.add(kCiraConnects, {{"device", device}}, s.connects);
  out.add(kCiraFailures, {{"device", device}}, s.failures);
  out.add(kCiraDrops, {{"device", device}}, s.drops);
  out.add(kCiraChannels, {{"device", device}}, s.openChannels);
  out.add(kCiraChannelsOpened, {{"device", device}}, s.channelsOpened);
  out.add(kCiraKeepalives, {{"device", device}, {"outcome", "sent"}}, s.keepalivesSent);
  out.add(kCiraKeepalives, {{"device", device}, {"outcome", "answered"}}, s.keepalivesAnswered);
}

void writeWatchdogs(MetricsText& out, std::string_view device, watchdog::WatchdogFeature& watchdog) {
  out.add(kWatchdogExpiries, {{"device", device}}, watchdog.osWatchdog().expiries());
  out.add(kAgentExpiries, {{"device", device}}, watchdog.agentPresenceService().expiries());
  out.add(kAgentWatchdogs, {{"device", device}}, watchdog.agentPresence().watchdogs().size());
}

void writeAlerts(MetricsText& out, std::string_view device, events::EventDelivery& delivery) {
  const auto& s = delivery.stats();
  out.add(kAlertsRaised, {{"device", device}}, s.raised);
  out.add(kAlertsDelivered, {{"device", device}}, s.delivered);
  out.add(kAlertFailures, {{"device", device}}, s.failedAttempts);
  out.add(kAlertStoreErrors, {{"device", device}}, s.storeErrors);
  out.add(kAlertsUnreserved, {{"device", device}}, s.droppedUnreserved);
  out.add(kSubscriptionsRemoved, {{"device", device}, {"reason", "terminated"}}, s.terminated);
  out.add(kSubscriptionsRemoved, {{"device", device}, {"reason", "expired"}}, s.expired);
  // Subscription ids are bounded: at most policy().maxSubscriptions exist at a time.
  std::size_t queued = 0;
  const auto subscriptions = delivery.subscriptions();
  for (const auto& sub : subscriptions) {
    const std::string id = std::to_string(sub.subscription.id);
    queued += sub.pending;
    out.add(kSubscriptionQueued, {{"device", device}, {"subscription", id}}, sub.pending);
    out.add(kSubscriptionDelivered, {{"device", device}, {"subscription", id}}, sub.delivered);
    out.add(kSubscriptionDropped, {{"device", device}, {"subscription", id}}, sub.dropped);
  }
  out.add(kAlertsQueued, {{"device", device}}, queued);
  out.add(kSubscriptions, {{"device", device}}, subscriptions.size());
}

void writeRedirection(MetricsText& out, std::string_view device, const wsman::redirection::RedirectionService* redirection,
                      const wsman::redirection::KvmService* kvm) {
  if (redirection) {
    const auto& s = redirection->stats();
    const auto& ider = redirection->ider();
    const auto& i = ider.stats();
    out.add(kRedirectionConnections, {{"device", device}}, s.sessions);
    out.add(kRedirectionSessions, {{"device", device}, {"kind", "sol"}, {"port", "redirection"}}, s.solSessions);
    out.add(kRedirectionSessions, {{"device", device}, {"kind", "ider"}, {"port", "redirection"}}, i.sessions);
    out.add(kRedirectionActive, {{"device", device}, {"kind", "sol"}}, redirection->solSession() ? 1 : 0);
    out.add(kRedirectionActive, {{"device", device}, {"kind", "ider"}}, ider.session() ? 1 : 0);
    // Logins fail before the kind is known to matter: counted once, under the redirection port's own kind.
    out.add(kRedirectionRefused, {{"device", device}, {"kind", "redirection"}, {"reason", "auth_failure"}}, s.authFailures);
    out.add(kRedirectionRefused, {{"device", device}, {"kind", "redirection"}, {"reason", "busy"}}, s.busy);
    out.add(kRedirectionRefused, {{"device", device}, {"kind", "redirection"}, {"reason", "unsupported"}}, s.unsupported);
    out.add(kRedirectionRefused, {{"device", device}, {"kind", "sol"}, {"reason", "disabled"}}, s.refused);
    out.add(kRedirectionRefused, {{"device", device}, {"kind", "sol"}, {"reason", "consent_required"}}, s.consentRequired);
    out.add(kRedirectionRefused, {{"device", device}, {"kind", "ider"}, {"reason", "busy"}}, i.busy);
    out.add(kRedirectionRefused, {{"device", device}, {"kind", "ider"}, {"reason", "disabled"}}, i.refused);
    out.add(kRedirectionEnded, {{"device", device}, {"kind", "redirection"}, {"reason", "idle_timeout"}}, s.idleTimeouts);
    out.add(kRedirectionEnded, {{"device", device}, {"kind", "redirection"}, {"reason", "protocol_error"}}, s.protocolErrors);
    out.add(kRedirectionEnded, {{"device", device}, {"kind", "ider"}, {"reason", "idle_timeout"}}, i.idleTimeouts);
    out.add(kRedirectionEnded, {{"device", device}, {"kind", "ider"}, {"reason", "protocol_error"}}, i.protocolErrors);
    out.add(kSolBytes, {{"device", device}, {"direction", "to_host"}}, s.bytesToHost);
    out.add(kSolBytes, {{"device", device}, {"direction", "to_console"}}, s.bytesFromHost);
    out.add(kSolHostPauses, {{"device", device}}, s.pauses);
    const std::uint64_t failed = i.checkConditions + i.commandTimeouts;
    out.add(kIderCommands, {{"device", device}, {"result", "ok"}}, i.commands >= failed ? i.commands - failed : 0);
    out.add(kIderCommands, {{"device", device}, {"result", "check_condition"}}, i.checkConditions);
    out.add(kIderCommands, {{"device", device}, {"result", "timeout"}}, i.commandTimeouts);
    out.add(kIderBytes, {{"device", device}}, i.bytesRead);
    out.add(kIderResets, {{"device", device}}, i.resets);
  }
  if (kvm) {
    const auto& k = kvm->stats();
    out.add(kRedirectionSessions, {{"device", device}, {"kind", "kvm"}, {"port", "redirection"}}, k.redirectionSessions);
    out.add(kRedirectionSessions, {{"device", device}, {"kind", "kvm"}, {"port", "5900"}}, k.port5900Sessions);
    out.add(kRedirectionActive, {{"device", device}, {"kind", "kvm"}}, kvm->activeSession() ? 1 : 0);
    out.add(kRedirectionRefused, {{"device", device}, {"kind", "kvm"}, {"reason", "auth_failure"}}, k.authFailures);
    out.add(kRedirectionRefused, {{"device", device}, {"kind", "kvm"}, {"reason", "busy"}}, k.busy);
    out.add(kRedirectionRefused, {{"device", device}, {"kind", "kvm"}, {"reason", "disabled"}}, k.refused);
    out.add(kRedirectionRefused, {{"device", device}, {"kind", "kvm"}, {"reason", "consent_required"}}, k.consentRequired);
    out.add(kRedirectionEnded, {{"device", device}, {"kind", "kvm"}, {"reason", "protocol_error"}}, k.protocolErrors);
    out.add(kKvmUpdates, {{"device", device}}, k.updates);
    out.add(kKvmRectangles, {{"device", device}}, k.rectangles);
    out.add(kKvmInput, {{"device", device}, {"type", "key"}}, k.keyEvents);
    out.add(kKvmInput, {{"device", device}, {"type", "pointer"}}, k.pointerEvents);
  }
}

void declareAll(MetricsText& out, std::span<const MetricFamily* const> families) {
  for (const MetricFamily* family : families) out.declare(*family);
}

// ---- process_* as Prometheus's client libraries read them from /proc.
std::string slurp(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The number `text` starts with (after blanks).
std::optional<double> leadingNumber(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc()) return std::nullopt;
  return value;
}

// Seconds since the epoch at which this process started: its start in clock ticks after boot (/proc/self/stat,
// field 22) plus the boot time (/proc/stat btime). Nothing when /proc does not say.
std::optional<double> processStartTime() {
  const std::string stat = slurp("/proc/self/stat");
  const auto afterName = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (afterName == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(afterName + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i != 22) continue;
    const std::string all = slurp("/proc/stat");
    const auto at = all.find("\nbtime ");
    const long ticks = ::sysconf(_SC_CLK_TCK);
    if (at == std::string::npos || ticks <= 0) return std::nullopt;
    const auto bootTime = leadingNumber(std::string_view(all).substr(at + 7));
    const auto startTicks = leadingNumber(field);
    if (!bootTime || !startTicks) return std::nullopt;
    return *bootTime + *startTicks / static_cast<double>(ticks);
  }
  return std::nullopt;
}

}  // namespace

void writeDeviceMetrics(MetricsText& out, const Device& device) {
  const std::string_view name = device.name();
  out.add(kDeviceReady, {{"device", name}}, device.ready() ? 1 : 0);
  for (const auto& [kind, count] : device.faultsInjected()) out.add(kFaults, {{"device", name}, {"kind", kind}}, count);
  const Device::Parts parts = device.parts();
  writeWsman(out, name, parts.wsman, parts.wsmanHttp);
  if (parts.engine) writeMei(out, name, *parts.engine);
  if (parts.lme) writeApf(out, name, *parts.lme);
  if (parts.cira) writeCira(out, name, *parts.cira);
  if (parts.watchdog) writeWatchdogs(out, name, *parts.watchdog);
  if (parts.events) writeAlerts(out, name, *parts.events);
  writeRedirection(out, name, parts.redirection, parts.kvm);
}

void writeProcessMetrics(MetricsText& out, const ProcessFacts& facts) {
  out.add(kBuildInfo, {{"version", MESIM_VERSION}}, 1);
  out.add(kDevices, {}, facts.devices);
  out.add(kDevicesReady, {}, facts.readyDevices);
  out.add(kControlConnections, {}, facts.controlConnectionsOpen);
  if (facts.control) {
    out.add(kControlConnectionsTotal, {}, facts.control->connections);
    out.add(kControlRejected, {{"reason", "busy"}}, facts.control->rejectedBusy);
    out.add(kControlRejected, {{"reason", "bad_request"}}, facts.control->badRequests);
    out.add(kControlRejected, {{"reason", "descriptors_short"}}, facts.control->descriptorsShort);
  }

  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) {
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    out.add(kCpu, {}, seconds(usage.ru_utime) + seconds(usage.ru_stime));
  }
  std::istringstream statm(slurp("/proc/self/statm"));
  double sizePages = 0, residentPages = 0;
  if (statm >> sizePages >> residentPages) {
    const auto page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    out.add(kVirtual, {}, sizePages * page);
    out.add(kResident, {}, residentPages * page);
  }
  std::error_code ec;
  std::size_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++fds;
  if (!ec && fds > 0) out.add(kOpenFds, {}, fds - 1);  // less the iterator's own
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) out.add(kMaxFds, {}, static_cast<std::uint64_t>(limit.rlim_cur));
  if (auto started = processStartTime()) out.add(kStartTime, {}, *started);
}

ControlResponse metricsResponse(const ProcessFacts& facts, const std::vector<std::unique_ptr<Device>>& devices) {
  MetricsText out;
  declareAll(out, kProcessFamilies);
  declareAll(out, kDeviceFamilies);
  writeProcessMetrics(out, facts);
  for (const auto& device : devices) writeDeviceMetrics(out, *device);
  return {200, std::string(kMetricsContentType), out.text()};
}

void addMetricsRoutes(ControlRoutes& routes) {
  routes.add("GET", "/metrics",
             "Prometheus metrics: unprefixed, the process's and every device's; /devices/NAME/metrics, that device's",
             [](Device& device, const ControlRequest&) {
               MetricsText out;
               declareAll(out, kDeviceFamilies);
               writeDeviceMetrics(out, device);
               return ControlResponse{200, std::string(kMetricsContentType), out.text()};
             },
             false);
}

}  // namespace mesim::app
