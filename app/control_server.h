// The control API on 127.0.0.1:16990 (plain HTTP/1.1): health, status and fault injection for QA.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/result.h"

namespace mesim::app {

struct ControlResponse {
  unsigned status = 200;
  std::string contentType = "application/json";
  std::string body;
};

class ControlServer {
 public:
  // method, target, body -> response; runs on the io_context thread.
  using Handler = std::function<ControlResponse(const std::string& method, const std::string& target, const std::string& body)>;

  ControlServer(boost::asio::io_context& io, Handler handler);
  ~ControlServer();
  // An error says why the port could not be bound.
  Result<> start(const std::string& address, std::uint16_t port);
  void stop();
  std::uint16_t port() const;

 private:
  class Session;
  void accept();

  boost::asio::io_context& io_;
  Handler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace mesim::app
