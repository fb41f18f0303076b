#include <boost/asio/post.hpp>

#include "hostif/link/link.h"

namespace mesim::link {
namespace {

// Each side posts frames to the peer's handler, so a send never re-enters the sender.
class InProcessEndpoint : public Endpoint, public std::enable_shared_from_this<InProcessEndpoint> {
 public:
  explicit InProcessEndpoint(boost::asio::io_context& io) : io_(io) {}
  void setPeer(std::weak_ptr<InProcessEndpoint> peer) { peer_ = std::move(peer); }

  void send(hbm::Frame frame) override {
    boost::asio::post(io_, [peer = peer_, frame = std::move(frame)]() mutable {
      if (auto p = peer.lock(); p && p->handler_ && !p->closed_) p->handler_(std::move(frame));
    });
  }
  void onFrame(FrameHandler handler) override { handler_ = std::move(handler); }
  void onDown(DownHandler) override {}
  void close() override { closed_ = true; }

 private:
  boost::asio::io_context& io_;
  std::weak_ptr<InProcessEndpoint> peer_;
  FrameHandler handler_;
  bool closed_ = false;
};

}  // namespace

InProcessLink makeInProcessLink(boost::asio::io_context& io) {
  auto host = std::make_shared<InProcessEndpoint>(io);
  auto firmware = std::make_shared<InProcessEndpoint>(io);
  host->setPeer(firmware);
  firmware->setPeer(host);
  return {host, firmware};
}

}  // namespace mesim::link
