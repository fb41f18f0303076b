// JSON as people read it: indented, two spaces a level (Boost.JSON 1.81 serializes on one line only).
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace mesim::json_text {

// `value` indented, without a trailing newline; empty objects and arrays stay on one line.
std::string indented(const boost::json::value& value);

}  // namespace mesim::json_text
