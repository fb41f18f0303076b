// What every network listener of a device does alike (WS-Man 16992/16993, redirection 16994/16995): open a
// listening socket, tell the port it got (0 asks for a free one), and name a client's address as AMT logs it.
#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "common/result.h"

namespace mesim::wsman::http {

// Opens, binds (with SO_REUSEADDR) and listens; on failure the acceptor is closed and the error names `what`
// (e.g. "WS-Man HTTPS"), the address and the port.
Result<> openListener(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::ip::address& address, int port,
                      const std::string& what);
// The port it listens on; 0 when it is not open.
std::uint16_t boundPort(const boost::asio::ip::tcp::acceptor& acceptor);
// The peer's address, an IPv4-mapped IPv6 one as plain IPv4; empty when the socket is already gone.
std::string peerAddress(const boost::asio::ip::tcp::socket& socket);

}  // namespace mesim::wsman::http
