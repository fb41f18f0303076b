#include "qa/junit_report.h"

#include <cstdio>
#include <sstream>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <pugixml.hpp>

#include "common/text_codecs.h"

namespace mesim::qa {

namespace json = boost::json;

namespace {

// XML 1.0 has no place for most control characters, and reports quote what routes answered.
std::string xmlText(std::string_view text) {
  std::string out = text::toValidUtf8(text);
  for (auto& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) c = '?';
  }
  return out;
}

// Seconds as JUnit readers show them: fixed, to the millisecond ("185.020", not JSON's "1.8502E2").
std::string seconds(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", value);
  return text;
}

std::string stringOf(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key)) {
    if (v->is_string()) return std::string(v->get_string());
    if (!v->is_null()) return json::serialize(*v);
  }
  return {};
}

double numberOf(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key); v && v->is_number()) return v->to_number<double>();
  return 0;
}

const json::array* arrayOf(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key); v && v->is_array()) return &v->get_array();
  return nullptr;
}

void setAttribute(pugi::xml_node node, const char* name, const std::string& value) {
  node.append_attribute(name).set_value(xmlText(value).c_str());
}

struct Counts {
  std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
};

pugi::xml_node testcase(pugi::xml_node suite, const std::string& classname, const std::string& name, Counts& counts) {
  auto tc = suite.append_child("testcase");
  setAttribute(tc, "classname", classname);
  setAttribute(tc, "name", name);
  tc.append_attribute("time").set_value("0.000");
  ++counts.tests;
  return tc;
}

void outcome(pugi::xml_node tc, const char* kind, const std::string& message, const std::string& detail) {
  auto node = tc.append_child(kind);
  setAttribute(node, "message", message);
  if (!detail.empty()) node.append_child(pugi::node_pcdata).set_value(xmlText(detail).c_str());
}

void suiteOf(pugi::xml_node root, const json::object& report, Counts& total) {
  const auto name = stringOf(report, "name").empty() ? std::string("scenario") : stringOf(report, "name");
  const auto state = stringOf(report, "state");
  const auto classname = "mesim.scenario." + name;
  auto suite = root.append_child("testsuite");
  setAttribute(suite, "name", name);
  Counts counts;

  auto properties = suite.append_child("properties");
  for (const char* key : {"id", "device", "clock", "state", "firmware_seconds", "file"}) {
    auto value = std::string_view(key) == "firmware_seconds" && report.contains(key) ? seconds(numberOf(report, key))
                                                                                       : stringOf(report, key);
    if (value.empty()) continue;
    auto p = properties.append_child("property");
    setAttribute(p, "name", key);
    setAttribute(p, "value", value);
  }

  if (const auto* steps = arrayOf(report, "steps")) {
    for (const auto& v : *steps) {
      if (!v.is_object() || v.get_object().contains("wait")) continue;
      const auto& s = v.get_object();
      auto tc = testcase(suite, classname + ".steps",
                         "step " + stringOf(s, "number") + ": " + stringOf(s, "name") + " (at " + stringOf(s, "at") + ")", counts);
      const auto stepState = stringOf(s, "state");
      if (stepState == "failed") {
        ++counts.failures;
        outcome(tc, "failure", stringOf(s, "error"), "answer: " + stringOf(s, "answer"));
      } else if (stepState != "done") {
        ++counts.skipped;
        outcome(tc, "skipped", "not run: the scenario ended before it", "");
      }
    }
  }
  if (const auto* expectations = arrayOf(report, "expectations")) {
    for (const auto& v : *expectations) {
      if (!v.is_object()) continue;
      const auto& e = v.get_object();
      auto tc = testcase(suite, classname + ".expect", "expectation " + stringOf(e, "number") + ": " + stringOf(e, "name"), counts);
      const auto expectationState = stringOf(e, "state");
      if (expectationState == "failed") {
        ++counts.failures;
        outcome(tc, "failure", stringOf(e, "why"),
                "GET " + stringOf(e, "get") + " " + stringOf(e, "path") + " " + stringOf(e, "check") + "; last found " +
                    stringOf(e, "actual") + " after " + stringOf(e, "checks") + " check(s)");
      } else if (expectationState != "passed") {
        ++counts.skipped;
        outcome(tc, "skipped", "not checked: the scenario ended before its window", "");
      }
    }
  }
  // A run that could not go on is an error of its own, beside what it reached.
  if (state == "error" || state == "cancelled" || state == "running") {
    auto tc = testcase(suite, classname, "run", counts);
    ++counts.errors;
    outcome(tc, "error", stringOf(report, "error").empty() ? "the scenario " + state : stringOf(report, "error"), "");
  }

  suite.append_attribute("tests").set_value(counts.tests);
  suite.append_attribute("failures").set_value(counts.failures);
  suite.append_attribute("errors").set_value(counts.errors);
  suite.append_attribute("skipped").set_value(counts.skipped);
  suite.append_attribute("time").set_value(seconds(numberOf(report, "real_seconds")).c_str());
  if (auto summary = stringOf(report, "summary"); !summary.empty())
    suite.append_child("system-out").append_child(pugi::node_pcdata).set_value(xmlText(summary).c_str());
  total.tests += counts.tests;
  total.failures += counts.failures;
  total.errors += counts.errors;
  total.skipped += counts.skipped;
}

}  // namespace

std::string junitXml(const std::vector<json::object>& reports) {
  pugi::xml_document doc;
  auto declaration = doc.append_child(pugi::node_declaration);
  declaration.append_attribute("version").set_value("1.0");
  declaration.append_attribute("encoding").set_value("UTF-8");
  auto root = doc.append_child("testsuites");
  root.append_attribute("name").set_value("mesim scenarios");
  Counts total;
  double time = 0;
  for (const auto& report : reports) {
    suiteOf(root, report, total);
    time += numberOf(report, "real_seconds");
  }
  root.append_attribute("tests").set_value(total.tests);
  root.append_attribute("failures").set_value(total.failures);
  root.append_attribute("errors").set_value(total.errors);
  root.append_attribute("skipped").set_value(total.skipped);
  root.append_attribute("time").set_value(seconds(time).c_str());
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace mesim::qa
