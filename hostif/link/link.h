// The HBM link: the only bridge between the host side and the firmware side (docs/hbm-link.md).
// An endpoint carries fragments (Frame) both ways. Handlers run on the endpoint's io_context.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "hostif/link/hbm_wire.h"

namespace mesim::link {

class Endpoint {
 public:
  using FrameHandler = std::function<void(hbm::Frame)>;
  using DownHandler = std::function<void()>;

  virtual ~Endpoint() = default;
  // Queues a fragment for the peer. Never blocks; never calls back synchronously.
  virtual void send(hbm::Frame frame) = 0;
  // Every received fragment, in order, posted on the endpoint's executor.
  virtual void onFrame(FrameHandler handler) = 0;
  // The peer went away (socket closed). In-process links never go down.
  virtual void onDown(DownHandler handler) = 0;
  virtual void close() = 0;
};

// Two endpoints joined in memory on one io_context: [0] is the host side, [1] the firmware side.
struct InProcessLink {
  std::shared_ptr<Endpoint> host;
  std::shared_ptr<Endpoint> firmware;
};
InProcessLink makeInProcessLink(boost::asio::io_context& io);

}  // namespace mesim::link
