#include "app/control_routes.h"

#include <boost/json/serialize.hpp>

#include "app/device.h"
#include "common/text_codecs.h"

namespace mesim::app {

ControlResponse jsonResponse(unsigned status, const boost::json::value& body) {
  return {status, "application/json", boost::json::serialize(body) + "\n"};
}

ControlResponse jsonError(unsigned status, const std::string& why) {
  return jsonResponse(status, boost::json::object{{"error", text::toValidUtf8(why)}});
}

std::optional<std::string> ControlRequest::param(std::string_view name) const {
  for (auto p : params)
    if (p.key == name) return std::string(p.value);
  return std::nullopt;
}

std::optional<std::string> ControlRequest::unknownParam(const std::vector<std::string_view>& known) const {
  for (auto p : params) {
    bool isKnown = false;
    for (auto k : known) isKnown = isKnown || p.key == k;
    if (!isKnown) return std::string(p.key);
  }
  return std::nullopt;
}

void ControlRoutes::add(std::string method, std::string pattern, std::string summary, Handler handler,
                        bool needsStarted) {
  routes_.push_back({std::move(method), std::move(pattern), std::move(summary), needsStarted, std::move(handler)});
}

bool ControlRoutes::matches(const std::string& pattern, const std::vector<std::string>& path,
                            std::map<std::string, std::string>* args) {
  std::vector<std::string> parts;
  std::size_t start = 1;  // patterns begin with '/'
  while (start <= pattern.size()) {
    auto end = pattern.find('/', start);
    if (end == std::string::npos) end = pattern.size();
    parts.push_back(pattern.substr(start, end - start));
    start = end + 1;
  }
  if (parts.size() != path.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& part = parts[i];
    if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
      if (path[i].empty()) return false;
      if (args) (*args)[part.substr(1, part.size() - 2)] = path[i];
    } else if (part != path[i]) {
      return false;
    }
  }
  return true;
}

ControlResponse ControlRoutes::dispatch(Device& device, const std::vector<std::string>& path,
                                        ControlRequest request) const {
  std::string allowed;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> args;
    if (!matches(route.pattern, path, &args)) continue;
    const bool sameMethod = route.method == request.method || (route.method == "GET" && request.method == "HEAD");
    if (!sameMethod) {
      allowed += (allowed.empty() ? "" : ", ") + route.method;
      continue;
    }
    if (route.needsStarted && !device.started())
      return jsonError(409, "device " + device.name() + " is still starting");
    request.pathArgs = std::move(args);
    auto response = route.handler(device, request);
    // Every fault route is counted for the metrics by its pattern: one rule instead of a line in each route.
    constexpr std::string_view kFaults = "/faults/";
    if (route.method == "POST" && route.pattern.starts_with(kFaults) && response.status / 100 == 2)
      device.countFault(std::string_view(route.pattern).substr(kFaults.size()));
    return response;
  }
  if (!allowed.empty()) {
    auto response = jsonError(405, request.method + " is not allowed here (allowed: " + allowed + ")");
    response.allow = allowed;
    return response;
  }
  return jsonError(404, "no such endpoint");
}

}  // namespace mesim::app
