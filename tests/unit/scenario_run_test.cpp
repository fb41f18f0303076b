// The scenario runner against a fake device's routes: a manual clock with timers (GET /clock, POST
// /clock/advance), routes that record when they ran, arm timers, and "deliver" over real time. Checks the order
// and times of actions, within/during windows on the manual clock, settling for real I/O, failed steps,
// running and scaled clocks, and cancelling.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "qa/scenario_parser.h"
#include "qa/scenario_run.h"

namespace mesim::qa {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class FakeDevice {
 public:
  explicit FakeDevice(boost::asio::io_context& io) : io_(io) {}

  bool hasClock = true;
  bool manual = true;
  double scale = 1;
  std::int64_t nowUs = 1'700'000'000'000'000;  // the manual clock, unix microseconds
  const std::int64_t startUs = nowUs;
  std::multimap<std::int64_t, std::function<void()>> timers;
  std::vector<std::pair<std::string, double>> recorded;  // route name, firmware seconds since start
  json::object state;
  int inFlight = 0;
  std::size_t advances = 0;
  std::chrono::steady_clock::time_point realStart = std::chrono::steady_clock::now();

  double firmwareSeconds() const {
    if (manual) return static_cast<double>(nowUs - startUs) / 1e6;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - realStart).count() * scale;
  }

  RouteAnswer call(const std::string& method, const std::string& target, const std::string&) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return {400, R"({"error":"bad target"})"};
    std::vector<std::string> path;
    for (auto s : url->segments()) path.push_back(s);
    if (path.size() < 2 || path[0] != "devices" || path[1] != "dev") return {404, R"({"error":"no device"})"};
    path.erase(path.begin(), path.begin() + 2);
    std::map<std::string, std::string> q;
    for (auto p : url->params(boost::urls::encoding_opts(true, false, false))) q[p.key] = p.value;
    const std::string route = method + " /" + (path.empty() ? "" : path[0]);

    if (route == "GET /clock") {
      if (!hasClock) return {404, R"({"error":"no such endpoint"})"};
      json::object o{{"mode", manual ? "manual" : scale != 1 ? "scaled" : "real"}, {"unix", static_cast<double>(nowUs) / 1e6}};
      if (scale != 1) o["scale"] = scale;
      if (!timers.empty()) o["next_in_seconds"] = static_cast<double>(timers.begin()->first - nowUs) / 1e6;
      else o["next_in_seconds"] = nullptr;
      return {200, json::serialize(o)};
    }
    if (route == "POST /clock") {  // /clock/advance
      if (!manual) return {409, R"({"error":"not a manual clock"})"};
      const auto to = nowUs + std::llround(std::stod(q["seconds"]) * 1e6);
      while (!timers.empty() && timers.begin()->first <= to) {
        auto it = timers.begin();
        nowUs = it->first;  // each timer at its own time
        auto fire = std::move(it->second);
        timers.erase(it);
        fire();
      }
      nowUs = to;
      ++advances;
      return {200, "{}"};
    }
    if (route == "POST /record") {
      recorded.emplace_back(path.at(1), firmwareSeconds());
      return {200, "{}"};
    }
    if (route == "POST /set") {
      state[q["key"]] = std::stoi(q["value"]);
      return {200, "{}"};
    }
    if (route == "POST /arm") {  // a timer `after` seconds on that sets key = value (a watchdog's expiry)
      const auto key = q["key"];
      const int value = std::stoi(q["value"]);
      timers.emplace(nowUs + std::llround(std::stod(q["after"]) * 1e6), [this, key, value] { state[key] = value; });
      return {200, "{}"};
    }
    if (route == "POST /arm-delivery") {  // the timer starts real I/O that sets key = value `real_ms` later
      const auto key = q["key"];
      const int value = std::stoi(q["value"]);
      const auto realMs = std::stoi(q["real_ms"]);
      timers.emplace(nowUs + std::llround(std::stod(q["after"]) * 1e6), [this, key, value, realMs] {
        ++inFlight;
        auto t = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(realMs));
        t->async_wait([this, t, key, value](boost::system::error_code) {
          state[key] = value;
          --inFlight;
        });
      });
      return {200, "{}"};
    }
    if (route == "POST /later") {  // an actor on real time the device does not report: sets key = value `real_ms` later
      const auto key = q["key"];
      const int value = std::stoi(q["value"]);
      auto t = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(std::stoi(q["real_ms"])));
      t->async_wait([this, t, key, value](boost::system::error_code) { state[key] = value; });
      return {200, "{}"};
    }
    if (route == "GET /state") return {200, json::serialize(state)};
    return {404, R"({"error":"no such endpoint"})"};
  }

 private:
  boost::asio::io_context& io_;
};

struct Outcome {
  RunState state = RunState::Running;
  json::object report;
  double realSeconds = 0;
};

Outcome run(FakeDevice& device, boost::asio::io_context& io, const std::string& yaml, bool reportBusy = true) {
  auto scenario = parseScenario(yaml);
  EXPECT_TRUE(scenario) << scenario.error().message;
  if (!scenario) return {};
  ScenarioRun::Options options;
  options.id = "1";
  options.device = "dev";
  options.routePrefix = "/devices/dev";
  if (reportBusy) options.busy = [&device] { return device.inFlight > 0; };
  Outcome outcome;
  const auto started = std::chrono::steady_clock::now();
  auto r = ScenarioRun::create(io, std::move(*scenario),
                               [&device](const std::string& m, const std::string& t, const std::string& b) { return device.call(m, t, b); },
                               options, [&outcome](const ScenarioRun& run) {
                                 outcome.state = run.state();
                                 outcome.report = run.report();
                               });
  r->start();
  io.run_for(30s);
  outcome.realSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return outcome;
}

const json::object& expectation(const Outcome& o, std::size_t i) { return o.report.at("expectations").at(i).as_object(); }
const json::object& step(const Outcome& o, std::size_t i) { return o.report.at("steps").at(i).as_object(); }

TEST(ScenarioRun, ActionsRunInOrderAtTheirFirmwareTimes) {
  boost::asio::io_context io;
  FakeDevice device(io);
  auto o = run(device, io, R"(
name: order
steps:
  - {at: 0s, do: POST /record/a}
  - {at: 5s, do: POST /record/b}
  - {do: POST /record/c}
  - {wait: 10s}
  - {after: 250ms, do: POST /record/d}
)");
  EXPECT_EQ(o.state, RunState::Passed) << json::serialize(o.report);
  const std::vector<std::pair<std::string, double>> expected{{"a", 0}, {"b", 5}, {"c", 5}, {"d", 15.25}};
  EXPECT_EQ(device.recorded, expected);
  EXPECT_EQ(o.report.at("clock").as_string(), "manual");
  EXPECT_DOUBLE_EQ(o.report.at("firmware_seconds").to_number<double>(), 15.25);
  EXPECT_EQ(step(o, 3).at("state").as_string(), "done");
  EXPECT_LT(o.realSeconds, 1.0);
}

TEST(ScenarioRun, AWithinWindowPassesAtTheTimerThatMakesItTrue) {
  boost::asio::io_context io;
  FakeDevice device(io);
  // A heartbeat-like timer at 60 s and a watchdog-like one at 120 s whose alert goes out over real time.
  auto o = run(device, io, R"(
name: crash to alert
steps:
  - do: POST /arm?key=beat&value=1&after=60
  - do: POST /arm-delivery?key=delivered&value=1&after=120&real_ms=20
expect:
  - {name: delivered, get: /state, path: delivered, equals: 1, within: 130s}
  - {get: /state, path: delivered, exists: false, during: 100s}
)");
  EXPECT_EQ(o.state, RunState::Passed) << json::serialize(o.report);
  EXPECT_EQ(expectation(o, 0).at("state").as_string(), "passed");
  // Checked at the timer's own time, after its real I/O finished; not at the window's end.
  EXPECT_DOUBLE_EQ(expectation(o, 0).at("resolved_at_seconds").to_number<double>(), 120.0);
  EXPECT_EQ(expectation(o, 1).at("state").as_string(), "passed");
  EXPECT_DOUBLE_EQ(expectation(o, 1).at("resolved_at_seconds").to_number<double>(), 100.0);
  // Moves: to 60 (a timer, windows open), to 100 (the during window's end), to 120 (the next timer).
  EXPECT_EQ(o.report.at("clock_moves").as_uint64(), 3u);
  EXPECT_LT(o.realSeconds, 1.0);
}

TEST(ScenarioRun, WithoutTheBusyReportAWindowsEndWaitsForRealIo) {
  boost::asio::io_context io;
  FakeDevice device(io);
  auto o = run(device, io, R"(
name: no settle
settle: 3s
steps:
  - do: POST /arm-delivery?key=delivered&value=1&after=120&real_ms=300
expect:
  - {get: /state, path: delivered, equals: 1, within: 130s}
)", false);
  // Not seen at 120 s (two rounds of the loop are not 300 ms), but the window's end waits up to the settle time.
  EXPECT_EQ(o.state, RunState::Passed) << json::serialize(o.report);
  EXPECT_DOUBLE_EQ(expectation(o, 0).at("resolved_at_seconds").to_number<double>(), 130.0);
}

TEST(ScenarioRun, OnAStoppedClockAFailingCheckWaitsTheSettleTimeForRealTimeActors) {
  boost::asio::io_context io;
  FakeDevice device(io);
  auto o = run(device, io, R"(
name: grace
settle: 2s
steps:
  - do: POST /later?key=v&value=1&real_ms=100
  - expect: {get: /state, path: v, equals: 1}
)", false);
  EXPECT_EQ(o.state, RunState::Passed) << json::serialize(o.report);
  EXPECT_GT(expectation(o, 0).at("checks").as_uint64(), 1u);
  EXPECT_GE(o.realSeconds, 0.1);
  EXPECT_LT(o.realSeconds, 1.5);  // passing ends the wait at once
}

TEST(ScenarioRun, AWithinWindowThatNeverHoldsFailsAtItsEnd) {
  boost::asio::io_context io;
  FakeDevice device(io);
  auto o = run(device, io, R"(
name: no alert
settle: 20ms
steps:
  - {at: 1s, do: "POST /set?key=delivered&value=0"}
  - expect: {get: /state, path: delivered, equals: 1, within: 2s}
  - {at: 10s, do: POST /record/later}
)");
  EXPECT_EQ(o.state, RunState::Failed);
  const auto& e = expectation(o, 0);
  EXPECT_EQ(e.at("state").as_string(), "failed");
  EXPECT_DOUBLE_EQ(e.at("resolved_at_seconds").to_number<double>(), 3.0);
  EXPECT_EQ(e.at("why").as_string(), "delivered equals 1 did not hold from 1s to 3s (last found 0)");
  EXPECT_EQ(e.at("actual").as_string(), "0");
  ASSERT_EQ(device.recorded.size(), 1u);  // an expectation failing does not stop the steps
  EXPECT_EQ(device.recorded[0].second, 10.0);
}

TEST(ScenarioRun, ADuringWindowFailsWhenItStopsHolding) {
  boost::asio::io_context io;
  FakeDevice device(io);
  auto o = run(device, io, R"(
name: alive
settle: 20ms
steps:
  - do: POST /set?key=alive&value=1
  - do: POST /arm?key=alive&value=0&after=30
  - expect: {get: /state, path: alive, equals: 1, during: 60s}
  - wait: 40s
expect:
  - {get: /state, path: alive, equals: 0}
)");
  EXPECT_EQ(o.state, RunState::Failed);
  EXPECT_EQ(expectation(o, 0).at("state").as_string(), "failed");
  EXPECT_DOUBLE_EQ(expectation(o, 0).at("resolved_at_seconds").to_number<double>(), 30.0);
  EXPECT_EQ(expectation(o, 1).at("state").as_string(), "passed");  // at the end of the steps
  EXPECT_DOUBLE_EQ(expectation(o, 1).at("resolved_at_seconds").to_number<double>(), 40.0);
}

TEST(ScenarioRun, AnExpectationWithoutAWindowIsCheckedAtItsAnchor) {
  boost::asio::io_context io;
  FakeDevice device(io);
  auto o = run(device, io, R"(
name: at the anchor
settle: 20ms
steps:
  - {at: 5s, do: "POST /set?key=v&value=1"}
  - expect: {get: /state, path: v, equals: 1}
  - {at: 7s, do: "POST /set?key=v&value=2"}
  - expect: {get: /state, path: v, equals: 1}
)");
  EXPECT_EQ(o.state, RunState::Failed);
  EXPECT_EQ(expectation(o, 0).at("state").as_string(), "passed");
  EXPECT_DOUBLE_EQ(expectation(o, 0).at("resolved_at_seconds").to_number<double>(), 5.0);
  EXPECT_EQ(expectation(o, 1).at("state").as_string(), "failed");
  EXPECT_DOUBLE_EQ(expectation(o, 1).at("resolved_at_seconds").to_number<double>(), 7.0);
  EXPECT_EQ(expectation(o, 1).at("actual").as_string(), "2");
}

TEST(ScenarioRun, StepsAfterAWaitUntilRunAsMuchLaterAsItTook) {
  boost::asio::io_context io;
  FakeDevice device(io);
  auto o = run(device, io, R"(
name: gate
steps:
  - do: POST /arm?key=up&value=1&after=7
  - wait_until: {get: /state, path: up, equals: 1, within: 30s}
  - {after: 2s, do: POST /record/a}
  - expect: {get: /state, path: up, equals: 1, within: 1s}
expect:
  - {get: /state, path: up, equals: 1}
)");
  EXPECT_EQ(o.state, RunState::Passed) << json::serialize(o.report);
  const std::vector<std::pair<std::string, double>> expected{{"a", 9}};
  EXPECT_EQ(device.recorded, expected);
  EXPECT_EQ(expectation(o, 0).at("window").as_string(), "wait_until");
  EXPECT_EQ(expectation(o, 0).at("name").as_string(), "wait until GET /state up equals 1 within 30s");
  EXPECT_DOUBLE_EQ(expectation(o, 0).at("resolved_at_seconds").to_number<double>(), 7.0);
  EXPECT_DOUBLE_EQ(expectation(o, 1).at("from_seconds").to_number<double>(), 9.0);
  EXPECT_DOUBLE_EQ(expectation(o, 2).at("resolved_at_seconds").to_number<double>(), 9.0);
}

TEST(ScenarioRun, AWaitUntilThatNeverHoldsStopsTheRun) {
  boost::asio::io_context io;
  FakeDevice device(io);
  auto o = run(device, io, R"(
name: gate fails
settle: 20ms
steps:
  - wait_until: {name: the host is up, get: /state, path: up, equals: 1, within: 5s}
  - do: POST /record/never
)");
  EXPECT_EQ(o.state, RunState::Failed);
  EXPECT_TRUE(device.recorded.empty());
  EXPECT_EQ(step(o, 0).at("state").as_string(), "not run");
  EXPECT_EQ(o.report.at("error").as_string(), "'the host is up': up equals 1 did not hold from 0s to 5s (last found absent)");
  EXPECT_DOUBLE_EQ(o.report.at("firmware_seconds").to_number<double>(), 5.0);
}

TEST(ScenarioRun, AStepWhoseAnswerIsNotWantedStopsTheRun) {
  boost::asio::io_context io;
  FakeDevice device(io);
  auto o = run(device, io, R"(
name: bad step
settle: 20ms
steps:
  - {do: POST /nope, status: 404}
  - {at: 1s, do: POST /nope}
  - {at: 2s, do: POST /record/never}
expect:
  - {get: /state, path: x, exists: true}
)");
  EXPECT_EQ(o.state, RunState::Failed);
  EXPECT_EQ(step(o, 0).at("state").as_string(), "done");
  EXPECT_EQ(step(o, 1).at("state").as_string(), "failed");
  EXPECT_EQ(step(o, 1).at("status").to_number<int>(), 404);
  EXPECT_EQ(step(o, 1).at("error").as_string(), "POST /nope answered 404: no such endpoint");
  EXPECT_EQ(step(o, 2).at("state").as_string(), "not run");
  EXPECT_EQ(expectation(o, 0).at("state").as_string(), "not run");
  EXPECT_TRUE(device.recorded.empty());
  EXPECT_NE(o.report.at("error").as_string().find("step 2 'POST /nope'"), std::string::npos);
}

TEST(ScenarioRun, WithoutClockRoutesItWaitsInRealTime) {
  boost::asio::io_context io;
  FakeDevice device(io);
  device.hasClock = false;
  device.manual = false;
  auto o = run(device, io, R"(
name: real
steps:
  - {after: 50ms, do: POST /record/a}
  - {do: "POST /set?key=v&value=1"}
  - expect: {get: /state, path: v, equals: 1, within: 1s}
)");
  EXPECT_EQ(o.state, RunState::Passed) << json::serialize(o.report);
  ASSERT_EQ(device.recorded.size(), 1u);
  EXPECT_GE(device.recorded[0].second, 0.05);
  EXPECT_EQ(o.report.at("clock").as_string(), "real");
  EXPECT_EQ(device.advances, 0u);
}

TEST(ScenarioRun, AScaledClockIsWaitedForInItsScale) {
  boost::asio::io_context io;
  FakeDevice device(io);
  device.manual = false;
  device.scale = 100;
  auto o = run(device, io, R"(
name: scaled
steps:
  - {at: 3s, do: POST /record/a}
)");
  EXPECT_EQ(o.state, RunState::Passed) << json::serialize(o.report);
  EXPECT_EQ(o.report.at("clock").as_string(), "scaled");
  EXPECT_GE(o.realSeconds, 0.03);
  EXPECT_LT(o.realSeconds, 1.0);
  ASSERT_EQ(device.recorded.size(), 1u);
  EXPECT_GE(device.recorded[0].second, 3.0);
}

TEST(ScenarioRun, CancelledRunsReportWhatDidNotRun) {
  boost::asio::io_context io;
  FakeDevice device(io);
  device.hasClock = false;
  device.manual = false;
  auto scenario = parseScenario("name: long\nsteps:\n  - {do: POST /record/a}\n  - {at: 1h, do: POST /record/b}\n");
  ASSERT_TRUE(scenario);
  RunState finalState = RunState::Running;
  auto r = ScenarioRun::create(io, std::move(*scenario),
                               [&device](const std::string& m, const std::string& t, const std::string& b) { return device.call(m, t, b); },
                               {"7", "dev", "/devices/dev", nullptr}, [&](const ScenarioRun& run) { finalState = run.state(); });
  r->start();
  boost::asio::steady_timer stop(io, 30ms);
  stop.async_wait([&](boost::system::error_code) { r->cancel("enough"); });
  io.run_for(5s);
  EXPECT_EQ(finalState, RunState::Cancelled);
  auto report = r->report();
  EXPECT_EQ(report.at("steps").at(0).at("state").as_string(), "done");
  EXPECT_EQ(report.at("steps").at(1).at("state").as_string(), "not run");
  EXPECT_EQ(report.at("error").as_string(), "enough");
}

TEST(ScenarioRun, ACallToAnotherDeviceThatDoesNotExistIsAnError) {
  boost::asio::io_context io;
  FakeDevice device(io);
  auto scenario = parseScenario("name: x\nsteps: [{do: POST /record/a}]\n");
  ASSERT_TRUE(scenario);
  RunState finalState = RunState::Running;
  std::string error;
  auto r = ScenarioRun::create(io, std::move(*scenario),
                               [&device](const std::string& m, const std::string& t, const std::string& b) { return device.call(m, t, b); },
                               {"1", "other", "/devices/other", nullptr}, [&](const ScenarioRun& run) {
                                 finalState = run.state();
                                 error = run.report().at("error").as_string().c_str();
                               });
  r->start();
  io.run_for(5s);
  EXPECT_EQ(finalState, RunState::Error);
  EXPECT_EQ(error, "GET /clock answered 404: no device");
}

TEST(ScenarioRun, TargetsArePercentEncoded) {
  RouteCall call{"POST", "/events/raise", {{"messageId", "iAMT0005"}, {"arg", "a b+c&d=é"}}, {}};
  EXPECT_EQ(targetOf("/devices/x", call), "/devices/x/events/raise?messageId=iAMT0005&arg=a%20b%2Bc%26d%3D%C3%A9");
  EXPECT_EQ(targetOf("", {"GET", "/status", {}, {}}), "/status");
}

}  // namespace
}  // namespace mesim::qa
