#include "firmware/platform/alarm_clock_json.h"

#include <boost/json.hpp>

#include <limits>

#include "common/text_codecs.h"

namespace mesim::platform {
namespace json = boost::json;
namespace {

// Reads the members of one JSON object; the first error is kept with its path.
class ObjectReader {
 public:
  ObjectReader(const json::object& in, std::string path, std::string& error) : in_(in), path_(std::move(path)), error_(error) {}

  void text(const char* key, std::string& out, bool required) {
    const json::value* v = member(key, required);
    if (!v) return;
    if (!v->is_string()) return fail(key, "must be a string");
    out = std::string(v->get_string());
    if (!text::isValidUtf8(out)) fail(key, "is not valid UTF-8");
  }
  void integer(const char* key, std::int64_t& out, bool required) {
    const json::value* v = member(key, required);
    if (!v) return;
    if (v->is_int64()) out = v->get_int64();
    else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      out = static_cast<std::int64_t>(v->get_uint64());
    else fail(key, "must be an integer");
  }
  void unsignedInteger(const char* key, std::uint32_t& out) {
    std::int64_t n = out;
    integer(key, n, false);
    if (n < 0 || n > std::numeric_limits<std::uint32_t>::max()) return fail(key, "is out of range");
    out = static_cast<std::uint32_t>(n);
  }
  void boolean(const char* key, bool& out) {
    const json::value* v = member(key, false);
    if (!v) return;
    if (!v->is_bool()) return fail(key, "must be true or false");
    out = v->get_bool();
  }
  const json::value* member(const char* key, bool required) {
    if (!error_.empty()) return nullptr;
    const json::value* v = in_.if_contains(key);
    if (v && !v->is_null()) return v;
    if (required) fail(key, "is missing");
    return nullptr;
  }
  void fail(const char* key, const char* what) {
    if (error_.empty()) error_ = path_ + key + " " + what;
  }

 private:
  const json::object& in_;
  std::string path_;
  std::string& error_;
};

}  // namespace

json::value alarmClockToJson(const AlarmClockSettings& settings) {
  json::array occurrences;
  for (const auto& o : settings.occurrences) {
    occurrences.push_back(json::object{{"instanceId", o.instanceId},
                                       {"elementName", o.elementName},
                                       {"startTime", o.startTime},
                                       {"intervalSeconds", o.intervalSeconds},
                                       {"deleteOnCompletion", o.deleteOnCompletion},
                                       {"completed", o.completed}});
  }
  return json::object{{"occurrences", std::move(occurrences)},
                      {"legacyNextAlarmTime", settings.legacyNextAlarmTime},
                      {"legacyIntervalSeconds", settings.legacyIntervalSeconds}};
}

std::string alarmClockFromJson(const json::value& in, AlarmClockSettings& out) {
  if (!in.is_object()) return "must be an object";
  std::string error;
  AlarmClockSettings read;
  ObjectReader top(in.get_object(), "", error);
  if (const json::value* list = top.member("occurrences", false)) {
    if (!list->is_array()) return "occurrences must be an array";
    if (list->get_array().size() > AlarmClockSettings::kMaxOccurrences)
      return "occurrences holds more than " + std::to_string(AlarmClockSettings::kMaxOccurrences) + " alarms";
    for (std::size_t i = 0; i < list->get_array().size() && error.empty(); ++i) {
      const std::string path = "occurrences[" + std::to_string(i) + "].";
      const json::value& item = list->get_array()[i];
      if (!item.is_object()) return path.substr(0, path.size() - 1) + " must be an object";
      ObjectReader r(item.get_object(), path, error);
      AlarmClockOccurrence o;
      r.text("instanceId", o.instanceId, true);
      r.text("elementName", o.elementName, false);
      r.integer("startTime", o.startTime, true);
      r.unsignedInteger("intervalSeconds", o.intervalSeconds);
      r.boolean("deleteOnCompletion", o.deleteOnCompletion);
      r.boolean("completed", o.completed);
      if (error.empty() && o.instanceId.empty()) error = path + "instanceId is empty";
      read.occurrences.push_back(std::move(o));
    }
  }
  top.integer("legacyNextAlarmTime", read.legacyNextAlarmTime, false);
  top.unsignedInteger("legacyIntervalSeconds", read.legacyIntervalSeconds);
  if (!error.empty()) return error;
  out = std::move(read);
  return {};
}

}  // namespace mesim::platform
