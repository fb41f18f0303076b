// Arbitrary request targets into the control API's query decoding and the fault and log-read parameter parsers
// (app/fault_params.h): no crash, and every answer either a value within the documented limits or an error with a
// message that is valid UTF-8 once jsonError has made it so.
#include <cstdlib>
#include <string>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "app/fault_params.h"
#include "common/text_codecs.h"

namespace {

template <class T>
void check(const mesim::Result<T>& result) {
  if (!result && result.error().message.empty()) std::abort();  // every refusal says why
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mesim;
  const std::string target = "/faults?" + std::string(reinterpret_cast<const char*>(data), size);
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return 0;
  boost::urls::url_view url = *parsed;
  // As the process shell decodes queries: form style, '+' is a space.
  app::ControlRequest request{"POST", url.params(boost::urls::encoding_opts(true, false, false)), "", {}};
  check(app::parseClientChoice(request));
  auto hbm = app::parseHbmFault(request);
  check(hbm);
  if (hbm && (hbm->fault.count == 0 || hbm->fault.delay.count() > 600'000)) std::abort();
  const hbm::ReadyInfo healthy = firmware::HbmEngineOptions{}.registers;
  check(app::parseFwStatus(request, healthy, healthy));
  auto rule = app::parseWsmanFault(request);
  check(rule);
  if (rule && rule->action == wsman::ops::WsmanFaultRule::Action::HttpStatus &&
      (rule->httpStatus < 400 || rule->httpStatus > 599))
    std::abort();
  auto outage = app::parseOutage(request);
  check(outage);
  if (outage && outage->subscription.has_value() == !outage->address.empty()) std::abort();
  auto logs = app::parseLogQuery(request);
  check(logs);
  return 0;
}
