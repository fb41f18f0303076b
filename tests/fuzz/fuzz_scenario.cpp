// Arbitrary text into the scenario parser (qa/scenario_parser.h), as POST /scenarios and --scenario take it: it
// either fails with a message or yields a scenario whose steps are in time order, whose calls are routes, and
// whose every expectation can be judged against an answer without crashing. The text is also tried as a JSON
// path (qa/json_check.h), which expectations carry.
#include <cstdlib>
#include <string_view>

#include <boost/json/parse.hpp>

#include "qa/json_check.h"
#include "qa/scenario_parser.h"
#include "qa/scenario_run.h"

namespace {

const boost::json::value& answer() {
  static const boost::json::value doc = boost::json::parse(R"({"events": {"raised": 1, "subscriptions": [
      {"id": 1, "notify_to": "http://127.0.0.1:8080/a", "delivered": 1, "delivered_by_message": {"iAMT0005": 1}}]},
      "records": [{"event_id": 1600, "text": "login"}], "power_state": 8, "name": "x", "ok": true, "none": null})");
  return doc;
}

void mustHold(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mesim::qa;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto path = JsonPath::parse(text)) (void)path->find(answer());

  SourceMark at;
  auto scenario = parseScenario(text, &at);
  if (!scenario) {
    mustHold(!scenario.error().message.empty());
    return 0;
  }
  mustHold(!scenario->name.empty());
  Offset previous{};
  for (const auto& step : scenario->steps) {
    mustHold(step.at >= previous);
    previous = step.at;
    if (step.kind == Step::Kind::Action) {
      mustHold(!step.call.path.empty() && step.call.path.front() == '/');
      mustHold(targetOf("/devices/d", step.call).rfind("/devices/d/", 0) == 0);
    }
  }
  for (const auto& e : scenario->expectations) {
    mustHold(e.deadline() >= e.anchor);
    mustHold(e.query.method == "GET");
    (void)judge(e.check, e.path.find(answer()));
    (void)e.check.describe();
  }
  return 0;
}
