// What an expectation looks at in a route's JSON answer and how it judges it (docs/scenarios.md "Paths and
// comparisons"). A path is dot-separated: keys, array indexes (-1 is the last), `*` (every element), a filter
// `[key=value]` / `[key~=text]` / `[key]` (the elements whose key equals the value / contains the text / is
// there; the key may be dotted), and `#` (how many). After `*` or a filter the path holds a list.
#pragma once

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "common/result.h"

namespace mesim::qa {

class JsonPath {
 public:
  // What a path finds: nothing, one value, or (after `*` or a filter) a list.
  struct Found {
    std::optional<boost::json::value> value;  // a list is a JSON array
    bool many = false;
  };

  JsonPath() = default;  // the whole answer
  // The path or why it is not one.
  static Result<JsonPath> parse(std::string_view text);
  Found find(const boost::json::value& root) const;
  const std::string& text() const { return text_; }

 private:
  struct Segment {
    enum class Kind { Key, Index, Each, Filter, Count };
    Kind kind = Kind::Key;
    std::string key;                  // Key; Filter: its dotted key
    long long index = 0;              // Index
    enum class Test { Equals, Contains, Present } test = Test::Equals;  // Filter
    std::string value;                // Filter
  };
  static Result<> parseFilter(std::string_view inside, Segment& segment);
  static const boost::json::value* descend(const boost::json::value& v, const std::string& dottedKey);
  static bool filterHolds(const Segment& filter, const boost::json::value& element);

  std::string text_;
  std::vector<Segment> segments_;
};

enum class Comparison { Equals, NotEquals, AtLeast, AtMost, Contains, Matches, Exists };

// What the value at a path must satisfy. On a list, a comparison holds when an element satisfies it (not_equals:
// when none equals), except equals with a list operand (the whole list) and contains (the list holds the operand).
struct Check {
  Comparison op = Comparison::Equals;
  boost::json::value operand;                 // Matches: the pattern; Exists: true or false
  std::shared_ptr<const std::regex> pattern;  // Matches

  // A check or why it cannot be one (a pattern that does not compile or could blow up, a non-number for at_least).
  static Result<Check> make(Comparison op, boost::json::value operand);
  // "equals 8", "at least 1", "matches ^ok": for names and reports.
  std::string describe() const;
};

struct Verdict {
  bool holds = false;
  std::string actual;  // the value found, as compact JSON (cut at 1 KiB), or "absent"
};

Verdict judge(const Check& check, const JsonPath::Found& found);

// JSON equality with numbers compared by value (1 == 1.0, whatever their storage).
bool jsonEqual(const boost::json::value& a, const boost::json::value& b);
// Compact JSON of `v`, cut at `limit` bytes with "...".
std::string shortJson(const boost::json::value& v, std::size_t limit = 1024);

}  // namespace mesim::qa
