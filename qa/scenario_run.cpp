#include "qa/scenario_run.h"

#include <algorithm>
#include <cmath>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

namespace mesim::qa {

namespace json = boost::json;
using std::chrono::steady_clock;

namespace {

constexpr const char* kLog = "scenario";
// What a run keeps of its steps' answers for its report: each whole up to 4 KiB, all together up to 256 KiB (a
// daemon keeps the reports of the last runs of each device).
constexpr std::size_t kMaxKeptAnswerBytes = 4 * 1024;
constexpr std::size_t kMaxKeptAnswersBytes = 256 * 1024;

std::string percentEncoded(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// An answer's body as JSON when it is JSON and not huge, else as (cut) text.
json::value answerJson(const std::string& body) {
  if (body.size() <= kMaxKeptAnswerBytes) {
    json::error_code ec;
    auto v = json::parse(body, ec);
    if (!ec) return v;
  }
  return json::value(shortJson(json::value(body), 512));
}

// The "error" of a JSON error answer, else the start of the body.
std::string errorText(const RouteAnswer& answer) {
  json::error_code ec;
  auto v = json::parse(answer.body, ec);
  if (!ec && v.is_object())
    if (auto* e = v.get_object().if_contains("error"); e && e->is_string()) return std::string(e->get_string());
  auto text = answer.body.substr(0, 200);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

double seconds(Offset offset) { return std::chrono::duration<double>(offset).count(); }

// "1.5" for an advance: decimal seconds, exact to the microsecond.
std::string decimalSeconds(Offset offset) {
  const auto us = offset.count();
  auto text = std::to_string(us / 1'000'000);
  if (auto fraction = us % 1'000'000; fraction != 0) {
    auto digits = std::to_string(fraction);
    text += "." + std::string(6 - digits.size(), '0') + digits;
    while (text.back() == '0') text.pop_back();
  }
  return text;
}

const char* windowName(Expectation::Window w) {
  switch (w) {
    case Expectation::Window::At: return "at";
    case Expectation::Window::Within: return "within";
    case Expectation::Window::During: return "during";
  }
  return "at";
}

}  // namespace

std::string targetOf(const std::string& prefix, const RouteCall& call) {
  std::string target = prefix + call.path;
  char separator = '?';
  for (const auto& [name, value] : call.params) {
    target += separator + percentEncoded(name) + "=" + percentEncoded(value);
    separator = '&';
  }
  return target;
}

const char* toString(RunState state) {
  switch (state) {
    case RunState::Running: return "running";
    case RunState::Passed: return "passed";
    case RunState::Failed: return "failed";
    case RunState::Error: return "error";
    case RunState::Cancelled: return "cancelled";
  }
  return "error";
}

std::shared_ptr<ScenarioRun> ScenarioRun::create(boost::asio::io_context& io, Scenario scenario, RouteCaller call,
                                                 Options options, Finished finished) {
  return std::shared_ptr<ScenarioRun>(
      new ScenarioRun(io, std::move(scenario), std::move(call), std::move(options), std::move(finished)));
}

ScenarioRun::ScenarioRun(boost::asio::io_context& io, Scenario scenario, RouteCaller call, Options options,
                         Finished finished)
    : io_(io),
      scenario_(std::move(scenario)),
      call_(std::move(call)),
      options_(std::move(options)),
      finished_(std::move(finished)),
      log_(options_.device),
      timer_(io),
      steps_(scenario_.steps.size()),
      expectations_(scenario_.expectations.size()) {}

void ScenarioRun::start() {
  realStart_ = steady_clock::now();
  boost::asio::post(io_, [self = shared_from_this()] { self->begin(); });
}

void ScenarioRun::cancel(const std::string& why) { finish(RunState::Cancelled, why); }

// ---- the clock, through its routes

Result<ScenarioRun::ClockReading> ScenarioRun::readClock() {
  auto answer = call_("GET", options_.routePrefix + "/clock", "");
  if (answer.status != 200) return fail("GET /clock answered " + std::to_string(answer.status) + ": " + errorText(answer));
  json::error_code ec;
  auto v = json::parse(answer.body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const json::value* unix = o ? o->if_contains("unix") : nullptr;
  if (!unix || !unix->is_number()) return fail("GET /clock answered without its unix time");
  ClockReading reading;
  reading.unixMicros = std::llround(unix->to_number<double>() * 1e6);
  if (auto* next = o->if_contains("next_in_seconds"); next && next->is_number()) {
    // Rounded up: a move to it must reach the deadline, or the timer would not run.
    auto micros = static_cast<std::int64_t>(std::ceil(next->to_number<double>() * 1e6));
    if (micros > 0) reading.nextTimer = Offset(micros);
  }
  if (clock_ == ClockKind::Running && o) {
    if (auto* mode = o->if_contains("mode"); mode && mode->is_string()) clockMode_ = std::string(mode->get_string());
    if (auto* scale = o->if_contains("scale"); scale && scale->is_number()) scale_ = scale->to_number<double>();
  }
  return reading;
}

Result<Offset> ScenarioRun::elapsed() {
  if (clock_ == ClockKind::Running) {
    auto real = std::chrono::duration<double, std::micro>(steady_clock::now() - realStart_).count();
    return Offset(static_cast<std::int64_t>(real * scale_));
  }
  auto reading = readClock();
  if (!reading) return reading.error();
  return Offset(reading->unixMicros - startUnixMicros_);
}

void ScenarioRun::begin() {
  if (state_ != RunState::Running) return;
  realStart_ = steady_clock::now();
  auto probe = call_("GET", options_.routePrefix + "/clock", "");
  if (probe.status == 404 && errorText(probe) == "no such endpoint") {
    clockMode_ = "real";  // a daemon without the clock routes: firmware time is real time
  } else {
    auto reading = readClock();
    if (!reading) return finish(RunState::Error, reading.error().message);
    if (clockMode_ == "manual") {
      clock_ = ClockKind::Manual;
      startUnixMicros_ = reading->unixMicros;
    } else if (!(scale_ > 0)) {
      return finish(RunState::Error, "GET /clock answered a scale that is not above 0");
    }
  }
  MESIM_LOG(Debug, kLog, "scenario " << options_.id << " '" << scenario_.name << "' starts on the " << clockMode_ << " clock");
  tick();
}

// ---- the steps

void ScenarioRun::tick() {
  if (state_ != RunState::Running) return;
  auto t = elapsed();
  if (!t) return finish(RunState::Error, t.error().message);
  now_ = std::max(now_, *t);
  const bool ran = runDueActions(now_);
  if (state_ != RunState::Running) return;
  if (clock_ == ClockKind::Manual || ran) settle(steady_clock::now());
  else check();
}

std::optional<Offset> ScenarioRun::actual(Offset written, std::size_t segment) const {
  if (segment >= shift_.size()) return std::nullopt;  // a gate before it has not opened
  return written + shift_[segment];
}

bool ScenarioRun::runDueActions(Offset now) {
  bool ran = false;
  while (state_ == RunState::Running && nextStep_ < scenario_.steps.size()) {
    const auto& step = scenario_.steps[nextStep_];
    const auto at = actual(step.at, step.segment);
    if (!at || *at > now) break;
    auto& result = steps_[nextStep_];
    ++nextStep_;
    result.ranAt = now;
    if (step.kind == Step::Kind::Wait) {
      result.state = ItemState::Done;
      continue;
    }
    ran = true;
    auto answer = call_(step.call.method, targetOf(options_.routePrefix, step.call), step.call.body);
    result.status = answer.status;
    if (keptAnswerBytes_ + answer.body.size() <= kMaxKeptAnswersBytes) {
      result.answer = answerJson(answer.body);
      keptAnswerBytes_ += std::min(answer.body.size(), kMaxKeptAnswerBytes);
    } else {
      result.answer = "(not kept: this run's answers passed 256 KiB)";
    }
    const bool ok = step.status ? answer.status == *step.status : answer.status >= 200 && answer.status < 300;
    MESIM_LOG(Debug, kLog, "scenario " << options_.id << " at " << formatOffset(now) << ": step " << step.number << " "
                                       << step.call.label() << " -> " << answer.status);
    if (ok) {
      result.state = ItemState::Done;
      continue;
    }
    result.state = ItemState::Failed;
    result.error = step.call.label() + " answered " + std::to_string(answer.status) +
                   (step.status ? " (expected " + std::to_string(*step.status) + ")" : "") + ": " + errorText(answer);
    finish(RunState::Failed, "step " + std::to_string(step.number) + " '" + step.name + "': " + result.error);
  }
  return ran;
}

// Real time for what the steps and the clock set going: rounds of `yield` until the device reports no network I/O
// under way (at least two, for work posted on the loop), at most the scenario's settle.
void ScenarioRun::settle(steady_clock::time_point since) {
  settleSince_ = since;
  settleRounds_ = 0;
  settleRound();
}

void ScenarioRun::settleRound() {
  if (state_ != RunState::Running) return;
  const bool quiet = settleRounds_ >= 2 && !(options_.busy && options_.busy());
  if (quiet || steady_clock::now() - settleSince_ >= scenario_.settle) return check();
  ++settleRounds_;
  wake(options_.yield, &ScenarioRun::settleRound);
}

// ---- the expectations

void ScenarioRun::check() {
  if (state_ != RunState::Running) return;
  auto t = elapsed();
  if (!t) return finish(RunState::Error, t.error().message);
  now_ = std::max(now_, *t);
  const auto outcome = evaluate(now_);
  if (state_ != RunState::Running) return;
  // What waited for the gate may be due now: run it before the clock moves on.
  if (outcome.gateOpened) return boost::asio::post(io_, [self = shared_from_this()] { self->tick(); });
  // A window ends on a stopped clock: the real world (a host program, a subscriber) gets the settle time to catch up.
  if (outcome.graceWanted) return wake(options_.yield * 10, &ScenarioRun::check);
  moveOn(now_);
}

ScenarioRun::Evaluation ScenarioRun::evaluate(Offset now) {
  Evaluation outcome;
  std::string gateFailure;
  // On a manual clock a check that fails where its window ends is made again until the settle time has passed
  // since the clock stopped here: firmware time stands still meanwhile, real time does not.
  const bool inGrace = clock_ == ClockKind::Manual && std::chrono::steady_clock::now() - settleSince_ < scenario_.settle;
  for (std::size_t i = 0; i < scenario_.expectations.size(); ++i) {
    const auto& e = scenario_.expectations[i];
    auto& result = expectations_[i];
    const auto anchor = actual(e.anchor, e.segment);
    if (result.state != ItemState::Pending || !anchor || *anchor > now) continue;
    if (e.afterStep > 0 && nextStep_ < scenario_.steps.size() && scenario_.steps[nextStep_].number <= e.afterStep)
      continue;  // its step has not run yet
    auto answer = call_("GET", targetOf(options_.routePrefix, e.query), "");
    ++result.checks;
    Verdict verdict;
    if (answer.status != 200) {
      verdict.actual = "GET " + e.query.path + " answered " + std::to_string(answer.status) + ": " + errorText(answer);
    } else {
      json::error_code ec;
      auto body = json::parse(answer.body, ec);
      if (ec) verdict.actual = "GET " + e.query.path + " did not answer JSON";
      else verdict = judge(e.check, e.path.find(body));
    }
    result.actual = verdict.actual;
    const auto deadline = *anchor + e.span;
    const bool windowEnded = now >= deadline;
    auto resolve = [&](ItemState state, std::string why = {}) {
      result.state = state;
      result.resolvedAt = now;
      result.why = std::move(why);
      MESIM_LOG(Debug, kLog, "scenario " << options_.id << " at " << formatOffset(now) << ": expectation " << e.number
                                         << (state == ItemState::Passed ? " passed" : " failed"));
    };
    const std::string what = (e.path.text().empty() ? "the answer" : e.path.text()) + " " + e.check.describe();
    switch (e.window) {
      case Expectation::Window::At:
        if (verdict.holds) resolve(ItemState::Passed);
        else if (inGrace) outcome.graceWanted = true;
        else resolve(ItemState::Failed, what + " did not hold at " + formatOffset(now) + " (found " + verdict.actual + ")");
        break;
      case Expectation::Window::Within:
        if (verdict.holds) resolve(ItemState::Passed);
        else if (windowEnded && inGrace) outcome.graceWanted = true;
        else if (windowEnded)
          resolve(ItemState::Failed, what + " did not hold from " + formatOffset(*anchor) + " to " +
                                         formatOffset(deadline) + " (last found " + verdict.actual + ")");
        if (e.gate && result.state == ItemState::Passed) {
          shift_.push_back(now - e.anchor);  // what follows runs as much later as the wait took
          outcome.gateOpened = true;
        } else if (e.gate && result.state == ItemState::Failed) {
          gateFailure = "'" + e.name + "': " + result.why;
        }
        break;
      case Expectation::Window::During:
        if (!verdict.holds) resolve(ItemState::Failed, what + " stopped holding at " + formatOffset(now) + " (found " + verdict.actual + ")");
        else if (windowEnded) resolve(ItemState::Passed);
        break;
    }
  }
  if (!gateFailure.empty()) finish(RunState::Failed, gateFailure);
  return outcome;
}

bool ScenarioRun::windowOpen(Offset now) const {
  for (std::size_t i = 0; i < scenario_.expectations.size(); ++i) {
    const auto& e = scenario_.expectations[i];
    const auto anchor = actual(e.anchor, e.segment);
    if (expectations_[i].state == ItemState::Pending && e.window != Expectation::Window::At && anchor && *anchor <= now)
      return true;
  }
  return false;
}

std::optional<Offset> ScenarioRun::nextTarget(Offset now) const {
  std::optional<Offset> target;
  auto consider = [&](Offset t) {
    if (t > now && (!target || t < *target)) target = t;
  };
  if (nextStep_ < scenario_.steps.size())
    if (auto at = actual(scenario_.steps[nextStep_].at, scenario_.steps[nextStep_].segment)) consider(*at);
  for (std::size_t i = 0; i < scenario_.expectations.size(); ++i) {
    if (expectations_[i].state != ItemState::Pending) continue;
    const auto& e = scenario_.expectations[i];
    const auto anchor = actual(e.anchor, e.segment);
    if (!anchor) continue;  // behind a gate: its time is known once the gate opens
    consider(*anchor);
    if (e.window != Expectation::Window::At) consider(*anchor + e.span);
  }
  return target;
}

void ScenarioRun::moveOn(Offset now) {
  const bool pending = std::any_of(expectations_.begin(), expectations_.end(),
                                   [](const ExpectationResult& r) { return r.state == ItemState::Pending; });
  if (nextStep_ == scenario_.steps.size() && !pending) {
    const bool failed = std::any_of(expectations_.begin(), expectations_.end(),
                                    [](const ExpectationResult& r) { return r.state == ItemState::Failed; });
    return finish(failed ? RunState::Failed : RunState::Passed);
  }
  auto target = nextTarget(now);
  if (!target) {
    // Something pending whose time has come but could not be checked (its step not run): look again.
    return wake(options_.yield, &ScenarioRun::tick);
  }
  const bool open = windowOpen(now);
  if (clock_ == ClockKind::Running) {
    auto realWait = std::chrono::duration_cast<steady_clock::duration>(
        std::chrono::duration<double, std::micro>(static_cast<double>((*target - now).count()) / scale_));
    if (open) realWait = std::min<steady_clock::duration>(realWait, options_.poll);
    return wake(realWait + std::chrono::microseconds(1), &ScenarioRun::tick);
  }
  if (open) {
    // Stop at each firmware timer while a window is open: what a timer does is checked at its own time.
    auto reading = readClock();
    if (!reading) return finish(RunState::Error, reading.error().message);
    if (reading->nextTimer && now + *reading->nextTimer < *target) target = now + *reading->nextTimer;
  }
  if (++clockSteps_ > options_.maxClockSteps)
    return finish(RunState::Error, "stopped after " + std::to_string(options_.maxClockSteps) +
                                       " moves of the clock (timers keep firing within the windows)");
  RouteCall advance{"POST", "/clock/advance", {{"seconds", decimalSeconds(*target - now)}}, {}};
  auto answer = call_(advance.method, targetOf(options_.routePrefix, advance), "");
  if (answer.status != 200)
    return finish(RunState::Error, "the clock did not move: POST /clock/advance answered " +
                                       std::to_string(answer.status) + ": " + errorText(answer));
  boost::asio::post(io_, [self = shared_from_this()] { self->tick(); });
}

void ScenarioRun::wake(steady_clock::duration after, void (ScenarioRun::*next)()) {
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this(), next](boost::system::error_code ec) {
    if (!ec) ((*self).*next)();
  });
}

void ScenarioRun::finish(RunState state, std::string error) {
  if (state_ != RunState::Running) return;
  auto self = shared_from_this();  // `finished` may drop the last other owner
  state_ = state;
  error_ = std::move(error);
  realEnd_ = steady_clock::now();
  timer_.cancel();
  for (auto& s : steps_)
    if (s.state == ItemState::Pending) s.state = ItemState::Skipped;
  for (auto& e : expectations_)
    if (e.state == ItemState::Pending) e.state = ItemState::Skipped;
  if (finished_) finished_(*this);
}

// ---- reports

namespace {
const char* itemName(int state) {
  static const char* const names[] = {"pending", "done", "passed", "failed", "not run"};
  return names[state];
}
}  // namespace

json::object ScenarioRun::report() const {
  json::object o;
  o["id"] = options_.id;
  o["name"] = scenario_.name;
  if (!scenario_.description.empty()) o["description"] = scenario_.description;
  o["device"] = options_.device;
  o["state"] = toString(state_);
  if (!error_.empty()) o["error"] = error_;
  o["clock"] = clockMode_;
  o["firmware_seconds"] = seconds(now_);
  const auto realEnd = state_ == RunState::Running ? steady_clock::now() : realEnd_;
  o["real_seconds"] = realStart_ == steady_clock::time_point{} ? 0.0 : std::chrono::duration<double>(realEnd - realStart_).count();
  o["clock_moves"] = clockSteps_;
  json::array steps;
  for (std::size_t i = 0; i < scenario_.steps.size(); ++i) {
    const auto& step = scenario_.steps[i];
    const auto& r = steps_[i];
    json::object s{{"number", step.number}, {"name", step.name}, {"at", formatOffset(step.at)},
                   {"at_seconds", seconds(step.at)}, {"state", itemName(static_cast<int>(r.state))},
                   {"line", step.mark.line}};
    if (step.kind == Step::Kind::Wait) s["wait"] = true;
    else s["do"] = step.call.label();
    if (step.kind == Step::Kind::Action && (r.state == ItemState::Done || r.state == ItemState::Failed)) {
      s["ran_at_seconds"] = seconds(r.ranAt);
      s["status"] = r.status;
      s["answer"] = r.answer;
    }
    if (!r.error.empty()) s["error"] = r.error;
    steps.push_back(std::move(s));
  }
  o["steps"] = std::move(steps);
  json::array expectations;
  std::size_t passed = 0, failed = 0;
  for (std::size_t i = 0; i < scenario_.expectations.size(); ++i) {
    const auto& e = scenario_.expectations[i];
    const auto& r = expectations_[i];
    passed += r.state == ItemState::Passed;
    failed += r.state == ItemState::Failed;
    const auto anchor = actual(e.anchor, e.segment).value_or(e.anchor);
    json::object x{{"number", e.number}, {"name", e.name}, {"get", e.query.path}, {"path", e.path.text()},
                   {"check", e.check.describe()}, {"window", e.gate ? "wait_until" : windowName(e.window)},
                   {"from_seconds", seconds(anchor)}, {"to_seconds", seconds(anchor + e.span)},
                   {"after_step", e.afterStep}, {"state", itemName(static_cast<int>(r.state))},
                   {"checks", r.checks}, {"line", e.mark.line}};
    if (r.state == ItemState::Passed || r.state == ItemState::Failed) x["resolved_at_seconds"] = seconds(r.resolvedAt);
    if (r.checks > 0) x["actual"] = r.actual;
    if (!r.why.empty()) x["why"] = r.why;
    expectations.push_back(std::move(x));
  }
  o["expectations"] = std::move(expectations);
  o["passed"] = passed;
  o["failed"] = failed;
  o["summary"] = summary();
  return o;
}

std::string ScenarioRun::summary() const {
  std::size_t passed = 0;
  for (const auto& r : expectations_) passed += r.state == ItemState::Passed;
  const auto realEnd = state_ == RunState::Running ? steady_clock::now() : realEnd_;
  char times[96];
  std::snprintf(times, sizeof times, "%.6g s of firmware time on the %s clock in %.2f s", seconds(now_), clockMode_.c_str(),
                std::chrono::duration<double>(realEnd - realStart_).count());
  std::string line = "'" + scenario_.name + "' " + toString(state_) + ": " + std::to_string(passed) + "/" +
                     std::to_string(expectations_.size()) + " expectations passed (" + times + ")";
  if (!error_.empty()) line += ": " + error_;
  return line;
}

std::vector<std::string> ScenarioRun::failures() const {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < expectations_.size(); ++i)
    if (expectations_[i].state == ItemState::Failed)
      lines.push_back("expectation " + std::to_string(scenario_.expectations[i].number) + " '" +
                      scenario_.expectations[i].name + "': " + expectations_[i].why);
  return lines;
}

}  // namespace mesim::qa
