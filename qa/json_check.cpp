#include "qa/json_check.h"

#include <charconv>
#include <algorithm>
#include <cctype>
#include <deque>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mesim::qa {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxPathBytes = 512;
constexpr std::size_t kMaxSegments = 64;
constexpr std::size_t kMaxPatternBytes = 256;
// std::regex builds a state per repetition: (a{100}){100} is 10,000 states; more could exhaust memory.
constexpr unsigned long long kMaxRepetition = 10'000;

bool parseInteger(std::string_view text, long long& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

std::optional<long double> numberOf(const json::value& v) {
  if (v.is_int64()) return static_cast<long double>(v.get_int64());
  if (v.is_uint64()) return static_cast<long double>(v.get_uint64());
  if (v.is_double()) return static_cast<long double>(v.get_double());
  return std::nullopt;
}

// The text a filter or a pattern compares a scalar by: a string as is, anything else as compact JSON.
std::string scalarText(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

// The largest product of {n,m} counts a pattern could nest: a cheap upper bound on what std::regex would build.
bool repetitionBounded(std::string_view pattern) {
  unsigned long long product = 1;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
      continue;
    }
    if (pattern[i] != '{') continue;
    unsigned long long largest = 0, current = 0;
    std::size_t j = i + 1;
    for (; j < pattern.size() && (std::isdigit(static_cast<unsigned char>(pattern[j])) || pattern[j] == ','); ++j) {
      if (pattern[j] == ',') {
        largest = std::max(largest, current);
        current = 0;
        continue;
      }
      current = current * 10 + static_cast<unsigned>(pattern[j] - '0');
      if (current > kMaxRepetition) return false;
    }
    largest = std::max(largest, current);
    if (j < pattern.size() && pattern[j] == '}' && largest > 1) {
      product *= largest;
      if (product > kMaxRepetition) return false;
    }
  }
  return true;
}

}  // namespace

// ---- paths

Result<JsonPath> JsonPath::parse(std::string_view text) {
  if (text.size() > kMaxPathBytes) return fail("a path is at most " + std::to_string(kMaxPathBytes) + " bytes");
  JsonPath path;
  path.text_ = std::string(text);
  std::size_t i = 0;
  bool expectSegment = !text.empty();  // after a dot (or at the start) a segment must follow
  while (i < text.size()) {
    if (path.segments_.size() >= kMaxSegments) return fail("a path has at most " + std::to_string(kMaxSegments) + " segments");
    const char c = text[i];
    if (c == '[') {
      auto close = text.find(']', i);
      if (close == std::string_view::npos) return fail("'[' at " + std::to_string(i + 1) + " has no ']'");
      Segment s;
      auto inside = text.substr(i + 1, close - i - 1);
      long long index = 0;
      if (parseInteger(inside, index)) {
        s.kind = Segment::Kind::Index;
        s.index = index;
        s.key = std::string(inside);
      } else if (auto r = parseFilter(inside, s); !r) {
        return fail("[" + std::string(inside) + "]: " + r.error().message);
      }
      path.segments_.push_back(std::move(s));
      i = close + 1;
      expectSegment = false;
      if (i < text.size() && text[i] != '.' && text[i] != '[')
        return fail("']' at " + std::to_string(close + 1) + " must be followed by '.', '[' or the end");
      continue;
    }
    if (c == '.') {
      if (expectSegment) return fail("an empty segment at " + std::to_string(i + 1) + " (two dots, or a leading dot)");
      expectSegment = true;
      ++i;
      continue;
    }
    if (!expectSegment) return fail("expected '.' or '[' at " + std::to_string(i + 1));
    auto end = text.find_first_of(".[", i);
    if (end == std::string_view::npos) end = text.size();
    auto name = text.substr(i, end - i);
    if (name.find(']') != std::string_view::npos) return fail("a ']' without its '[' in '" + std::string(name) + "'");
    Segment s;
    long long index = 0;
    if (name == "*") {
      s.kind = Segment::Kind::Each;
    } else if (name == "#") {
      s.kind = Segment::Kind::Count;
    } else if (parseInteger(name, index)) {
      s.kind = Segment::Kind::Index;
      s.index = index;
      s.key = std::string(name);
    } else {
      s.key = std::string(name);
    }
    path.segments_.push_back(std::move(s));
    i = end;
    expectSegment = false;
  }
  if (expectSegment && !text.empty()) return fail("a path may not end with '.'");
  return path;
}

Result<> JsonPath::parseFilter(std::string_view inside, Segment& s) {
  s.kind = Segment::Kind::Filter;
  std::string_view key = inside;
  if (auto eq = inside.find('='); eq != std::string_view::npos) {
    const bool contains = eq > 0 && inside[eq - 1] == '~';
    key = inside.substr(0, contains ? eq - 1 : eq);
    s.test = contains ? Segment::Test::Contains : Segment::Test::Equals;
    s.value = std::string(inside.substr(eq + 1));
  } else {
    s.test = Segment::Test::Present;
  }
  if (key.empty()) return fail("a filter names a key: [key=value], [key~=text] or [key]");
  if (key.front() == '.' || key.back() == '.' || key.find("..") != std::string_view::npos)
    return fail("the key '" + std::string(key) + "' has an empty part");
  if (key.find_first_of("[*#") != std::string_view::npos)
    return fail("a filter's key is plain names joined by dots, not '" + std::string(key) + "'");
  s.key = std::string(key);
  return {};
}

const json::value* JsonPath::descend(const json::value& v, const std::string& dottedKey) {
  const json::value* at = &v;
  std::size_t start = 0;
  while (at && start <= dottedKey.size()) {
    auto dot = dottedKey.find('.', start);
    if (dot == std::string::npos) dot = dottedKey.size();
    const std::string_view part(dottedKey.data() + start, dot - start);
    const json::value* next = nullptr;
    long long index = 0;
    if (at->is_object()) {
      if (auto* found = at->get_object().if_contains(part)) next = found;
    } else if (at->is_array() && parseInteger(part, index)) {
      const auto& a = at->get_array();
      if (index < 0) index += static_cast<long long>(a.size());
      if (index >= 0 && static_cast<std::size_t>(index) < a.size()) next = &a[static_cast<std::size_t>(index)];
    }
    at = next;
    start = dot + 1;
  }
  return at;
}

bool JsonPath::filterHolds(const Segment& filter, const json::value& element) {
  const json::value* v = descend(element, filter.key);
  if (!v || v->is_null()) return false;
  switch (filter.test) {
    case Segment::Test::Present:
      return true;
    case Segment::Test::Contains:
      return scalarText(*v).find(filter.value) != std::string::npos;
    case Segment::Test::Equals:
      if (auto n = numberOf(*v)) {
        // "[id=3]" finds 3 and 3.0; a value that is not a number never equals one.
        json::error_code ec;
        auto parsed = json::parse(filter.value, ec);
        auto wanted = ec ? std::nullopt : numberOf(parsed);
        return wanted && *wanted == *n;
      }
      return scalarText(*v) == filter.value;
  }
  return false;
}

JsonPath::Found JsonPath::find(const json::value& root) const {
  std::vector<const json::value*> set{&root};
  std::deque<json::value> made;  // counts: values the answer does not hold
  bool many = false;
  for (const auto& s : segments_) {
    std::vector<const json::value*> next;
    switch (s.kind) {
      case Segment::Kind::Key:
        for (auto* v : set)
          if (v->is_object())
            if (auto* found = v->get_object().if_contains(s.key)) next.push_back(found);
        break;
      case Segment::Kind::Index:
        for (auto* v : set) {
          if (v->is_array()) {
            const auto& a = v->get_array();
            long long index = s.index < 0 ? s.index + static_cast<long long>(a.size()) : s.index;
            if (index >= 0 && static_cast<std::size_t>(index) < a.size()) next.push_back(&a[static_cast<std::size_t>(index)]);
          } else if (v->is_object()) {
            if (auto* found = v->get_object().if_contains(s.key)) next.push_back(found);  // {"1600": ...}
          }
        }
        break;
      case Segment::Kind::Each:
      case Segment::Kind::Filter:
        many = true;
        for (auto* v : set) {
          auto take = [&](const json::value& element) {
            if (s.kind == Segment::Kind::Each || filterHolds(s, element)) next.push_back(&element);
          };
          if (v->is_array())
            for (const auto& element : v->get_array()) take(element);
          else if (v->is_object())
            for (const auto& entry : v->get_object()) take(entry.value());
        }
        break;
      case Segment::Kind::Count: {
        std::size_t count = 0;
        if (many) count = set.size();
        else if (!set.empty() && set[0]->is_array()) count = set[0]->get_array().size();
        else if (!set.empty() && set[0]->is_object()) count = set[0]->get_object().size();
        else if (!set.empty() && set[0]->is_string()) count = set[0]->get_string().size();
        made.emplace_back(static_cast<std::uint64_t>(count));
        next.push_back(&made.back());
        many = false;
        break;
      }
    }
    set = std::move(next);
  }
  Found found;
  found.many = many;
  if (many) {
    json::array list;
    for (auto* v : set) list.push_back(*v);
    found.value = std::move(list);
  } else if (!set.empty()) {
    found.value = *set.front();
  }
  return found;
}

// ---- comparisons

bool jsonEqual(const json::value& a, const json::value& b) {
  auto na = numberOf(a), nb = numberOf(b);
  if (na || nb) return na && nb && *na == *nb;
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!jsonEqual(x[i], y[i])) return false;
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& entry : x) {
      auto* other = y.if_contains(entry.key());
      if (!other || !jsonEqual(entry.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

std::string shortJson(const json::value& v, std::size_t limit) {
  auto text = json::serialize(v);
  if (text.size() > limit) {
    text.resize(limit);
    // Not in the middle of a UTF-8 sequence.
    while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
    if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
    text += "...";
  }
  return text;
}

Result<Check> Check::make(Comparison op, json::value operand) {
  Check check;
  check.op = op;
  switch (op) {
    case Comparison::AtLeast:
    case Comparison::AtMost:
      if (!numberOf(operand)) return fail("takes a number, not " + shortJson(operand, 80));
      break;
    case Comparison::Exists:
      if (!operand.is_bool()) return fail("takes true or false, not " + shortJson(operand, 80));
      break;
    case Comparison::Matches: {
      if (!operand.is_string()) return fail("takes a regular expression (ECMAScript) as text");
      const std::string pattern(operand.get_string());
      if (pattern.size() > kMaxPatternBytes) return fail("a pattern is at most " + std::to_string(kMaxPatternBytes) + " bytes");
      if (!repetitionBounded(pattern))
        return fail("the pattern repeats too much ({n} counts multiply past " + std::to_string(kMaxRepetition) + ")");
      try {
        check.pattern = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return fail("the pattern does not compile: " + std::string(e.what()));
      }
      break;
    }
    case Comparison::Equals:
    case Comparison::NotEquals:
    case Comparison::Contains:
      break;
  }
  check.operand = std::move(operand);
  return check;
}

std::string Check::describe() const {
  std::string value = operand.is_string() ? std::string(operand.get_string()) : shortJson(operand, 200);
  switch (op) {
    case Comparison::Equals: return "equals " + value;
    case Comparison::NotEquals: return "does not equal " + value;
    case Comparison::AtLeast: return "is at least " + value;
    case Comparison::AtMost: return "is at most " + value;
    case Comparison::Contains: return "contains " + value;
    case Comparison::Matches: return "matches " + value;
    case Comparison::Exists: return operand.as_bool() ? "exists" : "is absent";
  }
  return value;
}

namespace {

bool holdsForOne(const Check& check, const json::value& v) {
  switch (check.op) {
    case Comparison::Equals:
      return jsonEqual(v, check.operand);
    case Comparison::NotEquals:
      return !jsonEqual(v, check.operand);
    case Comparison::AtLeast:
    case Comparison::AtMost: {
      auto n = numberOf(v);
      auto bound = numberOf(check.operand);
      if (!n || !bound) return false;
      return check.op == Comparison::AtLeast ? *n >= *bound : *n <= *bound;
    }
    case Comparison::Contains:
      if (v.is_array()) {
        for (const auto& element : v.get_array())
          if (jsonEqual(element, check.operand)) return true;
        return false;
      }
      if (v.is_object()) return check.operand.is_string() && v.get_object().contains(check.operand.get_string());
      if (v.is_string()) return scalarText(v).find(scalarText(check.operand)) != std::string::npos;
      return false;
    case Comparison::Matches:
      if (v.is_array() || v.is_object()) return false;
      return check.pattern && std::regex_search(scalarText(v), *check.pattern);
    case Comparison::Exists:
      return !v.is_null() == check.operand.as_bool();
  }
  return false;
}

}  // namespace

Verdict judge(const Check& check, const JsonPath::Found& found) {
  Verdict verdict;
  if (!found.value) {
    verdict.actual = "absent";
    verdict.holds = check.op == Comparison::Exists && !check.operand.as_bool();
    return verdict;
  }
  const json::value& v = *found.value;
  verdict.actual = shortJson(v);
  if (!found.many) {
    verdict.holds = holdsForOne(check, v);
    return verdict;
  }
  const auto& list = v.get_array();
  switch (check.op) {
    case Comparison::Contains:
      verdict.holds = holdsForOne(check, v);
      break;
    case Comparison::Exists:
      verdict.holds = list.empty() != check.operand.as_bool();
      break;
    case Comparison::Equals:
    case Comparison::NotEquals: {
      bool equal = false;
      if (check.operand.is_array()) equal = jsonEqual(v, check.operand);
      else
        for (const auto& element : list) equal = equal || jsonEqual(element, check.operand);
      verdict.holds = (check.op == Comparison::Equals) == equal;
      break;
    }
    default:
      for (const auto& element : list) verdict.holds = verdict.holds || holdsForOne(check, element);
      break;
  }
  return verdict;
}

}  // namespace mesim::qa
