#include "qa/scenario_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <yaml-cpp/yaml.h>

#include "common/log.h"
#include "common/text_codecs.h"

namespace mesim::qa {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxSteps = 1000;
constexpr std::size_t kMaxExpectations = 1000;
constexpr std::size_t kMaxNameBytes = 200;
constexpr std::size_t kMaxTextBytes = 4096;        // a description, a parameter's value
constexpr std::size_t kMaxParams = 64;
constexpr std::size_t kMaxPathBytes = 512;
constexpr std::size_t kMaxBodyBytes = 64 * 1024;
constexpr std::size_t kMaxJsonNodes = 10'000;      // what a body or an operand may hold (aliases included)
constexpr std::chrono::milliseconds kMaxSettle{60'000};
constexpr Offset kMaxOffset = std::chrono::seconds(315'576'000);  // ten years

// Thrown inside the parser, caught once at the top: the position and what is wrong.
struct Failure {
  YAML::Mark mark;
  std::string what;
};

[[noreturn]] void failAt(const YAML::Node& node, std::string what) { throw Failure{node.Mark(), std::move(what)}; }

bool isMethod(std::string_view m) { return m == "GET" || m == "POST" || m == "PUT" || m == "DELETE" || m == "PATCH"; }

bool validDeviceName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// ---- scalars

std::string scalar(const YAML::Node& node, std::string_view what, std::size_t limit = kMaxTextBytes) {
  if (!node.IsScalar()) failAt(node, std::string(what) + " takes text, not a list or a mapping");
  const std::string& text = node.Scalar();
  if (text.size() > limit) failAt(node, std::string(what) + " is longer than " + std::to_string(limit) + " bytes");
  if (!text::isXmlText(text)) failAt(node, std::string(what) + " holds control characters or bytes that are not UTF-8");
  return text;
}

std::string nonEmpty(const YAML::Node& node, std::string_view what, std::size_t limit = kMaxNameBytes) {
  auto text = scalar(node, what, limit);
  if (text.empty()) failAt(node, std::string(what) + " is empty");
  return text;
}

Offset offsetOf(const YAML::Node& node, std::string_view what) {
  auto text = scalar(node, what, 64);
  auto offset = parseOffset(text);
  if (!offset) failAt(node, std::string(what) + ": " + offset.error().message);
  return *offset;
}

// A plain scalar is typed as YAML 1.2's core schema types it (8 is a number, true a bool, ~ null); a quoted one is
// text. So `equals: 8` compares with the number 8 and `equals: "8"` with the text.
json::value typedScalar(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() != "?") return json::value(text);
  if (text == "null" || text == "Null" || text == "NULL" || text == "~" || text.empty()) return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (*begin == '+') ++begin;
  std::int64_t i = 0;
  if (auto [p, ec] = std::from_chars(begin, end, i); ec == std::errc{} && p == end) return i;
  std::uint64_t u = 0;
  if (auto [p, ec] = std::from_chars(begin, end, u); ec == std::errc{} && p == end) return u;
  double d = 0;
  const bool looksNumeric = std::all_of(begin, end, [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+';
  });
  if (looksNumeric)
    if (auto [p, ec] = std::from_chars(begin, end, d); ec == std::errc{} && p == end && std::isfinite(d)) return d;
  return json::value(text);
}

json::value toJson(const YAML::Node& node, std::size_t& budget) {
  if (budget == 0) failAt(node, "holds more than " + std::to_string(kMaxJsonNodes) + " values");
  --budget;
  if (node.IsNull()) return nullptr;
  if (node.IsScalar()) {
    if (!text::isXmlText(node.Scalar())) failAt(node, "text with control characters or bytes that are not UTF-8");
    return typedScalar(node);
  }
  if (node.IsSequence()) {
    json::array a;
    for (const auto& element : node) a.push_back(toJson(element, budget));
    return a;
  }
  if (node.IsMap()) {
    json::object o;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) failAt(entry.first, "keys are plain text");
      o[entry.first.Scalar()] = toJson(entry.second, budget);
    }
    return o;
  }
  failAt(node, "no value");
}

// ---- mappings: every key known, none twice

class Keys {
 public:
  Keys(const YAML::Node& map, std::string_view what, std::vector<std::string_view> known) : map_(map) {
    if (!map.IsMap()) failAt(map, std::string(what) + " is a mapping (key: value lines)");
    std::set<std::string> seen;
    for (const auto& entry : map) {
      if (!entry.first.IsScalar()) failAt(entry.first, "keys are plain names");
      const std::string& key = entry.first.Scalar();
      if (!seen.insert(key).second) failAt(entry.first, "'" + key + "' appears twice in " + std::string(what));
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        failAt(entry.first, "unknown key '" + log::printable(key) + "' in " + std::string(what) + " (known: " + list + ")");
      }
      nodes_.emplace_back(key, entry.second);
      keyNodes_.emplace_back(key, entry.first);
    }
  }
  bool has(std::string_view key) const { return find(nodes_, key) != nullptr; }
  // The value of `key`; only after has(key).
  const YAML::Node& operator[](std::string_view key) const { return *find(nodes_, key); }
  // Where `key` was written, for errors about it.
  const YAML::Node& keyNode(std::string_view key) const { return *find(keyNodes_, key); }
  const YAML::Node& map() const { return map_; }

 private:
  using Entries = std::vector<std::pair<std::string, YAML::Node>>;
  static const YAML::Node* find(const Entries& entries, std::string_view key) {
    for (const auto& [k, v] : entries)
      if (k == key) return &v;
    return nullptr;
  }
  YAML::Node map_;
  Entries nodes_;
  Entries keyNodes_;
};

// ---- route calls

// "/host/os-crash?x=1" into the call's path and parameters (form-decoded, as the control API reads them).
void setTarget(RouteCall& call, const YAML::Node& node, const std::string& target) {
  if (target.empty() || target.front() != '/') failAt(node, "a route starts with '/', e.g. /host/os-crash");
  if (target.size() > kMaxPathBytes) failAt(node, "a route is at most " + std::to_string(kMaxPathBytes) + " bytes");
  if (std::any_of(target.begin(), target.end(), [](char c) { return c <= ' ' || c >= 0x7f || c == '#'; }))
    failAt(node, "a route is written without spaces, '#' or characters beyond ASCII (percent-encode them)");
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) failAt(node, "'" + target + "' is not a route path");
  call.path = std::string(parsed->encoded_path());
  for (auto p : parsed->params(boost::urls::encoding_opts(true, false, false)))
    call.params.emplace_back(std::string(p.key), std::string(p.value));
  std::vector<std::string> segments;
  for (auto s : parsed->segments()) segments.push_back(s);
  if (segments.size() >= 2 && segments[0] == "devices") segments.erase(segments.begin(), segments.begin() + 2);
  if (!segments.empty() && segments[0] == "scenarios") failAt(node, "a scenario does not start or stop scenarios");
}

void addParams(RouteCall& call, const YAML::Node& node) {
  if (node.IsNull()) return;
  if (!node.IsMap()) failAt(node, "params is a mapping of names to values, e.g. {messageId: iAMT0005}");
  std::set<std::string> seen;
  for (const auto& entry : node) {
    const auto name = nonEmpty(entry.first, "a parameter's name");
    if (!seen.insert(name).second) failAt(entry.first, "parameter '" + name + "' appears twice (a list repeats it)");
    auto add = [&](const YAML::Node& value) {
      if (call.params.size() >= kMaxParams) failAt(value, "at most " + std::to_string(kMaxParams) + " parameters");
      call.params.emplace_back(name, value.IsNull() ? std::string() : scalar(value, "parameter " + name));
    };
    if (entry.second.IsSequence()) {
      for (const auto& value : entry.second) add(value);
    } else {
      add(entry.second);
    }
  }
}

// ---- shorthands: friendly forms of common expectations, each made of the generic parts.

struct Expanded {
  RouteCall query;
  std::string path;
  Comparison op = Comparison::Equals;
  json::value operand;
  std::string name;
};

// Text that goes into a path filter or segment: no ']' or '.' that would end it.
std::string pathText(const YAML::Node& node, std::string_view what, bool allowDots) {
  auto text = nonEmpty(node, what);
  if (text.find(']') != std::string::npos || (!allowDots && text.find('.') != std::string::npos))
    failAt(node, std::string(what) + " may not hold ']'" + (allowDots ? "" : " or '.'"));
  return text;
}

// alert_delivered: {message_id: iAMT0005, subscriber: ":8080/alerts", subscription: 3, count: 1}
Expanded alertDelivered(const YAML::Node& node, std::optional<YAML::Node>& within) {
  Keys keys(node, "alert_delivered", {"message_id", "subscriber", "subscription", "count", "within"});
  if (!keys.has("message_id")) failAt(node, "alert_delivered names the alert: message_id: iAMT0005");
  const auto messageId = pathText(keys["message_id"], "message_id", false);
  if (!std::all_of(messageId.begin(), messageId.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
    failAt(keys["message_id"], "message_id is letters and digits, like iAMT0005");
  if (keys.has("within")) within = keys["within"];
  Expanded e;
  e.query = {"GET", "/status", {}, {}};
  std::string who = "any subscriber";
  if (keys.has("subscriber") && keys.has("subscription"))
    failAt(keys.keyNode("subscription"), "name the subscriber by its address (subscriber) or its id (subscription), not both");
  if (keys.has("subscriber")) {
    auto address = pathText(keys["subscriber"], "subscriber", true);
    e.path = "events.subscriptions[notify_to~=" + address + "].delivered_by_message." + messageId;
    who = address;
  } else if (keys.has("subscription")) {
    auto id = pathText(keys["subscription"], "subscription", false);
    e.path = "events.subscriptions[id=" + id + "].delivered_by_message." + messageId;
    who = "subscription " + id;
  } else {
    e.path = "events.subscriptions.*.delivered_by_message." + messageId;
  }
  if (keys.has("count")) {
    e.op = Comparison::Equals;
    e.operand = typedScalar(keys["count"]);
    if (!e.operand.is_int64() || e.operand.get_int64() < 0) failAt(keys["count"], "count is a whole number");
  } else {
    e.op = Comparison::AtLeast;
    e.operand = 1;
  }
  e.name = "alert " + messageId + " delivered to " + who +
           (keys.has("count") ? " " + std::to_string(e.operand.get_int64()) + " time(s)" : "");
  return e;
}

// power_state: 8 (CIM power states: 2 on, 8 off-soft, ...), as GET /host reports the host's.
Expanded powerState(const YAML::Node& node, std::optional<YAML::Node>&) {
  Expanded e;
  e.operand = typedScalar(node);
  if (!node.IsScalar() || !e.operand.is_int64()) failAt(node, "power_state is a CIM power state number, e.g. 2 (on) or 8 (off)");
  e.query = {"GET", "/host", {}, {}};
  e.path = "power_state";
  e.name = "power state is " + node.Scalar();
  return e;
}

// host_os: crashed (off, booting, running, crashed, hung, ...), as GET /host reports the simulated OS.
Expanded hostOs(const YAML::Node& node, std::optional<YAML::Node>&) {
  Expanded e;
  e.operand = json::value(nonEmpty(node, "host_os"));
  e.query = {"GET", "/host", {}, {}};
  e.path = "os";
  e.name = "host OS is " + node.Scalar();
  return e;
}

// audit_event: 1600 (application id * 100 + event id, as AMT and consoles number them), in GET /logs/audit.
Expanded auditEvent(const YAML::Node& node, std::optional<YAML::Node>&) {
  Expanded e;
  e.operand = typedScalar(node);
  if (!node.IsScalar() || !e.operand.is_int64()) failAt(node, "audit_event is an audit event number, e.g. 1600");
  e.query = {"GET", "/logs/audit", {}, {}};
  e.path = "records.*.id";
  e.op = Comparison::Contains;
  e.name = "audit log holds event " + node.Scalar();
  return e;
}

struct Shorthand {
  std::string_view key;
  Expanded (*expand)(const YAML::Node&, std::optional<YAML::Node>& within);
};
constexpr Shorthand kShorthands[] = {
    {"alert_delivered", alertDelivered},
    {"power_state", powerState},
    {"host_os", hostOs},
    {"audit_event", auditEvent},
};

constexpr std::pair<std::string_view, Comparison> kComparisons[] = {
    {"equals", Comparison::Equals},   {"not_equals", Comparison::NotEquals}, {"at_least", Comparison::AtLeast},
    {"at_most", Comparison::AtMost},  {"contains", Comparison::Contains},    {"matches", Comparison::Matches},
    {"exists", Comparison::Exists},
};

// ---- the file

class Parser {
 public:
  Scenario parse(const YAML::Node& root) {
    Keys keys(root, "a scenario", {"name", "description", "device", "settle", "steps", "expect"});
    if (!keys.has("name")) failAt(root, "a scenario has a name: (what it shows, in reports)");
    scenario_.name = nonEmpty(keys["name"], "name");
    if (keys.has("description")) scenario_.description = scalar(keys["description"], "description");
    if (keys.has("device")) {
      auto device = nonEmpty(keys["device"], "device");
      if (!validDeviceName(device)) failAt(keys["device"], "device is a device's name (letters, digits, '-', '_', '.')");
      scenario_.device = device;
    }
    if (keys.has("settle")) {
      auto settle = offsetOf(keys["settle"], "settle");
      if (settle > kMaxSettle) failAt(keys["settle"], "settle is at most 60s (real time)");
      scenario_.settle = std::chrono::duration_cast<std::chrono::milliseconds>(settle);
    }
    if (keys.has("steps")) steps(keys["steps"]);
    if (keys.has("expect")) {
      const auto& list = keys["expect"];
      if (!list.IsSequence()) failAt(list, "expect is a list of expectations (lines starting with '- ')");
      for (const auto& item : list) expectation(item, Anchor::AfterSteps);
    }
    if (scenario_.steps.empty() && scenario_.expectations.empty())
      failAt(root, "a scenario has steps, expectations, or both");
    return std::move(scenario_);
  }

 private:
  enum class Anchor { Inline, AfterSteps };

  void steps(const YAML::Node& list) {
    if (list.IsNull()) return;
    if (!list.IsSequence()) failAt(list, "steps is a list (lines starting with '- ')");
    for (const auto& item : list) {
      ++items_;
      if (items_ > kMaxSteps) failAt(item, "at most " + std::to_string(kMaxSteps) + " steps");
      if (!item.IsMap()) failAt(item, "a step is a mapping: do: POST /route, wait: 5s or expect: ...");
      if (item["do"]) action(item);
      else if (item["wait"]) wait(item);
      else if (item["expect"]) inlineExpect(item);
      else if (item["wait_until"]) gate(item);
      else failAt(item, "a step does something (do: POST /route), waits (wait: 5s or wait_until: ...) or expects (expect: ...)");
    }
  }

  void action(const YAML::Node& item) {
    Keys keys(item, "a step", {"name", "at", "after", "do", "params", "body", "status"});
    Step step;
    step.kind = Step::Kind::Action;
    step.number = items_;
    step.mark = {item.Mark().line + 1, item.Mark().column + 1};
    const auto text = nonEmpty(keys["do"], "do", kMaxPathBytes + 8);
    const auto space = text.find(' ');
    const auto method = text.substr(0, space);
    if (space == std::string::npos || !isMethod(method))
      failAt(keys["do"], "do takes a method and a route, e.g. POST /host/os-crash");
    step.call.method = method;
    auto target = text.substr(space + 1);
    target.erase(0, target.find_first_not_of(' '));
    setTarget(step.call, keys["do"], target);
    if (keys.has("params")) addParams(step.call, keys["params"]);
    if (keys.has("body")) step.call.body = body(keys["body"]);
    if (keys.has("status")) {
      auto status = typedScalar(keys["status"]);
      if (!status.is_int64() || status.get_int64() < 100 || status.get_int64() > 599)
        failAt(keys["status"], "status is an HTTP status, 100..599");
      step.status = static_cast<unsigned>(status.get_int64());
    }
    step.name = keys.has("name") ? nonEmpty(keys["name"], "name") : step.call.label();
    step.at = time(keys);
    step.segment = gates_;
    scenario_.steps.push_back(std::move(step));
  }

  // at: firmware time since the start; after: since the previous step; neither: with the previous step.
  Offset time(const Keys& keys) {
    if (keys.has("at") && keys.has("after"))
      failAt(keys.keyNode("after"), "a step has at: (since the start) or after: (since the previous step), not both");
    Offset at = cursor_;
    if (keys.has("at")) {
      if (gates_ > 0)
        failAt(keys.keyNode("at"), "after a wait_until, a step is timed with after: (since the previous step), not at:");
      at = offsetOf(keys["at"], "at");
      if (at < cursor_)
        failAt(keys["at"], "at: " + formatOffset(at) + " is before the previous step (" + formatOffset(cursor_) +
                               "): steps are written in time order");
    } else if (keys.has("after")) {
      at = cursor_ + offsetOf(keys["after"], "after");
    }
    if (at > kMaxOffset) failAt(keys.map(), "a scenario lasts at most ten years of firmware time");
    cursor_ = at;
    return at;
  }

  void wait(const YAML::Node& item) {
    Keys keys(item, "a wait", {"name", "wait"});
    Step step;
    step.kind = Step::Kind::Wait;
    step.number = items_;
    step.mark = {item.Mark().line + 1, item.Mark().column + 1};
    const auto span = offsetOf(keys["wait"], "wait");
    if (cursor_ + span > kMaxOffset) failAt(keys["wait"], "a scenario lasts at most ten years of firmware time");
    cursor_ += span;
    step.at = cursor_;
    step.segment = gates_;
    step.name = keys.has("name") ? nonEmpty(keys["name"], "name") : "wait " + formatOffset(span);
    scenario_.steps.push_back(std::move(step));
  }

  void inlineExpect(const YAML::Node& item) {
    Keys keys(item, "a step", {"expect"});
    const auto& value = keys["expect"];
    if (value.IsSequence()) {
      for (const auto& e : value) expectation(e, Anchor::Inline);
    } else {
      expectation(value, Anchor::Inline);
    }
  }

  // wait_until: an expectation the steps after it wait for (at most its within:); they then run as much later.
  void gate(const YAML::Node& item) {
    Keys keys(item, "a step", {"wait_until"});
    const auto& value = keys["wait_until"];
    expectation(value, Anchor::Inline);
    auto& e = scenario_.expectations.back();
    if (e.window != Expectation::Window::Within)
      failAt(value, "wait_until says how long it waits at most: within: 60s");
    e.gate = ++gates_;
    if (!value["name"]) e.name = "wait until " + e.name;
  }

  std::string body(const YAML::Node& node) {
    if (node.IsScalar()) return scalar(node, "body", kMaxBodyBytes);
    std::size_t budget = kMaxJsonNodes;
    auto text = json::serialize(toJson(node, budget));
    if (text.size() > kMaxBodyBytes) failAt(node, "body is longer than " + std::to_string(kMaxBodyBytes) + " bytes");
    return text;
  }

  void expectation(const YAML::Node& node, Anchor anchor) {
    if (scenario_.expectations.size() >= kMaxExpectations)
      failAt(node, "at most " + std::to_string(kMaxExpectations) + " expectations");
    std::vector<std::string_view> known{"name", "within", "during", "get", "params", "path"};
    if (anchor == Anchor::AfterSteps) known.push_back("after");
    for (const auto& c : kComparisons) known.push_back(c.first);
    for (const auto& s : kShorthands) known.push_back(s.key);
    Keys keys(node, "an expectation", known);

    Expectation e;
    e.number = scenario_.expectations.size() + 1;
    e.mark = {node.Mark().line + 1, node.Mark().column + 1};
    std::optional<YAML::Node> within;
    if (keys.has("within")) within = keys["within"];
    const Shorthand* shorthand = nullptr;
    for (const auto& s : kShorthands)
      if (keys.has(s.key)) {
        if (shorthand) failAt(keys.keyNode(s.key), "one check per expectation: make another for " + std::string(s.key));
        shorthand = &s;
      }
    std::string generatedName;
    if (shorthand) {
      for (auto key : {"get", "params", "path"})
        if (keys.has(key)) failAt(keys.keyNode(key), std::string(key) + " does not go with " + std::string(shorthand->key));
      for (const auto& c : kComparisons)
        if (keys.has(c.first)) failAt(keys.keyNode(c.first), std::string(c.first) + " does not go with " + std::string(shorthand->key));
      std::optional<YAML::Node> inner;
      auto expanded = shorthand->expand(keys[shorthand->key], inner);
      if (inner) {
        if (within) failAt(*inner, "within is given twice");
        within = inner;
      }
      e.query = std::move(expanded.query);
      auto path = JsonPath::parse(expanded.path);
      if (!path) failAt(keys[shorthand->key], path.error().message);
      e.path = std::move(*path);
      auto check = Check::make(expanded.op, std::move(expanded.operand));
      if (!check) failAt(keys[shorthand->key], check.error().message);
      e.check = std::move(*check);
      generatedName = expanded.name;
    } else {
      if (!keys.has("get")) failAt(node, "an expectation reads a route (get: /status) or uses a shorthand (alert_delivered: ...)");
      auto target = nonEmpty(keys["get"], "get", kMaxPathBytes + 8);
      if (target.rfind("GET ", 0) == 0) target.erase(0, 4);
      e.query.method = "GET";
      setTarget(e.query, keys["get"], target);
      if (keys.has("params")) addParams(e.query, keys["params"]);
      if (keys.has("path")) {
        auto path = JsonPath::parse(keys["path"].IsNull() ? "" : scalar(keys["path"], "path", kMaxPathBytes));
        if (!path) failAt(keys["path"], "path: " + path.error().message);
        e.path = std::move(*path);
      }
      const std::pair<std::string_view, Comparison>* comparison = nullptr;
      for (const auto& c : kComparisons)
        if (keys.has(c.first)) {
          if (comparison) failAt(keys.keyNode(c.first), "one comparison per expectation (" + std::string(comparison->first) + " is given)");
          comparison = &c;
        }
      if (!comparison) failAt(node, "an expectation says what it wants: equals, not_equals, at_least, at_most, contains, matches or exists");
      std::size_t budget = kMaxJsonNodes;
      const auto& operandNode = keys[comparison->first];
      auto check = Check::make(comparison->second, toJson(operandNode, budget));
      if (!check) failAt(operandNode, std::string(comparison->first) + " " + check.error().message);
      e.check = std::move(*check);
      generatedName = "GET " + e.query.path + (e.path.text().empty() ? "" : " " + e.path.text()) + " " + e.check.describe();
    }

    if (within && keys.has("during")) failAt(keys.keyNode("during"), "an expectation has within: or during:, not both");
    if (within) {
      e.span = offsetOf(*within, "within");
      e.window = e.span > Offset{} ? Expectation::Window::Within : Expectation::Window::At;
    } else if (keys.has("during")) {
      e.span = offsetOf(keys["during"], "during");
      if (e.span <= Offset{}) failAt(keys["during"], "during is longer than 0");
      e.window = Expectation::Window::During;
    }
    anchorOf(e, anchor, keys);
    if (e.deadline() > kMaxOffset) failAt(node, "a scenario lasts at most ten years of firmware time");
    if (e.window == Expectation::Window::Within) generatedName += " within " + formatOffset(e.span);
    if (e.window == Expectation::Window::During) generatedName += " for " + formatOffset(e.span);
    e.name = keys.has("name") ? nonEmpty(keys["name"], "name") : generatedName;
    scenario_.expectations.push_back(std::move(e));
  }

  // Inline: the step before it. In expect: the step `after` names (its number or name, or start), else the last.
  void anchorOf(Expectation& e, Anchor anchor, const Keys& keys) {
    const auto& steps = scenario_.steps;
    if (anchor == Anchor::Inline || !keys.has("after")) {
      e.anchor = anchor == Anchor::Inline ? cursor_ : scenario_.end();
      e.afterStep = steps.empty() ? 0 : steps.back().number;
      e.segment = gates_;
      return;
    }
    const auto& after = keys["after"];
    const auto text = nonEmpty(after, "after");
    if (text == "start") return;
    auto number = typedScalar(after);
    const Step* found = nullptr;
    for (const auto& s : steps)
      if ((number.is_int64() && s.number == static_cast<std::uint64_t>(number.get_int64())) || (!number.is_int64() && s.name == text)) {
        found = &s;
        break;
      }
    if (!found)
      failAt(after, "after names a step (its number among the steps, or its name) or start; no step is " + text);
    e.anchor = found->at;
    e.afterStep = found->number;
    e.segment = found->segment;
  }

  Scenario scenario_;
  Offset cursor_{};
  std::size_t items_ = 0;
  std::size_t gates_ = 0;
};

// Where a second YAML document would start: a "---" line after the first content, or content after "...".
std::optional<YAML::Mark> secondDocument(std::string_view text) {
  bool content = false, ended = false;
  int line = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto row = text.substr(start, end - start);
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
    auto isMarker = [&](std::string_view m) {
      return row.substr(0, 3) == m && (row.size() == 3 || row[3] == ' ' || row[3] == '\t');
    };
    const auto first = row.find_first_not_of(" \t");
    const bool blank = first == std::string_view::npos || row[first] == '#';
    const bool starts = isMarker("---"), stops = isMarker("...");
    if ((starts && content) || (ended && !blank && !stops)) {
      YAML::Mark mark;
      mark.line = line;
      mark.column = 0;
      mark.pos = static_cast<int>(start);
      return mark;
    }
    if (stops) ended = true;
    else if (!starts && !blank && row[0] != '%') content = true;
    start = end + 1;
    ++line;
  }
  return std::nullopt;
}

}  // namespace

Result<Offset> parseOffset(std::string_view text) {
  if (text == "0") return Offset{};
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  const auto whole = text.substr(0, i);
  std::string_view fraction;
  if (i < text.size() && text[i] == '.') {
    const auto start = ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    fraction = text.substr(start, i - start);
    if (fraction.empty()) return fail("'" + std::string(text) + "': a digit follows the '.'");
  }
  const auto unit = text.substr(i);
  if (whole.empty()) return fail("'" + std::string(text) + "' is not a duration: a number and a unit, like 500ms, 2s, 1.5m");
  std::int64_t perUnit = 0;  // microseconds
  if (unit == "us") perUnit = 1;
  else if (unit == "ms") perUnit = 1'000;
  else if (unit == "s") perUnit = 1'000'000;
  else if (unit == "m") perUnit = 60'000'000;
  else if (unit == "h") perUnit = 3'600'000'000;
  else if (unit.empty()) return fail("'" + std::string(text) + "' needs a unit: us, ms, s, m or h (e.g. " + std::string(text) + "s)");
  else return fail("'" + std::string(text) + "': the unit is us, ms, s, m or h");
  if (whole.size() > 12 || fraction.size() > 9) return fail("'" + std::string(text) + "' is longer than ten years");
  std::int64_t units = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), units);
  std::int64_t fractionValue = 0, scale = 1;
  if (!fraction.empty()) std::from_chars(fraction.data(), fraction.data() + fraction.size(), fractionValue);
  for (std::size_t k = 0; k < fraction.size(); ++k) scale *= 10;
  if (units > kMaxOffset.count() / perUnit) return fail("'" + std::string(text) + "' is longer than ten years");
  // fractionValue / scale of a unit, in whole microseconds (at most 10^9 * 3.6*10^9: within 64 bits).
  const __int128 fractionMicros = static_cast<__int128>(fractionValue) * perUnit;
  if (fractionMicros % scale != 0) return fail("'" + std::string(text) + "' is finer than a microsecond");
  const Offset offset{units * perUnit + static_cast<std::int64_t>(fractionMicros / scale)};
  if (offset > kMaxOffset) return fail("'" + std::string(text) + "' is longer than ten years");
  return offset;
}

std::string formatOffset(Offset offset) {
  const auto us = offset.count();
  if (us % 1'000'000 == 0) return std::to_string(us / 1'000'000) + "s";
  if (us % 1'000 == 0) return std::to_string(us / 1'000) + "ms";
  return std::to_string(us) + "us";
}

Result<Scenario> parseScenario(std::string_view text, SourceMark* errorAt) {
  if (errorAt) *errorAt = {};
  if (text.size() > kMaxScenarioBytes)
    return fail("a scenario is at most " + std::to_string(kMaxScenarioBytes / 1024) + " KiB");
  auto located = [&](const YAML::Mark& mark, const std::string& what) -> Error {
    if (mark.is_null()) return Error{what};
    if (errorAt) *errorAt = {mark.line + 1, mark.column + 1};
    return Error{"line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) + ": " + what};
  };
  // One document: YAML::LoadAll of yaml-cpp 0.7 never returns for some texts (a leading ','), so the second
  // document's marker is looked for here and YAML::Load reads the first.
  if (auto second = secondDocument(text)) return located(*second, "one scenario per file (a second document starts here)");
  try {
    auto document = YAML::Load(std::string(text));
    if (!document.IsDefined() || document.IsNull()) return fail("the scenario is empty (or not YAML)");
    return Parser().parse(document);
  } catch (const Failure& f) {
    return located(f.mark, f.what);
  } catch (const YAML::Exception& e) {
    return located(e.mark, "not YAML: " + e.msg);
  }
}

}  // namespace mesim::qa
