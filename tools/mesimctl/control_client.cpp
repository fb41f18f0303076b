#include "tools/mesimctl/control_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace mesim::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

Result<ControlClient> ControlClient::create(const std::string& baseUrl, std::chrono::milliseconds timeout) {
  auto parsed = boost::urls::parse_uri(baseUrl);
  if (!parsed) return fail("'" + baseUrl + "' is not a URL (expected http://HOST:PORT)");
  if (parsed->scheme() != "http") return fail("'" + baseUrl + "': the control API speaks plain http://");
  if (parsed->host().empty()) return fail("'" + baseUrl + "' names no host");
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "16990";
  std::string prefix(parsed->encoded_path());
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string host(parsed->encoded_host_address());
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);  // [::1]
  return ControlClient(baseUrl, std::move(host), std::move(port), std::move(prefix), timeout);
}

Result<ControlAnswer> ControlClient::request(const std::string& method, const std::string& path,
                                             const std::vector<std::pair<std::string, std::string>>& query,
                                             const std::string& body, const std::string& contentType) const {
  boost::urls::url target;
  target.set_path(prefix_ + path);
  for (const auto& [name, value] : query) target.params().append({name, value});
  const auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) return fail("unknown HTTP method " + method);

  asio::io_context io;
  beast::tcp_stream stream(io);
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host_, port_, ec);
  if (ec) return fail("cannot resolve " + host_ + ": " + ec.message());
  stream.expires_after(timeout_);
  stream.connect(endpoints, ec);
  if (ec) return fail("cannot reach the control API at " + baseUrl_ + ": " + ec.message() + " (is mesim running?)");

  http::request<http::string_body> req(verb, std::string(target.encoded_resource()), 11);
  req.set(http::field::host, host_ + ":" + port_);
  req.set(http::field::user_agent, "mesimctl/" MESIM_VERSION);
  if (!contentType.empty()) req.set(http::field::content_type, contentType);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) return fail("sending to " + baseUrl_ + ": " + ec.message());

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);  // metrics and logs of a large fleet
  http::read(stream, buffer, parser, ec);
  if (ec == beast::error::timeout) return fail("no answer from " + baseUrl_ + " within " +
                                               std::to_string(timeout_.count() / 1000.0).substr(0, 5) + " s");
  if (ec) return fail("reading the answer of " + baseUrl_ + ": " + ec.message());
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  auto& res = parser.get();
  return ControlAnswer{res.result_int(), std::string(res[http::field::content_type]), std::move(res.body())};
}

}  // namespace mesim::ctl
