// AMT's built-in web UI on 16992/16993 (AMT 11-16; spec features.md §5), over the same platform model as WS-Man:
// GET / -> 303 /logon.htm; logon.htm, styles.css and the images are public; every other page is behind the HTTP
// layer's Digest login and needs a realm of its caller (wsman/cim/realms.h), else 403. Pages read the state and the
// inventory classes through the class registry (the same instances WS-Man serves); forms (urlencoded POSTs with a
// single-use CSRF token `t`) change it through the same code WS-Man runs: the host power state machine
// (/remoteform), AMT_GeneralSettings' Put (/fqdnform), AMT_AuthorizationService's ACL methods (/userform).
// A form with a missing or bad token is answered 303 to /invreq.htm. Runs on the device's loop.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "firmware/core/firmware_clock.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_model.h"
#include "wsman/cim/class_def.h"
#include "wsman/cim/class_registry.h"
#include "wsman/http/web_service.h"
#include "wsman/webui/csrf_tokens.h"
#include "wsman/webui/form_data.h"

namespace mesim::wsman::webui {

class AmtStorage;

struct WebUiStats {
  std::uint64_t pages = 0;          // pages answered 200
  std::uint64_t forms = 0;          // form POSTs carried out
  std::uint64_t invalidForms = 0;   // refused: token missing, used or not the caller's, or a malformed body
  std::uint64_t forbidden = 0;      // 403: the caller lacks the page's realm
  std::uint64_t notFound = 0;
};

class WebUi {
 public:
  WebUi(platform::PlatformModel& platform, const core::FirmwareClock& clock, platform::HostPowerStateMachine& power,
        const cim::ClassRegistry& registry);

  // The /amt-storage/ API and its stored pages (a root index.htm or logon.htm, links.htm); may stay unset.
  void setStorage(AmtStorage* storage) { storage_ = storage; }
  // The host's hardware model (docs/hardware.md): the hardware pages read the classes over it; may stay unset.
  void setHardware(platform::HardwareModel* hardware) { hardware_ = hardware; }

  // Served without Digest: the logon page and what it shows, and "/" (a redirect).
  bool isPublic(std::string_view method, std::string_view path) const;
  http::WebResponse handle(const http::WebRequest& request);
  // The pair the HTTP layer takes (WsmanHttpServer::setWebService).
  http::WebService service();

  const WebUiStats& stats() const { return stats_; }
  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  struct Caller;
  http::WebResponse page(const Caller& caller, std::string_view path);
  http::WebResponse form(const Caller& caller, std::string_view path, const http::WebRequest& request);
  std::string statusPage();
  std::string hardwarePage(const Caller& caller, std::string_view path);
  std::string eventsPage();
  std::string remotePage(const Caller& caller, std::string_view message);
  std::string powerPage();
  std::string ipPage();
  std::string ipv6Page();
  std::string wlanPage();
  std::string fqdnPage(const Caller& caller, std::string_view message);
  std::string aclPage(const Caller& caller, std::string_view message, bool error = true);
  std::string linksPage();
  http::WebResponse remoteForm(const Caller& caller, const FormData& form);
  http::WebResponse fqdnForm(const Caller& caller, const FormData& form);
  http::WebResponse userPage(const Caller& caller, const FormData& form);
  http::WebResponse userForm(const Caller& caller, const FormData& form);
  http::WebResponse framed(std::string_view path, std::string main);
  cim::CimContext context(const Caller& caller);
  std::string computerName() const;

  platform::PlatformModel& platform_;
  const core::FirmwareClock& clock_;
  platform::HostPowerStateMachine& power_;
  const cim::ClassRegistry& registry_;
  cim::CimRuntime runtime_;  // the registry's providers want one; the pages only read
  CsrfTokens tokens_;
  AmtStorage* storage_ = nullptr;
  platform::HardwareModel* hardware_ = nullptr;
  WebUiStats stats_;
};

}  // namespace mesim::wsman::webui
