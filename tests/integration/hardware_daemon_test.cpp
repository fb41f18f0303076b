// Hardware monitoring through the real daemon (docs/hardware.md): the control API fails a fan and heats the CPU
// past its threshold; WS-Man's CIM_Fan / CIM_Sensor show it, the message log has the records as AMT logs the PET
// events, and a WS-Eventing subscriber gets the alerts. The inventory follows <state dir>/hardware.json, and a bad
// one stops the start with a message naming the field.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "tests/support/control_call.h"
#include "tests/support/daemon_process.h"
#include "tests/support/event_subscriber.h"
#include "wsman/eventing/http_client.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
constexpr const char* kPassword = "P@ssw0rd";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";

std::string envelope(const std::string& action, const std::string& resource, const std::string& selectors,
                     const std::string& body) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?><Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\" "
         "xmlns:e=\"http://schemas.xmlsoap.org/ws/2004/08/eventing\"><Header><a:Action>" + action +
         "</a:Action><a:To>/wsman</a:To><w:ResourceURI>" + resource + "</w:ResourceURI><a:MessageID>1</a:MessageID>"
         "<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>" +
         selectors + "</Header><Body>" + body + "</Body></Envelope>";
}

class HardwareDaemonTest : public ::testing::Test {
 protected:
  bool start() {
    return daemon_.start({"--fuse", "off", "--preload", "off", "--admin-password", kPassword, "--clock", "manual"});
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

  std::string enumerate(const std::string& uri) {
    auto r = wsman(envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", uri, "",
                            "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><w:OptimizeEnumeration/>"
                            "<w:MaxElements>100</w:MaxElements></Enumerate>"));
    EXPECT_EQ(r.status, 200u) << r.error << r.body;
    return r.body;
  }

  boost::json::object post(const std::string& target, const std::string& body, unsigned expected = 200) {
    auto r = controlCall(daemon_.controlPort(), "POST", target, body);
    EXPECT_TRUE(r) << target;
    if (!r) return {};
    EXPECT_EQ(r->status, expected) << target << " " << body << ": " << r->body;
    boost::system::error_code ec;
    auto v = boost::json::parse(r->body, ec);
    return !ec && v.is_object() ? v.as_object() : boost::json::object{};
  }

  boost::json::object get(const std::string& target) {
    auto r = daemon_.get(target);
    EXPECT_EQ(r.substr(0, 3), "200") << target << ": " << r;
    boost::system::error_code ec;
    auto v = boost::json::parse(r.size() > 4 ? r.substr(4) : "", ec);
    return !ec && v.is_object() ? v.as_object() : boost::json::object{};
  }

  DaemonProcess daemon_;
};

TEST_F(HardwareDaemonTest, AFanFailureIsShownLoggedAndRaised) {
  ASSERT_TRUE(start()) << daemon_.log();
  EventSubscriber sub;
  auto subscribed = wsman(envelope(
      "http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe", kCim + "CIM_FilterCollection",
      "<w:SelectorSet><w:Selector Name=\"InstanceID\">Intel(r) AMT:All</w:Selector></w:SelectorSet>",
      "<e:Subscribe><e:Delivery Mode=\"http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck\"><e:NotifyTo><a:Address>" +
          sub.url() + "</a:Address></e:NotifyTo></e:Delivery></e:Subscribe>"));
  ASSERT_EQ(subscribed.status, 200u) << subscribed.body;

  EXPECT_NE(enumerate(kCim + "CIM_Fan").find("<h:HealthState>5</h:HealthState>"), std::string::npos);
  const auto before = get("/logs/events")["total"].to_number<int>();

  auto answer = post("/hardware/fans/cpu_fan", R"({"failed": true})");
  EXPECT_EQ(answer["failed"], true);
  ASSERT_EQ(answer["events"].as_array().size(), 1u) << answer;
  EXPECT_EQ(answer["events"].as_array()[0].as_object()["message_id"], "PLAT0006");

  // WS-Man: the fan in critical failure, its tachometer Bad.
  const auto fans = enumerate(kCim + "CIM_Fan");
  EXPECT_NE(fans.find("<h:HealthState>25</h:HealthState>"), std::string::npos) << fans;
  EXPECT_NE(fans.find("<h:OperationalStatus>6</h:OperationalStatus>"), std::string::npos) << fans;
  const auto sensors = enumerate(kCim + "CIM_Sensor");
  EXPECT_NE(sensors.find("<h:DeviceID>Sensor 2</h:DeviceID>"), std::string::npos) << sensors;
  EXPECT_NE(sensors.find("<h:CurrentState>Bad</h:CurrentState>"), std::string::npos) << sensors;

  // The message log: fan (04h), threshold (01h), lower critical going low, critical.
  auto log = get("/logs/events");
  ASSERT_EQ(log["total"].to_number<int>(), before + 1) << log;
  auto record = log["records"].as_array().back().as_object();
  EXPECT_EQ(record["sensor_type"].to_number<int>(), 4) << record;
  EXPECT_EQ(record["event_type"], "0x01") << record;
  EXPECT_EQ(record["offset"].to_number<int>(), 2) << record;
  EXPECT_EQ(record["severity"], "0x10") << record;

  // The subscriber: a CIM_AlertIndication with the fan's MessageID and arguments.
  ASSERT_TRUE(sub.waitFor(1, 5s));
  const auto body = sub.received()[0].body;
  EXPECT_NE(body.find("<g:MessageID>PLAT0006</g:MessageID>"), std::string::npos) << body;
  EXPECT_NE(body.find("<g:MessageArguments>Sensor 2</g:MessageArguments>"), std::string::npos) << body;
  EXPECT_NE(body.find("<g:PerceivedSeverity>6</g:PerceivedSeverity>"), std::string::npos) << body;

  // Heat: over the critical temperature, one record and one alert; back, the deassertion.
  auto hot = post("/hardware/sensors/cpu_temperature", R"({"reading": 105})");
  EXPECT_EQ(hot["state"], "Bad");
  post("/hardware/sensors/cpu_temperature", R"({"state": "good"})");
  ASSERT_TRUE(sub.waitFor(3, 5s));
  EXPECT_NE(sub.received()[1].body.find("PLAT0004"), std::string::npos);
  log = get("/logs/events");
  EXPECT_EQ(log["total"].to_number<int>(), before + 3);
  EXPECT_EQ(log["records"].as_array().back().as_object()["offset"].to_number<int>(), 0x89);

  // What is wrong is named.
  post("/hardware/fans/nothing", R"({"failed": true})", 404);
  post("/hardware/fans/cpu_fan", R"({"failed": "yes"})", 400);
  post("/hardware/sensors/cpu_temperature", R"({"state": "melting"})", 400);
  post("/hardware/sensors/chassis_intrusion", R"({"reading": 3})", 400);
  post("/hardware/sensors/cpu_temperature", "not json", 400);
  // The query does as well as a body (mesimctl call POST /hardware/power-supplies/psu0 failed=true).
  auto psu = daemon_.post("/hardware/power-supplies/psu0?failed=true");
  EXPECT_EQ(psu.substr(0, 3), "200") << psu;
  EXPECT_NE(psu.find("PLAT0008"), std::string::npos) << psu;
  EXPECT_EQ(daemon_.post("/hardware/sensors/cpu_voltage?upper_critical=12").substr(0, 3), "400")
      << "critical inside non-critical";
  EXPECT_EQ(get("/hardware")["events"].to_number<int>(), 4);
}

TEST_F(HardwareDaemonTest, TheInventoryFollowsHardwareJson) {
  {
    std::ofstream(daemon_.stateDir() / "hardware.json")
        << R"({"system": {"product_name": "QA Brick"}, "battery": {"manufacturer": "Cells Inc"}})";
  }
  ASSERT_TRUE(start()) << daemon_.log();
  EXPECT_NE(enumerate(kCim + "CIM_Chassis").find("<h:Model>QA Brick</h:Model>"), std::string::npos);
  EXPECT_NE(enumerate(kCim + "CIM_Battery").find("<h:DeviceID>BAT0</h:DeviceID>"), std::string::npos);
  EXPECT_EQ(get("/hardware")["inventory"].as_object()["battery"], true);
  daemon_.stop();

  { std::ofstream(daemon_.stateDir() / "hardware.json") << R"({"memory": [{"size_gb": 8}]})"; }
  EXPECT_FALSE(start());
  EXPECT_NE(daemon_.log().find("memory[0].size_gb"), std::string::npos) << daemon_.log();
}

}  // namespace
}  // namespace mesim::test
