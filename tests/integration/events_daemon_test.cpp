// WS-Eventing against the real daemon (spec/wsman.md §1.6): Subscribe/Unsubscribe over WS-Man with Digest, alerts
// raised through the control API (POST /events/raise) and delivered to test subscribers (tests/support/
// event_subscriber.h): PushWithAck with the subscriber down then up delivers exactly once (retries on a manual
// firmware clock), a subscription expires on the firmware clock, pending alerts survive a restart, a subscriber that
// never answers does not delay another, https + Digest + ReferenceParameters. The suspend-policy test keeps its
// retries on the real clock.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/event_subscriber.h"
#include "wsman/eventing/http_client.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
constexpr const char* kPassword = "P@ssw0rd";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";

std::string envelope(const std::string& action, const std::string& resource, const std::string& selectors,
                     const std::string& extraHeader, const std::string& body) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?><Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\" "
         "xmlns:e=\"http://schemas.xmlsoap.org/ws/2004/08/eventing\" xmlns:m=\"http://x.com\"><Header><a:Action>" + action +
         "</a:Action><a:To>/wsman</a:To><w:ResourceURI>" + resource + "</w:ResourceURI><a:MessageID>1</a:MessageID>"
         "<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>" +
         selectors + extraHeader + "</Header><Body>" + body + "</Body></Envelope>";
}

std::string subscribeRequest(const std::string& url, const std::string& mode, const std::string& user = {},
                             const std::string& pass = {}, const std::string& filter = "Intel(r) AMT:All") {
  std::string tokens;
  if (!user.empty())
    tokens = "<t:IssuedTokens xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\" "
             "xmlns:se=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\">"
             "<t:RequestSecurityTokenResponse><t:TokenType>http://docs.oasis-open.org/wss/2004/01/"
             "oasis-200401-wss-username-token-profile-1.0#UsernameToken</t:TokenType><t:RequestedSecurityToken>"
             "<se:UsernameToken><se:Username>" + user + "</se:Username><se:Password>" + pass +
             "</se:Password></se:UsernameToken></t:RequestedSecurityToken></t:RequestSecurityTokenResponse></t:IssuedTokens>";
  return envelope("http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe", kCim + "CIM_FilterCollection",
                  "<w:SelectorSet><w:Selector Name=\"InstanceID\">" + filter + "</w:Selector></w:SelectorSet>", tokens,
                  "<e:Subscribe><e:Delivery Mode=\"" + mode + "\"><e:NotifyTo><a:Address>" + url +
                      "</a:Address><a:ReferenceParameters><m:arg>node-42</m:arg></a:ReferenceParameters></e:NotifyTo>" +
                      (user.empty() ? "" : "<w:Auth Profile=\"http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest\"/>") +
                      "</e:Delivery></e:Subscribe>");
}

// The selectors of subscription `id` as MeshCommander sends them: the EPRs of the enumerated subscription.
std::string subscriptionSelectors(int id, const std::string& filter = "Intel(r) AMT:All") {
  auto epr = [](const std::string& cls, const std::string& selectors) {
    return "<a:EndpointReference><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address>"
           "<a:ReferenceParameters><w:ResourceURI>" + kCim + cls + "</w:ResourceURI><w:SelectorSet>" + selectors +
           "</w:SelectorSet></a:ReferenceParameters></a:EndpointReference>";
  };
  return "<w:SelectorSet><w:Selector Name=\"Filter\">" +
         epr("CIM_FilterCollection", "<w:Selector Name=\"InstanceID\">" + filter + "</w:Selector>") +
         "</w:Selector><w:Selector Name=\"Handler\">" +
         epr("CIM_ListenerDestinationWSManagement",
             "<w:Selector Name=\"CreationClassName\">CIM_ListenerDestinationWSMAN</w:Selector><w:Selector Name=\"Name\">"
             "Intel(r) AMT:Subscription Manager " + std::to_string(id) + "</w:Selector><w:Selector Name=\"SystemCreationClassName\">"
             "CIM_ComputerSystem</w:Selector><w:Selector Name=\"SystemName\">Intel(r) AMT</w:Selector>") +
         "</w:Selector></w:SelectorSet>";
}

const std::string kPushWithAck = "http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck";
const std::string kPush = "http://schemas.xmlsoap.org/ws/2004/08/eventing/DeliveryModes/Push";

class EventsDaemonTest : public ::testing::Test {
 protected:
  // A port a subscriber listened on a moment ago: a subscriber that is down, to be started there later.
  static std::uint16_t downSubscriberPort() { return EventSubscriber().port(); }

  bool start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--fuse", "off", "--preload", "off", "--admin-password", kPassword,
                                  "--event-retry-interval", "100ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    return daemon_.start(args);
  }

  wsman::eventing::HttpPostResult wsman(const std::string& body) {
    boost::asio::io_context io;
    wsman::eventing::HttpPostRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(daemon_.httpPort()) + "/wsman";
    r.body = body;
    r.username = "admin";
    r.password = kPassword;
    wsman::eventing::HttpPostResult result;
    wsman::eventing::httpPost(io, wsman::eventing::makeTlsClientContext(), r, [&](auto res) { result = std::move(res); });
    io.run();
    return result;
  }

  void subscribe(const std::string& url, const std::string& mode, const std::string& user = {}, const std::string& pass = {}) {
    auto r = wsman(subscribeRequest(url, mode, user, pass));
    ASSERT_EQ(r.status, 200u) << r.error << r.body;
    ASSERT_NE(r.body.find("SubscriptionManager"), std::string::npos) << r.body;
  }

  void raise(const std::string& messageId, const std::string& arg = "03020100-0504-0706-0809-0a0b0c0d0e0f") {
    auto r = daemon_.post("/events/raise?messageId=" + messageId + "&arg=" + arg + "&category=Watchdog");
    ASSERT_EQ(r.substr(0, 3), "200") << r;
  }

  boost::json::object events() {
    auto r = daemon_.get("/status");
    EXPECT_EQ(r.substr(0, 3), "200");
    return boost::json::parse(r.substr(4)).as_object()["events"].as_object();
  }
  boost::json::object controlJson(const std::string& method, const std::string& target) {
    auto r = method == "GET" ? daemon_.get(target) : daemon_.post(target);
    EXPECT_EQ(r.substr(0, 3), "200") << target << ": " << r;
    boost::system::error_code ec;
    auto v = boost::json::parse(r.size() > 4 ? r.substr(4) : "", ec);
    return !ec && v.is_object() ? v.as_object() : boost::json::object{};
  }
  // Moves the daemon's manual clock by `seconds`; the answer.
  boost::json::object advance(const std::string& seconds) { return controlJson("POST", "/clock/advance?seconds=" + seconds); }
  // Waits (real time) until the first subscription has failed `n` attempts.
  bool waitForFailures(int n) {
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while (subscription(0)["failures"].to_number<int>() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    return subscription(0)["failures"].to_number<int>() == n;
  }
  boost::json::object subscription(std::size_t i) {
    auto subs = events()["subscriptions"].as_array();
    return i < subs.size() ? subs[i].as_object() : boost::json::object{};
  }

  static std::string identifierOf(const std::string& body) {
    static const std::regex id(R"(<g:IndicationIdentifier>Intel\(r\):(\d+)</g:IndicationIdentifier>)");
    std::smatch m;
    return std::regex_search(body, m, id) ? m[1].str() : "";
  }
  static std::string messageIdOf(const std::string& body) {
    static const std::regex id(R"(<g:MessageID>([^<]+)</g:MessageID>)");
    std::smatch m;
    return std::regex_search(body, m, id) ? m[1].str() : "";
  }

  DaemonProcess daemon_;
};

TEST_F(EventsDaemonTest, SubscribeShowsTheClassesAndUnsubscribeRemovesThem) {
  ASSERT_TRUE(start());
  EventSubscriber sub;
  subscribe(sub.url(), kPushWithAck);
  auto enumerate = [&](const std::string& cls) {
    return wsman(envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", kCim + cls, "", "",
                          "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><w:OptimizeEnumeration/>"
                          "<w:MaxElements>20</w:MaxElements></Enumerate>"));
  };
  auto filters = enumerate("CIM_FilterCollection");
  EXPECT_NE(filters.body.find("Intel(r) AMT:All"), std::string::npos) << filters.body;
  auto listeners = enumerate("CIM_ListenerDestination");  // polymorphic: the WSManagement subclass
  EXPECT_NE(listeners.body.find("<h:Destination>" + sub.url() + "</h:Destination>"), std::string::npos) << listeners.body;
  EXPECT_NE(listeners.body.find("CIM_ListenerDestinationWSMAN<"), std::string::npos);
  EXPECT_NE(listeners.body.find("<h:DeliveryMode>3</h:DeliveryMode>"), std::string::npos);
  auto subs = enumerate("CIM_FilterCollectionSubscription");
  EXPECT_NE(subs.body.find("Intel(r) AMT:Subscription Manager 1"), std::string::npos) << subs.body;
  EXPECT_NE(subs.body.find("PendingIndications>0<"), std::string::npos) << subs.body;

  auto unsub = wsman(envelope("http://schemas.xmlsoap.org/ws/2004/08/eventing/Unsubscribe",
                              kCim + "CIM_FilterCollectionSubscription", subscriptionSelectors(1), "", "<e:Unsubscribe/>"));
  EXPECT_EQ(unsub.status, 200u) << unsub.body;
  EXPECT_TRUE(events()["subscriptions"].as_array().empty());
  raise("iAMT0005");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sub.count(), 0u) << "nothing after Unsubscribe";
}

// Retries wait for firmware time (a manual clock here): none happens while it stands still, one per advance of the
// retry interval.
TEST_F(EventsDaemonTest, PushWithAckWithTheSubscriberDownThenUpDeliversExactlyOnce) {
  ASSERT_TRUE(start({"--event-policy", "retry-forever", "--clock", "manual"}));
  const std::uint16_t port = downSubscriberPort();
  subscribe("http://127.0.0.1:" + std::to_string(port) + "/events", kPushWithAck);
  raise("iAMT0005");
  ASSERT_TRUE(waitForFailures(1)) << daemon_.log();  // the first attempt goes at once
  auto clock = controlJson("GET", "/clock");
  EXPECT_EQ(clock["next_in_seconds"].to_number<double>(), 0.1) << clock << ": the retry, one interval on";
  std::this_thread::sleep_for(400ms);  // several intervals of real time
  auto s = subscription(0);
  EXPECT_EQ(s["failures"].to_number<int>(), 1) << "no retry while firmware time stands still";
  EXPECT_EQ(s["pending"].to_number<int>(), 1);
  EXPECT_NE(std::string(s["last_error"].as_string()).find("connect"), std::string::npos) << s;
  advance("0.1");
  ASSERT_TRUE(waitForFailures(2)) << "one retry per interval of firmware time";

  EventSubscriber up(EventSubscriber::onPort(port));
  advance("0.1");
  ASSERT_TRUE(up.waitFor(1, 3s));
  advance("1");  // ten more intervals: nothing more may arrive
  std::this_thread::sleep_for(300ms);
  auto got = up.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(messageIdOf(got[0].body), "iAMT0005");
  EXPECT_NE(got[0].body.find("<c:AckRequested>"), std::string::npos);
  EXPECT_NE(got[0].body.find("<m:arg xmlns:m=\"http://x.com\">node-42</m:arg>"), std::string::npos);
  s = subscription(0);
  EXPECT_EQ(s["pending"].to_number<int>(), 0);
  EXPECT_EQ(s["delivered"].to_number<int>(), 1);
  EXPECT_EQ(s["last_error"].as_string(), "");
}

// A subscription's Expires is firmware time: a timer removes it at that moment (logged before anything else asks).
TEST_F(EventsDaemonTest, ASubscriptionExpiresOnTheFirmwareClock) {
  ASSERT_TRUE(start({"--clock", "manual"}));
  EventSubscriber sub;
  auto request = subscribeRequest(sub.url(), kPushWithAck);
  request.replace(request.find("</e:Delivery>") + 13, 0, "<e:Expires>PT60S</e:Expires>");
  auto r = wsman(request);
  ASSERT_EQ(r.status, 200u) << r.body;
  advance("59");
  EXPECT_EQ(events()["subscriptions"].as_array().size(), 1u);
  const auto expiredAnswer = advance("2");
  EXPECT_GE(expiredAnswer.at("fired").to_number<int>(), 1) << expiredAnswer;
  EXPECT_TRUE(daemon_.waitForLog("subscription 1 expired", 2s)) << daemon_.log();
  EXPECT_TRUE(events()["subscriptions"].as_array().empty());
  EXPECT_EQ(events()["expired"].to_number<int>(), 1);
  raise("iAMT0005");
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(sub.count(), 0u);
}

TEST_F(EventsDaemonTest, PendingAlertsAreDeliveredAfterARestart) {
  ASSERT_TRUE(start({"--event-policy", "retry-forever"}));
  const std::uint16_t port = downSubscriberPort();
  subscribe("http://127.0.0.1:" + std::to_string(port) + "/events", kPushWithAck);
  raise("iAMT0004");
  raise("iAMT0005");
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(subscription(0)["pending"].to_number<int>(), 2);
  ASSERT_EQ(daemon_.stop(SIGTERM), 0);

  EventSubscriber up(EventSubscriber::onPort(port));
  ASSERT_TRUE(start({"--event-policy", "retry-forever"}));
  ASSERT_TRUE(up.waitFor(2, 5s)) << daemon_.log();
  raise("iAMT0006");
  ASSERT_TRUE(up.waitFor(3, 3s));
  auto got = up.received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(messageIdOf(got[0].body), "iAMT0004") << "in order";
  EXPECT_EQ(messageIdOf(got[1].body), "iAMT0005");
  EXPECT_EQ(messageIdOf(got[2].body), "iAMT0006");
  auto a = std::stoull(identifierOf(got[0].body)), b = std::stoull(identifierOf(got[1].body)),
       c = std::stoull(identifierOf(got[2].body));
  EXPECT_LT(a, b);
  EXPECT_LT(b, c) << "identifiers keep increasing across the restart";
}

// #10 item 1: bytes that are not UTF-8 text never reach the state dir: a Subscribe holding them (NotifyTo,
// ReferenceParameters, the IssuedTokens user) is refused, and so is /events/raise with them while a queue is
// pending; the answers are valid JSON, and the daemon starts again on the same state dir.
TEST_F(EventsDaemonTest, TextThatCannotBeStoredIsRefusedAndTheStateDirStillLoads) {
  ASSERT_TRUE(start());
  const std::uint16_t port = downSubscriberPort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/events";
  subscribe(url, kPushWithAck);  // a pending queue, for the raise below
  raise("iAMT0005");
  for (const auto& bad : {subscribeRequest(url + "/\xFF\xFE", kPushWithAck),
                          subscribeRequest(url, kPushWithAck, "user\xC3", "pass"),
                          subscribeRequest(url + "/&#x1B;[2J", kPushWithAck)}) {
    auto r = wsman(bad);
    EXPECT_EQ(r.status, 400u) << r.body;
    EXPECT_NE(r.body.find("SchemaValidationError"), std::string::npos) << r.body;
  }
  auto withReference = subscribeRequest(url, kPushWithAck);
  withReference.replace(withReference.find("node-42"), 7, "node\x01");
  EXPECT_EQ(wsman(withReference).status, 400u);
  EXPECT_EQ(events()["subscriptions"].as_array().size(), 1u);

  for (const std::string target : {"/events/raise?messageId=iAMT0005&arg=%FF%FE", "/events/raise?messageId=iAMT0005&arg=%1B",
                                   "/events/raise?messageId=%FF", "/events/raise?messageId=not-an-id"}) {
    auto r = daemon_.post(target);
    EXPECT_EQ(r.substr(0, 3), "400") << target << ": " << r;
    boost::system::error_code ec;
    auto answer = boost::json::parse(r.substr(4), ec);
    EXPECT_FALSE(ec) << "the 400 answer is JSON: " << r;
    EXPECT_TRUE(answer.is_object() && answer.as_object().contains("error")) << r;
  }
  EXPECT_EQ(subscription(0)["pending"].to_number<int>(), 1);

  ASSERT_EQ(daemon_.stop(SIGTERM), 0);
  ASSERT_TRUE(start()) << daemon_.log();
  EXPECT_EQ(subscription(0)["pending"].to_number<int>(), 1);
}

TEST_F(EventsDaemonTest, ASubscriberThatNeverAnswersDoesNotDelayAnother) {
  ASSERT_TRUE(start({"--event-timeout", "10s"}));
  EventSubscriber silent(EventSubscriber::answering(EventSubscriber::Answer::Never));
  EventSubscriber fast;
  subscribe(silent.url(), kPushWithAck);
  subscribe(fast.url(), kPushWithAck);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) raise("iAMT000" + std::to_string(i + 2));
  ASSERT_TRUE(fast.waitFor(5, 3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(silent.count(), 1u) << "the silent one holds its first alert, nothing else";
  auto s = subscription(0);
  EXPECT_TRUE(s["in_flight"].as_bool());
  EXPECT_EQ(s["pending"].to_number<int>(), 5);
  silent.stop();
}

TEST_F(EventsDaemonTest, HttpsWithDigestCredentialsFromIssuedTokens) {
  ASSERT_TRUE(start());
  EventSubscriber sub(EventSubscriber::tlsWithDigest("listener", "s3cret"));
  subscribe(sub.url(), kPush, "listener", "s3cret");
  raise("iAMT0005");
  ASSERT_TRUE(sub.waitFor(1, 3s)) << daemon_.log();
  auto got = sub.received()[0];
  EXPECT_EQ(got.authorization.rfind("Digest username=\"listener\"", 0), 0u);
  EXPECT_EQ(got.body.find("AckRequested"), std::string::npos) << "Push";
  EXPECT_NE(got.body.find("<g:MessageArguments>03020100-0504-0706-0809-0a0b0c0d0e0f</g:MessageArguments>"), std::string::npos);
}

TEST_F(EventsDaemonTest, SuspendPolicyShowsOverWsmanAndRenewResumes) {
  ASSERT_TRUE(start({"--event-retries", "1", "--event-policy", "suspend"}));
  EventSubscriber failing(EventSubscriber::answering(EventSubscriber::Answer::ServerError));
  subscribe(failing.url(), kPushWithAck);
  raise("iAMT0005");
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!subscription(0)["suspended"].as_bool() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(subscription(0)["suspended"].as_bool());
  EXPECT_EQ(subscription(0)["last_error"].as_string(), "HTTP 500");
  auto subs = wsman(envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", kCim + "CIM_FilterCollectionSubscription",
                             "", "", "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><w:OptimizeEnumeration/>"
                             "<w:MaxElements>20</w:MaxElements></Enumerate>"));
  EXPECT_NE(subs.body.find("SubscriptionState>4<"), std::string::npos) << subs.body;
  EXPECT_NE(subs.body.find("LastDeliveryError>HTTP 500<"), std::string::npos);
  EXPECT_NE(subs.body.find("PendingIndications>1<"), std::string::npos);
  EXPECT_EQ(failing.count(), 2u) << "the first attempt and one retry";

  auto renew = wsman(envelope("http://schemas.xmlsoap.org/ws/2004/08/eventing/Renew", kCim + "CIM_FilterCollectionSubscription",
                              subscriptionSelectors(1), "", "<e:Renew><e:Expires>PT1H</e:Expires></e:Renew>"));
  ASSERT_EQ(renew.status, 200u) << renew.body;
  EXPECT_NE(renew.body.find("RenewResponse"), std::string::npos);
  EXPECT_TRUE(failing.waitFor(4, 3s)) << "delivery resumed (and failed twice more)";
}

}  // namespace
}  // namespace mesim::test
