#include "wsman/http/tcp_listener.h"

namespace mesim::wsman::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<> openListener(tcp::acceptor& acceptor, const asio::ip::address& address, int port, const std::string& what) {
  if (port < 0 || port > 65535) return fail(what + " port " + std::to_string(port) + " is out of range");
  boost::system::error_code ec;
  const tcp::endpoint endpoint(address, static_cast<std::uint16_t>(port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return fail(what + " cannot listen on " + address.to_string() + ":" + std::to_string(port) + ": " + ec.message());
  }
  return {};
}

std::uint16_t boundPort(const tcp::acceptor& acceptor) {
  if (!acceptor.is_open()) return 0;
  boost::system::error_code ec;
  const auto endpoint = acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

std::string peerAddress(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return {};
  auto address = peer.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  return address.to_string();
}

}  // namespace mesim::wsman::http
