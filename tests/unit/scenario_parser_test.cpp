// Scenario files: the parser (what a file means, and errors that name the line and column) and the paths and
// comparisons expectations use.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "qa/json_check.h"
#include "qa/scenario_parser.h"

namespace mesim::qa {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

Scenario parsed(const std::string& yaml) {
  auto s = parseScenario(yaml);
  EXPECT_TRUE(s) << s.error().message;
  return s ? *s : Scenario{};
}

// The error's text, and its line and column.
std::string errorOf(const std::string& yaml, SourceMark* at = nullptr) {
  SourceMark mark;
  auto s = parseScenario(yaml, &mark);
  EXPECT_FALSE(s) << "parsed: " << yaml;
  if (at) *at = mark;
  return s ? "" : s.error().message;
}

TEST(ScenarioParser, TheFullExampleMeansWhatTheDocsSay) {
  auto s = parsed(R"(
name: host crash raises a watchdog alert
description: the OS stops heartbeating; the firmware's watchdog expires
device: default
settle: 200ms
steps:
  - name: crash
    at: 0s
    do: POST /host/os-crash
  - at: 1s
    do: POST /events/raise
    params: {messageId: iAMT0005, arg: [a, b]}
  - expect:
      alert_delivered: {message_id: iAMT0005, subscriber: ":8080/alerts"}
      within: 2s
  - wait: 1m
  - after: 500ms
    do: POST /faults/firmware-reset?why=a+b
    status: 200
expect:
  - name: delivered once
    get: /status
    path: events.subscriptions[notify_to~=:8080].delivered
    equals: 1
  - get: /status
    path: watchdog.os_expiries
    at_least: 1
    within: 130s
    after: crash
  - get: /status
    path: firmware.hbm_state
    equals: started
    during: 10s
    after: start
)");
  EXPECT_EQ(s.name, "host crash raises a watchdog alert");
  EXPECT_EQ(s.device, "default");
  EXPECT_EQ(s.settle, 200ms);
  ASSERT_EQ(s.steps.size(), 4u);
  EXPECT_EQ(s.steps[0].name, "crash");
  EXPECT_EQ(s.steps[0].at, 0s);
  EXPECT_EQ(s.steps[0].call.label(), "POST /host/os-crash");
  EXPECT_EQ(s.steps[1].at, 1s);
  EXPECT_EQ(s.steps[1].name, "POST /events/raise");
  const std::vector<std::pair<std::string, std::string>> raiseParams{{"messageId", "iAMT0005"}, {"arg", "a"}, {"arg", "b"}};
  EXPECT_EQ(s.steps[1].call.params, raiseParams);
  EXPECT_EQ(s.steps[2].kind, Step::Kind::Wait);
  EXPECT_EQ(s.steps[2].number, 4u);  // the inline expectation is item 3
  EXPECT_EQ(s.steps[2].at, 61s);
  EXPECT_EQ(s.steps[3].at, 61500ms);
  EXPECT_EQ(s.steps[3].call.path, "/faults/firmware-reset");
  const std::vector<std::pair<std::string, std::string>> resetParams{{"why", "a b"}};  // form-decoded, as the API reads it
  EXPECT_EQ(s.steps[3].call.params, resetParams);
  EXPECT_EQ(s.steps[3].status, 200u);
  EXPECT_EQ(s.end(), 61500ms);

  ASSERT_EQ(s.expectations.size(), 4u);
  const auto& inlined = s.expectations[0];
  EXPECT_EQ(inlined.window, Expectation::Window::Within);
  EXPECT_EQ(inlined.anchor, 1s);  // the step before it
  EXPECT_EQ(inlined.afterStep, 2u);
  EXPECT_EQ(inlined.span, 2s);
  EXPECT_EQ(inlined.query.path, "/status");
  EXPECT_EQ(inlined.path.text(), "events.subscriptions[notify_to~=:8080/alerts].delivered_by_message.iAMT0005");
  EXPECT_EQ(inlined.name, "alert iAMT0005 delivered to :8080/alerts within 2s");
  const auto& end = s.expectations[1];
  EXPECT_EQ(end.name, "delivered once");
  EXPECT_EQ(end.window, Expectation::Window::At);
  EXPECT_EQ(end.anchor, 61500ms);  // after the last step
  EXPECT_EQ(end.afterStep, 5u);
  EXPECT_EQ(end.check.op, Comparison::Equals);
  EXPECT_TRUE(end.check.operand.is_int64());
  const auto& afterCrash = s.expectations[2];
  EXPECT_EQ(afterCrash.anchor, 0s);
  EXPECT_EQ(afterCrash.afterStep, 1u);
  EXPECT_EQ(afterCrash.deadline(), 130s);
  EXPECT_EQ(afterCrash.name, "GET /status watchdog.os_expiries is at least 1 within 130s");
  const auto& during = s.expectations[3];
  EXPECT_EQ(during.window, Expectation::Window::During);
  EXPECT_EQ(during.anchor, 0s);
  EXPECT_EQ(during.afterStep, 0u);
}

TEST(ScenarioParser, AWaitUntilStartsASegment) {
  auto s = parsed(R"(
name: gate
steps:
  - {at: 1s, do: POST /a}
  - wait_until: {host_os: running, within: 60s}
  - {after: 2s, do: POST /b}
  - expect: {get: /status, path: x, equals: 1}
expect:
  - {get: /status, path: x, equals: 1}
  - {get: /status, path: x, equals: 1, after: 1}
)");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[0].segment, 0u);
  EXPECT_EQ(s.steps[1].segment, 1u);
  EXPECT_EQ(s.steps[1].at, 3s);  // written as if the wait took no time
  ASSERT_EQ(s.expectations.size(), 4u);
  EXPECT_EQ(s.expectations[0].gate, 1u);
  EXPECT_EQ(s.expectations[0].segment, 0u);
  EXPECT_EQ(s.expectations[0].anchor, 1s);
  EXPECT_EQ(s.expectations[0].name, "wait until host OS is running within 60s");
  EXPECT_EQ(s.expectations[1].segment, 1u);
  EXPECT_EQ(s.expectations[2].segment, 1u);
  EXPECT_EQ(s.expectations[3].segment, 0u);  // after step 1, before the gate
}

TEST(ScenarioParser, PlainScalarsAreTypedQuotedOnesAreText) {
  auto s = parsed(R"(
name: types
expect:
  - {get: /status, path: a, equals: 8}
  - {get: /status, path: a, equals: "8"}
  - {get: /status, path: a, equals: true}
  - {get: /status, path: a, equals: 2.5}
  - {get: /status, path: a, equals: ~}
  - {get: /status, path: a, equals: [1, x]}
  - {get: /status, path: a, contains: iAMT0005}
)");
  ASSERT_EQ(s.expectations.size(), 7u);
  EXPECT_TRUE(s.expectations[0].check.operand.is_int64());
  EXPECT_TRUE(s.expectations[1].check.operand.is_string());
  EXPECT_TRUE(s.expectations[2].check.operand.is_bool());
  EXPECT_TRUE(s.expectations[3].check.operand.is_double());
  EXPECT_TRUE(s.expectations[4].check.operand.is_null());
  EXPECT_EQ(json::serialize(s.expectations[5].check.operand), R"([1,"x"])");
  EXPECT_TRUE(s.expectations[6].check.operand.is_string());
}

TEST(ScenarioParser, ShorthandsBecomeTheGenericForm) {
  auto s = parsed(R"(
name: shorthands
expect:
  - power_state: 8
  - host_os: crashed
    within: 1s
  - audit_event: 1600
  - alert_delivered: {message_id: PLAT0322, subscription: 2, count: 1}
  - alert_delivered: {message_id: iAMT0005}
    during: 5s
)");
  ASSERT_EQ(s.expectations.size(), 5u);
  auto generic = [&](std::size_t i) {
    const auto& e = s.expectations[i];
    return e.query.label() + " " + e.path.text() + " " + e.check.describe();
  };
  EXPECT_EQ(generic(0), "GET /host power_state equals 8");
  EXPECT_EQ(s.expectations[0].name, "power state is 8");
  EXPECT_EQ(generic(1), "GET /host os equals crashed");
  EXPECT_EQ(s.expectations[1].window, Expectation::Window::Within);
  EXPECT_EQ(s.expectations[1].name, "host OS is crashed within 1s");
  EXPECT_EQ(generic(2), "GET /logs/audit records.*.id contains 1600");
  EXPECT_EQ(s.expectations[2].name, "audit log holds event 1600");
  EXPECT_EQ(generic(3), "GET /status events.subscriptions[id=2].delivered_by_message.PLAT0322 equals 1");
  EXPECT_EQ(s.expectations[3].name, "alert PLAT0322 delivered to subscription 2 1 time(s)");
  EXPECT_EQ(generic(4), "GET /status events.subscriptions.*.delivered_by_message.iAMT0005 is at least 1");
  EXPECT_EQ(s.expectations[4].window, Expectation::Window::During);

  EXPECT_NE(errorOf("name: x\nexpect:\n  - power_state: on\n").find("CIM power state"), std::string::npos);
  EXPECT_NE(errorOf("name: x\nexpect:\n  - power_state: 8\n    get: /host\n").find("does not go with"), std::string::npos);
  EXPECT_NE(errorOf("name: x\nexpect:\n  - power_state: 8\n    audit_event: 1600\n").find("one check per expectation"),
            std::string::npos);
  EXPECT_NE(errorOf("name: x\nexpect:\n  - alert_delivered: {message_id: \"iAMT.5\"}\n").find("message_id"), std::string::npos);
}

TEST(ScenarioParser, ErrorsNameTheLineAndColumn) {
  SourceMark at;
  auto e = errorOf("name: x\nsteps:\n  - do: POST /events/raise\n    wihtin: 2s\n", &at);
  EXPECT_EQ(at.line, 4);
  EXPECT_EQ(at.column, 5);
  EXPECT_NE(e.find("line 4, column 5: unknown key 'wihtin'"), std::string::npos) << e;
  EXPECT_NE(e.find("known: name, at, after"), std::string::npos) << e;

  e = errorOf("name: x\nsteps:\n  - at: 5s\n    do: POST /a\n  - at: 2s\n    do: POST /b\n", &at);
  EXPECT_EQ(at.line, 5);
  EXPECT_NE(e.find("at: 2s is before the previous step (5s)"), std::string::npos) << e;

  e = errorOf("name: x\nsteps:\n  - wait: 5\n", &at);
  EXPECT_EQ(at.line, 3);
  EXPECT_NE(e.find("needs a unit"), std::string::npos) << e;

  e = errorOf("name: x\nsteps: [\n  - a\n", &at);  // YAML itself broken
  EXPECT_GT(at.line, 0);
  EXPECT_NE(e.find("not YAML"), std::string::npos) << e;

  e = errorOf("name: x\nname: y\nsteps: []\n", &at);
  EXPECT_EQ(at.line, 2);
  EXPECT_NE(e.find("'name' appears twice"), std::string::npos) << e;

  e = errorOf("name: x\nexpect:\n  - get: /status\n    path: a\n", &at);
  EXPECT_EQ(at.line, 3);
  EXPECT_NE(e.find("says what it wants"), std::string::npos) << e;

  e = errorOf("name: x\nexpect:\n  - get: /status\n    equals: 1\n    within: 1s\n    during: 2s\n", &at);
  EXPECT_EQ(at.line, 6);
  EXPECT_NE(e.find("not both"), std::string::npos) << e;

  e = errorOf("name: x\nexpect:\n  - get: /status\n    path: a..b\n    equals: 1\n", &at);
  EXPECT_EQ(at.line, 4);
  EXPECT_NE(e.find("empty segment"), std::string::npos) << e;

  e = errorOf("name: x\nexpect:\n  - get: /status\n    matches: \"([a\"\n", &at);
  EXPECT_EQ(at.line, 4);
  EXPECT_NE(e.find("does not compile"), std::string::npos) << e;

  e = errorOf("name: x\nexpect:\n  - get: /status\n    matches: \"((a{100}){100}){100}\"\n");
  EXPECT_NE(e.find("repeats too much"), std::string::npos) << e;

  e = errorOf("name: x\nsteps:\n  - do: POST /scenarios\n");
  EXPECT_NE(e.find("does not start or stop scenarios"), std::string::npos) << e;
  e = errorOf("name: x\nsteps:\n  - do: DELETE /devices/a/scenarios/1\n");
  EXPECT_NE(e.find("does not start or stop scenarios"), std::string::npos) << e;

  e = errorOf("name: x\nsteps:\n  - do: post /events/raise\n");
  EXPECT_NE(e.find("a method and a route"), std::string::npos) << e;

  e = errorOf("name: x\nsteps:\n  - do: POST events/raise\n");
  EXPECT_NE(e.find("starts with '/'"), std::string::npos) << e;

  e = errorOf("name: x\nexpect:\n  - get: /status\n    equals: 1\n    after: nothing\n", &at);
  EXPECT_EQ(at.line, 5);
  EXPECT_NE(e.find("no step is nothing"), std::string::npos) << e;

  e = errorOf("name: x\nsteps:\n  - expect: {get: /status, equals: 1, after: start}\n");
  EXPECT_NE(e.find("unknown key 'after'"), std::string::npos) << e;  // inline ones follow their step

  e = errorOf("name: x\nexpect:\n  - alert_delivered: {subscriber: a}\n");
  EXPECT_NE(e.find("message_id"), std::string::npos) << e;

  e = errorOf("name: x\nexpect:\n  - alert_delivered: {message_id: iAMT0005, within: 1s}\n    within: 2s\n");
  EXPECT_NE(e.find("within is given twice"), std::string::npos) << e;

  e = errorOf("steps:\n  - wait: 1s\n", &at);
  EXPECT_EQ(at.line, 1);
  EXPECT_NE(e.find("has a name"), std::string::npos) << e;

  e = errorOf("name: x\n", &at);
  EXPECT_NE(e.find("steps, expectations, or both"), std::string::npos) << e;

  e = errorOf("name: a\nsteps: [{wait: 1s}]\n---\nname: b\nsteps: [{wait: 1s}]\n", &at);
  EXPECT_EQ(at.line, 3);  // the "---"
  EXPECT_NE(e.find("one scenario per file"), std::string::npos) << e;

  e = errorOf("name: x\nsteps:\n  - wait_until: {get: /s, equals: 1}\n", &at);
  EXPECT_EQ(at.line, 3);
  EXPECT_NE(e.find("how long it waits at most"), std::string::npos) << e;
  e = errorOf("name: x\nsteps:\n  - wait_until: {get: /s, equals: 1, within: 1s}\n  - {at: 5s, do: POST /a}\n", &at);
  EXPECT_EQ(at.line, 4);
  EXPECT_NE(e.find("after a wait_until"), std::string::npos) << e;

  e = errorOf("name: x\nsteps:\n  - {do: POST /a, status: 99}\n");
  EXPECT_NE(e.find("100..599"), std::string::npos) << e;

  e = errorOf("name: \"a\\x01b\"\nsteps: [{wait: 1s}]\n");
  EXPECT_NE(e.find("control characters"), std::string::npos) << e;

  e = errorOf("name: a\nsteps: [{wait: 1s}]\n...\nname: b\n", &at);
  EXPECT_EQ(at.line, 4);
  EXPECT_NE(e.find("one scenario per file"), std::string::npos) << e;
  EXPECT_TRUE(parseScenario("%YAML 1.2\n---\nname: a\nsteps: [{wait: 1s}]\n...\n# done\n"));
  EXPECT_NE(errorOf(",e").find("not YAML"), std::string::npos);  // yaml-cpp's LoadAll never returns on this one

  EXPECT_NE(errorOf("").find("empty"), std::string::npos);
  EXPECT_NE(errorOf(std::string(kMaxScenarioBytes + 1, ' ')).find("at most"), std::string::npos);
}

TEST(ScenarioParser, AliasesAndNestingAreBounded) {
  // A "billion laughs" body: each level doubles what a naive walk would visit.
  std::string laughs = "name: x\nsteps:\n  - do: POST /a\n    body:\n      - &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n";
  for (int i = 1; i < 12; ++i)
    laughs += "      - &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) +
              ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + "]\n";
  EXPECT_NE(errorOf(laughs).find("holds more than"), std::string::npos);
  std::string deep = "name: x\nsteps:\n  - do: POST /a\n    body: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  EXPECT_FALSE(parseScenario(deep));
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ScenarioParser, TheShippedScenariosAndTheDocsExampleParse) {
  const std::filesystem::path root = MESIM_SOURCE_DIR;
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(root / "scenarios")) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    auto s = parseScenario(readFile(entry.path()));
    EXPECT_TRUE(s) << entry.path() << ": " << s.error().message;
  }
  EXPECT_GE(files, 4u);
  const auto docs = readFile(root / "docs" / "scenarios.md");
  const auto begin = docs.find("```yaml\n");
  ASSERT_NE(begin, std::string::npos);
  const auto end = docs.find("```", begin + 8);
  auto example = parseScenario(docs.substr(begin + 8, end - begin - 8));
  ASSERT_TRUE(example) << example.error().message;
  EXPECT_EQ(example->expectations.size(), 6u);
}

TEST(ScenarioParser, Offsets) {
  EXPECT_EQ(parseOffset("0").value(), 0us);
  EXPECT_EQ(parseOffset("120s").value(), 120s);
  EXPECT_EQ(parseOffset("1.5s").value(), 1500ms);
  EXPECT_EQ(parseOffset("250ms").value(), 250ms);
  EXPECT_EQ(parseOffset("100us").value(), 100us);
  EXPECT_EQ(parseOffset("2m").value(), 120s);
  EXPECT_EQ(parseOffset("0.5h").value(), 1800s);
  EXPECT_EQ(parseOffset("0.001ms").value(), 1us);
  EXPECT_FALSE(parseOffset("0.0001ms"));  // finer than a microsecond
  EXPECT_FALSE(parseOffset("5"));
  EXPECT_FALSE(parseOffset("s"));
  EXPECT_FALSE(parseOffset("1.s"));
  EXPECT_FALSE(parseOffset("-1s"));
  EXPECT_FALSE(parseOffset("1d"));
  EXPECT_FALSE(parseOffset("100000000000h"));
  EXPECT_EQ(formatOffset(120s), "120s");
  EXPECT_EQ(formatOffset(1500ms), "1500ms");
  EXPECT_EQ(formatOffset(7us), "7us");
}

// ---- paths and comparisons

JsonPath::Found find(const std::string& path, const std::string& doc) {
  auto p = JsonPath::parse(path);
  EXPECT_TRUE(p) << path << ": " << p.error().message;
  return p ? p->find(json::parse(doc)) : JsonPath::Found{};
}

std::string found(const std::string& path, const std::string& doc) {
  auto f = find(path, doc);
  return f.value ? json::serialize(*f.value) : "absent";
}

TEST(JsonPath, KeysIndexesListsFiltersAndCounts) {
  const std::string doc = R"({"events": {"subscriptions": [
      {"id": 1, "notify_to": "http://127.0.0.1:8080/a", "delivered": 2, "by": {"iAMT0005": 1}},
      {"id": 2, "notify_to": "http://127.0.0.1:9090/b", "delivered": 0, "by": {}}]},
    "records": [{"event_id": 1600}, {"event_id": 1601}], "n": {"1600": "x"}, "s": "hello"})";
  EXPECT_EQ(found("", doc).substr(0, 10), R"({"events":)");
  EXPECT_EQ(found("events.subscriptions.0.id", doc), "1");
  EXPECT_EQ(found("events.subscriptions[1].id", doc), "2");
  EXPECT_EQ(found("events.subscriptions.-1.id", doc), "2");
  EXPECT_EQ(found("events.subscriptions.5.id", doc), "absent");
  EXPECT_EQ(found("records.*.event_id", doc), "[1600,1601]");
  EXPECT_EQ(found("events.subscriptions[notify_to~=:9090].delivered", doc), "[0]");
  EXPECT_EQ(found("events.subscriptions[id=1].by.iAMT0005", doc), "[1]");
  EXPECT_EQ(found("events.subscriptions[by.iAMT0005].id", doc), "[1]");
  EXPECT_EQ(found("events.subscriptions[id=7].id", doc), "[]");
  EXPECT_EQ(found("events.subscriptions[id=7].#", doc), "0");
  EXPECT_EQ(found("records.#", doc), "2");
  EXPECT_EQ(found("s.#", doc), "5");
  EXPECT_EQ(found("n.1600", doc), "\"x\"");
  EXPECT_EQ(found("missing.deeper", doc), "absent");
  for (const char* bad : {".a", "a.", "a..b", "a[", "a[]", "a]b", "a[=1]", "a[b]c", "a[*=1]"})
    EXPECT_FALSE(JsonPath::parse(bad)) << bad;
  EXPECT_FALSE(JsonPath::parse(std::string(600, 'a')));
}

bool holds(Comparison op, const std::string& operand, const std::string& path, const std::string& doc) {
  auto check = Check::make(op, json::parse(operand));
  EXPECT_TRUE(check) << check.error().message;
  return judge(*check, find(path, doc)).holds;
}

TEST(JsonCheck, Comparisons) {
  const std::string doc = R"({"a": 8, "d": 8.0, "s": "iAMT0005 raised", "l": [1, 2, 3], "t": true, "z": null,
                              "subs": [{"n": 0}, {"n": 2}]})";
  EXPECT_TRUE(holds(Comparison::Equals, "8", "a", doc));
  EXPECT_TRUE(holds(Comparison::Equals, "8", "d", doc));  // numbers by value
  EXPECT_FALSE(holds(Comparison::Equals, R"("8")", "a", doc));
  EXPECT_TRUE(holds(Comparison::NotEquals, "9", "a", doc));
  EXPECT_FALSE(holds(Comparison::NotEquals, "9", "missing", doc));  // absent fails all but exists: false
  EXPECT_TRUE(holds(Comparison::AtLeast, "8", "a", doc));
  EXPECT_FALSE(holds(Comparison::AtLeast, "9", "a", doc));
  EXPECT_TRUE(holds(Comparison::AtMost, "8.5", "a", doc));
  EXPECT_FALSE(holds(Comparison::AtLeast, "1", "s", doc));  // not a number
  EXPECT_TRUE(holds(Comparison::Contains, R"("iAMT0005")", "s", doc));
  EXPECT_TRUE(holds(Comparison::Contains, "2", "l", doc));
  EXPECT_FALSE(holds(Comparison::Contains, "4", "l", doc));
  EXPECT_TRUE(holds(Comparison::Matches, R"("^iAMT\\d{4}")", "s", doc));
  EXPECT_TRUE(holds(Comparison::Matches, R"("^8$")", "a", doc));  // a number by its text
  EXPECT_TRUE(holds(Comparison::Exists, "true", "t", doc));
  EXPECT_FALSE(holds(Comparison::Exists, "true", "z", doc));  // null is not there
  EXPECT_TRUE(holds(Comparison::Exists, "false", "missing", doc));
  // Lists: any element; equals a list compares the whole; contains asks for membership; not_equals none.
  EXPECT_TRUE(holds(Comparison::AtLeast, "1", "subs.*.n", doc));
  EXPECT_FALSE(holds(Comparison::AtLeast, "3", "subs.*.n", doc));
  EXPECT_TRUE(holds(Comparison::Equals, "2", "subs.*.n", doc));
  EXPECT_TRUE(holds(Comparison::Equals, "[0, 2]", "subs.*.n", doc));
  EXPECT_FALSE(holds(Comparison::NotEquals, "2", "subs.*.n", doc));
  EXPECT_TRUE(holds(Comparison::Contains, "0", "subs.*.n", doc));
  EXPECT_FALSE(holds(Comparison::Exists, "true", "subs[n=5]", doc));
  EXPECT_TRUE(holds(Comparison::Exists, "true", "subs[n=2]", doc));

  EXPECT_FALSE(Check::make(Comparison::AtLeast, "x"));
  EXPECT_FALSE(Check::make(Comparison::Exists, 1));
  auto check = Check::make(Comparison::Equals, 1).value();
  auto verdict = judge(check, find("missing", doc));
  EXPECT_EQ(verdict.actual, "absent");
  verdict = judge(check, find("l", doc));
  EXPECT_EQ(verdict.actual, "[1,2,3]");
  EXPECT_EQ(shortJson(json::value(std::string(2000, 'x')), 10), "\"xxxxxxxxx...");
}

}  // namespace
}  // namespace mesim::qa
