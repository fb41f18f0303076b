// The control API's faults against the real daemon (issue 11, item 4), each observed where a user would meet it:
// through dev/mei0 and sysfs on the FUSE mount with plain system calls (client disconnect, HBM drop/delay/corrupt,
// fw_status), from a WS-Man console with Digest (WS-Man faults, a full state disk), and at a WS-Eventing subscriber
// (an unreachable subscriber). Also the log reads and the subscription state they leave behind.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/mei.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/event_subscriber.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr const char* kPassword = "P@ssw0rd";
const std::uint8_t kAmthiGuid[16] = {0x28, 0x00, 0xf8, 0x12, 0xb7, 0xb4, 0x2d, 0x4b,
                                     0xac, 0xa8, 0x46, 0xe0, 0xff, 0x65, 0x81, 0x4c};
const std::string kGeneralUri = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";

// AMTHI GetProvisioningState (0x04000011): answered with 20 bytes, command 0x04800011.
std::vector<std::uint8_t> provisioningStateRequest() { return {1, 1, 0, 0, 0x11, 0, 0, 0x04, 0, 0, 0, 0}; }

std::uint32_t u32At(const std::vector<std::uint8_t>& b, std::size_t off) {
  return b[off] | b[off + 1] << 8 | b[off + 2] << 16 | std::uint32_t{b[off + 3]} << 24;
}

int connectAmthi(int fd) {
  std::uint8_t data[16];
  std::memcpy(data, kAmthiGuid, 16);
  return ::ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, data);
}

std::optional<std::vector<std::uint8_t>> readAnswer(int fd, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) != 1 || !(p.revents & POLLIN)) return std::nullopt;
  std::vector<std::uint8_t> reply(4096);
  ssize_t n = ::read(fd, reply.data(), reply.size());
  if (n < 0) return std::nullopt;
  reply.resize(static_cast<std::size_t>(n));
  return reply;
}

// write, then poll for the answer up to `wait`: the answer, or nothing when none came (a read timeout).
std::optional<std::vector<std::uint8_t>> transact(int fd, const std::vector<std::uint8_t>& request,
                                                  std::chrono::milliseconds wait = 3000ms) {
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) return std::nullopt;
  return readAnswer(fd, wait);
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string putHostName(const std::string& host) {
  return wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", kGeneralUri,
                       "<h:AMT_GeneralSettings xmlns:h=\"" + kGeneralUri + "\"><h:HostName>" + host +
                           "</h:HostName></h:AMT_GeneralSettings>");
}

std::string subscribeRequest(const std::string& url) {
  return wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe", kCim + "CIM_FilterCollection",
                       "<e:Subscribe xmlns:e=\"http://schemas.xmlsoap.org/ws/2004/08/eventing\"><e:Delivery Mode=\""
                       "http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck\"><e:NotifyTo><a:Address>" + url +
                           "</a:Address></e:NotifyTo></e:Delivery></e:Subscribe>",
                       "1", "<w:Selector Name=\"InstanceID\">Intel(r) AMT:All</w:Selector>");
}

class FaultsDaemonTest : public ::testing::Test {
 protected:
  bool start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--admin-password", kPassword, "--event-retry-interval", "100ms",
                                  "--event-policy", "retry-forever"};
    args.insert(args.end(), extra.begin(), extra.end());
    return daemon_.start(args);
  }
  bool startWithFuse() {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) return false;
    return start({"--fuse", "on"});
  }

  // "STATUS" and the parsed JSON body of a control call.
  std::pair<std::string, json::object> call(const std::string& method, const std::string& target) {
    auto answer = httpRequest(daemon_.controlPort(), method, target);
    if (answer.size() < 4) return {"", {}};
    auto parsed = json::parse(answer.substr(4));
    return {answer.substr(0, 3), parsed.is_object() ? parsed.as_object() : json::object{}};
  }
  std::string status(const std::string& method, const std::string& target) { return call(method, target).first; }
  std::string error(const std::string& method, const std::string& target) {
    auto [code, body] = call(method, target);
    return code + " " + (body.contains("error") ? std::string(body["error"].as_string()) : "");
  }
  json::object faults() { return call("GET", "/faults").second; }

  int openAmthi() {
    int fd = ::open(daemon_.meiDevice().c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0 && connectAmthi(fd) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  DaemonProcess daemon_;
};

TEST_F(FaultsDaemonTest, AFirmwareInitiatedClientDisconnectReachesTheOpenFileAsEnodev) {
  if (!startWithFuse()) GTEST_SKIP() << "no usable /dev/fuse here";
  int fd = openAmthi();
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_TRUE(transact(fd, provisioningStateRequest()));

  auto [code, body] = call("POST", "/faults/client-disconnect?client=amthi");
  ASSERT_EQ(code, "200") << body;
  EXPECT_GE(body["connections"].to_number<int>(), 1);
  // As Linux reports it (spec/mei.md §1.2): poll POLLERR, read and write ENODEV, and the same fd may reconnect.
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  EXPECT_TRUE(p.revents & POLLERR);
  char buf[64];
  EXPECT_EQ(::read(fd, buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENODEV);
  auto request = provisioningStateRequest();
  EXPECT_EQ(::write(fd, request.data(), request.size()), -1);
  EXPECT_EQ(errno, ENODEV);
  ASSERT_EQ(connectAmthi(fd), 0) << strerror(errno);
  auto answer = transact(fd, request);
  ASSERT_TRUE(answer);
  EXPECT_EQ(u32At(*answer, 4), 0x04800011u);
  ::close(fd);

  EXPECT_EQ(error("POST", "/faults/client-disconnect"), "400 client is required: amthi, mkhi, mkhi-fix, lme, watchdog or a client GUID");
  EXPECT_EQ(status("POST", "/faults/client-disconnect?client=11111111-2222-3333-4444-555555555555"), "404");
  EXPECT_EQ(faults()["injected"].as_object()["client-disconnect"].to_number<int>(), 1);
}

TEST_F(FaultsDaemonTest, HbmFaultsOnAmthiAreSeenByTheHostAsTimeoutsGarbleAndDelay) {
  if (!startWithFuse()) GTEST_SKIP() << "no usable /dev/fuse here";
  int fd = openAmthi();
  ASSERT_GE(fd, 0) << strerror(errno);

  // A dropped answer: the host's read times out; the next request is answered as usual.
  ASSERT_EQ(status("POST", "/faults/hbm?client=amthi&action=drop"), "200");
  EXPECT_FALSE(transact(fd, provisioningStateRequest(), 400ms)) << "the answer was dropped";
  auto next = transact(fd, provisioningStateRequest());
  ASSERT_TRUE(next);
  EXPECT_EQ(u32At(*next, 4), 0x04800011u);

  // A corrupted answer: the length stays, every byte is inverted: the client sees a header it cannot accept.
  ASSERT_EQ(status("POST", "/faults/hbm?client=amthi&action=corrupt"), "200");
  auto garbled = transact(fd, provisioningStateRequest());
  ASSERT_TRUE(garbled);
  ASSERT_EQ(garbled->size(), 20u);
  EXPECT_NE(u32At(*garbled, 4), 0x04800011u);
  EXPECT_EQ(u32At(*garbled, 4), ~0x04800011u);

  // A delayed answer, in real time.
  ASSERT_EQ(status("POST", "/faults/hbm?client=amthi&action=delay&ms=400"), "200");
  const auto before = std::chrono::steady_clock::now();
  auto late = transact(fd, provisioningStateRequest());
  ASSERT_TRUE(late);
  EXPECT_GE(std::chrono::steady_clock::now() - before, 400ms);
  EXPECT_EQ(u32At(*late, 4), 0x04800011u);

  // A request lost on its way to the firmware: no answer ever comes for it.
  ASSERT_EQ(status("POST", "/faults/hbm?client=amthi&action=drop&direction=to-firmware"), "200");
  EXPECT_FALSE(transact(fd, provisioningStateRequest(), 400ms));
  EXPECT_TRUE(transact(fd, provisioningStateRequest()));

  // Pending faults show in GET /faults until they are spent or cleared.
  ASSERT_EQ(status("POST", "/faults/hbm?client=amthi&action=drop&count=5"), "200");
  auto f = faults();
  auto hbm = f["active"].as_object()["hbm"].as_array();
  ASSERT_EQ(hbm.size(), 1u) << f;
  EXPECT_EQ(hbm[0].as_object()["client"].as_string(), "AMTHI");
  EXPECT_EQ(hbm[0].as_object()["remaining"].to_number<int>(), 5);
  EXPECT_EQ(f["injected"].as_object()["hbm"].to_number<int>(), 5);
  EXPECT_EQ(f["effects"].as_object()["hbm_messages_dropped"].to_number<int>(), 2);
  EXPECT_EQ(f["effects"].as_object()["hbm_messages_corrupted"].to_number<int>(), 1);
  EXPECT_EQ(status("DELETE", "/faults/hbm"), "200");
  EXPECT_TRUE(faults()["active"].as_object()["hbm"].as_array().empty());
  EXPECT_TRUE(transact(fd, provisioningStateRequest()));
  ::close(fd);

  EXPECT_EQ(error("POST", "/faults/hbm?client=amthi&action=delay"),
            "400 ms is required with action=delay: how long each message is held, in real milliseconds");
  EXPECT_EQ(status("POST", "/faults/hbm?client=amthi&action=drop&count=0"), "400");
}

TEST_F(FaultsDaemonTest, FwStatusErrorsShowInSysfsAndClear) {
  if (!startWithFuse()) GTEST_SKIP() << "no usable /dev/fuse here";
  const auto fwStatus = daemon_.runtimeDir() / "sys" / "class" / "mei" / "mei0" / "fw_status";
  const std::string healthy = slurp(fwStatus);
  ASSERT_EQ(healthy.substr(0, 9), "94000245\n") << healthy;

  auto [code, body] = call("POST", "/faults/fw-status?error=recovery");
  ASSERT_EQ(code, "200") << body;
  EXPECT_EQ(slurp(fwStatus).substr(0, 9), "94000242\n") << "working state 2: recovery";
  EXPECT_EQ(slurp(fwStatus).substr(9), healthy.substr(9)) << "the other registers stay";
  EXPECT_EQ(faults()["active"].as_object()["fw_status"].as_string(), "recovery");

  ASSERT_EQ(status("POST", "/faults/fw-status?value=0x00C0FFEE&index=2"), "200");
  auto lines = slurp(fwStatus);
  EXPECT_EQ(lines.substr(0, 9), "94000242\n") << "a raw value changes only its register";
  EXPECT_EQ(lines.substr(18, 9), "00C0FFEE\n") << lines;

  // A reset of the host's link reads the registers again from READY: the error stays until cleared.
  ASSERT_EQ(status("POST", "/faults/host-reset"), "200");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(slurp(fwStatus).substr(0, 9), "94000242\n");

  ASSERT_EQ(status("DELETE", "/faults/fw-status"), "200");
  EXPECT_EQ(slurp(fwStatus), healthy);
  EXPECT_TRUE(faults()["active"].as_object()["fw_status"].is_null());
  EXPECT_EQ(status("POST", "/faults/fw-status?error=melted"), "400");
  EXPECT_EQ(status("POST", "/faults/fw-status?value=0x1&index=6"), "400");
}

TEST_F(FaultsDaemonTest, WsmanFaultsReachTheConsoleForTheChosenClassAndOperationOnly) {
  ASSERT_TRUE(start({"--fuse", "off", "--preload", "off"})) << daemon_.log();
  WsmanDigestClient console(daemon_.httpPort(), "admin", kPassword);
  ASSERT_EQ(console.post(wsmanGetGeneralSettings()).status, 200u);

  ASSERT_EQ(status("POST", "/faults/wsman?class=AMT_GeneralSettings&operation=Get&action=http&status=503&count=1"), "200");
  EXPECT_EQ(console.post(wsmanIdentify()).status, 200u) << "another operation is untouched";
  auto http = console.post(wsmanGetGeneralSettings());
  EXPECT_EQ(http.status, 503u);
  EXPECT_EQ(console.post(wsmanGetGeneralSettings()).status, 200u) << "count=1 is spent";

  ASSERT_EQ(status("POST", "/faults/wsman?class=AMT_GeneralSettings&action=fault&subcode=AccessDenied"), "200");
  auto soapFault = console.post(wsmanGetGeneralSettings());
  EXPECT_EQ(soapFault.status, 400u);
  EXPECT_NE(soapFault.body.find("AccessDenied"), std::string::npos) << soapFault.body;
  auto listed = faults()["active"].as_object()["wsman"].as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].as_object()["hits"].to_number<int>(), 1);
  EXPECT_TRUE(listed[0].as_object()["remaining"].is_null()) << "until cleared";
  EXPECT_EQ(status("DELETE", "/faults/wsman"), "200");

  ASSERT_EQ(status("POST", "/faults/wsman?operation=Get&action=delay&ms=600"), "200");
  const auto before = std::chrono::steady_clock::now();
  auto slow = console.post(wsmanGetGeneralSettings());
  EXPECT_EQ(slow.status, 200u);
  EXPECT_GE(std::chrono::steady_clock::now() - before, 600ms);
  EXPECT_EQ(status("POST", "/faults/clear"), "200");
  EXPECT_TRUE(faults()["active"].as_object()["wsman"].as_array().empty());
  EXPECT_EQ(faults()["injected"].as_object()["wsman"].to_number<int>(), 3);

  EXPECT_EQ(status("POST", "/faults/wsman?action=http&status=200"), "400");
  EXPECT_EQ(error("POST", "/faults/wsman?action=fault&subcode=Oops").substr(0, 25), "400 subcode must be a WS-");
}

TEST_F(FaultsDaemonTest, AnUnreachableSubscriberGetsItsAlertExactlyOnceWhenItComesBack) {
  ASSERT_TRUE(start({"--fuse", "off", "--preload", "off"})) << daemon_.log();
  EventSubscriber subscriber;
  WsmanDigestClient console(daemon_.httpPort(), "admin", kPassword);
  auto subscribed = console.post(subscribeRequest(subscriber.url()));
  ASSERT_EQ(subscribed.status, 200u) << subscribed.body;

  ASSERT_EQ(status("POST", "/faults/subscriber-unreachable?subscription=1"), "200");
  ASSERT_EQ(status("POST", "/events/raise?messageId=iAMT0005&category=Watchdog"), "200");
  json::object sub;
  for (auto deadline = std::chrono::steady_clock::now() + 3s; std::chrono::steady_clock::now() < deadline;) {
    sub = call("GET", "/subscriptions/1").second;
    if (sub["failures"].to_number<int>() >= 2) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(sub["failures"].to_number<int>(), 2) << sub;
  EXPECT_EQ(sub["queued"].to_number<int>(), 1);
  EXPECT_TRUE(sub["unreachable"].as_bool());
  EXPECT_NE(std::string(sub["last_error"].as_string()).find("Connection refused"), std::string::npos) << sub;
  EXPECT_FALSE(sub["next_retry"].is_null());
  EXPECT_EQ(subscriber.count(), 0u) << "nothing reached it";

  ASSERT_EQ(status("DELETE", "/faults/subscriber-unreachable"), "200");
  ASSERT_TRUE(subscriber.waitFor(1, 3s));
  std::this_thread::sleep_for(400ms);  // several retry intervals: nothing more may arrive
  EXPECT_EQ(subscriber.count(), 1u);
  sub = call("GET", "/subscriptions").second["subscriptions"].as_array().at(0).as_object();
  EXPECT_EQ(sub["delivered"].to_number<int>(), 1);
  EXPECT_EQ(sub["queued"].to_number<int>(), 0);
  EXPECT_TRUE(sub["last_error"].is_null());
  EXPECT_FALSE(sub["unreachable"].as_bool());
  EXPECT_EQ(sub["address"].as_string(), subscriber.url());

  // By address, for a time: over on its own.
  ASSERT_EQ(status("POST", "/faults/subscriber-unreachable?address=" + subscriber.url() + "&seconds=1"), "200");
  ASSERT_EQ(status("POST", "/events/raise?messageId=iAMT0005&category=Watchdog"), "200");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(subscriber.count(), 1u);
  EXPECT_TRUE(subscriber.waitFor(2, 3s));
  EXPECT_GE(faults()["effects"].as_object()["deliveries_refused"].to_number<int>(), 3);

  EXPECT_EQ(status("POST", "/faults/subscriber-unreachable?subscription=9"), "404");
  EXPECT_EQ(status("POST", "/faults/subscriber-unreachable"), "400");
  EXPECT_EQ(status("GET", "/subscriptions/9"), "404");
}

// An outage for a time is firmware time: on the manual clock it ends when the clock is advanced past it, and the
// retry after that delivers, once.
TEST_F(FaultsDaemonTest, AnOutageForATimeEndsOnTheFirmwareClock) {
  ASSERT_TRUE(start({"--fuse", "off", "--preload", "off", "--clock", "manual"})) << daemon_.log();
  EventSubscriber subscriber;
  WsmanDigestClient console(daemon_.httpPort(), "admin", kPassword);
  ASSERT_EQ(console.post(subscribeRequest(subscriber.url())).status, 200u);
  auto [code, outage] = call("POST", "/faults/subscriber-unreachable?subscription=1&seconds=30");
  ASSERT_EQ(code, "200") << outage;
  ASSERT_EQ(status("POST", "/events/raise?messageId=iAMT0005&category=Watchdog"), "200");
  auto failures = [&] { return call("GET", "/subscriptions/1").second["failures"].to_number<int>(); };
  for (auto deadline = std::chrono::steady_clock::now() + 3s; failures() < 1 && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(failures(), 1) << "the first attempt is refused; the retry waits for firmware time";
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(failures(), 1) << "real time passing changes nothing";

  ASSERT_EQ(status("POST", "/clock/advance?seconds=29"), "200");  // a retry, still inside the outage
  for (auto deadline = std::chrono::steady_clock::now() + 3s; failures() < 2 && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(failures(), 2);
  EXPECT_EQ(subscriber.count(), 0u);
  // Past the outage: the retry due at 29.1 s is still inside it; the one the policy makes after it delivers.
  ASSERT_EQ(status("POST", "/clock/advance?seconds=2"), "200");
  for (auto deadline = std::chrono::steady_clock::now() + 3s; failures() < 3 && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(failures(), 3);
  EXPECT_TRUE(faults()["active"].as_object()["subscriber_unreachable"].as_array().empty()) << "over at 30 s";
  EXPECT_EQ(subscriber.count(), 0u);
  ASSERT_EQ(status("POST", "/clock/advance?seconds=1"), "200");
  ASSERT_TRUE(subscriber.waitFor(1, 3s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(subscriber.count(), 1u);
  EXPECT_EQ(call("GET", "/subscriptions/1").second["delivered"].to_number<int>(), 1);
}

TEST_F(FaultsDaemonTest, AFullStateDiskFailsWritesCleanlyLosesNothingAndRecovers) {
  ASSERT_TRUE(start({"--fuse", "off", "--preload", "off"})) << daemon_.log();
  WsmanDigestClient console(daemon_.httpPort(), "admin", kPassword);
  ASSERT_EQ(console.post(putHostName("before")).status, 200u);
  WsmanDigestClient intruder(daemon_.httpPort(), "admin", "wrong");
  EXPECT_EQ(intruder.post(wsmanGetGeneralSettings()).status, 401u);  // an audit record: a failed login

  std::map<std::string, std::string> stored;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(daemon_.stateDir()))
    if (entry.is_regular_file()) stored[entry.path().string()] = slurp(entry.path());
  ASSERT_TRUE(stored.count((daemon_.stateDir() / "audit-log.hex").string()));

  ASSERT_EQ(status("POST", "/faults/disk-full"), "200");
  auto put = console.post(putHostName("during"));
  EXPECT_EQ(put.status, 500u) << put.body;
  EXPECT_NE(put.body.find("InternalError"), std::string::npos) << put.body;
  EXPECT_EQ(intruder.post(wsmanGetGeneralSettings()).status, 401u) << "a login failure is still refused";
  ASSERT_EQ(status("POST", "/events/raise?messageId=iAMT0005&category=Watchdog"), "200");
  EXPECT_TRUE(daemon_.waitForLog("No space left on device"));
  EXPECT_TRUE(daemon_.waitForLog("cannot record a login in the audit log"));
  auto get = console.post(wsmanGetGeneralSettings());
  EXPECT_NE(get.body.find("<g:HostName>before</g:HostName>"), std::string::npos) << "the Put did not happen";
  auto f = faults();
  EXPECT_TRUE(f["active"].as_object()["disk_full"].as_bool());
  EXPECT_GE(f["effects"].as_object()["disk_writes_refused"].to_number<int>(), 2);

  // Nothing already stored changed, nothing half-written or new appeared.
  std::map<std::string, std::string> during;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(daemon_.stateDir()))
    if (entry.is_regular_file()) during[entry.path().string()] = slurp(entry.path());
  EXPECT_EQ(during, stored);

  ASSERT_EQ(status("DELETE", "/faults/disk-full"), "200");
  EXPECT_EQ(console.post(putHostName("after")).status, 200u);
  EXPECT_NE(slurp(daemon_.stateDir() / "platform.json").find("\"after\""), std::string::npos);
  // And the state loads again after a restart.
  daemon_.stop();
  ASSERT_TRUE(start({"--fuse", "off", "--preload", "off"})) << daemon_.log();
  WsmanDigestClient again(daemon_.httpPort(), "admin", kPassword);
  EXPECT_NE(again.post(wsmanGetGeneralSettings()).body.find("<g:HostName>after</g:HostName>"), std::string::npos);
}

// Faults belong to one device: another device of the process goes on as before.
TEST_F(FaultsDaemonTest, FaultsOfOneDeviceLeaveTheOthersAlone) {
  ASSERT_TRUE(start({"--fuse", "off", "--preload", "off", "--fleet", "1"})) << daemon_.log();
  ASSERT_EQ(status("POST", "/devices/fleet-0001/faults/disk-full"), "200");
  ASSERT_EQ(status("POST", "/devices/fleet-0001/faults/wsman?action=http"), "200");
  EXPECT_TRUE(call("GET", "/devices/fleet-0001/faults").second["active"].as_object()["disk_full"].as_bool());
  EXPECT_FALSE(faults()["active"].as_object()["disk_full"].as_bool());
  EXPECT_TRUE(faults()["active"].as_object()["wsman"].as_array().empty());
  std::smatch port;  // the default device's listener (the fleet's listen on 127.1.0.x)
  const std::string log = daemon_.log();
  ASSERT_TRUE(std::regex_search(log, port, std::regex(R"(WS-Man http://127\.0\.0\.1:(\d+)/wsman)"))) << log;
  WsmanDigestClient console(static_cast<std::uint16_t>(std::stoi(port[1])), "admin", kPassword);
  EXPECT_EQ(console.post(putHostName("unaffected")).status, 200u);
  EXPECT_EQ(status("POST", "/devices/nobody/faults/disk-full"), "404");
}

TEST_F(FaultsDaemonTest, LogReadsDecodeTheEventAndAuditLogs) {
  ASSERT_TRUE(start({"--fuse", "off", "--preload", "off"})) << daemon_.log();
  WsmanDigestClient console(daemon_.httpPort(), "admin", kPassword);
  ASSERT_EQ(console.post(wsmanRequestPowerStateChange(8)).status, 200u);  // audit 1701 and an ACPI event
  ASSERT_EQ(console.post(wsmanRequestPowerStateChange(2)).status, 200u);
  WsmanDigestClient intruder(daemon_.httpPort(), "admin", "wrong");
  EXPECT_EQ(intruder.post(wsmanGetGeneralSettings()).status, 401u);

  auto [code, events] = call("GET", "/logs/events");
  ASSERT_EQ(code, "200") << events;
  auto records = events["records"].as_array();
  ASSERT_GE(records.size(), 2u) << events;
  auto last = records.back().as_object();
  EXPECT_EQ(last["sensor"].as_string(), "System ACPI Power State") << last;
  EXPECT_EQ(last["message"].as_string(), "Power state S0/G0: working");
  EXPECT_EQ(last["index"].to_number<int>(), static_cast<int>(events["total"].to_number<int>()));
  EXPECT_EQ(std::string(last["time"].as_string()).size(), 24u) << last;  // 2024-01-31T15:40:09.000Z

  auto limited = call("GET", "/logs/events?limit=1").second;
  ASSERT_EQ(limited["records"].as_array().size(), 1u);
  EXPECT_EQ(limited["records"].as_array()[0], records.back()) << "limit keeps the newest";
  EXPECT_EQ(call("GET", "/logs/events?since=4000000000").second["records"].as_array().size(), 0u);

  auto audit = call("GET", "/logs/audit").second["records"].as_array();
  bool powerDown = false, failedLogin = false;
  for (const auto& r : audit) {
    const auto& o = r.as_object();
    if (o.at("id").to_number<int>() == 1701) {
      powerDown = true;
      EXPECT_EQ(o.at("initiator").as_string(), "admin");
      EXPECT_EQ(o.at("event").as_string(), "Performed Power Down");
      EXPECT_EQ(o.at("app").as_string(), "Remote Control");
    }
    if (o.at("id").to_number<int>() == 1605) {
      failedLogin = true;
      EXPECT_EQ(o.at("net_address").as_string(), "127.0.0.1");
    }
  }
  EXPECT_TRUE(powerDown) << audit;
  EXPECT_TRUE(failedLogin) << audit;
  EXPECT_EQ(error("GET", "/logs/audit?limit=zero"), "400 limit must be a whole number from 1 to 100000");
  EXPECT_EQ(status("GET", "/logs/audit?bogus=1"), "400");
  EXPECT_EQ(status("POST", "/logs/audit"), "405");
}

}  // namespace
}  // namespace mesim::test
