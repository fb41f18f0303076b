// Property values and instances of the declarative CIM model. A value is a list of texts (one for a
// scalar, repeated elements for an array), references (EPRs) or a CIM datetime.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "wsman/soap/epr.h"

namespace mesim::wsman::cim {

using soap::EndpointReference;

enum class PropType { String, Boolean, UInt8, UInt16, UInt32, UInt64, SInt32, DateTime, Reference, Base64 };

struct Value {
  std::vector<std::string> items;             // texts; several = an array
  std::vector<EndpointReference> refs;         // Reference-typed values
  bool datetime = false;                       // items are written inside <common:Datetime>

  static Value text(std::string v) { return Value{{std::move(v)}, {}, false}; }
  static Value boolean(bool v) { return text(v ? "true" : "false"); }
  static Value number(std::uint64_t v) { return text(std::to_string(v)); }
  static Value signedNumber(std::int64_t v) { return text(std::to_string(v)); }
  static Value list(std::vector<std::string> v) { return Value{std::move(v), {}, false}; }
  static Value numbers(const std::vector<std::uint32_t>& v);
  static Value ref(EndpointReference e) { return Value{{}, {std::move(e)}, false}; }
  static Value dateTime(std::string iso) { return Value{{std::move(iso)}, {}, true}; }

  bool isRef() const { return !refs.empty(); }
  // The first text ("" if none).
  const std::string& first() const;
  bool operator==(const Value&) const = default;
};

// Properties by name; std::map keeps them in the A->Z order AMT writes them in.
using PropertyMap = std::map<std::string, Value>;

struct Instance {
  PropertyMap props;

  Instance& set(const std::string& name, Value v) {
    props[name] = std::move(v);
    return *this;
  }
  Instance& set(const std::string& name, std::string v) { return set(name, Value::text(std::move(v))); }
  Instance& set(const std::string& name, const char* v) { return set(name, Value::text(v)); }
  Instance& setBool(const std::string& name, bool v) { return set(name, Value::boolean(v)); }
  Instance& setNum(const std::string& name, std::uint64_t v) { return set(name, Value::number(v)); }
  Instance& setRef(const std::string& name, EndpointReference e) { return set(name, Value::ref(std::move(e))); }
  const Value* get(std::string_view name) const;
  std::string str(std::string_view name) const;  // first text or ""
};

// Parsed method arguments and Put/Create bodies: values by parameter name.
using Arguments = PropertyMap;

// Typed reading of an argument. Each returns false when the argument is absent or malformed.
bool argString(const Arguments& args, std::string_view name, std::string& out);
bool argUint(const Arguments& args, std::string_view name, std::uint64_t& out);
bool argBool(const Arguments& args, std::string_view name, bool& out);
const EndpointReference* argRef(const Arguments& args, std::string_view name);

// True if `text` is a valid literal of `type` (Reference: always false, references are not text).
bool validLiteral(PropType type, std::string_view text);

}  // namespace mesim::wsman::cim
