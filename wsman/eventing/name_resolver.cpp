#include "wsman/eventing/name_resolver.h"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

#include <boost/asio/post.hpp>

namespace mesim::wsman::eventing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// Blocks every signal in the calling thread while it lives (threads started meanwhile inherit the mask).
struct BlockSignals {
  BlockSignals() {
    sigset_t all;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, &previous);
  }
  ~BlockSignals() { ::pthread_sigmask(SIG_SETMASK, &previous, nullptr); }
  BlockSignals(const BlockSignals&) = delete;
  BlockSignals& operator=(const BlockSignals&) = delete;
  sigset_t previous;
};
}  // namespace

Result<Endpoints> systemLookup(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;  // what Asio's resolver asks by default
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) return fail(rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc));
  Endpoints endpoints;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    tcp::endpoint endpoint;
    std::memcpy(endpoint.data(), a->ai_addr, a->ai_addrlen);
    endpoints.push_back(endpoint);
  }
  ::freeaddrinfo(found);
  if (endpoints.empty()) return fail("no IPv4 or IPv6 address");
  return endpoints;
}

// What the lookup threads share with the loop. Threads touch only `mutex` and `io`; the rest is the loop's.
struct NameResolver::Shared {
  std::mutex mutex;
  asio::io_context* io;  // null once the NameResolver is gone: nothing is posted any more
  Options options;
  std::map<std::string, std::vector<Done>> waiting;  // by host and port: who waits for each lookup in flight

  // On the loop: the lookup of `key` ended.
  void finished(const std::string& key, const Result<Endpoints>& result) {
    auto it = waiting.find(key);
    if (it == waiting.end()) return;
    auto callers = std::move(it->second);
    waiting.erase(it);
    for (auto& done : callers) done(result);
  }
};

NameResolver::NameResolver(asio::io_context& io, Options options) : shared_(std::make_shared<Shared>()) {
  shared_->io = &io;
  shared_->options = std::move(options);
  if (!shared_->options.lookup) shared_->options.lookup = systemLookup;
}

NameResolver::~NameResolver() {
  {
    std::lock_guard lock(shared_->mutex);
    shared_->io = nullptr;  // from here on a thread that ends posts nothing: the io_context may go next
  }
  shared_->waiting.clear();
}

std::size_t NameResolver::lookupsInFlight() const { return shared_->waiting.size(); }

void NameResolver::resolve(const std::string& host, const std::string& port, Done done) {
  auto& io = *shared_->io;
  boost::system::error_code notAnAddress;
  const auto address = asio::ip::make_address(host, notAnAddress);
  unsigned short portNumber = 0;
  const auto [end, parseError] = std::from_chars(port.data(), port.data() + port.size(), portNumber);
  if (!notAnAddress && parseError == std::errc() && end == port.data() + port.size()) {
    asio::post(io, [done = std::move(done), endpoint = tcp::endpoint(address, portNumber)] { done(Endpoints{endpoint}); });
    return;
  }
  const std::string key = host + '\n' + port;
  if (auto it = shared_->waiting.find(key); it != shared_->waiting.end()) {
    it->second.push_back(std::move(done));  // already being looked up: share its answer
    return;
  }
  if (shared_->waiting.size() >= shared_->options.maxLookups) {
    asio::post(io, [done = std::move(done), n = shared_->options.maxLookups] {
      done(fail("too many name lookups in flight (" + std::to_string(n) + ")"));
    });
    return;
  }
  shared_->waiting[key].push_back(std::move(done));
  try {
    BlockSignals blocked;  // inherited by the thread: the process's signals go to the loop, as with Asio's threads
    // Detached: a lookup that hangs must hold up neither another lookup nor the destruction of this object.
    std::thread([shared = shared_, lookup = shared_->options.lookup, key, host, port] {
      Result<Endpoints> result = fail("lookup failed");
      try {
        result = lookup(host, port);
      } catch (const std::exception& e) {
        result = fail(e.what());
      }
      std::lock_guard lock(shared->mutex);
      if (shared->io)
        asio::post(*shared->io, [shared, key, result = std::move(result)] { shared->finished(key, result); });
    }).detach();
  } catch (const std::system_error& e) {
    asio::post(io, [shared = shared_, key, why = std::string(e.what())] {
      shared->finished(key, fail("cannot start a name lookup: " + why));
    });
  }
}

}  // namespace mesim::wsman::eventing
