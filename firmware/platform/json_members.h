// Reading the members of one JSON object of platform.json for the families that keep their own JSON file (PET,
// Wi-Fi): a missing or null member keeps its default; the first error is kept, with its path.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include <boost/json.hpp>

#include "common/text_codecs.h"

namespace mesim::platform {

class JsonMembers {
 public:
  // `path` prefixes each member's name in an error ("filters[3]."); `error` receives the first one.
  JsonMembers(const boost::json::object& in, std::string path, std::string& error)
      : in_(in), path_(std::move(path)), error_(error) {}

  void text(const char* key, std::string& out) {
    const boost::json::value* v = member(key);
    if (!v) return;
    if (!v->is_string()) return fail(key, "must be a string");
    out = std::string(v->get_string());
    if (!text::isValidUtf8(out)) fail(key, "is not valid UTF-8");
  }
  template <class U>
  void number(const char* key, U& out) {
    const boost::json::value* v = member(key);
    if (!v) return;
    std::int64_t n = -1;
    if (v->is_int64()) n = v->get_int64();
    else if (v->is_uint64() && v->get_uint64() <= std::numeric_limits<U>::max()) n = static_cast<std::int64_t>(v->get_uint64());
    else return fail(key, "must be an integer");
    if (n < 0 || static_cast<std::uint64_t>(n) > std::numeric_limits<U>::max()) return fail(key, "is out of range");
    out = static_cast<U>(n);
  }
  void boolean(const char* key, bool& out) {
    const boost::json::value* v = member(key);
    if (!v) return;
    if (!v->is_bool()) return fail(key, "must be true or false");
    out = v->get_bool();
  }
  // The member, or null when it is missing, null, or an error was already found.
  const boost::json::value* member(const char* key) {
    if (!error_.empty()) return nullptr;
    const boost::json::value* v = in_.if_contains(key);
    return v && !v->is_null() ? v : nullptr;
  }
  void fail(const char* key, const char* what) {
    if (error_.empty()) error_ = path_ + key + " " + what;
  }

 private:
  const boost::json::object& in_;
  std::string path_;
  std::string& error_;
};

}  // namespace mesim::platform
