#include "app/hardware_routes.h"

#include <boost/json.hpp>

#include "app/device.h"
#include "firmware/platform/hardware_model.h"

namespace mesim::app {
namespace {

using platform::HardwareModel;
using platform::SensorHealth;

boost::json::value optionalNumber(const std::optional<std::int64_t>& v) {
  if (v) return *v;
  return nullptr;
}

boost::json::object sensorJson(const platform::SensorState& s) {
  return {{"name", s.id},
          {"device_id", s.deviceId},
          {"element_name", s.elementName},
          {"type", platform::toString(s.kind)},
          {"sensor_type", static_cast<int>(s.kind)},
          {"sensor_number", s.number},
          {"unit", s.unit},
          {"reading", optionalNumber(s.reading)},
          {"state", platform::toString(s.health)},
          {"thresholds",
           {{"lower_critical", optionalNumber(s.thresholds.lowerCritical)},
            {"lower_non_critical", optionalNumber(s.thresholds.lowerNonCritical)},
            {"upper_non_critical", optionalNumber(s.thresholds.upperNonCritical)},
            {"upper_critical", optionalNumber(s.thresholds.upperCritical)}}}};
}

boost::json::object eventJson(const platform::HardwareEvent& e) {
  boost::json::array args;
  for (const auto& a : e.arguments) args.emplace_back(a);
  return {{"message_id", e.messageId},
          {"arguments", std::move(args)},
          {"sensor_type", e.record.sensorType},
          {"event_type", e.record.eventType},
          {"offset", e.record.offset},
          {"severity", e.record.severity},
          {"description", platform::describeMessageLogEvent(e.record)}};
}

boost::json::object hardwareJson(const HardwareModel& hw) {
  const auto& inv = hw.inventory();
  boost::json::array sensors, fans, supplies;
  for (const auto& s : hw.sensors()) sensors.push_back(sensorJson(s));
  for (const auto& f : hw.fans()) {
    const auto* tach = hw.sensor(f.sensorId);
    fans.push_back({{"name", f.id}, {"device_id", f.deviceId}, {"failed", f.failed}, {"sensor", f.sensorId},
                    {"rpm", tach ? optionalNumber(tach->reading) : nullptr}});
  }
  for (const auto& p : hw.powerSupplies())
    supplies.push_back({{"name", p.id}, {"device_id", p.deviceId}, {"failed", p.failed},
                        {"total_output_power_mw", p.totalOutputPowerMw}});
  std::uint64_t memoryMiB = 0;
  for (const auto& m : inv.memory) memoryMiB += m.sizeMiB;
  boost::json::object inventory = {
      {"system", {{"manufacturer", inv.systemManufacturer}, {"product_name", inv.systemProductName},
                  {"serial_number", inv.systemSerialNumber}}},
      {"board", {{"manufacturer", inv.boardManufacturer}, {"product", inv.boardProduct},
                 {"serial_number", inv.boardSerialNumber}}},
      {"bios", {{"vendor", inv.biosVendor}, {"version", inv.biosVersion}, {"release_date", inv.biosReleaseDate}}},
      {"processors", inv.processors.size()},
      {"memory_modules", inv.memory.size()},
      {"memory_mib", memoryMiB},
      {"disks", inv.disks.size()},
      {"battery", inv.battery.present},
      {"pci_devices", inv.pciDevices.size()}};
  return {{"inventory", std::move(inventory)},
          {"sensors", std::move(sensors)},
          {"fans", std::move(fans)},
          {"power_supplies", std::move(supplies)},
          {"events", hw.stats().events},
          {"write_failures", hw.stats().writeFailures}};
}

constexpr std::string_view kThresholdNames[] = {"lower_critical", "lower_non_critical", "upper_non_critical",
                                                "upper_critical"};

// The query as the JSON body it stands for (`mesimctl call POST /hardware/fans/cpu_fan failed=true`): true/false,
// integers, `none` for null; threshold names go into "thresholds".
boost::json::object queryObject(const ControlRequest& request) {
  boost::json::object o, thresholds;
  for (const auto& p : request.params) {
    const std::string key = p.key, value = p.value;
    boost::json::value v = boost::json::value_from(value);
    if (value == "true" || value == "false") v = value == "true";
    else if (value == "none") v = nullptr;
    else if (!value.empty() && value.find_first_not_of("-0123456789") == std::string::npos) {
      boost::system::error_code ec;
      auto n = boost::json::parse(value, ec);
      if (!ec) v = n;
    }
    if (std::find(std::begin(kThresholdNames), std::end(kThresholdNames), key) != std::end(kThresholdNames))
      thresholds[key] = v;
    else
      o[key] = v;
  }
  if (!thresholds.empty()) o["thresholds"] = std::move(thresholds);
  return o;
}

// The request's fields, from its JSON body or else its query, with only `known` keys; the error names what is wrong.
Result<boost::json::object> bodyObject(const ControlRequest& request, std::initializer_list<std::string_view> known) {
  boost::system::error_code ec;
  boost::json::value v = request.body.empty() ? boost::json::value(queryObject(request))
                                              : boost::json::parse(request.body, ec);
  if (ec || !v.is_object()) return fail("the body must be a JSON object");
  for (const auto& [key, value] : v.as_object())
    if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end())
      return fail("unknown field " + std::string(key));
  return v.as_object();
}

Result<std::optional<std::int64_t>> optionalInteger(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::int64_t>{};
  std::error_code ec;
  const auto& v = it->value();
  auto n = v.is_number() ? v.to_number<std::int64_t>(ec) : 0;
  if (!v.is_number() || ec) return fail(std::string(key) + " must be an integer");
  return std::optional<std::int64_t>{n};
}

ControlResponse changed(const HardwareModel& hw, const Result<std::vector<platform::HardwareEvent>>& result,
                        boost::json::object item) {
  if (!result) {
    const bool unknown = result.error().message.rfind("no ", 0) == 0;
    return jsonError(unknown ? 404 : 400, result.error().message);
  }
  boost::json::array events;
  for (const auto& e : *result) events.push_back(eventJson(e));
  item["events"] = std::move(events);
  item["events_total"] = hw.stats().events;
  return jsonResponse(200, item);
}

}  // namespace

void addHardwareRoutes(ControlRoutes& routes) {
  routes.add("GET", "/hardware", "the host's hardware: inventory summary, sensors, fans, power supplies",
             [](Device& device, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({})) return jsonError(400, "unknown parameter " + *unknown);
               auto* hw = device.hardware();
               if (!hw) return jsonError(503, "device " + device.name() + " is not running");
               return jsonResponse(200, hardwareJson(*hw));
             });

  routes.add("POST", "/hardware/sensors/{name}",
             "set a sensor's reading, state (good/warning/bad) or thresholds: logs and raises the crossing",
             [](Device& device, const ControlRequest& request) {
               auto* hw = device.hardware();
               if (!hw) return jsonError(503, "device " + device.name() + " is not running");
               const auto& name = request.pathArgs.at("name");
               if (!hw->sensor(name)) return jsonError(404, "no sensor " + name);
               auto body = bodyObject(request, {"reading", "state", "thresholds"});
               if (!body) return jsonError(400, body.error().message);
               platform::SensorChange change;
               auto reading = optionalInteger(*body, "reading");
               if (!reading) return jsonError(400, reading.error().message);
               change.reading = *reading;
               if (auto it = body->find("state"); it != body->end()) {
                 const auto* text = it->value().if_string();
                 if (!text) return jsonError(400, "state must be good, warning or bad");
                 if (*text == "good") change.health = SensorHealth::Good;
                 else if (*text == "warning") change.health = SensorHealth::Warning;
                 else if (*text == "bad") change.health = SensorHealth::Bad;
                 else return jsonError(400, "state must be good, warning or bad, not " + std::string(*text));
               }
               if (auto it = body->find("thresholds"); it != body->end()) {
                 if (!it->value().is_object()) return jsonError(400, "thresholds must be an object");
                 const auto& t = it->value().as_object();
                 platform::Thresholds thresholds = hw->sensor(name)->thresholds;
                 const std::pair<const char*, std::optional<std::int64_t>*> fields[] = {
                     {"lower_critical", &thresholds.lowerCritical},
                     {"lower_non_critical", &thresholds.lowerNonCritical},
                     {"upper_non_critical", &thresholds.upperNonCritical},
                     {"upper_critical", &thresholds.upperCritical}};
                 for (const auto& entry : t) {
                   const auto key = entry.key();  // a named copy: clang 14 cannot capture a structured binding
                   auto field = std::find_if(std::begin(fields), std::end(fields),
                                             [&](const auto& f) { return key == f.first; });
                   if (field == std::end(fields)) return jsonError(400, "unknown threshold " + std::string(key));
                   auto n = optionalInteger(t, key);
                   if (!n) return jsonError(400, "thresholds." + n.error().message);
                   *field->second = *n;  // null clears the threshold
                 }
                 change.thresholds = thresholds;
               }
               auto result = hw->changeSensor(name, change);
               return changed(*hw, result, sensorJson(*hw->sensor(name)));
             });

  routes.add("POST", "/hardware/fans/{name}", "fail or restore a fan ({\"failed\": true}): logs and raises it",
             [](Device& device, const ControlRequest& request) {
               auto* hw = device.hardware();
               if (!hw) return jsonError(503, "device " + device.name() + " is not running");
               const auto& name = request.pathArgs.at("name");
               if (!hw->fan(name)) return jsonError(404, "no fan " + name);
               auto body = bodyObject(request, {"failed"});
               if (!body) return jsonError(400, body.error().message);
               auto it = body->find("failed");
               if (it == body->end() || !it->value().is_bool()) return jsonError(400, "failed must be true or false");
               auto result = hw->setFanFailed(name, it->value().as_bool());
               const auto* fan = hw->fan(name);
               return changed(*hw, result, {{"name", fan->id}, {"device_id", fan->deviceId}, {"failed", fan->failed}});
             });

  routes.add("POST", "/hardware/power-supplies/{name}",
             "fail or restore a power supply ({\"failed\": true}): logs and raises it",
             [](Device& device, const ControlRequest& request) {
               auto* hw = device.hardware();
               if (!hw) return jsonError(503, "device " + device.name() + " is not running");
               const auto& name = request.pathArgs.at("name");
               if (!hw->powerSupply(name)) return jsonError(404, "no power supply " + name);
               auto body = bodyObject(request, {"failed"});
               if (!body) return jsonError(400, body.error().message);
               auto it = body->find("failed");
               if (it == body->end() || !it->value().is_bool()) return jsonError(400, "failed must be true or false");
               auto result = hw->setPowerSupplyFailed(name, it->value().as_bool());
               const auto* psu = hw->powerSupply(name);
               return changed(*hw, result, {{"name", psu->id}, {"device_id", psu->deviceId}, {"failed", psu->failed}});
             });
}

}  // namespace mesim::app
