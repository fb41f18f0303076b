// The HBM link over a Unix stream socket, for an external host driver (docs/hbm-link.md).
// Framing: each fragment is its 4-byte little-endian mei_msg_hdr followed by `length` payload bytes.
#pragma once

#include <memory>

#include <boost/asio/local/stream_protocol.hpp>

#include "common/log.h"
#include "hostif/link/link.h"

namespace mesim::link {

// Wraps a connected socket. Malformed framing cannot occur (the header carries the length),
// so the only failure is the socket closing, reported through onDown. `log`: the device its lines name.
std::shared_ptr<Endpoint> makeSocketEndpoint(boost::asio::local::stream_protocol::socket socket, log::Context log = {});

}  // namespace mesim::link
