// The hooks the control API's faults work through (issue 11), each close to its code: HBM message faults, the
// firmware-initiated disconnect and the registers in the HbmEngine; the state disk's full switch in every writer of
// the state dir; WS-Man fault rules and how WsmanService answers them; subscriber outages on the firmware clock;
// the log record decoders; and the control API's fault parameters (app/fault_params.h).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "app/fault_params.h"
#include "common/text_codecs.h"
#include "firmware/core/atomic_file.h"
#include "firmware/events/event_store.h"
#include "firmware/events/subscriber_outages.h"
#include "firmware/hbm/hbm_engine.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_model.h"
#include "tests/support/test_clients.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/unit/firmware_test_support.h"
#include "watchdog_fw/watchdog_store.h"
#include "wsman/http/tls_identity.h"
#include "wsman/ops/wsman_faults.h"
#include "wsman/ops/wsman_service.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
using firmware::MessageFault;
using hbm::Bytes;

// ---------------------------------------------------------------------------------------------- HBM engine

class EngineFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    echoAddr = engine.addClient(echo);
    engine.attach(link);
    link->bus(hbm::encode(hbm::HostStartReq{{2, 2}}));
    link->bus(hbm::encodeConnect(hbm::Command::ClientConnect, {echoAddr, kHost}));
    link->take();
  }
  void hostSends(const std::string& text) {
    hbm::Frame f;
    f.header.meAddr = echoAddr;
    f.header.hostAddr = kHost;
    f.payload.assign(text.begin(), text.end());
    f.header.length = static_cast<std::uint16_t>(f.payload.size());
    link->deliver(std::move(f));
  }
  void hostCredit() { link->bus(hbm::encode(hbm::FlowControl{echoAddr, kHost})); }
  // Client data the host received, as text.
  std::vector<std::string> dataFrames() {
    std::vector<std::string> out;
    for (auto& f : link->take())
      if (!f.header.isBusMessage() && !f.header.internal) out.emplace_back(f.payload.begin(), f.payload.end());
    return out;
  }
  MessageFault fault(MessageFault::Action action, MessageFault::Direction direction, unsigned count = 1,
                     std::chrono::milliseconds delay = 0ms) {
    return MessageFault{action, direction, count, delay};
  }

  static constexpr std::uint8_t kHost = 4;
  boost::asio::io_context io;
  firmware::HbmEngine engine{io};
  std::shared_ptr<EchoClient> echo = std::make_shared<EchoClient>(1024, 2);
  std::uint8_t echoAddr = 0;
  std::shared_ptr<FakeEndpoint> link = std::make_shared<FakeEndpoint>();
};

TEST_F(EngineFaultTest, ADroppedAnswerKeepsTheHostsCreditForTheNextOne) {
  engine.injectMessageFault(echoAddr, fault(MessageFault::Action::Drop, MessageFault::Direction::ToHost));
  hostCredit();
  hostSends("one");
  EXPECT_TRUE(dataFrames().empty()) << "the answer is lost";
  hostSends("two");  // the firmware granted the next credit: it believes the answer went out
  EXPECT_EQ(dataFrames(), std::vector<std::string>{"two"});
  EXPECT_EQ(engine.stats().messagesDropped, 1u);
  EXPECT_TRUE(engine.messageFaults().empty()) << "a fault of count 1 is spent";
}

TEST_F(EngineFaultTest, ACorruptedAnswerKeepsItsLengthWithEveryByteInverted) {
  engine.injectMessageFault(echoAddr, fault(MessageFault::Action::Corrupt, MessageFault::Direction::ToHost, 2));
  hostCredit();
  hostSends("AB");
  auto got = dataFrames();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], std::string({static_cast<char>(~'A'), static_cast<char>(~'B')}));
  ASSERT_EQ(engine.messageFaults().size(), 1u);
  EXPECT_EQ(engine.messageFaults()[0].fault.count, 1u) << "one message still to be hit";
  engine.clearMessageFaults();
  hostCredit();
  hostSends("CD");
  EXPECT_EQ(dataFrames(), std::vector<std::string>{"CD"});
}

TEST_F(EngineFaultTest, ADelayedAnswerGoesOutAfterItsDelayOnRealTime) {
  engine.injectMessageFault(echoAddr, fault(MessageFault::Action::Delay, MessageFault::Direction::ToHost, 1, 30ms));
  hostCredit();
  const auto start = std::chrono::steady_clock::now();
  hostSends("late");
  EXPECT_TRUE(dataFrames().empty());
  io.run_for(200ms);
  EXPECT_EQ(dataFrames(), std::vector<std::string>{"late"});
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_EQ(engine.stats().messagesDelayed, 1u);
}

TEST_F(EngineFaultTest, FaultsTowardTheFirmwareDropCorruptOrHoldTheHostsRequest) {
  engine.injectMessageFault(echoAddr, fault(MessageFault::Action::Drop, MessageFault::Direction::ToFirmware));
  hostSends("lost");
  EXPECT_TRUE(echo->received.empty());
  auto frames = link->take();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, (Bytes{0x08, echoAddr, kHost, 0, 0, 0, 0, 0})) << "the host may send the next";

  engine.injectMessageFault(echoAddr, fault(MessageFault::Action::Corrupt, MessageFault::Direction::ToFirmware));
  hostSends("x");
  ASSERT_EQ(echo->received.size(), 1u);
  EXPECT_EQ(echo->received[0], Bytes{static_cast<std::uint8_t>(~'x')});
  hostCredit();
  link->take();

  engine.injectMessageFault(echoAddr, fault(MessageFault::Action::Delay, MessageFault::Direction::ToFirmware, 1, 20ms));
  hostSends("held");
  EXPECT_EQ(echo->received.size(), 1u) << "not yet";
  io.run_for(200ms);
  ASSERT_EQ(echo->received.size(), 2u);
  EXPECT_EQ(std::string(echo->received[1].begin(), echo->received[1].end()), "held");
}

TEST_F(EngineFaultTest, FirmwareDisconnectOfAClientSendsClientDisconnectForEachConnection) {
  link->bus(hbm::encodeConnect(hbm::Command::ClientConnect, {echoAddr, 9}));
  link->take();
  EXPECT_EQ(engine.clientAddress(kEchoGuid), echoAddr);
  EXPECT_EQ(engine.clientAddress(hbm::Guid{}), std::nullopt);
  EXPECT_EQ(engine.disconnectClient(echoAddr), 2u);
  std::vector<Bytes> requests;
  for (auto& f : link->take()) requests.push_back(f.payload);
  EXPECT_EQ(requests, (std::vector<Bytes>{{0x07, echoAddr, kHost, 0}, {0x07, echoAddr, 9, 0}}));
  link->bus(hbm::encodeConnectRes(hbm::Command::ClientDisconnect, {echoAddr, kHost, 0}));
  link->bus(hbm::encodeConnectRes(hbm::Command::ClientDisconnect, {echoAddr, 9, 0}));
  EXPECT_EQ(echo->disconnects, 2);
  EXPECT_EQ(engine.stats().connections, 0u);
}

TEST_F(EngineFaultTest, NewRegistersGoToTheHostAtOnceAndWithTheNextReady) {
  auto registers = engine.registers();
  registers.fwStatus[0] = 0x94000242;
  engine.setRegisters(registers);
  auto frames = link->take();
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_EQ(hbm::parseLinkControl(frames[0]), hbm::LinkControl::Registers);
  EXPECT_EQ(hbm::parseReady(frames[0]).fwStatus[0], 0x94000242u);
  link->deliver(hbm::makeLinkControl(hbm::LinkControl::Reset));
  frames = link->take();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(hbm::parseLinkControl(frames[0]), hbm::LinkControl::Ready);
  EXPECT_EQ(hbm::parseReady(frames[0]).fwStatus[0], 0x94000242u);
}

// ---------------------------------------------------------------------------------------------- state disk

std::string slurp(const std::filesystem::path& path) {
  std::string text;
  core::readFile(path, text);
  return text;
}

TEST(DiskFullTest, AtomicWritesAndAppendsFailWithEnospcAndTouchNothing) {
  TempDir dir;
  core::DiskFullSwitch disk;
  const auto file = dir.path() / "f";
  ASSERT_FALSE(core::writeFileAtomic(file, "old", core::kOwnerReadWrite, &disk));
  disk.setFull(true);
  EXPECT_EQ(core::writeFileAtomic(file, "new", core::kOwnerReadWrite, &disk), std::errc::no_space_on_device);
  EXPECT_EQ(core::appendFileSynced(file, "more", &disk), std::errc::no_space_on_device);
  EXPECT_EQ(slurp(file), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1) << "no temp file left";
  EXPECT_EQ(disk.refusedWrites(), 2u);
  disk.setFull(false);
  EXPECT_FALSE(core::appendFileSynced(file, "+", &disk));
  EXPECT_EQ(slurp(file), "old+");
}

TEST(DiskFullTest, APlatformChangeOnAFullDiskFailsCleanlyAndWorksAgainOnceCleared) {
  TempDir dir;
  auto model = platform::PlatformModel::open(dir.path(), {});
  ASSERT_TRUE(model) << model.error().message;
  core::DiskFullSwitch disk;
  (*model)->setDiskFullSwitch(&disk);
  auto audit = [&](std::uint16_t event) {
    return (*model)->update([&](platform::PlatformState& s) {
      platform::appendAuditRecord(s, platform::makeAuditRecord(17, event, {"admin", false, "10.0.0.1"}, 1700000000));
    });
  };
  ASSERT_EQ(audit(0), platform::ChangeResult::Ok);
  const auto jsonBefore = slurp(dir.path() / "platform.json");
  const auto auditBefore = slurp(dir.path() / "audit-log.hex");
  disk.setFull(true);
  std::string log = capturedLog(log::Level::Error, [&] {
    EXPECT_EQ(audit(1), platform::ChangeResult::StorageError);
    EXPECT_EQ((*model)->setHostFqdn("full.example.com"), platform::ChangeResult::StorageError);
  });
  EXPECT_NE(log.find("No space left on device"), std::string::npos) << log;
  EXPECT_NE((*model)->lastError().find("No space left on device"), std::string::npos);
  EXPECT_EQ((*model)->state().logs.auditLog.size(), 1u) << "nothing changed in memory either";
  EXPECT_EQ(slurp(dir.path() / "platform.json"), jsonBefore);
  EXPECT_EQ(slurp(dir.path() / "audit-log.hex"), auditBefore);
  disk.setFull(false);
  ASSERT_EQ(audit(1), platform::ChangeResult::Ok);
  ASSERT_EQ((*model)->setHostFqdn("room.example.com"), platform::ChangeResult::Ok);
  auto reopened = platform::PlatformModel::open(dir.path(), {});
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->state().logs.auditLog.size(), 2u);
  EXPECT_EQ((*reopened)->hostFqdn(), "room.example.com");
}

TEST(DiskFullTest, EventAndWatchdogStoresRefuseToWrite) {
  TempDir dir;
  core::DiskFullSwitch disk;
  disk.setFull(true);
  events::EventStore store(dir.path() / "events");
  store.setDiskFullSwitch(&disk);
  EXPECT_EQ(store.saveIndicationReserve(1000), std::errc::no_space_on_device);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "events" / "indications.json"));
  auto watchdogStore = watchdog::WatchdogStore::open(dir.path());
  ASSERT_TRUE(watchdogStore);
  (*watchdogStore)->setDiskFullSwitch(&disk);
  capturedLog(log::Level::Error, [&] {
    EXPECT_FALSE((*watchdogStore)->update([](watchdog::WatchdogStoreData& d) { d.amtOperational = false; }));
  });
  EXPECT_TRUE((*watchdogStore)->data().amtOperational);
}

TEST(DiskFullTest, NoTlsPairIsMadeOnAFullDisk) {
  TempDir dir;
  core::DiskFullSwitch disk;
  disk.setFull(true);
  wsman::http::TlsIdentitySource source;
  source.stateDir = dir.path();
  source.commonName = "full.example.com";
  source.disk = &disk;
  auto made = wsman::http::createTlsIdentity(source);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find("tls-key.pem: No space left on device"), std::string::npos) << made.error().message;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  disk.setFull(false);
  EXPECT_TRUE(wsman::http::createTlsIdentity(source)) << "made once the disk has room";
}

// ---------------------------------------------------------------------------------------------- WS-Man rules

TEST(WsmanFaultRulesTest, TheNewestMatchingRuleWinsAndCountsRunOut) {
  wsman::ops::WsmanFaultRules rules;
  wsman::ops::WsmanFaultRule any;
  any.action = wsman::ops::WsmanFaultRule::Action::HttpStatus;
  rules.add(any);
  wsman::ops::WsmanFaultRule get;
  get.className = "AMT_GeneralSettings";
  get.operation = "Get";
  get.action = wsman::ops::WsmanFaultRule::Action::Delay;
  get.remaining = 2;
  rules.add(get);
  EXPECT_EQ(rules.take("amt_generalsettings", "get")->action, wsman::ops::WsmanFaultRule::Action::Delay);
  EXPECT_EQ(rules.take("AMT_GeneralSettings", "Put")->action, wsman::ops::WsmanFaultRule::Action::HttpStatus);
  EXPECT_EQ(rules.take("AMT_GeneralSettings", "Get")->action, wsman::ops::WsmanFaultRule::Action::Delay);
  EXPECT_EQ(rules.rules().size(), 1u) << "the Get rule ran out";
  EXPECT_EQ(rules.take("AMT_GeneralSettings", "Get")->action, wsman::ops::WsmanFaultRule::Action::HttpStatus);
  EXPECT_EQ(rules.rules()[0].hits, 2u);
  EXPECT_EQ(wsman::ops::parseFaultSubcode("accessdenied"), wsman::soap::FaultCode::AccessDenied);
  EXPECT_EQ(wsman::ops::parseFaultSubcode("TimedOut"), wsman::soap::FaultCode::TimedOut);
  EXPECT_EQ(wsman::ops::parseFaultSubcode("Nope"), std::nullopt);
}

TEST(WsmanFaultRulesTest, TheServiceAnswersAnInjectedFaultOnlyForTheNamedClassAndOperation) {
  TempDir dir;
  auto model = platform::PlatformModel::open(dir.path(), {});
  ASSERT_TRUE(model);
  core::SystemFirmwareClock clock;
  platform::HostPowerStateMachine power(**model, clock);
  wsman::ops::WsmanService service(**model, clock, power);
  wsman::ops::WsmanFaultRules rules;
  service.setFaultRules(&rules);
  wsman::ops::WsmanFaultRule rule;
  rule.className = "AMT_GeneralSettings";
  rule.operation = "Get";
  rule.action = wsman::ops::WsmanFaultRule::Action::SoapFault;
  rule.fault = wsman::soap::FaultCode::AccessDenied;
  rule.remaining = 1;
  rules.add(rule);
  const wsman::ops::WsmanCallContext admin{"admin", false};
  auto identify = service.handle(wsmanIdentify(), admin);
  EXPECT_EQ(identify.httpStatus, 200u) << "another operation is untouched";
  auto faulted = service.handle(wsmanGetGeneralSettings(), admin);
  EXPECT_EQ(faulted.httpStatus, 400u);
  EXPECT_NE(faulted.body.find("AccessDenied"), std::string::npos) << faulted.body;
  EXPECT_NE(faulted.body.find("Injected fault"), std::string::npos);
  auto next = service.handle(wsmanGetGeneralSettings(), admin);
  EXPECT_EQ(next.httpStatus, 200u) << "count 1 is spent";

  rule.action = wsman::ops::WsmanFaultRule::Action::HttpStatus;
  rule.httpStatus = 503;
  rule.remaining.reset();
  rules.add(rule);
  auto http = service.handle(wsmanGetGeneralSettings(), admin);
  EXPECT_EQ(http.httpStatus, 503u);
  EXPECT_EQ(http.contentType.rfind("text/plain", 0), 0u);
  rules.clear();
  rule.action = wsman::ops::WsmanFaultRule::Action::Delay;
  rule.delay = 1500ms;
  rules.add(rule);
  auto delayed = service.handle(wsmanGetGeneralSettings(), admin);
  EXPECT_EQ(delayed.httpStatus, 200u);
  EXPECT_EQ(delayed.delay, 1500ms) << "the HTTP side holds the answer";
}

// ---------------------------------------------------------------------------------------------- subscriber outages

class RecordingTransport : public events::EventTransport {
 public:
  void send(const events::Subscription& s, const events::QueuedAlert&, std::chrono::milliseconds, Done done) override {
    sentTo.push_back(s.id);
    done({});
  }
  std::vector<std::uint32_t> sentTo;
};

TEST(SubscriberOutagesTest, AnOutageRefusesLikeADeadSubscriberUntilItsFirmwareTimeIsOver) {
  boost::asio::io_context io;
  core::ManualFirmwareClock clock(core::FirmwareClock::time_point(std::chrono::seconds(1'700'000'000)));
  RecordingTransport inner;
  events::SubscriberOutages outages(io, inner, clock);
  events::Subscription one, two;
  one.id = 1;
  one.notifyTo = "http://127.0.0.1:9/one";
  two.id = 2;
  two.notifyTo = "http://127.0.0.1:9/two";
  outages.add({std::nullopt, two.notifyTo, clock.now() + std::chrono::seconds(10), 0});
  std::vector<std::string> outcomes;
  auto record = [&](Result<> r) { outcomes.push_back(r ? "ok" : r.error().message); };
  outages.send(one, {}, 1s, record);
  outages.send(two, {}, 1s, record);
  io.run();
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0], "ok");
  EXPECT_EQ(outcomes[1].rfind("connect: Connection refused", 0), 0u) << outcomes[1];
  EXPECT_EQ(inner.sentTo, std::vector<std::uint32_t>{1}) << "nothing reached the unreachable one";
  EXPECT_EQ(outages.refused(), 1u);
  clock.advance(std::chrono::seconds(10));
  EXPECT_TRUE(outages.outages().empty()) << "over on the firmware clock";
  outages.send(two, {}, 1s, record);
  io.restart();
  io.run();
  EXPECT_EQ(inner.sentTo, (std::vector<std::uint32_t>{1, 2}));
}

// ---------------------------------------------------------------------------------------------- record decoders

TEST(EventRecordsTest, MessageLogRecordsDecodeToNamesAndText) {
  platform::MessageLogEvent e;
  e.sensorType = 0x20;
  e.offset = 0x01;
  e.severity = 0x10;
  e.entity = 0x23;
  auto decoded = platform::decodeMessageLogRecord(platform::makeMessageLogRecord(e, 1700000000));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->timestamp, 1700000000u);
  EXPECT_EQ(decoded->event.sensorType, 0x20);
  EXPECT_EQ(platform::sensorTypeName(0x20), "OS Stop / Shutdown");
  EXPECT_EQ(platform::eventSeverityName(0x10), "Critical");
  EXPECT_EQ(platform::eventTypeName(0x6F), "Sensor-specific");
  EXPECT_EQ(platform::describeMessageLogEvent(decoded->event), "Run-time critical stop (OS hang)");
  platform::MessageLogEvent agent;
  agent.sensorType = 0x12;
  const std::uint8_t data[8] = {0xAA, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 8};
  std::copy(std::begin(data), std::end(data), agent.eventData);
  EXPECT_EQ(platform::describeMessageLogEvent(agent), "Agent presence watchdog 03020100-0504... changed to Expired");
  EXPECT_FALSE(platform::decodeMessageLogRecord(Bytes(20)));
}

TEST(EventRecordsTest, AuditRecordsDecodeBackToWhatWasRecorded) {
  auto raw = platform::makeAuditRecord(16, 5, {"admin", false, "192.0.2.7"}, 1700000001, {0x00});
  auto decoded = platform::decodeAuditRecord(raw);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->app, 16);
  EXPECT_EQ(decoded->event, 5);
  EXPECT_EQ(decoded->initiatorType, 0);
  EXPECT_EQ(decoded->user, "admin");
  EXPECT_EQ(decoded->timestamp, 1700000001u);
  EXPECT_EQ(decoded->netAddress, "192.0.2.7");
  EXPECT_EQ(decoded->extendedData, Bytes{0x00});
  EXPECT_EQ(platform::auditEventName(16, 5), "ACL Access with Invalid Credentials");
  EXPECT_EQ(platform::auditAppName(17), "Remote Control");
  auto local = platform::decodeAuditRecord(platform::makeAuditRecord(17, 0, {"", true, ""}, 5));
  ASSERT_TRUE(local);
  EXPECT_EQ(local->initiatorType, 2);
  EXPECT_EQ(local->user, "");
  for (std::size_t cut = 0; cut < raw.size(); ++cut)
    EXPECT_FALSE(platform::decodeAuditRecord(Bytes(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(cut))))
        << "cut at " << cut;
}

// ---------------------------------------------------------------------------------------------- control parameters

app::ControlRequest query(const std::string& target, boost::urls::url& keep) {
  keep = boost::urls::url(*boost::urls::parse_origin_form(target));
  return app::ControlRequest{"POST", keep.params(boost::urls::encoding_opts(true, false, false)), "", {}};
}

TEST(FaultParamsTest, HbmFaultsNameTheirClientActionAndLimits) {
  boost::urls::url keep;
  auto ok = app::parseHbmFault(query("/f?client=AMTHI&action=delay&ms=250&count=3&direction=to-firmware", keep));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->client.guid, hbm::Guid::parse("12F80028-B4B7-4B2D-ACA8-46E0FF65814C"));
  EXPECT_EQ(ok->fault.action, MessageFault::Action::Delay);
  EXPECT_EQ(ok->fault.direction, MessageFault::Direction::ToFirmware);
  EXPECT_EQ(ok->fault.count, 3u);
  EXPECT_EQ(ok->fault.delay, 250ms);
  auto guid = app::parseHbmFault(query("/f?client=05B79A6F-4628-4D7F-899D-A91514CB32AB&action=drop", keep));
  ASSERT_TRUE(guid) << guid.error().message;
  EXPECT_EQ(guid->fault.count, 1u);
  const std::pair<std::string, std::string> bad[] = {
      {"/f?action=drop", "client is required"},
      {"/f?client=nope&action=drop", "client must be"},
      {"/f?client=amthi", "action is required"},
      {"/f?client=amthi&action=explode", "action must be drop, delay or corrupt"},
      {"/f?client=amthi&action=delay", "ms is required"},
      {"/f?client=amthi&action=drop&ms=5", "ms applies to action=delay only"},
      {"/f?client=amthi&action=drop&count=0", "count must be a whole number from 1"},
      {"/f?client=amthi&action=drop&count=99999999999999999999999", "count must be"},
      {"/f?client=amthi&action=drop&direction=sideways", "direction must be"},
      {"/f?client=amthi&action=drop&cuont=2", "unknown parameter 'cuont'"},
  };
  for (const auto& [target, why] : bad) {
    auto r = app::parseHbmFault(query(target, keep));
    ASSERT_FALSE(r) << target;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << target << ": " << r.error().message;
  }
}

TEST(FaultParamsTest, FwStatusTakesANamedConditionOrARawRegister) {
  boost::urls::url keep;
  const hbm::ReadyInfo healthy = firmware::HbmEngineOptions{}.registers;
  auto recovery = app::parseFwStatus(query("/f?error=recovery", keep), healthy, healthy);
  ASSERT_TRUE(recovery);
  EXPECT_EQ(recovery->registers.fwStatus[0] & 0xF, 2u) << "working state: recovery";
  EXPECT_EQ(recovery->registers.fwStatus[1], healthy.fwStatus[1]);
  auto manufacturing = app::parseFwStatus(query("/f?error=manufacturing", keep), healthy, healthy);
  ASSERT_TRUE(manufacturing);
  EXPECT_EQ(manufacturing->registers.fwStatus[0], healthy.fwStatus[0] | 0x10);
  auto raw = app::parseFwStatus(query("/f?value=0xdeadBEEF&index=5", keep), healthy, healthy);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->registers.fwStatus[5], 0xDEADBEEFu);
  EXPECT_EQ(raw->condition, "value");
  for (const char* target : {"/f", "/f?error=melted", "/f?value=0x", "/f?value=123456789", "/f?value=12g4",
                             "/f?value=1&index=6", "/f?error=recovery&value=1"})
    EXPECT_FALSE(app::parseFwStatus(query(target, keep), healthy, healthy)) << target;
}

TEST(FaultParamsTest, WsmanFaultsAndOutagesAndLogQueries) {
  boost::urls::url keep;
  auto rule = app::parseWsmanFault(query("/f?class=AMT_GeneralSettings&operation=Get&action=fault&subcode=TimedOut&count=2", keep));
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(rule->fault, wsman::soap::FaultCode::TimedOut);
  EXPECT_EQ(rule->remaining, 2u);
  auto http = app::parseWsmanFault(query("/f?action=http&status=503", keep));
  ASSERT_TRUE(http);
  EXPECT_EQ(http->httpStatus, 503u);
  EXPECT_TRUE(http->className.empty());
  for (const char* target : {"/f?action=http&status=200", "/f?action=delay", "/f?action=fault&subcode=Oops",
                             "/f?class=A%3CB&action=http", "/f?action=http&ms=4", "/f?action=teleport"})
    EXPECT_FALSE(app::parseWsmanFault(query(target, keep))) << target;

  auto byId = app::parseOutage(query("/f?subscription=3&seconds=30", keep));
  ASSERT_TRUE(byId);
  EXPECT_EQ(byId->subscription, 3u);
  EXPECT_EQ(byId->duration, std::chrono::milliseconds(30s));
  auto byAddress = app::parseOutage(query("/f?address=http%3A%2F%2F127.0.0.1%3A9%2Fevents", keep));
  ASSERT_TRUE(byAddress);
  EXPECT_EQ(byAddress->address, "http://127.0.0.1:9/events");
  EXPECT_FALSE(byAddress->duration);
  for (const char* target : {"/f", "/f?subscription=1&address=http://x", "/f?address=ftp://x", "/f?subscription=0",
                             "/f?subscription=1&seconds=-1"})
    EXPECT_FALSE(app::parseOutage(query(target, keep))) << target;

  EXPECT_EQ(*app::parseNumber("n", "18446744073709551615", 0, UINT64_MAX), UINT64_MAX);
  EXPECT_FALSE(app::parseNumber("n", "18446744073709551616", 0, UINT64_MAX));
  EXPECT_FALSE(app::parseNumber("n", "6", 0, 5));
  EXPECT_FALSE(app::parseNumber("n", "+1", 0, 5));
  EXPECT_FALSE(app::parseNumber("n", "", 0, 5));
  auto logs = app::parseLogQuery(query("/f?limit=5&since=1700000000", keep));
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->limit, 5u);
  EXPECT_EQ(logs->since, 1700000000u);
  EXPECT_FALSE(app::parseLogQuery(query("/f?limit=0", keep)));
  EXPECT_FALSE(app::parseLogQuery(query("/f?since=yesterday", keep)));
}

}  // namespace
}  // namespace mesim::test
