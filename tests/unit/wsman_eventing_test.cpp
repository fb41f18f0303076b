// WS-Eventing pieces of wsman/eventing: Subscribe/Renew reading (MeshCentral's envelope), the CIM_AlertIndication
// envelope and Ack (spec/wsman.md §1.6), and HttpEventTransport against a real local subscriber (http, https,
// Digest, Ack checks, a subscriber that never answers).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "tests/support/event_subscriber.h"
#include "wsman/eventing/alert_indication.h"
#include "wsman/eventing/http_client.h"
#include "wsman/eventing/http_event_transport.h"
#include "wsman/eventing/name_resolver.h"
#include "wsman/eventing/subscribe_request.h"
#include "wsman/soap/envelope.h"

namespace mesim::wsman::eventing {
namespace {

using namespace std::chrono_literals;
const events::TimePoint kNow{std::chrono::seconds(1'700'000'000)};

// What MeshCentral's amt-wsman.js ExecSubscribe writes (user/pass given, its opaque always "").
std::string meshCentralSubscribe(const std::string& url, const std::string& mode = "dmtf.org/wbem/wsman/1/wsman/PushWithAck",
                                 const std::string& extraBody = "") {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?><Envelope xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
         "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
         "xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\" xmlns=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:e=\"http://schemas.xmlsoap.org/ws/2004/08/eventing\" xmlns:m=\"http://x.com\"><Header>"
         "<a:Action>http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe</a:Action><a:To>/wsman</a:To>"
         "<w:ResourceURI>http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_FilterCollection</w:ResourceURI>"
         "<a:MessageID>5</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
         "</a:Address></a:ReplyTo><w:SelectorSet><w:Selector Name=\"InstanceID\">Intel(r) AMT:All</w:Selector></w:SelectorSet>"
         "<t:IssuedTokens xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\" "
         "xmlns:se=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\">"
         "<t:RequestSecurityTokenResponse><t:TokenType>http://docs.oasis-open.org/wss/2004/01/"
         "oasis-200401-wss-username-token-profile-1.0#UsernameToken</t:TokenType><t:RequestedSecurityToken>"
         "<se:UsernameToken><se:Username>sub-user</se:Username><se:Password Type=\"http://docs.oasis-open.org/wss/2004/01/"
         "oasis-200401-wss-wssecurity-secext-1.0.xsd#PasswordText\">sub-pass</se:Password></se:UsernameToken>"
         "</t:RequestedSecurityToken></t:RequestSecurityTokenResponse></t:IssuedTokens></Header><Body><e:Subscribe>"
         "<e:Delivery Mode=\"http://schemas." + mode + "\"><e:NotifyTo><a:Address>" + url +
         "</a:Address><a:ReferenceParameters><m:arg>node-7</m:arg></a:ReferenceParameters></e:NotifyTo>"
         "<w:Auth Profile=\"http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest\"/></e:Delivery>" +
         extraBody + "</e:Subscribe></Body></Envelope>";
}

std::variant<SubscribeRequest, soap::Fault> parse(const std::string& text) {
  auto parsed = soap::parseRequest(text);
  if (!parsed.request) return *parsed.fault;
  return parseSubscribe(*parsed.request, kNow);
}

TEST(SubscribeRequest, ReadsMeshCentralsSubscribe) {
  auto r = parse(meshCentralSubscribe("http://192.168.1.5:4433/amtevents.ashx", "dmtf.org/wbem/wsman/1/wsman/PushWithAck",
                                      "<e:Expires>PT60S</e:Expires>"));
  ASSERT_TRUE(std::holds_alternative<SubscribeRequest>(r)) << soap::faultName(std::get<soap::Fault>(r).code);
  auto& s = std::get<SubscribeRequest>(r);
  EXPECT_EQ(s.notifyTo, "http://192.168.1.5:4433/amtevents.ashx");
  EXPECT_EQ(s.mode, events::DeliveryMode::PushWithAck);
  EXPECT_EQ(s.username, "sub-user");
  EXPECT_EQ(s.password, "sub-pass");
  // MeshCentral's receiver looks for exactly this text in the event (webserver.js handleAmtEventRequest).
  EXPECT_EQ(s.referenceParameters, "<m:arg xmlns:m=\"http://x.com\">node-7</m:arg>");
  ASSERT_TRUE(s.expires);
  EXPECT_EQ(*s.expires, kNow + 60s);
}

TEST(SubscribeRequest, PushModeAndFaults) {
  auto push = parse(meshCentralSubscribe("https://h/x", "xmlsoap.org/ws/2004/08/eventing/DeliveryModes/Push"));
  ASSERT_TRUE(std::holds_alternative<SubscribeRequest>(push));
  EXPECT_EQ(std::get<SubscribeRequest>(push).mode, events::DeliveryMode::Push);
  auto code = [](const std::variant<SubscribeRequest, soap::Fault>& r) {
    return std::holds_alternative<soap::Fault>(r) ? soap::faultName(std::get<soap::Fault>(r).code) : "none";
  };
  EXPECT_STREQ(code(parse(meshCentralSubscribe("http://h/", "dmtf.org/wbem/wsman/1/wsman/Pull"))), "DeliveryModeRequestedUnavailable");
  EXPECT_STREQ(code(parse(meshCentralSubscribe("ftp://h/"))), "InvalidMessage");
  EXPECT_STREQ(code(parse(meshCentralSubscribe("http://" + std::string(250, 'h') + "/"))), "InvalidMessage");
  EXPECT_STREQ(code(parse(meshCentralSubscribe("http://h/", "dmtf.org/wbem/wsman/1/wsman/PushWithAck",
                                               "<e:Expires>PT0S</e:Expires>"))), "InvalidExpirationTime");
  EXPECT_STREQ(code(parse(meshCentralSubscribe("http://h/", "dmtf.org/wbem/wsman/1/wsman/PushWithAck",
                                               "<e:Expires>2001-01-01T00:00:00Z</e:Expires>"))), "InvalidExpirationTime");
}

TEST(SubscribeRequest, ExpiresIsADateTheCalendarHas) {
  EXPECT_TRUE(parseExpires("2030-02-28T00:00:00Z", kNow));
  EXPECT_TRUE(parseExpires("2028-02-29T00:00:00Z", kNow));  // a leap year
  for (const char* bad : {"2030-02-31T00:00:00Z", "2030-02-29T00:00:00Z", "2030-04-31T00:00:00Z", "2030-13-01T00:00:00Z",
                          "2030-00-10T00:00:00Z", "2030-01-00T00:00:00Z", "2030-01-01T24:00:00Z", "2030-01-01T00:60:00Z",
                          "2030-01-01T00:00:60Z", "2030-01-01T00:00:00.Z", "2030-01-01T00:00:00+15:00",
                          "2030-01-01T00:00:00+01:60", "2030-+1-01T00:00:00Z", "+030-01-01T00:00:00Z"})
    EXPECT_FALSE(parseExpires(bad, kNow)) << bad;
}

TEST(SubscribeRequest, ExpiresAndUrls) {
  EXPECT_EQ(parseExpires("2023-11-14T22:13:30Z", kNow), kNow + 10s);
  EXPECT_EQ(parseExpires("2023-11-14T23:13:30.250+01:00", kNow), kNow + 10s);
  EXPECT_EQ(parseExpires("PT1M", kNow), kNow + 60s);
  EXPECT_FALSE(parseExpires("tomorrow", kNow));
  auto u = parseUrl("https://[::1]:8443/a/b?c");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "8443");
  EXPECT_EQ(u->target, "/a/b?c");
  u = parseUrl("http://example.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");
  EXPECT_FALSE(parseUrl("http://user:pw@host/"));
  EXPECT_FALSE(parseUrl("http://host:99999/"));
  EXPECT_FALSE(parseUrl("http:///x"));
}

events::Subscription subscription(std::string url, events::DeliveryMode mode) {
  events::Subscription s;
  s.id = 1;
  s.filter = "Intel(r) AMT:All";
  s.notifyTo = std::move(url);
  s.mode = mode;
  s.referenceParameters = "<m:arg xmlns:m=\"http://x.com\">node-7</m:arg>";
  return s;
}

events::QueuedAlert watchdogExpired(std::uint64_t n) {
  events::QueuedAlert q;
  q.indication = n;
  q.alert.messageId = "iAMT0005";
  q.alert.messageArguments = {"03020100-0504-0706-0809-0a0b0c0d0e0f"};
  q.alert.time = events::TimePoint(std::chrono::milliseconds(1485877209000));
  return q;
}

TEST(AlertIndication, EnvelopeAsInTheCapture) {
  auto text = writeAlertIndication(subscription("http://h/", events::DeliveryMode::PushWithAck), watchdogExpired(2950234687),
                                   "uuid:00000000-8086-8086-8086-000000128538")
                  .value();
  for (const char* part :
       {"<b:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</b:To>", "<c:AckRequested></c:AckRequested>",
        "<b:Action a:mustUnderstand=\"true\">http://schemas.dmtf.org/wbem/wsman/1/wsman/Event</b:Action>",
        "<b:MessageID>uuid:00000000-8086-8086-8086-000000128538</b:MessageID>",
        "<c:ResourceURI>http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AlertIndication</c:ResourceURI>"
        "<m:arg xmlns:m=\"http://x.com\">node-7</m:arg></a:Header>",
        "<g:AlertType>8</g:AlertType><g:AlertingElementFormat>2</g:AlertingElementFormat>",
        "<g:AlertingManagedElement>Interop:CIM_ComputerSystem.CreationClassName=\"CIM_ComputerSystem\",Name=\""
        "Intel(r) AMT\"</g:AlertingManagedElement><g:IndicationFilterName>Intel(r) AMT:AllEvents</g:IndicationFilterName>"
        "<g:IndicationIdentifier>Intel(r):2950234687</g:IndicationIdentifier><g:IndicationTime><h:Datetime>"
        "2017-01-31T15:40:09.000Z</h:Datetime></g:IndicationTime><g:Message></g:Message>"
        "<g:MessageArguments>03020100-0504-0706-0809-0a0b0c0d0e0f</g:MessageArguments><g:MessageID>iAMT0005</g:MessageID>"
        "<g:OtherAlertingElementFormat></g:OtherAlertingElementFormat><g:OtherSeverity></g:OtherSeverity>"
        "<g:OwningEntity>Intel(r) AMT</g:OwningEntity><g:PerceivedSeverity>2</g:PerceivedSeverity>"
        "<g:ProbableCause>0</g:ProbableCause><g:SystemName>Intel(r) AMT</g:SystemName></g:CIM_AlertIndication>"})
    EXPECT_NE(text.find(part), std::string::npos) << part;
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_string(text.c_str())) << "well-formed";
  auto push = writeAlertIndication(subscription("http://h/", events::DeliveryMode::Push), watchdogExpired(1), "x");
  ASSERT_TRUE(push);
  EXPECT_EQ(push->find("AckRequested"), std::string::npos);
}

TEST(AlertIndication, ReferenceParametersThatAreNotXmlAreAnError) {
  auto s = subscription("http://h/", events::DeliveryMode::Push);
  s.referenceParameters = "<m:arg>unclosed";
  auto text = writeAlertIndication(s, watchdogExpired(1), "x");
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message.find("reference parameters"), std::string::npos) << text.error().message;
}

TEST(AlertIndication, AckMustRelateToTheEvent) {
  EXPECT_TRUE(isAckFor(writeAck("uuid:1"), "uuid:1"));
  EXPECT_FALSE(isAckFor(writeAck("uuid:1"), "uuid:2"));
  EXPECT_FALSE(isAckFor("", "uuid:1"));
  EXPECT_FALSE(isAckFor("<Envelope/>", "uuid:1"));
}

TEST(DigestClient, AnswersTheChallenge) {
  auto h = digestAuthorization("Digest realm=\"r\", nonce=\"n\", qop=\"auth\"", "POST", "/e", "u", "p", "c");
  auto parsed = http::parseDigestAuthorization(h);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->response, http::digestResponse(http::md5Hex("u:r:p"), "n", "00000001", "c", "auth", "POST", "/e"));
  EXPECT_EQ(digestAuthorization("Basic realm=\"r\"", "POST", "/", "u", "p", "c"), "");
}

// Delivers one alert through HttpEventTransport on its own io_context; returns the transport's verdict ("" for success).
std::string deliver(const events::Subscription& s, std::uint64_t n = 1, std::chrono::milliseconds timeout = 3s) {
  boost::asio::io_context io;
  HttpEventTransport transport(io);
  std::string verdict = "not called";
  transport.send(s, watchdogExpired(n), timeout, [&](Result<> outcome) { verdict = errorOf(outcome); });
  io.run();
  return verdict;
}

TEST(HttpEventTransport, PushWithAckOverHttp) {
  test::EventSubscriber sub;
  EXPECT_EQ(deliver(subscription(sub.url(), events::DeliveryMode::PushWithAck), 77), "");
  auto got = sub.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].body.find("Intel(r):77"), std::string::npos);
  EXPECT_NE(got[0].body.find("<m:arg xmlns:m=\"http://x.com\">node-7</m:arg>"), std::string::npos);
}

TEST(HttpEventTransport, HttpsWithDigestFromIssuedTokens) {
  test::EventSubscriber sub(test::EventSubscriber::tlsWithDigest("sub-user", "sub-pass"));
  auto s = subscription(sub.url(), events::DeliveryMode::PushWithAck);
  EXPECT_NE(deliver(s), "") << "no credentials: 401";
  s.username = "sub-user";
  s.password = "sub-pass";
  EXPECT_EQ(deliver(s), "");
  ASSERT_EQ(sub.count(), 1u);
  EXPECT_EQ(sub.received()[0].authorization.rfind("Digest username=\"sub-user\"", 0), 0u);
  EXPECT_EQ(sub.challenges(), 2u);
}

TEST(HttpEventTransport, TheAckIsChecked) {
  test::EventSubscriber plain(test::EventSubscriber::answering(test::EventSubscriber::Answer::Ok));
  EXPECT_EQ(deliver(subscription(plain.url(), events::DeliveryMode::Push)), "") << "Push needs no Ack";
  EXPECT_NE(deliver(subscription(plain.url(), events::DeliveryMode::PushWithAck)).find("no Ack"), std::string::npos);
  test::EventSubscriber failing(test::EventSubscriber::answering(test::EventSubscriber::Answer::ServerError));
  EXPECT_EQ(deliver(subscription(failing.url(), events::DeliveryMode::Push)), "HTTP 500");
}

TEST(HttpEventTransport, DeadAndSilentSubscribersFailInTime) {
  std::uint16_t freePort;
  {
    test::EventSubscriber gone;
    freePort = gone.port();
  }
  auto refused = deliver(subscription("http://127.0.0.1:" + std::to_string(freePort) + "/", events::DeliveryMode::Push));
  EXPECT_NE(refused.find("connect"), std::string::npos) << refused;
  test::EventSubscriber silent(test::EventSubscriber::answering(test::EventSubscriber::Answer::Never));
  auto start = std::chrono::steady_clock::now();
  auto verdict = deliver(subscription(silent.url(), events::DeliveryMode::PushWithAck), 1, 300ms);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(verdict.find("timed out"), std::string::npos) << verdict;
  EXPECT_LT(took, 2s);
  silent.stop();
}

TEST(NameResolver, SystemLookupOfAnAddressNeedsNoServer) {
  auto found = systemLookup("127.0.0.1", "8080");
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_FALSE(found->empty());
  EXPECT_EQ(found->front(), boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 8080));
  EXPECT_FALSE(systemLookup("127.0.0.1", "not-a-port-name-anywhere"));
}

}  // namespace
}  // namespace mesim::wsman::eventing
