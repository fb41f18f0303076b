#include "common/json_text.h"

#include <utility>

#include <boost/json/serialize.hpp>

namespace mesim::json_text {
namespace {

void write(const boost::json::value& v, std::string& out, int indent) {
  auto newline = [&](int level) {
    out.push_back('\n');
    out.append(static_cast<std::size_t>(level) * 2, ' ');
  };
  if (v.is_object() && !v.get_object().empty()) {
    out.push_back('{');
    bool first = true;
    for (const auto& kv : v.get_object()) {
      if (!std::exchange(first, false)) out.push_back(',');
      newline(indent + 1);
      out += boost::json::serialize(boost::json::value(kv.key())) + ": ";
      write(kv.value(), out, indent + 1);
    }
    newline(indent);
    out.push_back('}');
  } else if (v.is_array() && !v.get_array().empty()) {
    out.push_back('[');
    bool first = true;
    for (const auto& item : v.get_array()) {
      if (!std::exchange(first, false)) out.push_back(',');
      newline(indent + 1);
      write(item, out, indent + 1);
    }
    newline(indent);
    out.push_back(']');
  } else {
    out += boost::json::serialize(v);
  }
}

}  // namespace

std::string indented(const boost::json::value& value) {
  std::string out;
  write(value, out, 0);
  return out;
}

}  // namespace mesim::json_text
