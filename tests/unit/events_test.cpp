// The delivery queue and its policy on a manual clock, the persisted state, and EventDelivery driving a fake
// transport (firmware/events, ARCHITECTURE.md "Crash alert").
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "firmware/core/atomic_file.h"
#include <pugixml.hpp>

#include "firmware/events/alert_indication.h"
#include "firmware/events/delivery_queue.h"
#include "firmware/events/event_delivery.h"
#include "firmware/events/event_store.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim::events {
namespace {

using namespace std::chrono_literals;

QueuedAlert queued(std::uint64_t n, std::string id = "iAMT0005") {
  QueuedAlert q;
  q.indication = n;
  q.alert.messageId = std::move(id);
  q.alert.messageArguments = {"guid-" + std::to_string(n)};
  q.alert.category = "Watchdog";
  q.alert.time = TimePoint(std::chrono::seconds(1'700'000'000 + n));
  return q;
}

DeliveryPolicy policy(unsigned retries, FailurePolicy onFailure, std::size_t maxPending = 8) {
  DeliveryPolicy p;
  p.retries = retries;
  p.retryInterval = 10s;
  p.onFailure = onFailure;
  p.maxPending = maxPending;
  return p;
}

TEST(DeliveryQueue, DeliversInOrderAndRetriesAfterTheInterval) {
  core::ManualFirmwareClock clock(TimePoint(std::chrono::seconds(1000)));
  auto p = policy(2, FailurePolicy::Suspend);
  DeliveryQueue q;
  q.push(queued(1), p);
  q.push(queued(2), p);
  ASSERT_TRUE(q.due(clock.now()));
  q.begin();
  EXPECT_FALSE(q.due(clock.now())) << "one attempt at a time";
  EXPECT_EQ(q.failed(clock.now(), "connection refused", p), DeliveryQueue::Verdict::Retry);
  EXPECT_FALSE(q.due(clock.now()));
  clock.advance(9s);
  EXPECT_FALSE(q.due(clock.now()));
  clock.advance(1s);
  ASSERT_TRUE(q.due(clock.now()));
  EXPECT_EQ(q.head().indication, 1u) << "the head is retried, not skipped";
  q.begin();
  q.succeeded();
  EXPECT_EQ(q.state().lastError, "");
  EXPECT_EQ(q.state().failures, 0u);
  ASSERT_TRUE(q.due(clock.now())) << "the next alert goes at once";
  EXPECT_EQ(q.head().indication, 2u);
  EXPECT_EQ(q.state().delivered, 1u);
}

TEST(DeliveryQueue, SuspendKeepsTheQueueUntilResumed) {
  core::ManualFirmwareClock clock;
  auto p = policy(1, FailurePolicy::Suspend);
  DeliveryQueue q;
  q.push(queued(1), p);
  q.begin();
  EXPECT_EQ(q.failed(clock.now(), "e1", p), DeliveryQueue::Verdict::Retry);
  clock.advance(10s);
  q.begin();
  EXPECT_EQ(q.failed(clock.now(), "e2", p), DeliveryQueue::Verdict::Suspend);
  EXPECT_TRUE(q.suspended());
  clock.advance(1h);
  EXPECT_FALSE(q.due(clock.now()));
  q.push(queued(2), p);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.state().lastError, "e2");
  q.resume(clock.now());
  EXPECT_TRUE(q.due(clock.now()));
  EXPECT_EQ(q.head().indication, 1u);
}

TEST(DeliveryQueue, TerminateDropsTheQueue) {
  core::ManualFirmwareClock clock;
  auto p = policy(0, FailurePolicy::Terminate);
  DeliveryQueue q;
  q.push(queued(1), p);
  q.push(queued(2), p);
  q.begin();
  EXPECT_EQ(q.failed(clock.now(), "timeout", p), DeliveryQueue::Verdict::Terminate);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.state().dropped, 2u);
}

TEST(DeliveryQueue, RetryForeverNeverGivesUp) {
  core::ManualFirmwareClock clock;
  auto p = policy(1, FailurePolicy::RetryForever);
  DeliveryQueue q;
  q.push(queued(1), p);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(q.due(clock.now()));
    q.begin();
    ASSERT_EQ(q.failed(clock.now(), "down", p), DeliveryQueue::Verdict::Retry);
    clock.advance(10s);
  }
  EXPECT_EQ(q.size(), 1u);
  EXPECT_FALSE(q.suspended());
}

TEST(DeliveryQueue, BoundedDropsTheOldestButNeverTheOneInFlight) {
  auto p = policy(1, FailurePolicy::Suspend, 3);
  DeliveryQueue q;
  for (std::uint64_t i = 1; i <= 3; ++i) q.push(queued(i), p);
  q.push(queued(4), p);
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.head().indication, 2u);
  q.begin();  // 2 is on the wire
  q.push(queued(5), p);
  EXPECT_EQ(q.head().indication, 2u);
  q.succeeded();
  EXPECT_EQ(q.head().indication, 4u);
  EXPECT_EQ(q.state().dropped, 2u);
}

TEST(FilterCollections, AllTakesEverythingOthersTheirCategory) {
  Alert a;
  a.category = "Watchdog";
  EXPECT_TRUE(filterMatches("Intel(r) AMT:All", a));
  EXPECT_TRUE(filterMatches("Intel(r) AMT:Watchdog", a));
  EXPECT_FALSE(filterMatches("Intel(r) AMT:Features", a));
  a.category.clear();
  EXPECT_FALSE(filterMatches("Intel(r) AMT:", a));
}

TEST(EventStore, RoundTripsSubscriptionsQueuesAndTheCounter) {
  test::TempDir dir{"events"};
  EventStore store(dir.path() / "events");
  Subscription s;
  s.id = 7;
  s.filter = "Intel(r) AMT:All";
  s.notifyTo = "https://10.0.0.1:4433/events";
  s.mode = DeliveryMode::PushWithAck;
  s.referenceParameters = "<m:arg xmlns:m=\"http://x.com\">abc</m:arg>";
  s.username = "u";
  s.password = "p";
  s.created = TimePoint(std::chrono::seconds(5));
  s.expires = TimePoint(std::chrono::seconds(500));
  ASSERT_FALSE(store.saveSubscriptions({s}, 8));
  DeliveryQueue::State q;
  q.pending = {queued(41), queued(42)};
  q.failures = 3;
  q.suspended = true;
  q.lastError = "connect: Connection refused";
  q.nextAttempt = TimePoint(std::chrono::milliseconds(123456));
  q.delivered = 9;
  ASSERT_FALSE(store.saveQueue(7, q));
  ASSERT_FALSE(store.saveIndicationReserve(2000));

  auto result = store.load();
  ASSERT_TRUE(result) << result.error().message;
  StoredEvents& loaded = *result;
  ASSERT_EQ(loaded.subscriptions.size(), 1u);
  const auto& l = loaded.subscriptions[0];
  EXPECT_EQ(l.id, 7u);
  EXPECT_EQ(l.notifyTo, s.notifyTo);
  EXPECT_EQ(l.mode, DeliveryMode::PushWithAck);
  EXPECT_EQ(l.referenceParameters, s.referenceParameters);
  EXPECT_EQ(l.password, "p");
  EXPECT_EQ(l.expires, s.expires);
  EXPECT_EQ(loaded.nextId, 8u);
  EXPECT_EQ(loaded.indicationReserve, 2000u);
  const auto& lq = loaded.queues[7];
  ASSERT_EQ(lq.pending.size(), 2u);
  EXPECT_EQ(lq.pending[1].indication, 42u);
  EXPECT_EQ(lq.pending[1].alert.messageArguments, std::vector<std::string>{"guid-42"});
  EXPECT_EQ(lq.pending[1].alert.time, queued(42).alert.time);
  EXPECT_TRUE(lq.suspended);
  EXPECT_EQ(lq.failures, 3u);
  EXPECT_EQ(lq.lastError, q.lastError);
  EXPECT_EQ(lq.nextAttempt, q.nextAttempt);
  EXPECT_EQ(lq.delivered, 9u);
  EXPECT_EQ(std::filesystem::status(dir.path() / "events" / "subscriptions.json").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)
      << "subscriptions.json holds passwords";
}

TEST(EventStore, MissingFilesAreAnEmptyStateAndGarbageIsAnError) {
  test::TempDir dir{"events"};
  EventStore store(dir.path() / "events");
  auto loaded = store.load();
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->subscriptions.empty());
  std::filesystem::create_directories(dir.path() / "events");
  ASSERT_FALSE(core::writeFileAtomic(dir.path() / "events" / "subscriptions.json", "{not json"));
  const auto error = errorOf(store.load());
  EXPECT_EQ(error, (dir.path() / "events" / "subscriptions.json").string() +
                       ": not a JSON object; fix that file, or move it aside to start without the event "
                       "subscriptions it holds");
}

// Records sends; each is answered when the test says so.
class FakeTransport : public EventTransport {
 public:
  struct Sent {
    std::uint32_t subscription;
    std::uint64_t indication;
    Done done;
  };
  void send(const Subscription& s, const QueuedAlert& a, std::chrono::milliseconds, Done done) override {
    sent.push_back({s.id, a.indication, std::move(done)});
  }
  std::vector<Sent> sent;
};

class EventDeliveryTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventDelivery> make(DeliveryPolicy p) {
    auto d = std::make_unique<EventDelivery>(timers, transport, dir.path(), p);
    EXPECT_EQ(errorOf(d->start()), "");
    d->attach(bus);
    return d;
  }
  std::uint32_t subscribe(EventDelivery& d, std::string filter = "Intel(r) AMT:All") {
    Subscription s;
    s.filter = std::move(filter);
    s.notifyTo = "http://127.0.0.1:1/";
    s.mode = DeliveryMode::PushWithAck;
    auto r = d.subscribe(s);
    EXPECT_TRUE(std::holds_alternative<std::uint32_t>(r));
    return std::get<std::uint32_t>(r);
  }
  void raise(std::string id = "iAMT0005") {
    Alert a;
    a.messageId = std::move(id);
    a.category = "Watchdog";
    bus.publish(a);
  }
  void run() {
    io.restart();
    io.poll();
  }
  // Answers every send issued so far and not yet answered.
  void answerAll(const std::string& error) {
    auto pending = std::move(transport.sent);
    transport.sent.clear();
    // "" answers success.
    for (auto& s : pending)
      boost::asio::post(io, [done = std::move(s.done), error] { done(error.empty() ? Result<>() : fail(error)); });
    run();
  }

  test::TempDir dir{"events"};
  boost::asio::io_context io;
  core::ManualFirmwareClock clock{TimePoint(std::chrono::seconds(1'700'000'000))};
  core::FirmwareTimerQueue timers{io, clock};
  FakeTransport transport;
  AlertBus bus;
};

TEST_F(EventDeliveryTest, FansOutByFilterWithIncreasingIndications) {
  auto d = make(policy(3, FailurePolicy::Suspend));
  auto all = subscribe(*d);
  auto wd = subscribe(*d, "Intel(r) AMT:Watchdog");
  auto other = subscribe(*d, "Intel(r) AMT:Features");
  raise();
  run();
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[0].subscription, all);
  EXPECT_EQ(transport.sent[1].subscription, wd);
  EXPECT_EQ(transport.sent[0].indication, transport.sent[1].indication) << "one indication, several subscribers";
  auto first = transport.sent[0].indication;
  answerAll("");
  raise();
  run();
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_GT(transport.sent[0].indication, first);
  (void)other;
}

TEST_F(EventDeliveryTest, ADeadSubscriberDoesNotDelayAnother) {
  auto d = make(policy(100, FailurePolicy::RetryForever));
  auto dead = subscribe(*d);
  auto alive = subscribe(*d);
  raise("iAMT0001");
  raise("iAMT0002");
  run();
  ASSERT_EQ(transport.sent.size(), 2u);  // the heads of both queues, one in flight each
  // The dead one never answers; the live one goes on through its whole queue.
  FakeTransport::Sent hung = std::move(transport.sent[0]);
  ASSERT_EQ(hung.subscription, dead);
  transport.sent.erase(transport.sent.begin());
  answerAll("");
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0].subscription, alive);
  answerAll("");
  for (auto& s : d->subscriptions())
    EXPECT_EQ(s.pending, s.subscription.id == dead ? 2u : 0u) << s.subscription.id;
}

TEST_F(EventDeliveryTest, RetriesOnTheClockThenAppliesThePolicy) {
  auto d = make(policy(1, FailurePolicy::Terminate));
  subscribe(*d);
  raise();
  run();
  answerAll("connection refused");
  EXPECT_TRUE(transport.sent.empty()) << "the retry waits for the interval";
  auto st = d->subscriptions();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].lastError, "connection refused");
  EXPECT_EQ(st[0].pending, 1u);
  ASSERT_TRUE(st[0].nextAttempt);
  clock.advance(10s);
  run();
  ASSERT_EQ(transport.sent.size(), 1u);
  answerAll("connection refused");
  EXPECT_TRUE(d->subscriptions().empty()) << "terminated";
  EXPECT_EQ(d->stats().terminated, 1u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "events" / "queue-1.json"));
}

// The retry interval is firmware time: real time passing does nothing, an advance of the interval retries; the
// attempt goes from the loop (the transport is network I/O), at the firmware time of its due moment.
TEST_F(EventDeliveryTest, RetriesWaitForFirmwareTimeNotRealTime) {
  auto d = make(policy(5, FailurePolicy::Suspend));
  subscribe(*d);
  raise();
  run();
  answerAll("connection refused");
  io.restart();
  io.run_for(50ms);
  EXPECT_TRUE(transport.sent.empty()) << "real time does not retry";
  EXPECT_EQ(timers.nextDeadline(), clock.now() + 10s) << "the retry is a timer on the firmware clock";
  clock.advance(9999ms);
  run();
  EXPECT_TRUE(transport.sent.empty());
  clock.advance(1ms);
  run();
  ASSERT_EQ(transport.sent.size(), 1u);
  answerAll("connection refused");
  clock.advance(25s);  // one attempt per due moment: the retry after this failure is due 10 s after it
  run();
  EXPECT_EQ(transport.sent.size(), 1u);
}

// Expiry is a timer: the subscription goes when its Expires passes, without anything asking (no publish, no read).
TEST_F(EventDeliveryTest, ASubscriptionExpiresByItsTimer) {
  auto d = make(policy(1, FailurePolicy::Suspend));
  Subscription s;
  s.filter = "Intel(r) AMT:All";
  s.notifyTo = "http://127.0.0.1:1/";
  s.expires = clock.now() + 30s;
  ASSERT_TRUE(std::holds_alternative<std::uint32_t>(d->subscribe(s)));
  s.expires = clock.now() + 90s;
  ASSERT_TRUE(std::holds_alternative<std::uint32_t>(d->subscribe(s)));
  clock.advance(29s);
  EXPECT_EQ(d->stats().expired, 0u);
  clock.advance(1s);
  EXPECT_EQ(d->stats().expired, 1u) << "expired at its moment";
  clock.advance(59s);
  EXPECT_EQ(d->stats().expired, 1u);
  clock.advance(1s);
  EXPECT_EQ(d->stats().expired, 2u) << "the timer re-armed for the next one";
  EXPECT_EQ(timers.size(), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "events" / "queue-1.json"));
}

TEST_F(EventDeliveryTest, DestroyedItLeavesNoTimerBehind) {
  {
    auto d = make(policy(5, FailurePolicy::Suspend));
    Subscription s;
    s.filter = "Intel(r) AMT:All";
    s.notifyTo = "http://127.0.0.1:1/";
    s.expires = clock.now() + 30s;
    ASSERT_TRUE(std::holds_alternative<std::uint32_t>(d->subscribe(s)));
    raise();
    run();
    answerAll("connection refused");
    EXPECT_EQ(timers.size(), 2u) << "the retry and the expiry";
  }
  EXPECT_EQ(timers.size(), 0u);
  clock.advance(1h);  // nothing left to call into the destroyed object
}

TEST_F(EventDeliveryTest, SuspendedResumesOnRenew) {
  auto d = make(policy(0, FailurePolicy::Suspend));
  auto id = subscribe(*d);
  raise();
  run();
  answerAll("HTTP 500");
  auto st = d->subscriptions();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_TRUE(st[0].suspended);
  raise();
  run();
  EXPECT_TRUE(transport.sent.empty());
  ASSERT_TRUE(d->renew(id, std::nullopt));
  run();
  ASSERT_EQ(transport.sent.size(), 1u);
  answerAll("");
  answerAll("");
  EXPECT_EQ(d->subscriptions()[0].pending, 0u);
  EXPECT_EQ(d->subscriptions()[0].delivered, 2u);
}

TEST_F(EventDeliveryTest, PendingAlertsSurviveARestartAndIdentifiersKeepGrowing) {
  std::uint64_t before = 0;
  {
    auto d = make(policy(10, FailurePolicy::Suspend));
    subscribe(*d);
    raise("iAMT0003");
    raise("iAMT0005");
    run();
    ASSERT_EQ(transport.sent.size(), 1u);
    before = d->stats().lastIndication;
    transport.sent.clear();  // the daemon dies with an attempt on the wire
  }
  auto d = make(policy(10, FailurePolicy::Suspend));
  run();
  ASSERT_EQ(d->subscriptions().size(), 1u);
  EXPECT_EQ(d->subscriptions()[0].pending, 2u);
  ASSERT_EQ(transport.sent.size(), 1u);
  answerAll("");
  answerAll("");
  EXPECT_EQ(d->subscriptions()[0].pending, 0u);
  raise();
  run();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_GT(transport.sent[0].indication, before);
}

// #10 item 9: an identifier is never handed out before the reservation covering it is on disk. With
// indications.json unwritable (a non-empty directory in its place: rename cannot replace it, even for root) the
// alert is not queued; once writable again numbering starts where the durable reservation says.
TEST_F(EventDeliveryTest, NoIdentifierBeforeItsReservationIsDurable) {
  const auto reserveFile = dir.path() / "events" / "indications.json";
  {
    auto d = make(policy(10, FailurePolicy::Suspend));
    subscribe(*d);
    std::filesystem::create_directories(reserveFile / "blocker");
    raise();
    run();
    EXPECT_TRUE(transport.sent.empty());
    EXPECT_EQ(d->stats().droppedUnreserved, 1u);
    EXPECT_EQ(d->stats().lastIndication, 0u);
    EXPECT_EQ(d->subscriptions()[0].pending, 0u);
    std::filesystem::remove_all(reserveFile);
    raise();
    run();
    ASSERT_EQ(transport.sent.size(), 1u);
    EXPECT_EQ(transport.sent[0].indication, 1u);
    transport.sent.clear();
  }
  auto d = make(policy(10, FailurePolicy::Suspend));
  run();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0].indication, 1u) << "still pending, sent again";
  std::string reserve;
  ASSERT_FALSE(core::readFile(reserveFile, reserve));
  EXPECT_EQ(reserve, "{\"reserved_below\":1001}");
  answerAll("");
  raise();
  run();
  ASSERT_FALSE(transport.sent.empty());
  EXPECT_EQ(transport.sent.back().indication, 1001u) << "numbers below the durable reservation may have been used";
}

TEST_F(EventDeliveryTest, ExpiresAndLimit) {
  auto p = policy(1, FailurePolicy::Suspend);
  p.maxSubscriptions = 2;
  auto d = make(p);
  Subscription s;
  s.filter = "Intel(r) AMT:All";
  s.notifyTo = "http://127.0.0.1:1/";
  s.expires = clock.now() + 30s;
  ASSERT_TRUE(std::holds_alternative<std::uint32_t>(d->subscribe(s)));
  subscribe(*d);
  auto full = d->subscribe(s);
  ASSERT_TRUE(std::holds_alternative<SubscribeError>(full));
  EXPECT_EQ(std::get<SubscribeError>(full), SubscribeError::LimitReached);
  clock.advance(31s);
  EXPECT_EQ(d->subscriptions().size(), 1u);
  EXPECT_EQ(d->stats().expired, 1u);
}

TEST_F(EventDeliveryTest, LinesNameTheDevice) {
  EventDelivery d(timers, transport, dir.path(), policy(0, FailurePolicy::Suspend), log::Context("dev-a"));
  ASSERT_EQ(errorOf(d.start()), "");
  d.attach(bus);
  subscribe(d);
  auto lines = test::capturedLog(log::Level::Debug, [&] { raise(); });
  EXPECT_NE(lines.find("[dev-a] events: alert iAMT0005 for 1 subscriber(s)"), std::string::npos) << lines;
}

TEST(ListenerNames, RoundTrip) {
  EXPECT_EQ(listenerName(3), "Intel(r) AMT:Subscription Manager 3");
  EXPECT_EQ(listenerId(listenerName(3)), 3u);
  EXPECT_EQ(listenerId("Intel(r) AMT:Subscription Manager x"), 0u);
  EXPECT_EQ(listenerId("other"), 0u);
}

std::vector<std::string> childNames(pugi::xml_node node) {
  std::vector<std::string> names;
  for (auto child : node.children()) names.emplace_back(child.name());
  return names;
}

TEST(AlertIndicationEnvelope, EscapesWhatItCarries) {
  Alert alert;
  alert.messageId = "iAMT0005";
  alert.message = "a<b & \"c\" > d";
  alert.messageArguments = {"<x>", "&"};
  alert.indicationFilterName = "F&G";
  AlertEnvelopeHeader header;
  header.messageId = "uuid:<1>&";
  auto text = writeAlertIndication(header, alert, {7, "T<1>"});
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_NE(text->find("<g:Message>a&lt;b &amp; \"c\" &gt; d</g:Message>"), std::string::npos) << *text;
  EXPECT_NE(text->find("<g:MessageArguments>&lt;x&gt;</g:MessageArguments><g:MessageArguments>&amp;</g:MessageArguments>"),
            std::string::npos)
      << *text;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(text->c_str())) << *text;
  auto env = doc.document_element();
  EXPECT_STREQ(env.child("a:Header").child_value("b:MessageID"), "uuid:<1>&");
  auto body = env.child("a:Body").child("g:CIM_AlertIndication");
  EXPECT_STREQ(body.child_value("g:Message"), "a<b & \"c\" > d");
  EXPECT_STREQ(body.child_value("g:IndicationFilterName"), "F&G");
  EXPECT_STREQ(body.child("g:IndicationTime").child_value("h:Datetime"), "T<1>");
}

TEST(AlertIndicationEnvelope, HasAmtsShape) {
  Alert alert;
  alert.messageId = "iAMT0005";
  alert.messageArguments = {"1"};
  AlertEnvelopeHeader header;
  header.messageId = "uuid:1";
  header.ackRequested = true;
  header.referenceParameters = "<m:arg xmlns:m=\"http://x.com\">node-7</m:arg><m:other xmlns:m=\"http://x.com\"/>";
  auto text = writeAlertIndication(header, alert, {2950234687, cimDatetime(TimePoint(std::chrono::milliseconds(1485877209000)))});
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(text->rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a:Envelope xmlns:a=\"http://www.w3.org/2003/05/soap-envelope\"", 0),
            0u)
      << *text;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(text->c_str())) << *text;
  auto env = doc.document_element();
  EXPECT_STREQ(env.name(), "a:Envelope");
  EXPECT_STREQ(env.attribute("xmlns:g").value(), "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AlertIndication");
  EXPECT_STREQ(env.attribute("xmlns:h").value(), "http://schemas.dmtf.org/wbem/wscim/1/common");
  EXPECT_EQ(childNames(env), (std::vector<std::string>{"a:Header", "a:Body"}));
  EXPECT_EQ(childNames(env.child("a:Header")),
            (std::vector<std::string>{"b:To", "b:ReplyTo", "c:AckRequested", "b:Action", "b:MessageID", "c:ResourceURI",
                                      "m:arg", "m:other"}));
  EXPECT_STREQ(env.child("a:Header").child("b:Action").attribute("a:mustUnderstand").value(), "true");
  EXPECT_EQ(childNames(env.child("a:Body")), (std::vector<std::string>{"g:CIM_AlertIndication"}));
  auto indication = env.child("a:Body").child("g:CIM_AlertIndication");
  EXPECT_EQ(childNames(indication),
            (std::vector<std::string>{"g:AlertType", "g:AlertingElementFormat", "g:AlertingManagedElement",
                                      "g:IndicationFilterName", "g:IndicationIdentifier", "g:IndicationTime", "g:Message",
                                      "g:MessageArguments", "g:MessageID", "g:OtherAlertingElementFormat",
                                      "g:OtherSeverity", "g:OwningEntity", "g:PerceivedSeverity", "g:ProbableCause",
                                      "g:SystemName"}));
  EXPECT_STREQ(indication.child_value("g:IndicationIdentifier"), "Intel(r):2950234687");
  EXPECT_STREQ(indication.child("g:IndicationTime").child_value("h:Datetime"), "2017-01-31T15:40:09.000Z");
  // Empty elements keep their end tag: MeshCentral's parser loses `<x/>`.
  EXPECT_NE(text->find("<m:other xmlns:m=\"http://x.com\"></m:other>"), std::string::npos) << *text;
  EXPECT_NE(text->find("<g:Message></g:Message>"), std::string::npos) << *text;
}

TEST(AlertIndicationEnvelope, OmitsWhatLmsEventsDoNotCarry) {
  Alert alert;
  AlertEnvelopeHeader header;
  header.to = "http://localhost:0/";
  auto text = writeAlertIndication(header, alert, {});
  ASSERT_TRUE(text) << text.error().message;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(text->c_str())) << *text;
  auto env = doc.document_element();
  EXPECT_EQ(childNames(env.child("a:Header")),
            (std::vector<std::string>{"b:To", "b:ReplyTo", "b:Action", "c:ResourceURI"}));
  EXPECT_STREQ(env.child("a:Header").child_value("b:To"), "http://localhost:0/");
  auto indication = env.child("a:Body").child("g:CIM_AlertIndication");
  EXPECT_FALSE(indication.child("g:IndicationIdentifier"));
  EXPECT_FALSE(indication.child("g:IndicationTime"));
}

}  // namespace
}  // namespace mesim::events
