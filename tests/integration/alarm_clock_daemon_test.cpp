// The alarm clock in the real daemon (issue 14 item 5, docs/alarm-clock-and-boot.md): a console powers the host off
// and adds a daily alarm over WS-Man; the manual firmware clock is moved to just before and then to the alarm's time;
// the host is on, IPS_HostBootReason says "alarm clock" (3), the alarm moved on a day, and all of it is still there
// after a restart of the daemon.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

constexpr char kPassword[] = "P@ssw0rd";
const std::string kService = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_AlarmClockService";
const std::string kOccurrence = "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_AlarmClockOccurrence";
const std::string kBootReason = "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_HostBootReason";
const std::string kAssociatedPower =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService";
const std::string kGet = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  const auto at = text.find(open);
  if (at == std::string::npos) return "<none>";
  const auto end = text.find(close, at + open.size());
  return text.substr(at + open.size(), end - at - open.size());
}

boost::json::object jsonOf(const std::string& answer) {
  boost::system::error_code ec;
  auto value = answer.size() > 4 ? boost::json::parse(answer.substr(4), ec) : boost::json::value();
  return !ec && value.is_object() ? value.as_object() : boost::json::object();
}

class AlarmClockDaemonTest : public ::testing::Test {
 protected:
  void start() {
    ASSERT_TRUE(daemon.start({"--clock", "manual", "--host-os", "none", "--fuse", "off", "--preload", "off"}))
        << daemon.log();
    ASSERT_NE(daemon.httpPort(), 0) << daemon.log();
    wsman.emplace(daemon.httpPort(), "admin", kPassword);
  }
  void SetUp() override { start(); }

  std::string post(const std::string& envelope) {
    auto answer = wsman->post(envelope);
    EXPECT_EQ(answer.status, 200u) << answer.body;
    return answer.body;
  }
  std::string powerState() { return between(post(wsmanEnvelope(kGet, kAssociatedPower)), "PowerState>", "</"); }
  void clockTo(const std::string& iso) { ASSERT_EQ(daemon.post("/clock/set?time=" + iso).substr(0, 3), "200"); }

  DaemonProcess daemon;
  std::optional<WsmanDigestClient> wsman;
};

TEST_F(AlarmClockDaemonTest, HostOffThenAlarmThenOn) {
  clockTo("2030-01-01T00:00:00Z");
  EXPECT_EQ(between(post(wsmanRequestPowerStateChange(8)), "ReturnValue>", "</"), "0");
  EXPECT_EQ(powerState(), "8");

  const std::string s = "xmlns:s=\"" + kOccurrence + "\"";
  const std::string add =
      "<p:AddAlarm_INPUT xmlns:p=\"" + kService + "\"><p:AlarmTemplate><s:InstanceID " + s +
      ">Daily</s:InstanceID><s:ElementName " + s + ">Daily update</s:ElementName><s:StartTime " + s +
      "><p:Datetime xmlns:p=\"http://schemas.dmtf.org/wbem/wscim/1/common\">2030-01-01T00:10:00Z</p:Datetime>"
      "</s:StartTime><s:Interval " + s + "><p:Interval xmlns:p=\"http://schemas.dmtf.org/wbem/wscim/1/common\">"
      "P1DT0H0M</p:Interval></s:Interval><s:DeleteOnCompletion " + s + ">false</s:DeleteOnCompletion>"
      "</p:AlarmTemplate></p:AddAlarm_INPUT>";
  const auto added = post(wsmanEnvelope(kService + "/AddAlarm", kService, add));
  ASSERT_EQ(between(added, "ReturnValue>", "</"), "0") << added;
  EXPECT_NE(added.find(">Daily</"), std::string::npos) << added;  // the AlarmClock EPR's InstanceID selector

  auto status = jsonOf(daemon.get("/status"));
  ASSERT_TRUE(status.contains("alarm_clock")) << daemon.get("/status");
  EXPECT_EQ(status.at("alarm_clock").at("alarms").to_number<int>(), 1);
  EXPECT_EQ(status.at("alarm_clock").at("next_alarm").as_string(), "2030-01-01T00:10:00.000000Z");

  clockTo("2030-01-01T00:09:59Z");
  EXPECT_EQ(powerState(), "8");
  clockTo("2030-01-01T00:10:00Z");
  EXPECT_EQ(powerState(), "2");
  const auto reason = post(wsmanEnvelope(kGet, kBootReason));
  EXPECT_EQ(between(reason, ":Reason>", "</"), "3") << reason;  // alarm clock
  status = jsonOf(daemon.get("/status"));
  EXPECT_EQ(status.at("alarm_clock").at("wakes").to_number<int>(), 1);
  EXPECT_EQ(status.at("alarm_clock").at("next_alarm").as_string(), "2030-01-02T00:10:00.000000Z");

  // Persisted: after a restart the alarm is there with its next time, and goes off again a day later.
  ASSERT_EQ(daemon.stop(), 0) << daemon.log();
  start();
  clockTo("2030-01-01T12:00:00Z");
  const auto listed = post(wsmanEnvelope(kGet, kOccurrence, "", "1", "<w:Selector Name=\"InstanceID\">Daily</w:Selector>"));
  EXPECT_EQ(between(listed, "ElementName>", "</"), "Daily update") << listed;
  EXPECT_NE(listed.find("2030-01-02T00:10:00Z"), std::string::npos) << listed;
  EXPECT_NE(listed.find("P1DT0H0M"), std::string::npos) << listed;
  EXPECT_EQ(between(post(wsmanRequestPowerStateChange(8)), "ReturnValue>", "</"), "0");
  clockTo("2030-01-02T00:10:00Z");
  EXPECT_EQ(powerState(), "2");

  // A bad request gets AMT's return value, and the daemon goes on.
  const auto refused = post(wsmanEnvelope(kService + "/AddAlarm", kService,
                                          "<p:AddAlarm_INPUT xmlns:p=\"" + kService + "\"><p:AlarmTemplate><s:InstanceID " + s +
                                              ">Late</s:InstanceID><s:StartTime " + s +
                                              "><p:Datetime xmlns:p=\"http://schemas.dmtf.org/wbem/wscim/1/common\">"
                                              "2029-01-01T00:00:00Z</p:Datetime></s:StartTime></p:AlarmTemplate>"
                                              "</p:AddAlarm_INPUT>"));
  EXPECT_EQ(between(refused, "ReturnValue>", "</"), "36") << refused;
  EXPECT_EQ(powerState(), "2");
}

}  // namespace
}  // namespace mesim::test
