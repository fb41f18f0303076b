// One run of a scenario on a device (docs/scenarios.md "Timing"). Every action and every read goes through the
// control routes, called in-process (RouteCaller), so any route, present or future, is usable with no code here;
// so does the clock: GET /clock tells the mode, POST /clock/advance moves a manual clock.
//
// Manual clock: the run moves the clock itself, to the next action, window end or (while a window is open) timer
// deadline, so 120 s of watchdog take milliseconds; after each move it gives the loop real time until no network
// I/O the device reports is under way (`busy`, bounded by the scenario's settle), then checks the open windows. A
// check that fails where its window ends is repeated until the settle time has passed since the clock stopped
// there, for actors on real time the device cannot report (a host program reconnecting): passing costs nothing
// extra, failing costs the settle time.
// Running clocks (real, scaled, or a daemon without GET /clock): it waits on real time, scaled, and checks open
// windows every `poll`.
//
// Single-threaded: everything runs on the io_context it is given, like the routes it calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include "common/log.h"
#include "common/result.h"
#include "qa/scenario.h"

namespace mesim::qa {

struct RouteAnswer {
  unsigned status = 0;
  std::string body;
};
// Calls a control route as the control API would: method, target ("/devices/a/host/os-crash?x=1"), body.
using RouteCaller = std::function<RouteAnswer(const std::string& method, const std::string& target, const std::string& body)>;

// The target of `call` under `prefix` ("/devices/NAME" or ""), its parameters percent-encoded.
std::string targetOf(const std::string& prefix, const RouteCall& call);

enum class RunState { Running, Passed, Failed, Error, Cancelled };
const char* toString(RunState state);

class ScenarioRun : public std::enable_shared_from_this<ScenarioRun> {
 public:
  struct Options {
    std::string id;
    std::string device;       // for reports and log lines
    std::string routePrefix;  // "/devices/NAME": where its routes are called
    // True while the device has network I/O under way whose outcome a check may read (an alert delivery).
    std::function<bool()> busy;
    std::chrono::milliseconds poll{20};   // running clocks: real time between checks of open windows
    std::chrono::milliseconds yield{1};   // manual clock: a round of real time for the loop while settling
    std::size_t maxClockSteps = 100'000;  // a manual run that needs more stops with an error
  };
  using Finished = std::function<void(const ScenarioRun&)>;

  static std::shared_ptr<ScenarioRun> create(boost::asio::io_context& io, Scenario scenario, RouteCaller call,
                                             Options options, Finished finished);
  // Begins on the loop (posted): reads the clock, then runs the steps as they fall due.
  void start();
  // Stops a running run: what has not run is reported as not run. `finished` is called.
  void cancel(const std::string& why);

  RunState state() const { return state_; }
  const std::string& id() const { return options_.id; }
  const std::string& device() const { return options_.device; }
  const Scenario& scenario() const { return scenario_; }
  // Everything the run knows, as GET /scenarios/{id} answers it.
  boost::json::object report() const;
  // One line for the log: "'name' passed: 3/3 expectations (130s of firmware time in 0.21 s)".
  std::string summary() const;
  // The expectations that failed, one line each ("expectation 2 'name': never held ..."), for the log.
  std::vector<std::string> failures() const;
  const log::Context& logContext() const { return log_; }

 private:
  enum class ClockKind { Manual, Running };
  enum class ItemState { Pending, Done, Passed, Failed, Skipped };
  struct StepResult {
    ItemState state = ItemState::Pending;
    Offset ranAt{};
    unsigned status = 0;
    boost::json::value answer;
    std::string error;
  };
  struct ExpectationResult {
    ItemState state = ItemState::Pending;
    Offset resolvedAt{};
    std::string actual;  // the last value read
    std::size_t checks = 0;
    std::string why;     // of a failure
  };
  struct ClockReading {
    std::int64_t unixMicros = 0;
    std::optional<Offset> nextTimer;  // a pending firmware timer's deadline, from now
  };

  ScenarioRun(boost::asio::io_context& io, Scenario scenario, RouteCaller call, Options options, Finished finished);

  void begin();
  void tick();
  bool runDueActions(Offset now);
  void settle(std::chrono::steady_clock::time_point since);
  void settleRound();
  void check();
  struct Evaluation {
    bool gateOpened = false;   // what waited for it may be due now
    bool graceWanted = false;  // a window ends unmet on a stopped clock: look again in real time first
  };
  // Checks the open windows.
  Evaluation evaluate(Offset now);
  // When something written at `written` in `segment` happens: nothing until the gates before it opened.
  std::optional<Offset> actual(Offset written, std::size_t segment) const;
  void moveOn(Offset now);
  std::optional<Offset> nextTarget(Offset now) const;
  bool windowOpen(Offset now) const;
  Result<ClockReading> readClock();
  Result<Offset> elapsed();
  void finish(RunState state, std::string error = {});
  void wake(std::chrono::steady_clock::duration after, void (ScenarioRun::*next)());

  boost::asio::io_context& io_;
  Scenario scenario_;
  RouteCaller call_;
  Options options_;
  Finished finished_;
  log::Context log_;
  boost::asio::steady_timer timer_;

  RunState state_ = RunState::Running;
  std::string error_;
  ClockKind clock_ = ClockKind::Running;
  std::string clockMode_ = "real";
  double scale_ = 1;
  std::int64_t startUnixMicros_ = 0;
  std::chrono::steady_clock::time_point realStart_{};
  std::chrono::steady_clock::time_point realEnd_{};
  Offset now_{};  // the last firmware time the run saw, since its start
  std::chrono::steady_clock::time_point settleSince_{};
  int settleRounds_ = 0;
  std::vector<Offset> shift_{Offset{}};  // per opened segment: how much later than written its items run
  std::size_t nextStep_ = 0;
  std::size_t clockSteps_ = 0;
  std::size_t keptAnswerBytes_ = 0;
  std::vector<StepResult> steps_;
  std::vector<ExpectationResult> expectations_;
};

}  // namespace mesim::qa
