#include "firmware/platform/pet_json.h"

#include <boost/json.hpp>

#include "firmware/platform/json_members.h"

namespace mesim::platform {
namespace json = boost::json;
namespace {


// The fields of one filter, for both directions.
template <class Visit>
void filterFields(Visit&& v, auto& f) {
  v("enabled", f.enabled);
  v("oemFilter", f.oemFilter);
  v("logOnEvent", f.logOnEvent);
  v("sendAlert", f.sendAlert);
  v("deviceAddress", f.deviceAddress);
  v("sensorType", f.sensorType);
  v("eventType", f.eventType);
  v("offset", f.offset);
  v("sourceType", f.sourceType);
  v("severity", f.severity);
  v("sensorNumber", f.sensorNumber);
  v("entity", f.entity);
  v("entityInstance", f.entityInstance);
  v("policyId", f.policyId);
}

template <class Item, class ReadItem>
std::string readArray(JsonMembers& top, const char* key, std::size_t max, std::vector<Item>& out, std::string& error,
                      ReadItem&& readItem) {
  const json::value* list = top.member(key);
  if (!list) return {};
  if (!list->is_array()) return std::string(key) + " must be an array";
  if (list->get_array().size() > max) return std::string(key) + " holds more than " + std::to_string(max) + " entries";
  out.clear();
  for (std::size_t i = 0; i < list->get_array().size() && error.empty(); ++i) {
    const std::string path = std::string(key) + "[" + std::to_string(i) + "].";
    const json::value& item = list->get_array()[i];
    if (!item.is_object()) return path.substr(0, path.size() - 1) + " must be an object";
    JsonMembers r(item.get_object(), path, error);
    Item value;
    readItem(r, value, path);
    out.push_back(std::move(value));
  }
  return {};
}

}  // namespace

json::value petToJson(const PetSettings& settings) {
  json::array filters;
  for (const auto& f : settings.filters) {
    json::object o{{"instanceId", f.instanceId}, {"elementName", f.elementName}};
    filterFields([&](const char* key, auto value) { o[key] = value; }, f);
    filters.push_back(std::move(o));
  }
  json::array subscribers;
  for (const auto& s : settings.subscribers)
    subscribers.push_back(json::object{{"name", s.name},
                                       {"accessInfo", s.accessInfo},
                                       {"infoFormat", s.infoFormat},
                                       {"port", s.port},
                                       {"communityString", s.communityString},
                                       {"policyId", s.policyId}});
  return json::object{{"defaultCommunityString", settings.defaultCommunityString},
                      {"filters", std::move(filters)},
                      {"subscribers", std::move(subscribers)},
                      {"nextSubscriberNumber", settings.nextSubscriberNumber}};
}

std::string petFromJson(const json::value& in, PetSettings& out) {
  if (!in.is_object()) return "must be an object";
  std::string error;
  PetSettings read;
  JsonMembers top(in.get_object(), "", error);
  top.text("defaultCommunityString", read.defaultCommunityString);
  auto e = readArray(top, "filters", PetSettings::kMaxFilters, read.filters, error,
                     [&](JsonMembers& r, PetFilter& f, const std::string& path) {
                       r.text("instanceId", f.instanceId);
                       r.text("elementName", f.elementName);
                       filterFields([&](const char* key, auto& value) {
                         if constexpr (std::is_same_v<std::remove_reference_t<decltype(value)>, bool>) r.boolean(key, value);
                         else r.number(key, value);
                       }, f);
                       if (error.empty() && f.instanceId.empty()) error = path + "instanceId is empty";
                     });
  if (!e.empty()) return e;
  e = readArray(top, "subscribers", PetSettings::kMaxSubscribers, read.subscribers, error,
                [&](JsonMembers& r, SnmpSubscriber& s, const std::string& path) {
                  r.text("name", s.name);
                  r.text("accessInfo", s.accessInfo);
                  r.number("infoFormat", s.infoFormat);
                  r.number("port", s.port);
                  r.text("communityString", s.communityString);
                  r.number("policyId", s.policyId);
                  if (error.empty() && s.name.empty()) error = path + "name is empty";
                });
  if (!e.empty()) return e;
  top.number("nextSubscriberNumber", read.nextSubscriberNumber);
  if (!error.empty()) return error;
  out = std::move(read);
  return {};
}

}  // namespace mesim::platform
