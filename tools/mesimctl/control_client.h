// One HTTP/1.1 exchange with the control API (plain HTTP on loopback or a container's port): what mesimctl sends
// for every command. Synchronous: a command is one or a few requests in a row.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace mesim::ctl {

struct ControlAnswer {
  unsigned status = 0;
  std::string contentType;
  std::string body;
};

class ControlClient {
 public:
  // `baseUrl`: http://HOST:PORT (a path prefix is kept: http://h:p/devices/NAME works too).
  static Result<ControlClient> create(const std::string& baseUrl, std::chrono::milliseconds timeout);

  // `path` starts with '/'; `query` pairs are percent-encoded here. An error only when no answer came (refused,
  // timed out, not HTTP); a 4xx or 5xx is an answer.
  Result<ControlAnswer> request(const std::string& method, const std::string& path,
                                const std::vector<std::pair<std::string, std::string>>& query = {},
                                const std::string& body = {}, const std::string& contentType = {}) const;

  const std::string& baseUrl() const { return baseUrl_; }

 private:
  ControlClient(std::string baseUrl, std::string host, std::string port, std::string prefix,
                std::chrono::milliseconds timeout)
      : baseUrl_(std::move(baseUrl)), host_(std::move(host)), port_(std::move(port)), prefix_(std::move(prefix)),
        timeout_(timeout) {}

  std::string baseUrl_, host_, port_, prefix_;
  std::chrono::milliseconds timeout_;
};

}  // namespace mesim::ctl
