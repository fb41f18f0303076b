#include "firmware/platform/pet_json.h"

#include <boost/json.hpp>

#include <limits>

#include "common/text_codecs.h"

namespace mesim::platform {
namespace json = boost::json;
namespace {

// Reads the members of one JSON object; the first error is kept with its path. A missing member keeps its default.
class ObjectReader {
 public:
  ObjectReader(const json::object& in, std::string path, std::string& error) : in_(in), path_(std::move(path)), error_(error) {}

  void text(const char* key, std::string& out) {
    const json::value* v = member(key);
    if (!v) return;
    if (!v->is_string()) return fail(key, "must be a string");
    out = std::string(v->get_string());
    if (!text::isValidUtf8(out)) fail(key, "is not valid UTF-8");
  }
  template <class U>
  void number(const char* key, U& out) {
    const json::value* v = member(key);
    if (!v) return;
    std::int64_t n = -1;
    if (v->is_int64()) n = v->get_int64();
    else if (v->is_uint64() && v->get_uint64() <= std::numeric_limits<U>::max()) n = static_cast<std::int64_t>(v->get_uint64());
    else return fail(key, "must be an integer");
    if (n < 0 || static_cast<std::uint64_t>(n) > std::numeric_limits<U>::max()) return fail(key, "is out of range");
    out = static_cast<U>(n);
  }
  void boolean(const char* key, bool& out) {
    const json::value* v = member(key);
    if (!v) return;
    if (!v->is_bool()) return fail(key, "must be true or false");
    out = v->get_bool();
  }
  const json::value* member(const char* key) {
    if (!error_.empty()) return nullptr;
    const json::value* v = in_.if_contains(key);
    return v && !v->is_null() ? v : nullptr;
  }
  void fail(const char* key, const char* what) {
    if (error_.empty()) error_ = path_ + key + " " + what;
  }

 private:
  const json::object& in_;
  std::string path_;
  std::string& error_;
};

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
std::string readArray(ObjectReader& top, const char* key, std::size_t max, std::vector<Item>& out, std::string& error,
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
    ObjectReader r(item.get_object(), path, error);
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
  ObjectReader top(in.get_object(), "", error);
  top.text("defaultCommunityString", read.defaultCommunityString);
  auto e = readArray(top, "filters", PetSettings::kMaxFilters, read.filters, error,
                     [&](ObjectReader& r, PetFilter& f, const std::string& path) {
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
                [&](ObjectReader& r, SnmpSubscriber& s, const std::string& path) {
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
