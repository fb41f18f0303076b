// Arbitrary bodies of the web UI's POST forms (wsman/webui) into WebUi over a real platform model and class
// registry: the first byte picks the form and whether the body carries a token the UI just handed out (so the
// fields behind the CSRF check are reached), the rest is the urlencoded body. parseForm itself is checked on every
// input: a form it accepts is bounded and UTF-8. Every answer is 200 or 303 (303 only to a page of the UI), never a
// crash, and pages never carry an unescaped field.
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/text_codecs.h"
#include "firmware/platform/host_power.h"
#include "tests/fuzz/fuzz_platform.h"
#include "wsman/cim/class_registry.h"
#include "wsman/webui/form_data.h"
#include "wsman/webui/web_ui.h"

namespace {

struct Fixture : mesim::test::FuzzPlatform {
  Fixture() : FuzzPlatform("fuzz-webui") {
    power = std::make_unique<mesim::platform::HostPowerStateMachine>(*platform, clock);
    ui = std::make_unique<mesim::wsman::webui::WebUi>(*platform, clock, *power, registry);
  }
  mesim::core::ManualFirmwareClock clock{mesim::core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  mesim::wsman::cim::ClassRegistry registry = mesim::wsman::cim::makeAmtClassRegistry();
  std::unique_ptr<mesim::platform::HostPowerStateMachine> power;
  std::unique_ptr<mesim::wsman::webui::WebUi> ui;
};

std::string tokenOn(const std::string& page) {
  const std::string marker = "name=\"t\" value=\"";
  const auto at = page.find(marker);
  if (at == std::string::npos) return {};
  return page.substr(at + marker.size(), 32);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  if (auto form = mesim::wsman::webui::parseForm(body)) {
    if (form->fields.size() > mesim::wsman::webui::kMaxFormFields) std::abort();
    for (const auto& [name, value] : form->fields)
      if (name.empty() || !mesim::text::isValidUtf8(name) || !mesim::text::isValidUtf8(value)) std::abort();
  }

  static constexpr const char* kForms[][2] = {{"/remoteform", "/remote.htm"},
                                              {"/fqdnform", "/fqdn.htm"},
                                              {"/user.htm", "/acl.htm"},
                                              {"/userform", "/acl.htm"}};
  const auto& [formPath, pagePath] = kForms[data[0] % 4];
  mesim::wsman::http::WebRequest request;
  request.user = "admin";
  request.peerAddress = "127.0.0.1";
  std::string prefix;
  if (data[0] & 0x80) {  // with a token of the page that carries the form
    request.method = "GET";
    request.path = request.target = pagePath;
    prefix = "t=" + tokenOn(fixture.ui->handle(request).body) + "&";
  }
  request.method = "POST";
  request.path = request.target = formPath;
  request.contentType = "application/x-www-form-urlencoded";
  request.body = prefix + std::string(body);
  const auto answer = fixture.ui->handle(request);
  if (answer.status != 200 && answer.status != 303) std::abort();
  if (answer.status == 303) {
    bool local = false;
    for (const auto& [name, value] : answer.headers)
      if (name == "Location" && value.starts_with("/")) local = true;
    if (!local) std::abort();
  }
  // Whatever came in a field is shown escaped: no page holds a tag the fuzzer wrote.
  if (answer.body.find("<fuzz") != std::string::npos) std::abort();
  // Keep the host on, so power commands keep being tried from the same state.
  if (fixture.power->state() != mesim::platform::power::kOn) fixture.power->hostChange(mesim::platform::power::kOn);
  return 0;
}
