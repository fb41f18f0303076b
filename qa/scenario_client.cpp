#include "qa/scenario_client.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

namespace mesim::qa {

namespace json = boost::json;

namespace {

std::string errorOf(const HttpAnswer& answer) {
  json::error_code ec;
  auto v = json::parse(answer.body, ec);
  if (!ec && v.is_object())
    if (auto* e = v.get_object().if_contains("error"); e && e->is_string()) return std::string(e->get_string());
  return "HTTP " + std::to_string(answer.status);
}

std::string text(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return {};
}

}  // namespace

Result<json::object> runScenario(const HttpCall& http, const std::string& yaml, const ScenarioClientOptions& options) {
  const std::string& prefix = options.routePrefix;
  auto sleep = options.sleep ? options.sleep : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  auto posted = http("POST", prefix + "/scenarios", yaml);
  if (!posted) return posted.error();
  if (posted->status != 202) return fail("POST /scenarios answered " + std::to_string(posted->status) + ": " + errorOf(*posted));
  json::error_code ec;
  auto accepted = json::parse(posted->body, ec);
  const json::object* o = ec ? nullptr : accepted.if_object();
  const std::string href = o ? text(*o, "href") : "";
  if (href.empty()) return fail("POST /scenarios answered 202 without the scenario's href");

  const auto started = std::chrono::steady_clock::now();
  while (true) {
    auto polled = http("GET", href, "");
    if (!polled) return polled.error();
    if (polled->status != 200) return fail("GET " + href + " answered " + std::to_string(polled->status) + ": " + errorOf(*polled));
    auto report = json::parse(polled->body, ec);
    if (ec || !report.is_object()) return fail("GET " + href + " did not answer a JSON object");
    if (text(report.get_object(), "state") != "running") return std::move(report.get_object());
    if (options.timeout && std::chrono::steady_clock::now() - started >= *options.timeout) {
      auto cancelled = http("DELETE", href, "");
      if (cancelled && cancelled->status == 200) {
        auto final = json::parse(cancelled->body, ec);
        if (!ec && final.is_object()) {
          final.get_object()["error"] = "cancelled by mesimctl after " + std::to_string(options.timeout->count()) + " ms of real time";
          return std::move(final.get_object());
        }
      }
      return fail("the scenario still ran after " + std::to_string(options.timeout->count()) + " ms of real time");
    }
    sleep(options.poll);
  }
}

ScenarioBatch runScenarioFiles(const HttpCall& http, const std::vector<std::string>& files, const ScenarioClientOptions& options) {
  ScenarioBatch batch;
  std::ostringstream out;
  bool unanswered = false;  // set when a request got no answer at all
  const HttpCall watched = [&](const std::string& m, const std::string& t, const std::string& b) {
    auto answer = http(m, t, b);
    if (!answer) unanswered = true;
    return answer;
  };
  for (const auto& file : files) {
    unanswered = false;
    std::ifstream in(file, std::ios::binary);
    std::ostringstream content;
    Result<json::object> report = fail("");
    if (!in || !(content << in.rdbuf())) {
      report = fail("cannot read " + file);
    } else {
      report = runScenario(watched, content.str(), options);
    }
    if (!report) {
      // What could not run is reported too: a CI dashboard then shows the file as an error, not nothing.
      batch.reports.push_back(json::object{{"name", file}, {"file", file}, {"state", "error"}, {"error", report.error().message}});
      out << "ERROR " << file << ": " << report.error().message << "\n";
      batch.exitCode = std::max(batch.exitCode, unanswered ? 3 : 2);
      continue;
    }
    auto& r = *report;
    r["file"] = file;
    const auto state = text(r, "state");
    out << (state == "passed" ? "PASS " : state == "failed" ? "FAIL " : "ERROR ") << file << ": " << text(r, "summary") << "\n";
    if (auto* steps = r.if_contains("steps"); steps && steps->is_array())
      for (const auto& s : steps->get_array())
        if (s.is_object() && text(s.get_object(), "state") == "failed")
          out << "  step " << json::serialize(s.get_object().at("number")) << " '" << text(s.get_object(), "name")
              << "': " << text(s.get_object(), "error") << "\n";
    if (auto* expectations = r.if_contains("expectations"); expectations && expectations->is_array())
      for (const auto& e : expectations->get_array())
        if (e.is_object() && text(e.get_object(), "state") == "failed")
          out << "  expectation " << json::serialize(e.get_object().at("number")) << " '" << text(e.get_object(), "name")
              << "': " << text(e.get_object(), "why") << "\n";
    if (state != "passed") batch.exitCode = std::max(batch.exitCode, 1);
    batch.reports.push_back(std::move(r));
  }
  batch.output = out.str();
  return batch;
}

Result<> writeReportFile(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  fs::path temporary = target;
  temporary += ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) return fail("cannot write " + temporary.string());
    file << text;
    file.flush();
    if (!file) return fail("cannot write " + temporary.string());
  }
  std::error_code ec;
  fs::rename(temporary, target, ec);
  if (ec) {
    fs::remove(temporary, ec);
    return fail("cannot write " + path + ": " + ec.message());
  }
  return {};
}

}  // namespace mesim::qa
