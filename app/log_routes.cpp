// Log reads decode the records WS-Man hands to consoles as base64 (AMT_MessageLog, AMT_AuditLog): the layouts are
// firmware/platform/event_records.h's, so what QA reads here is what a console would decode.
#include "app/log_routes.h"

#include <cstdio>

#include <boost/json.hpp>

#include "app/device.h"
#include "app/fault_params.h"
#include "app/route_parts.h"
#include "common/text_codecs.h"
#include "firmware/events/alert_indication.h"
#include "firmware/events/event_delivery.h"
#include "firmware/events/subscriber_outages.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_model.h"

namespace mesim::app {
namespace {

namespace json = boost::json;

std::string timeText(std::uint32_t unixSeconds) {
  return events::cimDatetime(events::TimePoint(std::chrono::seconds(unixSeconds)));
}

json::value nameOrNull(const std::string& name) { return name.empty() ? json::value(nullptr) : json::value(name); }

std::string hexByte(std::uint8_t value) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", value);
  return text;
}

json::object messageLogJson(std::size_t index, const std::vector<std::uint8_t>& raw) {
  json::object o{{"index", index}, {"raw", text::toHex(raw)}};
  auto record = platform::decodeMessageLogRecord(raw);
  if (!record) {
    o["error"] = "not a 21-byte message log record";
    return o;
  }
  const auto& e = record->event;
  o["time"] = timeText(record->timestamp);
  o["timestamp"] = record->timestamp;
  o["sensor_type"] = e.sensorType;
  o["sensor"] = nameOrNull(platform::sensorTypeName(e.sensorType));
  o["event_type"] = hexByte(e.eventType);
  o["event_type_name"] = nameOrNull(platform::eventTypeName(e.eventType));
  o["offset"] = e.offset;
  o["severity"] = hexByte(e.severity);
  o["severity_name"] = nameOrNull(platform::eventSeverityName(e.severity));
  o["source_type"] = hexByte(e.sourceType);
  o["sensor_number"] = e.sensorNumber;
  o["entity"] = hexByte(e.entity);
  o["entity_instance"] = e.entityInstance;
  o["event_data"] = text::toHex(std::span<const std::uint8_t>(e.eventData, sizeof e.eventData));
  o["message"] = nameOrNull(platform::describeMessageLogEvent(e));
  return o;
}

json::object auditJson(std::size_t index, const std::vector<std::uint8_t>& raw) {
  json::object o{{"index", index}, {"raw", text::toHex(raw)}};
  auto record = platform::decodeAuditRecord(raw);
  if (!record) {
    o["error"] = "not an audit record mesim can read";
    return o;
  }
  o["app_id"] = record->app;
  o["app"] = nameOrNull(platform::auditAppName(record->app));
  o["event_id"] = record->event;
  o["id"] = record->app * 100u + record->event;  // how AMT and consoles number audit events (1605, 1700, ...)
  o["event"] = nameOrNull(platform::auditEventName(record->app, record->event));
  o["initiator_type"] = platform::auditInitiatorTypeName(record->initiatorType);
  o["initiator"] = record->initiatorType == 0 ? json::value(text::toValidUtf8(record->user)) : json::value(nullptr);
  o["time"] = timeText(record->timestamp);
  o["timestamp"] = record->timestamp;
  o["net_address"] = nameOrNull(text::toValidUtf8(record->netAddress));
  o["extended_data"] = text::toHex(record->extendedData);
  return o;
}

// The records of `log` the query keeps (oldest first; `limit` keeps the newest), decoded by `decode`. Records a
// decoder cannot read count as kept by `since`: their time is unknown.
template <class Decode, class TimeOf>
ControlResponse readLog(const ControlRequest& request, const std::vector<std::vector<std::uint8_t>>& log,
                        std::size_t capacity, Decode decode, TimeOf timeOf) {
  auto query = parseLogQuery(request);
  if (!query) return jsonError(400, query.error().message);
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto time = timeOf(log[i]);
    if (query->since && time && *time < *query->since) continue;
    kept.push_back(i);
  }
  if (query->limit && kept.size() > query->limit)
    kept.erase(kept.begin(), kept.end() - static_cast<std::ptrdiff_t>(query->limit));
  json::array records;
  for (auto i : kept) records.push_back(decode(i + 1, log[i]));
  return jsonResponse(200, json::object{{"total", log.size()},
                                        {"capacity", capacity},
                                        {"returned", records.size()},
                                        {"records", std::move(records)}});
}

json::object subscriptionJson(const events::SubscriptionStatus& s,
                              const std::vector<events::SubscriberOutages::Outage>& outages) {
  const auto& sub = s.subscription;
  json::object o{{"id", sub.id},
                 {"address", sub.notifyTo},
                 {"filter", sub.filter},
                 {"listener", events::listenerName(sub.id)},
                 {"mode", sub.mode == events::DeliveryMode::PushWithAck ? "PushWithAck" : "Push"},
                 {"authenticated", !sub.username.empty()},
                 {"created", events::cimDatetime(sub.created)},
                 {"expires", sub.expires ? json::value(events::cimDatetime(*sub.expires)) : json::value(nullptr)},
                 {"queued", s.pending},
                 {"in_flight", s.inFlight},
                 {"delivered", s.delivered},
                 {"dropped", s.dropped},
                 {"failures", s.failures},
                 {"last_error", s.lastError.empty() ? json::value(nullptr) : json::value(s.lastError)},
                 {"next_retry", s.nextAttempt ? json::value(events::cimDatetime(*s.nextAttempt)) : json::value(nullptr)},
                 {"suspended", s.suspended}};
  bool unreachable = false;
  for (const auto& outage : outages)
    unreachable = unreachable || (outage.subscription ? *outage.subscription == sub.id : outage.address == sub.notifyTo);
  o["unreachable"] = unreachable;  // an injected outage (POST /faults/subscriber-unreachable)
  return o;
}

// The logs and subscriptions are read from the device's running parts: none while a failed start winds down.
ControlRoutes::Handler withParts(std::function<ControlResponse(RunningParts&, const ControlRequest&)> handler) {
  return [handler = std::move(handler)](Device& device, const ControlRequest& request) {
    auto parts = runningParts(device);
    if (!parts) return jsonError(503, "device " + device.name() + " is not running");
    return handler(*parts, request);
  };
}

}  // namespace

void addLogRoutes(ControlRoutes& routes) {
  routes.add("GET", "/logs/events", "the firmware event (message) log, decoded (limit, since)",
             withParts([](RunningParts& parts, const ControlRequest& request) {
               return readLog(request, parts.platform.state().logs.messageLog,
                              platform::EventLogs::kMaxMessageLogRecords, messageLogJson,
                              [](const std::vector<std::uint8_t>& raw) -> std::optional<std::uint32_t> {
                                auto r = platform::decodeMessageLogRecord(raw);
                                return r ? std::optional(r->timestamp) : std::nullopt;
                              });
             }));
  routes.add("GET", "/logs/audit", "the audit log, decoded (limit, since)",
             withParts([](RunningParts& parts, const ControlRequest& request) {
               return readLog(request, parts.platform.state().logs.auditLog,
                              platform::EventLogs::kMaxAuditLogRecords, auditJson,
                              [](const std::vector<std::uint8_t>& raw) -> std::optional<std::uint32_t> {
                                auto r = platform::decodeAuditRecord(raw);
                                return r ? std::optional(r->timestamp) : std::nullopt;
                              });
             }));
  routes.add("GET", "/subscriptions", "each WS-Eventing subscription and the state of its deliveries",
             withParts([](RunningParts& parts, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({})) return jsonError(400, "unknown parameter '" + *unknown + "'");
               const auto& outages = parts.subscriberOutages.outages();
               json::array list;
               for (const auto& s : parts.eventDelivery.subscriptions()) list.push_back(subscriptionJson(s, outages));
               return jsonResponse(200, json::object{{"subscriptions", std::move(list)}});
             }));
  routes.add("GET", "/subscriptions/{id}", "one subscription and the state of its deliveries",
             withParts([](RunningParts& parts, const ControlRequest& request) {
               auto id = parseNumber("subscription id", request.pathArgs.at("id"), 1, 0xFFFFFFFF);
               if (!id) return jsonError(400, id.error().message);
               const auto& outages = parts.subscriberOutages.outages();
               for (const auto& s : parts.eventDelivery.subscriptions())
                 if (s.subscription.id == *id) return jsonResponse(200, subscriptionJson(s, outages));
               return jsonError(404, "no subscription " + request.pathArgs.at("id"));
             }));
}

}  // namespace mesim::app
