// Finding 7 of issue 10: one subscriber's slow DNS delayed the others. Asio's async_resolve runs every lookup of an
// io_context on one background thread, one after the other, and the attempt's deadline did not cover it: with a
// DNS server that never answers, a healthy subscriber's alert came 10 s late (counted as a timeout), about 50 s
// with the defaults. Here names are looked up by a scripted lookup, without any network: "slow.invalid" hangs as
// a dead DNS server does until the test releases it, "fast.test" is 127.0.0.1 at once; both subscribers are real
// HTTP servers on loopback. Timing is asserted by order (what had happened when), not by wall time; the loop
// waits carry generous bounds only so that a regression fails instead of hanging.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "firmware/events/event_delivery.h"
#include "tests/support/event_subscriber.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/eventing/http_client.h"
#include "wsman/eventing/http_event_transport.h"
#include "wsman/eventing/name_resolver.h"

namespace mesim::wsman::eventing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr auto kSafetyNet = 30s;  // only a regression gets near it

// The DNS of these tests. Names ending in ".invalid" hang until release(), then fail as unknown; "fast.test" is
// 127.0.0.1; anything else is unknown. Its state outlives the object: lookup threads may still be inside it.
class ScriptedDns {
 public:
  ~ScriptedDns() { release(); }

  BlockingLookup lookup() const {
    return [state = state_](const std::string& host, const std::string& port) -> Result<Endpoints> {
      std::unique_lock lock(state->mutex);
      ++state->calls[host];
      Result<Endpoints> answer = fail("Name or service not known");
      if (host.ends_with(".invalid")) {
        ++state->hanging;
        state->changed.notify_all();
        state->changed.wait(lock, [&] { return state->released; });
        --state->hanging;
      } else if (host == "fast.test") {
        answer = Endpoints{{boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port))}};
      }
      ++state->ended;
      state->changed.notify_all();
      return answer;
    };
  }
  void release() {
    std::lock_guard lock(state_->mutex);
    state_->released = true;
    state_->changed.notify_all();
  }
  std::size_t hanging() const {
    std::lock_guard lock(state_->mutex);
    return state_->hanging;
  }
  std::size_t calls(const std::string& host) const {
    std::lock_guard lock(state_->mutex);
    return state_->calls.count(host) ? state_->calls.at(host) : 0;
  }
  // Waits (bounded) until `n` lookups have returned.
  bool waitEnded(std::size_t n) const {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, kSafetyNet, [&] { return state_->ended >= n; });
  }
  bool waitHanging(std::size_t n) const {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, kSafetyNet, [&] { return state_->hanging >= n; });
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    bool released = false;
    std::size_t hanging = 0;
    std::size_t ended = 0;
    std::map<std::string, std::size_t> calls;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Runs `io` until `done()` holds (false if the safety net was reached first).
template <class Predicate>
bool runUntil(boost::asio::io_context& io, Predicate done) {
  const auto giveUp = Clock::now() + kSafetyNet;
  while (!done()) {
    if (Clock::now() > giveUp) return false;
    io.restart();
    if (io.run_for(5ms) == 0) std::this_thread::sleep_for(1ms);  // nothing to run: a lookup thread is still busy
  }
  return true;
}

std::string urlOn(const std::string& host, const test::EventSubscriber& subscriber) {
  return "http://" + host + ":" + std::to_string(subscriber.port()) + "/events";
}

class SubscriberDnsTest : public ::testing::Test {
 protected:
  std::uint32_t subscribe(const std::string& notifyTo) {
    events::Subscription s;
    s.filter = "Intel(r) AMT:All";
    s.notifyTo = notifyTo;
    s.mode = events::DeliveryMode::PushWithAck;
    auto id = delivery.subscribe(s);
    EXPECT_TRUE(std::holds_alternative<std::uint32_t>(id));
    return std::get<std::uint32_t>(id);
  }
  events::SubscriptionStatus status(std::uint32_t id) {
    for (auto& s : delivery.subscriptions())
      if (s.subscription.id == id) return s;
    ADD_FAILURE() << "no subscription " << id;
    return {};
  }
  static events::DeliveryPolicy policy() {
    events::DeliveryPolicy p;
    p.attemptTimeout = 2s;  // the slow subscriber's deadline; the fast one needs a loopback round trip
    p.retries = 3;
    p.retryInterval = 10s;  // on the firmware clock, which moves only when the test says
    p.onFailure = events::FailurePolicy::Suspend;
    return p;
  }

  test::LogThreshold quiet{log::Level::Error};
  ScriptedDns dns;
  test::EventSubscriber slowSubscriber, fastSubscriber;  // both answer with the Ack
  test::TempDir dir{"dns"};
  boost::asio::io_context io;
  core::ManualFirmwareClock clock{events::TimePoint(std::chrono::seconds(1'700'000'000))};
  HttpEventTransport transport{io, NameResolverOptions{dns.lookup()}};
  events::AlertBus bus;
  core::FirmwareTimerQueue timers{io, clock};
  events::EventDelivery delivery{timers, transport, dir.path(), policy()};
};

TEST_F(SubscriberDnsTest, ASubscriberWhoseNameHangsDelaysNoOther) {
  ASSERT_EQ(errorOf(delivery.start()), "");
  delivery.attach(bus);
  // The slow subscriber's alert goes first, and its lookup hangs before the fast subscriber's alert is raised:
  // with lookups made one after another (Asio's resolver), the fast one's lookup would wait behind it.
  const auto slow = subscribe(urlOn("slow.invalid", slowSubscriber));
  events::Alert alert;
  alert.messageId = "iAMT0005";
  alert.category = "AgentPresence";
  const auto published = Clock::now();
  const auto firmwareTime = clock.now();
  bus.publish(alert);
  ASSERT_TRUE(runUntil(io, [&] { return dns.hanging() == 1; }));
  const auto fast = subscribe(urlOn("fast.test", fastSubscriber));
  bus.publish(alert);

  ASSERT_TRUE(runUntil(io, [&] { return status(fast).delivered == 1; })) << status(fast).lastError;
  EXPECT_EQ(fastSubscriber.count(), 1u);
  EXPECT_EQ(status(fast).failures, 0u) << "delivered at the first attempt, not after a timeout";
  // ...while the slow subscriber's lookup was still hanging and its attempt still in flight: it held up nothing.
  EXPECT_EQ(dns.hanging(), 1u);
  EXPECT_TRUE(status(slow).inFlight);
  EXPECT_EQ(status(slow).failures, 0u);
  EXPECT_EQ(status(slow).pending, 2u);
  EXPECT_EQ(clock.now(), firmwareTime) << "no firmware time had to pass";

  // The slow attempt ends at its deadline, the lookup inside it, though the lookup itself still hangs.
  ASSERT_TRUE(runUntil(io, [&] { return status(slow).failures == 1; }));
  EXPECT_GE(Clock::now() - published, policy().attemptTimeout) << "a timer never ends early";
  EXPECT_EQ(status(slow).lastError, "resolve slow.invalid: timed out");
  EXPECT_FALSE(status(slow).inFlight);
  EXPECT_EQ(dns.hanging(), 1u);
  EXPECT_EQ(slowSubscriber.count(), 0u);
  EXPECT_EQ(transport.resolver().lookupsInFlight(), 1u);

  // The retry, while the first lookup still hangs, waits on that same lookup instead of starting a thread of its own.
  clock.advance(policy().retryInterval);
  ASSERT_TRUE(runUntil(io, [&] { return status(slow).inFlight; }));
  EXPECT_EQ(dns.calls("slow.invalid"), 1u);
  // The DNS server answers at last ("unknown"): the waiting attempt hears it at once, well before its deadline.
  dns.release();
  ASSERT_TRUE(runUntil(io, [&] { return status(slow).failures == 2; }));
  EXPECT_EQ(status(slow).lastError, "resolve slow.invalid: Name or service not known");
  EXPECT_EQ(transport.resolver().lookupsInFlight(), 0u);
  EXPECT_EQ(fastSubscriber.count(), 1u);
}

// The deadline of one POST covers the name lookup; several hanging names each hang on their own; asking again for
// a name being looked up joins that lookup; an IP address needs none.
TEST(HttpPostDeadline, CoversTheNameLookup) {
  test::LogThreshold quiet{log::Level::Error};
  ScriptedDns dns;
  test::EventSubscriber subscriber(test::EventSubscriber::answering(test::EventSubscriber::Answer::Ok));
  boost::asio::io_context io;
  auto resolver = std::make_shared<NameResolver>(io, NameResolverOptions{dns.lookup()});
  auto tls = makeTlsClientContext();
  std::map<std::string, HttpPostResult> results;
  auto post = [&](const std::string& label, const std::string& url, std::chrono::milliseconds timeout) {
    HttpPostRequest r;
    r.url = url;
    r.body = "<x/>";
    r.timeout = timeout;
    httpPost(io, tls, resolver, r, [&results, label](HttpPostResult result) { results[label] = std::move(result); });
  };
  post("a", "http://a.slow.invalid:1/", 300ms);
  post("a again", "http://a.slow.invalid:1/", 300ms);
  post("b", "http://b.slow.invalid:1/", 300ms);
  ASSERT_TRUE(runUntil(io, [&] { return dns.hanging() == 2; })) << "both slow names hang at once, each on its own";
  post("fast", urlOn("fast.test", subscriber), 20s);
  post("address", "http://127.0.0.1:" + std::to_string(subscriber.port()) + "/events", 20s);
  ASSERT_TRUE(runUntil(io, [&] { return results.count("fast") && results.count("address"); }));
  EXPECT_EQ(results["fast"].error, "");
  EXPECT_EQ(results["fast"].status, 200u);
  EXPECT_EQ(results["address"].status, 200u);
  EXPECT_EQ(dns.hanging(), 2u);
  EXPECT_EQ(dns.calls("a.slow.invalid"), 1u) << "the second POST joined the first one's lookup";
  EXPECT_EQ(dns.calls("127.0.0.1"), 0u) << "an address is not looked up";

  ASSERT_TRUE(runUntil(io, [&] { return results.size() == 5; }));
  for (const char* label : {"a", "a again"}) EXPECT_EQ(results[label].error, "resolve a.slow.invalid: timed out");
  EXPECT_EQ(results["b"].error, "resolve b.slow.invalid: timed out");
  EXPECT_EQ(dns.hanging(), 2u) << "the POSTs ended at their deadline, not when the lookups did";
  dns.release();
  EXPECT_TRUE(dns.waitEnded(3));
}

TEST(NameResolver, BoundsTheNamesLookedUpAtOnce) {
  ScriptedDns dns;
  boost::asio::io_context io;
  NameResolver resolver(io, NameResolverOptions{dns.lookup(), 2});
  std::map<std::string, std::string> answers;
  for (const char* name : {"a.invalid", "b.invalid", "c.invalid"})
    resolver.resolve(name, "80", [&answers, name](Result<Endpoints> r) { answers[name] = errorOf(r); });
  ASSERT_TRUE(runUntil(io, [&] { return answers.count("c.invalid") == 1; }));
  EXPECT_EQ(answers["c.invalid"], "too many name lookups in flight (2)");
  EXPECT_EQ(answers.size(), 1u) << "the other two are still being looked up";
  dns.release();
  ASSERT_TRUE(runUntil(io, [&] { return answers.size() == 3; }));
  EXPECT_EQ(answers["a.invalid"], "Name or service not known");
}

// A lookup that outlives its resolver and io_context ends on its thread and touches neither (ASan would see it).
TEST(NameResolver, ALookupOutlivingItsResolverTouchesNothing) {
  ScriptedDns dns;
  bool answered = false;
  {
    boost::asio::io_context io;
    NameResolver resolver(io, NameResolverOptions{dns.lookup()});
    resolver.resolve("gone.invalid", "80", [&](Result<Endpoints>) { answered = true; });
    ASSERT_TRUE(dns.waitHanging(1));
  }
  dns.release();
  EXPECT_TRUE(dns.waitEnded(1));
  std::this_thread::sleep_for(10ms);  // the thread's last steps after the lookup returned
  EXPECT_FALSE(answered);
}

}  // namespace
}  // namespace mesim::wsman::eventing
