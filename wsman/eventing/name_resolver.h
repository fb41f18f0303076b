// Name lookups for outgoing connections (event delivery) that never hold up one another, nor the loop.
//
// Why not Asio's resolver: its async_resolve runs getaddrinfo on one background thread per io_context (Boost 1.81,
// detail/resolver_service_base), one lookup after the other. A subscriber whose name the DNS server never answers
// then delays every later lookup, of every subscriber of every device on the loop, by the system resolver's own
// timeouts (5 s per try, tens of seconds in all), and that wait is not bounded by the caller's deadline. Here each
// name being looked up has a thread of its own; callers asking for a name already being looked up share that
// lookup (so a dead DNS server costs one thread per distinct name, not one per attempt); a caller bounds its wait
// itself (httpPost: the attempt's deadline), and a lookup that outlives its callers ends on its thread unheard.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/result.h"

namespace mesim::wsman::eventing {

using Endpoints = std::vector<boost::asio::ip::tcp::endpoint>;

// A blocking lookup of host:port; runs on a thread of its own and touches no loop. Tests hand in their own.
using BlockingLookup = std::function<Result<Endpoints>(const std::string& host, const std::string& port)>;

// getaddrinfo (TCP, IPv4 and IPv6, the address families configured on the machine), as Asio's resolver calls it.
Result<Endpoints> systemLookup(const std::string& host, const std::string& port);

struct NameResolverOptions {
  BlockingLookup lookup = systemLookup;
  // Names looked up at once (threads); one more fails at once instead of waiting for a thread. A device has at
  // most 9 subscribers, so this is reached only if names keep changing while the DNS server is dead.
  std::size_t maxLookups = 32;
};

class NameResolver {
 public:
  using Options = NameResolverOptions;
  using Done = std::function<void(Result<Endpoints>)>;

  // `io` must outlive this object, or destroy it while shutting down (an unfinished httpPost holds it until
  // then). Lookups still running when it is destroyed end on their threads, unheard.
  explicit NameResolver(boost::asio::io_context& io, Options options = {});
  ~NameResolver();
  NameResolver(const NameResolver&) = delete;
  NameResolver& operator=(const NameResolver&) = delete;

  // Calls `done` once, later, on the io_context, with the endpoints of host:port or why there are none. An IP
  // address needs no lookup. A lookup that hangs answers only when it ends: callers bound their wait themselves.
  // Call on the io_context's thread. A lookup holds no work on the io_context (one that hangs must not keep
  // io_context::run() from returning): a caller that needs the loop to run meanwhile has work of its own, as
  // httpPost has its deadline timer.
  void resolve(const std::string& host, const std::string& port, Done done);
  // Names being looked up now (each on a thread of its own).
  std::size_t lookupsInFlight() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace mesim::wsman::eventing
