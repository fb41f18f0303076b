// The alarm clock end to end inside one process: AMT_AlarmClockService.AddAlarm and IPS_AlarmClockOccurrence as
// wsman-messages and MeshCentral send them, platform::AlarmClock powering the host on at the alarm's time on a manual
// firmware clock (recurring, one-shot, deleted on completion, AMT's clock offset), the deprecated NextAMTAlarmTime,
// the limits and return values, and persistence (docs/alarm-clock-and-boot.md).
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <ctime>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/alarm_clock.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_json.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/ops/wsman_service.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman {
namespace {

const std::string kService = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_AlarmClockService";
const std::string kOccurrence = "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_AlarmClockOccurrence";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kEnum = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/";
constexpr std::int64_t kStart = 1700000000;  // 2023-11-14T22:13:20Z

// AddAlarm_INPUT as wsman-messages 5.x writes it (amt/messages.js AlarmClockService.AddAlarm); `interval` "" leaves
// Interval out, as MeshCentral does for a one-shot alarm.
std::string addAlarm(const std::string& id, const std::string& start, const std::string& interval, bool deleteOnCompletion) {
  const std::string s = "xmlns:s=\"" + kOccurrence + "\"";
  std::string body = "<p:AddAlarm_INPUT xmlns:p=\"" + kService + "\"><p:AlarmTemplate><s:InstanceID " + s + ">" + id +
                     "</s:InstanceID><s:ElementName " + s + ">" + id + "</s:ElementName><s:StartTime " + s +
                     "><p:Datetime xmlns:p=\"http://schemas.dmtf.org/wbem/wscim/1/common\">" + start +
                     "</p:Datetime></s:StartTime>";
  if (!interval.empty())
    body += "<s:Interval " + s + "><p:Interval xmlns:p=\"http://schemas.dmtf.org/wbem/wscim/1/common\">" + interval +
            "</p:Interval></s:Interval>";
  body += "<s:DeleteOnCompletion " + s + ">" + std::string(deleteOnCompletion ? "true" : "false") +
          "</s:DeleteOnCompletion></p:AlarmTemplate></p:AddAlarm_INPUT>";
  return test::wsmanEnvelope(kService + "/AddAlarm", kService, body, "1",
                             "<w:Selector Name=\"Name\">Intel(r) AMT Alarm Clock Service</w:Selector>");
}

std::string at(std::int64_t unixSeconds) {
  std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<pugi::xml_node> all(pugi::xml_node root, std::string_view local) {
  std::vector<pugi::xml_node> out;
  struct Walker : pugi::xml_tree_walker {
    std::string_view local;
    std::vector<pugi::xml_node>* out;
    bool for_each(pugi::xml_node& n) override {
      if (n.type() == pugi::node_element && soap::localName(n) == local) out->push_back(n);
      return true;
    }
  } w;
  w.local = local;
  w.out = &out;
  root.traverse(w);
  return out;
}

std::string first(pugi::xml_node root, std::string_view local) {
  auto nodes = all(root, local);
  return nodes.empty() ? std::string("<none>") : soap::text(nodes.front());
}

class AlarmClockTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    alarms.reset();
    service.reset();
    power.reset();
    model.reset();
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    power->setHook([this](const platform::PowerChange& c) { changes.push_back(c); });
    service = std::make_unique<ops::WsmanService>(*model, clock, *power);
    alarms = std::make_unique<platform::AlarmClock>(timers, *model, *power);
  }

  pugi::xml_document& ok(const std::string& request) {
    auto r = service->handle(request, {"admin", false});
    EXPECT_EQ(r.httpStatus, 200u) << r.body;
    docs.emplace_back(std::make_unique<pugi::xml_document>());
    EXPECT_TRUE(docs.back()->load_string(r.body.c_str())) << r.body;
    return *docs.back();
  }

  std::string returnValue(const std::string& request) { return first(ok(request).document_element(), "ReturnValue"); }

  // The IPS_AlarmClockOccurrence instances, by Enumerate + Pull.
  std::vector<pugi::xml_node> occurrences() {
    auto& e = ok(test::wsmanEnvelope(kEnum + "Enumerate", kOccurrence,
                                     "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" />"));
    const std::string context = first(e.document_element(), "EnumerationContext");
    auto& p = ok(test::wsmanEnvelope(kEnum + "Pull", kOccurrence,
                                     "<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationContext>" +
                                         context + "</EnumerationContext><MaxElements>999</MaxElements></Pull>"));
    return all(p.document_element(), "IPS_AlarmClockOccurrence");
  }

  void powerOff() {
    ASSERT_EQ(power->request(platform::power::kOffSoft, {"admin", false, {}}), platform::PowerChangeStatus::Completed);
  }

  test::TempDir dir{"alarm"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(kStart)}};
  boost::asio::io_context io;
  core::FirmwareTimerQueue timers{io, clock};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<ops::WsmanService> service;
  std::unique_ptr<platform::AlarmClock> alarms;
  std::vector<platform::PowerChange> changes;
  std::vector<std::unique_ptr<pugi::xml_document>> docs;
};

TEST(AlarmInterval, ParsesTheDurationsConsolesSend) {
  EXPECT_EQ(platform::parseAlarmInterval("P1DT0H0M"), 86400u);
  EXPECT_EQ(platform::parseAlarmInterval("P0DT0H0M"), 0u);
  EXPECT_EQ(platform::parseAlarmInterval("P0DT1H30M"), 5400u);
  EXPECT_EQ(platform::parseAlarmInterval("PT45S"), 45u);
  EXPECT_EQ(platform::parseAlarmInterval("P2D"), 172800u);
  EXPECT_EQ(platform::parseAlarmInterval("P49710DT6H28M15S"), 4294967295u);
  for (const char* bad : {"", "P", "PT", "P1DT", "1D", "P1Y", "P1M", "PT1.5S", "P-1D", "PT1M1H", "P1DT1H1H", "PTH",
                          "P1D1D", "P49710DT6H28M16S", "P99999999999999999999D", "p1d", "P1W"})
    EXPECT_FALSE(platform::parseAlarmInterval(bad)) << bad;
  EXPECT_EQ(platform::formatAlarmInterval(86400), "P1DT0H0M");
  EXPECT_EQ(platform::formatAlarmInterval(5400), "P0DT1H30M");
  EXPECT_EQ(platform::formatAlarmInterval(90061), "P1DT1H1M1S");
  for (std::uint32_t s : {0u, 59u, 60u, 3599u, 86399u, 4294967295u})
    EXPECT_EQ(platform::parseAlarmInterval(platform::formatAlarmInterval(s)), s);
}

TEST_F(AlarmClockTest, ServiceAnswersAsCaptured) {
  auto& d = ok(test::wsmanEnvelope(kTransfer + "Get", kService));
  auto root = d.document_element();
  EXPECT_EQ(first(root, "CreationClassName"), "AMT_AlarmClockService");
  EXPECT_EQ(first(root, "ElementName"), "Intel(r) AMT Alarm Clock Service");
  EXPECT_EQ(first(root, "Name"), "Intel(r) AMT Alarm Clock Service");
  EXPECT_EQ(first(root, "SystemCreationClassName"), "CIM_ComputerSystem");
  EXPECT_EQ(first(root, "SystemName"), "ManagedSystem");
  EXPECT_TRUE(all(root, "NextAMTAlarmTime").empty());  // absent until the deprecated alarm is set
}

TEST_F(AlarmClockTest, AddAlarmReturnsTheOccurrenceAndListsIt) {
  auto& d = ok(addAlarm("Nightly", at(kStart + 3600), "P1DT0H0M", false));
  auto root = d.document_element();
  EXPECT_EQ(first(root, "ReturnValue"), "0");
  auto out = all(root, "AlarmClock");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(first(out[0], "ResourceURI"), kOccurrence);
  EXPECT_EQ(first(out[0], "Selector"), "Nightly");

  auto list = occurrences();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(first(list[0], "InstanceID"), "Nightly");
  EXPECT_EQ(first(list[0], "ElementName"), "Nightly");
  EXPECT_EQ(first(list[0], "DeleteOnCompletion"), "false");
  auto start = all(list[0], "StartTime");
  ASSERT_EQ(start.size(), 1u);
  EXPECT_EQ(first(start[0], "Datetime"), at(kStart + 3600));
  // Interval in the common schema's Interval element, as MeshCentral reads it (response.Interval.Interval).
  auto interval = all(list[0], "Interval");
  ASSERT_EQ(interval.size(), 2u);  // the property and its common:Interval
  EXPECT_EQ(soap::text(interval[1]), "P1DT0H0M");
  EXPECT_TRUE(all(list[0], "Datetime").size() == 1u);  // StartTime's only

  auto& g = ok(test::wsmanEnvelope(kTransfer + "Get", kOccurrence, "", "2", "<w:Selector Name=\"InstanceID\">Nightly</w:Selector>"));
  EXPECT_EQ(first(g.document_element(), "InstanceID"), "Nightly");
}

TEST_F(AlarmClockTest, RefusesWhatAmtRefuses) {
  EXPECT_EQ(returnValue(addAlarm("Past", at(kStart - 1), "", true)), "36");       // INVALID_PARAMETER: not ahead
  EXPECT_EQ(returnValue(addAlarm("Now", at(kStart), "", true)), "36");
  EXPECT_EQ(returnValue(addAlarm("Bad", "yesterday", "", true)), "36");
  EXPECT_EQ(returnValue(addAlarm("Bad", at(kStart + 60), "P1Y", true)), "36");  // a year has no fixed length
  EXPECT_EQ(returnValue(addAlarm("", at(kStart + 60), "", true)), "36");
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(returnValue(addAlarm("A" + std::to_string(i), at(kStart + 60 * i), "", false)), "0");
  EXPECT_EQ(returnValue(addAlarm("A1", at(kStart + 600), "", false)), "2058");  // DUPLICATE (0x80A)
  EXPECT_EQ(returnValue(addAlarm("A6", at(kStart + 600), "", false)), "23");    // MAX_LIMIT_REACHED: 5 alarms
  EXPECT_EQ(occurrences().size(), 5u);
}

TEST_F(AlarmClockTest, OneShotAlarmPowersTheHostOnAndIsDeleted) {
  powerOff();
  const auto logBefore = model->state().logs.messageLog.size();
  ASSERT_EQ(returnValue(addAlarm("Wake", at(kStart + 120), "", true)), "0");
  ASSERT_TRUE(alarms->nextAlarm());
  EXPECT_EQ(core::unixSeconds(*alarms->nextAlarm()), kStart + 120);

  clock.advance(std::chrono::seconds(119));
  EXPECT_EQ(power->state(), platform::power::kOffSoft);
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(power->state(), platform::power::kOn);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().newState, platform::power::kOn);
  EXPECT_EQ(changes.back().requested, 0u);  // nobody asked: the firmware woke it
  EXPECT_EQ(model->state().hostPower.bootReason, platform::kBootReasonAlarmClock);
  EXPECT_EQ(model->state().hostPower.bootPreviousSxState, 7u);  // from S5
  // The power-state record of the boot, at the alarm's time.
  ASSERT_EQ(model->state().logs.messageLog.size(), logBefore + 1);
  const auto& record = model->state().logs.messageLog.back();
  EXPECT_EQ(record[5], 0x22);  // System ACPI Power State
  EXPECT_EQ(record[7], 0x00);  // S0
  EXPECT_EQ(record[0] | record[1] << 8 | record[2] << 16 | static_cast<std::uint32_t>(record[3]) << 24,
            static_cast<std::uint32_t>(kStart + 120));
  EXPECT_TRUE(occurrences().empty());
  EXPECT_FALSE(alarms->nextAlarm());
  EXPECT_EQ(alarms->wakes(), 1u);
}

TEST_F(AlarmClockTest, RecurringAlarmMovesOnByItsInterval) {
  ASSERT_EQ(returnValue(addAlarm("Hourly", at(kStart + 60), "P0DT1H0M", false)), "0");
  clock.advance(std::chrono::seconds(60));  // host on: nothing to do but move on
  EXPECT_EQ(alarms->alarmsRung(), 1u);
  EXPECT_EQ(alarms->wakes(), 0u);
  EXPECT_EQ(model->state().alarmClock.occurrences.at(0).startTime, kStart + 60 + 3600);

  powerOff();
  clock.advance(std::chrono::seconds(3600));
  EXPECT_EQ(power->state(), platform::power::kOn);
  EXPECT_EQ(alarms->wakes(), 1u);
  auto list = occurrences();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(first(all(list[0], "StartTime")[0], "Datetime"), at(kStart + 60 + 7200));

  // A long jump skips the missed times: the alarm goes off once and lands after now.
  clock.advance(std::chrono::hours(10) + std::chrono::minutes(30));
  EXPECT_GT(model->state().alarmClock.occurrences.at(0).startTime, alarms->amtNow());
}

TEST_F(AlarmClockTest, OneShotAlarmKeptWhenNotDeletedOnCompletion) {
  powerOff();
  ASSERT_EQ(returnValue(addAlarm("Once", at(kStart + 10), "P0DT0H0M", false)), "0");
  clock.advance(std::chrono::seconds(10));
  EXPECT_EQ(power->state(), platform::power::kOn);
  ASSERT_EQ(occurrences().size(), 1u);  // still listed, not to go off again
  powerOff();
  clock.advance(std::chrono::hours(48));
  EXPECT_EQ(power->state(), platform::power::kOffSoft);
  EXPECT_EQ(alarms->alarmsRung(), 1u);
}

TEST_F(AlarmClockTest, DeleteDisarms) {
  powerOff();
  ASSERT_EQ(returnValue(addAlarm("Gone", at(kStart + 10), "", false)), "0");
  ok(test::wsmanEnvelope(kTransfer + "Delete", kOccurrence, "", "3", "<w:Selector Name=\"InstanceID\">Gone</w:Selector>"));
  EXPECT_TRUE(occurrences().empty());
  EXPECT_FALSE(alarms->nextAlarm());
  clock.advance(std::chrono::seconds(60));
  EXPECT_EQ(power->state(), platform::power::kOffSoft);
}

TEST_F(AlarmClockTest, AlarmsAreOnAmtsClock) {
  // SetHighAccuracyTimeSynch put AMT's clock an hour ahead of the firmware clock.
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.amtClockOffset = 3600; }), platform::ChangeResult::Ok);
  powerOff();
  EXPECT_EQ(returnValue(addAlarm("Early", at(kStart + 1800), "", true)), "36");  // already past on AMT's clock
  ASSERT_EQ(returnValue(addAlarm("Soon", at(kStart + 3600 + 30), "", true)), "0");
  clock.advance(std::chrono::seconds(30));
  EXPECT_EQ(power->state(), platform::power::kOn);
}

TEST_F(AlarmClockTest, DeprecatedNextAmtAlarmTimeByPut) {
  powerOff();
  const std::string body = "<p:AMT_AlarmClockService xmlns:p=\"" + kService +
                           "\"><p:AMTAlarmClockInterval><c:Interval xmlns:c=\"http://schemas.dmtf.org/wbem/wscim/1/"
                           "common\">P1DT0H0M</c:Interval></p:AMTAlarmClockInterval><p:NextAMTAlarmTime><c:Datetime "
                           "xmlns:c=\"http://schemas.dmtf.org/wbem/wscim/1/common\">" +
                           at(kStart + 300) + "</c:Datetime></p:NextAMTAlarmTime></p:AMT_AlarmClockService>";
  auto& d = ok(test::wsmanEnvelope(kTransfer + "Put", kService, body));
  EXPECT_EQ(first(all(d.document_element(), "NextAMTAlarmTime").at(0), "Datetime"), at(kStart + 300));
  EXPECT_EQ(first(all(d.document_element(), "AMTAlarmClockInterval").at(0), "Interval"), "P1DT0H0M");
  clock.advance(std::chrono::seconds(300));
  EXPECT_EQ(power->state(), platform::power::kOn);
  EXPECT_EQ(model->state().alarmClock.legacyNextAlarmTime, kStart + 300 + 86400);

  auto past = body;
  past.replace(past.find(at(kStart + 300)), 20, at(kStart));
  auto r = service->handle(test::wsmanEnvelope(kTransfer + "Put", kService, past), {"admin", false});
  EXPECT_EQ(r.httpStatus, 400u) << r.body;
}

TEST_F(AlarmClockTest, AlarmsSurviveARestartAndOldStateFilesLoad) {
  powerOff();
  ASSERT_EQ(returnValue(addAlarm("Kept", at(kStart + 100), "P0DT0H10M", true)), "0");
  open();  // the daemon again, from the same state dir
  ASSERT_EQ(model->state().alarmClock.occurrences.size(), 1u);
  EXPECT_EQ(model->state().alarmClock.occurrences[0].intervalSeconds, 600u);
  EXPECT_TRUE(model->state().alarmClock.occurrences[0].deleteOnCompletion);
  clock.advance(std::chrono::seconds(100));
  EXPECT_EQ(power->state(), platform::power::kOn);

  // A platform.json written before the alarm clock existed has no "alarmClock": it loads with no alarms.
  auto text = platform::serializeState(model->state());
  ASSERT_TRUE(text);
  auto json = boost::json::parse(*text).as_object();
  ASSERT_TRUE(json.contains("alarmClock"));
  json.erase("alarmClock");
  auto parsed = platform::parseState(boost::json::serialize(json), platform::PlatformState{});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->state.alarmClock.occurrences.empty());

  // And a damaged one is refused with the field named.
  json["alarmClock"] = boost::json::parse(R"({"occurrences":[{"instanceId":"x","startTime":"soon"}]})");
  auto bad = platform::parseState(boost::json::serialize(json), platform::PlatformState{});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("alarmClock occurrences[0].startTime"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace mesim::wsman
