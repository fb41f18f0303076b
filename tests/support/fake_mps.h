// A scripted Management Presence Server for CIRA tests (spec/apf.md §3, cira.md §2): TLS on a loopback port with a
// certificate for mps.mesim.test from a test root made at run time; it admits as MeshCentral does (SERVICE_ACCEPT,
// USERAUTH against one password, REQUEST_SUCCESS per tcpip-forward, KEEPALIVE_OPTIONS_REQUEST after 5900, keep-alive
// echo) and records every message. Runs on the io_context it is given; not thread-safe.
#pragma once

#include <fcntl.h>
#include <openssl/pem.h>

#include <array>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "firmware/lme/apf_codec.h"
#include "tests/support/provisioning_pki.h"

namespace mesim::test {

namespace fake_mps_detail {
namespace asio = boost::asio;
namespace apf = lme::apf;
using asio::ip::tcp;
using hbm::Bytes;
using hbm::ByteView;

inline std::string pemOf(const test::Cert& cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return pem;
}
inline std::string keyPemOf(const test::Pkey& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return pem;
}

// A root and an MPS certificate for `cn`, made once per test binary (RSA keys take a while).
struct MpsPki {
  test::Pkey rootKey = test::makeRsaKey(2048);
  test::Cert root;
  test::Pkey serverKey = test::makeRsaKey(2048);
  test::Cert server;
  test::Pkey otherKey = test::makeRsaKey(2048);
  test::Cert otherRoot;
  MpsPki() {
    const std::int64_t now = std::time(nullptr);
    auto spec = [now](std::string cn, bool ca, long serial) {
      test::CertSpec s;
      s.commonName = std::move(cn);
      s.isCa = ca;
      if (!ca) s.dnsNames = {s.commonName};
      s.notBefore = now - 86400;
      s.notAfter = now + 86400 * 365;
      s.serial = serial;
      return s;
    };
    root = test::makeCert(spec("mps root", true, 1), rootKey, nullptr, rootKey);
    server = test::makeCert(spec("mps.mesim.test", false, 2), serverKey, root, rootKey);
    otherRoot = test::makeCert(spec("other root", true, 3), otherKey, nullptr, otherKey);
  }
};
inline MpsPki& mpsPki() {
  static MpsPki p;
  return p;
}

// An MPS that admits as MeshCentral does (cira.md §2) and records what the device sent.
class FakeMps {
 public:
  explicit FakeMps(asio::io_context& io) : io_(io), tls_(asio::ssl::context::tls_server), acceptor_(io) {
    tls_.use_certificate_chain(asio::buffer(pemOf(mpsPki().server)));
    tls_.use_private_key(asio::buffer(keyPemOf(mpsPki().serverKey)), asio::ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    // A daemon the test forks must not inherit the listener: closing it here would not close the port.
    ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
    port_ = acceptor_.local_endpoint().port();
    accept();
  }
  std::uint16_t port() const { return port_; }  // also after close()
  void close() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    if (stream_) stream_->next_layer().close(ignored);
  }
  void dropConnection() {
    boost::system::error_code ignored;
    if (stream_) stream_->next_layer().close(ignored);
  }

  std::string password = "P@ssw0rd";
  bool keepaliveOptionsAfter5900 = true;
  bool answerKeepalives = true;
  bool openChannelAtLogin = false;  // a CHANNEL_OPEN right after USERAUTH_SUCCESS, ahead of the pfwd SERVICE_ACCEPT
  // TCP_NODELAY on the next connection: each message is a write of its own, so without it a message after a small
  // one waits for the device's delayed ACK (40 ms), and timing-sensitive tests depend on Nagle.
  bool noDelay = true;
  std::vector<apf::Message> received;
  std::vector<std::uint32_t> forwards;
  int connections = 0;
  std::string channelData;  // what came back on every channel
  std::map<std::uint32_t, std::string> dataByChannel;  // by the MPS's channel id

  // One write at a time on the TLS stream, in order.
  void send(const apf::Message& m) {
    queue_.push_back(apf::encode(m));
    if (queue_.size() == 1) writeNext(stream_);
  }
  template <class T>
  const T* last() const {
    for (auto it = received.rbegin(); it != received.rend(); ++it)
      if (auto* m = std::get_if<T>(&*it)) return m;
    return nullptr;
  }
  template <class T>
  int count() const {
    int n = 0;
    for (const auto& m : received) n += std::holds_alternative<T>(m) ? 1 : 0;
    return n;
  }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      ++connections;
      boost::system::error_code ignored;
      if (noDelay) socket.set_option(tcp::no_delay(true), ignored);
      received.clear();
      forwards.clear();
      inbox_.clear();
      queue_.clear();
      stream_ = std::make_shared<asio::ssl::stream<tcp::socket>>(std::move(socket), tls_);
      auto stream = stream_;
      stream->async_handshake(asio::ssl::stream_base::server, [this, stream](boost::system::error_code e) {
        if (!e) read(stream);
      });
      accept();
    });
  }
  void writeNext(std::shared_ptr<asio::ssl::stream<tcp::socket>> stream) {
    if (queue_.empty() || !stream) return;
    asio::async_write(*stream, asio::buffer(queue_.front()), [this, stream](boost::system::error_code ec, std::size_t) {
      if (ec || stream != stream_) return;
      queue_.pop_front();
      writeNext(stream);
    });
  }
  void read(std::shared_ptr<asio::ssl::stream<tcp::socket>> stream) {
    stream->async_read_some(asio::buffer(buffer_), [this, stream](boost::system::error_code ec, std::size_t n) {
      if (ec || stream != stream_) return;
      inbox_.insert(inbox_.end(), buffer_.begin(), buffer_.begin() + static_cast<long>(n));
      for (;;) {
        auto length = apf::frameLength(ByteView(inbox_.data(), inbox_.size()));
        if (!length || *length == 0 || *length > inbox_.size()) break;
        auto decoded = apf::decode(ByteView(inbox_.data(), *length));
        inbox_.erase(inbox_.begin(), inbox_.begin() + static_cast<long>(*length));
        if (decoded.message) handle(*decoded.message);
      }
      read(stream);
    });
  }
  void handle(const apf::Message& m) {
    received.push_back(m);
    if (auto* s = std::get_if<apf::ServiceRequest>(&m)) send(apf::ServiceAccept{s->service});
    if (auto* u = std::get_if<apf::UserauthRequest>(&m)) {
      if (u->password == password) {
        send(apf::UserauthSuccess{});
        // MeshCentral's AMT manager opens its first channel 300 ms after the login, pfwd or not (cira.md §2).
        if (openChannelAtLogin)
          send(apf::ChannelOpen{"forwarded-tcpip", 4, 32768, apf::kReservedMaxPacket, "", 16992, "1.2.3.4", 1024});
      }
      else send(apf::UserauthFailure{"password", false});
    }
    if (auto* g = std::get_if<apf::GlobalRequest>(&m)) {
      if (auto* f = std::get_if<apf::TcpipForward>(&g->data)) {
        forwards.push_back(f->port);
        send(apf::RequestSuccess{f->port});
        if (f->port == 5900 && keepaliveOptionsAfter5900) send(apf::KeepaliveOptionsRequest{5, 0});
      }
    }
    if (auto* k = std::get_if<apf::KeepaliveRequest>(&m); k && answerKeepalives) send(apf::KeepaliveReply{k->cookie});
    if (auto* d = std::get_if<apf::ChannelData>(&m)) {
      channelData.append(d->data.begin(), d->data.end());
      dataByChannel[d->recipientChannel].append(d->data.begin(), d->data.end());
    }
  }

  asio::io_context& io_;
  asio::ssl::context tls_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::shared_ptr<asio::ssl::stream<tcp::socket>> stream_;
  std::array<std::uint8_t, 16384> buffer_{};
  Bytes inbox_;
  std::deque<Bytes> queue_;
};

}  // namespace fake_mps_detail

using fake_mps_detail::FakeMps;
using fake_mps_detail::mpsPki;
using fake_mps_detail::MpsPki;
using fake_mps_detail::pemOf;

}  // namespace mesim::test
