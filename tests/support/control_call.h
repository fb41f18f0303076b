// One request with a body to the control API of a daemon under test, as mesimctl sends it: the HttpCall of qa's
// scenario client (qa/scenario_client.h), so tests run scenarios exactly as `mesimctl scenario run` does.
#pragma once

#include <string>

#include "common/result.h"
#include "qa/scenario_client.h"
#include "tests/support/daemon_process.h"

namespace mesim::test {

inline Result<qa::HttpAnswer> controlCall(std::uint16_t port, const std::string& method, const std::string& target,
                                          const std::string& body) {
  int fd = connectLoopback(port);
  if (fd < 0) return fail("cannot connect to the control port");
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return fail("cannot send the request");
  }
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  auto bodyAt = response.find("\r\n\r\n");
  if (response.size() < 12 || bodyAt == std::string::npos) return fail("no HTTP answer");
  return qa::HttpAnswer{static_cast<unsigned>(std::stoi(response.substr(9, 3))), response.substr(bodyAt + 4)};
}

}  // namespace mesim::test
