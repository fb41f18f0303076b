// The control API's faults (issue 11, item 4): what QA injects into one device, each observed from the host or a
// console as the real failure would be. Parameters are read by app/fault_params.h; the faults live where they act
// (HbmEngine, WsmanService's rules, SubscriberOutages, the state disk's switch; app/fault_injection.h).
#include "app/fault_routes.h"

#include <cstdio>

#include <boost/json.hpp>

#include "app/device.h"
#include "app/fault_injection.h"
#include "app/fault_params.h"
#include "app/route_parts.h"
#include "common/log.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/events/alert_indication.h"
#include "firmware/events/event_delivery.h"
#include "firmware/events/subscriber_outages.h"
#include "firmware/hbm/hbm_engine.h"

namespace mesim::app {
namespace {

namespace json = boost::json;
constexpr const char* kLog = "faults";

// The registers a healthy ME reports (HbmEngineOptions' default): what DELETE /faults/fw-status restores.
const hbm::ReadyInfo& healthyRegisters() {
  static const hbm::ReadyInfo kHealthy = firmware::HbmEngineOptions{}.registers;
  return kHealthy;
}

json::array registerText(const hbm::ReadyInfo& registers) {
  json::array out;
  char text[16];
  for (auto value : registers.fwStatus) {
    std::snprintf(text, sizeof text, "%08X", value);
    out.push_back(json::string(text));
  }
  return out;
}

ControlResponse done(std::string_view what, json::object details = {}) {
  details["done"] = what;
  return jsonResponse(200, details);
}

ControlResponse clientDisconnect(Device&, RunningParts& parts, const ControlRequest& request) {
  if (auto unknown = request.unknownParam({"client"})) return jsonError(400, "unknown parameter '" + *unknown + "'");
  auto client = parseClientChoice(request);
  if (!client) return jsonError(400, client.error().message);
  auto& engine = parts.engine;
  auto address = engine.clientAddress(client->guid);
  if (!address) return jsonError(404, "no firmware client " + client->label + " on this device's bus");
  const std::size_t connections = engine.disconnectClient(*address);
  return done("client-disconnect", {{"client", client->label}, {"connections", connections}});
}

ControlResponse hbmFault(Device&, RunningParts& parts, const ControlRequest& request) {
  auto choice = parseHbmFault(request);
  if (!choice) return jsonError(400, choice.error().message);
  auto& engine = parts.engine;
  auto address = engine.clientAddress(choice->client.guid);
  if (!address) return jsonError(404, "no firmware client " + choice->client.label + " on this device's bus");
  engine.injectMessageFault(*address, choice->fault);
  const auto& f = choice->fault;
  json::object answer{{"client", choice->client.label},
                      {"action", firmware::toString(f.action)},
                      {"direction", firmware::toString(f.direction)},
                      {"count", f.count}};
  if (f.action == firmware::MessageFault::Action::Delay) answer["ms"] = f.delay.count();
  return done("hbm", std::move(answer));
}

ControlResponse fwStatus(Device& device, RunningParts& parts, const ControlRequest& request) {
  auto& engine = parts.engine;
  auto choice = parseFwStatus(request, healthyRegisters(), engine.registers());
  if (!choice) return jsonError(400, choice.error().message);
  engine.setRegisters(choice->registers);
  const bool healthy = choice->registers.fwStatus == healthyRegisters().fwStatus;
  device.faults().setFwStatusCondition(healthy ? "" : choice->condition);
  const log::Context context(device.name());  // the line names the device
  auto logContext = [&context]() -> const log::Context& { return context; };
  MESIM_LOG(Warn, kLog, "fw_status set to " << choice->condition);
  return done("fw-status", {{"condition", healthy ? "normal" : choice->condition},
                            {"fw_status", registerText(choice->registers)}});
}

ControlResponse clearFwStatus(Device& device, RunningParts& parts) {
  parts.engine.setRegisters(healthyRegisters());
  device.faults().setFwStatusCondition("");
  return done("fw-status cleared", {{"fw_status", registerText(healthyRegisters())}});
}

ControlResponse wsmanFault(Device& device, RunningParts&, const ControlRequest& request) {
  auto rule = parseWsmanFault(request);
  if (!rule) return jsonError(400, rule.error().message);
  const auto id = device.faults().wsman().add(*rule);
  return done("wsman", {{"rule", id}});
}

ControlResponse subscriberUnreachable(Device&, RunningParts& parts, const ControlRequest& request) {
  auto choice = parseOutage(request);
  if (!choice) return jsonError(400, choice.error().message);
  if (choice->subscription) {
    bool known = false;
    for (const auto& s : parts.eventDelivery.subscriptions()) known = known || s.subscription.id == *choice->subscription;
    if (!known) return jsonError(404, "no subscription " + std::to_string(*choice->subscription) + " (GET /subscriptions)");
  }
  events::SubscriberOutages::Outage outage;
  outage.subscription = choice->subscription;
  outage.address = choice->address;
  if (choice->duration) outage.until = parts.clock.now() + *choice->duration;
  parts.subscriberOutages.add(outage);
  json::object answer;
  if (outage.subscription) answer["subscription"] = *outage.subscription;
  else answer["address"] = outage.address;
  if (outage.until) answer["until"] = events::cimDatetime(*outage.until);
  return done("subscriber-unreachable", std::move(answer));
}

ControlResponse clearSubscriberOutages(Device&, RunningParts& parts) {
  parts.subscriberOutages.clear();  // the next retry the policy makes delivers
  return done("subscriber-unreachable cleared");
}

ControlResponse diskFull(Device& device, bool full) {
  device.faults().disk().setFull(full);
  const log::Context context(device.name());  // the line names the device
  auto logContext = [&context]() -> const log::Context& { return context; };
  if (full) MESIM_LOG(Warn, kLog, "state disk full: every write to the state dir now fails with ENOSPC");
  else MESIM_LOG(Info, kLog, "state disk has room again");
  return done(full ? "disk-full" : "disk-full cleared");
}

json::object activeFaults(Device& device, RunningParts& parts) {
  auto& faults = device.faults();
  json::object active;
  active["disk_full"] = faults.disk().full();
  active["fw_status"] = faults.fwStatusCondition().empty() ? json::value(nullptr) : json::value(faults.fwStatusCondition());
  auto& engine = parts.engine;
  json::array hbm;
  for (const auto& pending : engine.messageFaults()) {
    json::object o{{"client", engine.clientName(pending.meAddr)},
                   {"action", firmware::toString(pending.fault.action)},
                   {"direction", firmware::toString(pending.fault.direction)},
                   {"remaining", pending.fault.count}};
    if (pending.fault.action == firmware::MessageFault::Action::Delay) o["ms"] = pending.fault.delay.count();
    hbm.push_back(std::move(o));
  }
  active["hbm"] = std::move(hbm);
  json::array wsman;
  for (const auto& rule : faults.wsman().rules()) {
    json::object o{{"rule", rule.id},
                   {"class", rule.className.empty() ? json::value(nullptr) : json::value(rule.className)},
                   {"operation", rule.operation.empty() ? json::value(nullptr) : json::value(rule.operation)},
                   {"action", wsman::ops::toString(rule.action)},
                   {"hits", rule.hits},
                   {"remaining", rule.remaining ? json::value(*rule.remaining) : json::value(nullptr)}};
    if (rule.action == wsman::ops::WsmanFaultRule::Action::Delay) o["ms"] = rule.delay.count();
    if (rule.action == wsman::ops::WsmanFaultRule::Action::SoapFault) o["subcode"] = wsman::soap::faultName(rule.fault);
    if (rule.action == wsman::ops::WsmanFaultRule::Action::HttpStatus) o["status"] = rule.httpStatus;
    wsman.push_back(std::move(o));
  }
  active["wsman"] = std::move(wsman);
  json::array outages;
  for (const auto& outage : parts.subscriberOutages.outages()) {
    json::object o;
    if (outage.subscription) o["subscription"] = *outage.subscription;
    else o["address"] = outage.address;
    o["until"] = outage.until ? json::value(events::cimDatetime(*outage.until)) : json::value(nullptr);
    o["refused"] = outage.refused;
    outages.push_back(std::move(o));
  }
  active["subscriber_unreachable"] = std::move(outages);
  return active;
}

ControlResponse listFaults(Device& device, RunningParts& parts) {
  auto& faults = device.faults();
  json::object injected;
  for (const auto& [kind, count] : device.faultsInjected()) injected[kind] = count;
  const auto stats = parts.engine.stats();
  json::object effects{{"hbm_messages_dropped", stats.messagesDropped},
                       {"hbm_messages_delayed", stats.messagesDelayed},
                       {"hbm_messages_corrupted", stats.messagesCorrupted},
                       {"disk_writes_refused", faults.disk().refusedWrites()},
                       {"deliveries_refused", parts.subscriberOutages.refused()}};
  return jsonResponse(200, json::object{{"active", activeFaults(device, parts)},
                                        {"injected", std::move(injected)},
                                        {"effects", std::move(effects)}});
}

ControlResponse clearAll(Device& device, RunningParts& parts) {
  auto& faults = device.faults();
  parts.engine.clearMessageFaults();
  faults.wsman().clear();
  faults.disk().setFull(false);
  if (!faults.fwStatusCondition().empty()) clearFwStatus(device, parts);
  parts.subscriberOutages.clear();
  return done("clear");
}

using PartsHandler = std::function<ControlResponse(Device&, RunningParts&, const ControlRequest&)>;

// The fault routes drive the device's running parts: none while a start that failed half-way winds down.
ControlRoutes::Handler withParts(PartsHandler handler) {
  return [handler = std::move(handler)](Device& device, const ControlRequest& request) {
    auto parts = runningParts(device);
    if (!parts) return jsonError(503, "device " + device.name() + " is not running");
    return handler(device, *parts, request);
  };
}

// A route that takes no parameters refuses any, so a typo is not silently ignored.
ControlRoutes::Handler noParams(std::function<ControlResponse(Device&, RunningParts&)> handler) {
  return withParts([handler = std::move(handler)](Device& device, RunningParts& parts, const ControlRequest& request) {
    if (auto unknown = request.unknownParam({})) return jsonError(400, "unknown parameter '" + *unknown + "'");
    return handler(device, parts);
  });
}

}  // namespace

void addFaultRoutes(ControlRoutes& routes) {
  routes.add("GET", "/faults", "the faults in force and how many of each kind were injected",
             noParams(listFaults));
  routes.add("POST", "/faults/clear", "clears every fault in force (HBM, WS-Man, fw_status, subscribers, disk)",
             noParams(clearAll));
  routes.add("POST", "/faults/firmware-reset", "reset the ME firmware: every host connection ends",
             noParams([](Device& device, RunningParts&) {
               device.firmwareReset("requested through the control API");
               return done("firmware-reset");
             }));
  routes.add("POST", "/faults/me-stop", "stop the ME: it answers nothing until reset",
             noParams([](Device& device, RunningParts&) {
               device.meStop();
               return done("me-stop");
             }));
  routes.add("POST", "/faults/host-reset", "reset the built-in host model (the mei driver's link reset)",
             noParams([](Device& device, RunningParts&) {
               if (!device.hostReset("requested through the control API"))
                 return jsonError(409, "no built-in host model (--hbm-listen)");
               return done("host-reset");
             }));
  routes.add("POST", "/faults/client-disconnect",
             "the firmware disconnects every host connection of a client (client=amthi|mkhi|lme|watchdog|GUID)",
             withParts(clientDisconnect));
  routes.add("POST", "/faults/hbm",
             "drop, delay or corrupt the next messages of a client (client, action, count, ms, direction)",
             withParts(hbmFault));
  routes.add("DELETE", "/faults/hbm", "clears the pending HBM message faults",
             noParams([](Device&, RunningParts& parts) {
               parts.engine.clearMessageFaults();
               return done("hbm cleared");
             }));
  routes.add("POST", "/faults/fw-status",
             "set the firmware status registers the host reads in sysfs fw_status (error=NAME or value=0x...&index=N)",
             withParts(fwStatus));
  routes.add("DELETE", "/faults/fw-status", "restores a healthy ME's fw_status", noParams(clearFwStatus));
  routes.add("POST", "/faults/wsman", "delay or fail WS-Man answers of a class and/or operation (action=delay|fault|http)",
             withParts(wsmanFault));
  routes.add("DELETE", "/faults/wsman", "clears every WS-Man fault rule", noParams([](Device& device, RunningParts&) {
               device.faults().wsman().clear();
               return done("wsman cleared");
             }));
  routes.add("POST", "/faults/subscriber-unreachable",
             "deliveries to a subscriber fail as a refused connection would (subscription=ID or address=URL, seconds)",
             withParts(subscriberUnreachable));
  routes.add("DELETE", "/faults/subscriber-unreachable", "every subscriber is reachable again",
             noParams(clearSubscriberOutages));
  routes.add("POST", "/faults/disk-full", "every write to the device's state dir fails with ENOSPC until cleared",
             noParams([](Device& device, RunningParts&) { return diskFull(device, true); }));
  routes.add("DELETE", "/faults/disk-full", "the state disk has room again",
             noParams([](Device& device, RunningParts&) { return diskFull(device, false); }));
}

}  // namespace mesim::app
