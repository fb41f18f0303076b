// The control API's routes, one table: each feature registers its routes (method, path pattern, a one-line summary,
// a handler on a Device) in a file of its own, and the process shell dispatches. The table is also what
// docs/control-api.md is checked against (tests/unit/control_routes_test.cpp) and what `mesimctl routes` lists.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>
#include <boost/url/params_view.hpp>

#include "app/control_server.h"

namespace mesim::app {

class Device;

ControlResponse jsonResponse(unsigned status, const boost::json::value& body);
// `why` may quote what a client sent: it is made valid UTF-8 so that the answer stays JSON.
ControlResponse jsonError(unsigned status, const std::string& why);

struct ControlRequest {
  std::string method;
  boost::urls::params_view params;             // the query, form-decoded ('+' is a space)
  std::string body;
  std::map<std::string, std::string> pathArgs;  // {name} segments of the route's pattern

  // The first query parameter `name`, if present.
  std::optional<std::string> param(std::string_view name) const;
  // Names of query parameters not in `known`: for "unknown parameter" answers.
  std::optional<std::string> unknownParam(const std::vector<std::string_view>& known) const;
};

class ControlRoutes {
 public:
  using Handler = std::function<ControlResponse(Device&, const ControlRequest&)>;
  struct Route {
    std::string method;   // GET, POST, PUT, DELETE
    std::string pattern;  // "/clock/advance", "/subscriptions/{id}"
    std::string summary;  // one line, for `mesimctl routes` and the docs check
    bool needsStarted;    // answered 409 while the device's state is still being opened
    Handler handler;
  };

  void add(std::string method, std::string pattern, std::string summary, Handler handler, bool needsStarted = true);
  // The route for `path` (segments after any /devices/NAME prefix): 404 when no pattern matches, 405 (with Allow)
  // when only other methods do, 409 when the device is not started and the route needs it.
  ControlResponse dispatch(Device& device, const std::vector<std::string>& path, ControlRequest request) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  static bool matches(const std::string& pattern, const std::vector<std::string>& path,
                      std::map<std::string, std::string>* args);
  std::vector<Route> routes_;
};

}  // namespace mesim::app
