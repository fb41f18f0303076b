// PET over SNMP through the real daemon (docs/pet.md): a console subscribes Debian's snmptrapd, listening on a
// loopback port, with AMT_SNMPEventSubscriber; a fan failure set through the control API reaches it as the PET trap
// (enterprise 1.3.6.1.4.1.3183.1.1, specific trap 0x040102, the PET frame with the device's GUID); a disabled filter
// sends nothing; subscribers and filter settings survive a restart; the table's limit is enforced.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "common/text_codecs.h"
#include "tests/support/control_call.h"
#include "tests/support/daemon_process.h"
#include "wsman/eventing/http_client.h"

extern char** environ;

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
constexpr const char* kPassword = "P@ssw0rd";
const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";

std::string envelope(const std::string& action, const std::string& resource, const std::string& selectors,
                     const std::string& body) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?><Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">"
         "<Header><a:Action>" + action + "</a:Action><a:To>/wsman</a:To><w:ResourceURI>" + resource +
         "</w:ResourceURI><a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>"
         "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>" +
         selectors + "</Header><Body>" + body + "</Body></Envelope>";
}

// A free loopback UDP port (bound and released: snmptrapd binds it right after).
int freeUdpPort() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Debian's snmptrapd in the foreground, logging every trap it receives to a file (-Lf), OIDs numeric (-On).
class SnmpTrapReceiver {
 public:
  SnmpTrapReceiver() : dir_(makeTempDir("snmptrapd")) {}
  ~SnmpTrapReceiver() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  bool start() {
    port_ = freeUdpPort();
    if (port_ <= 0) return false;
    { std::ofstream(dir_ / "snmptrapd.conf") << "disableAuthorization yes\n"; }
    const std::string conf = (dir_ / "snmptrapd.conf").string(), out = output().string();
    // -C: only this configuration; -m "": no MIBs to load (numeric OIDs are all the test reads).
    std::vector<std::string> argv{"/usr/sbin/snmptrapd", "-f", "-C", "-c", conf, "-On", "-m", "", "-Lf", out,
                                  "udp:127.0.0.1:" + std::to_string(port_)};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return false;
    // Ready once it has logged its version line.
    return waitFor("NET-SNMP version", 10s);
  }

  int port() const { return port_; }
  std::filesystem::path output() const { return dir_ / "traps.log"; }
  std::string text() const {
    std::ifstream in(output());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool waitFor(const std::string& needle, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (text().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Every trap received: its specific trap number and the bytes of its Hex-STRING varbind, in order.
  struct Trap {
    std::string community;
    unsigned long specific = 0;
    std::vector<std::uint8_t> frame;
  };
  std::vector<Trap> traps() const {
    std::vector<Trap> out;
    const std::string all = text();
    static const std::regex trap(
        R"(community (\S+)\s+\.1\.3\.6\.1\.4\.1\.3183\.1\.1 Enterprise Specific Trap \((\d+)\)[^\n]*\n\s*)"
        R"(\.1\.3\.6\.1\.4\.1\.3183\.1\.1\.1 = Hex-STRING: ([0-9A-F \n]+))");
    for (auto it = std::sregex_iterator(all.begin(), all.end(), trap); it != std::sregex_iterator(); ++it) {
      Trap t;
      t.community = (*it)[1];
      t.specific = std::stoul((*it)[2]);
      std::istringstream hex((*it)[3]);
      for (std::string byte; hex >> byte;)
        if (byte.size() == 2) t.frame.push_back(static_cast<std::uint8_t>(std::stoul(byte, nullptr, 16)));
      out.push_back(std::move(t));
    }
    return out;
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = -1;
};

class PetDaemonTest : public ::testing::Test {
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

  std::string enumerate(const std::string& className) {
    auto r = wsman(envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", kAmt + className, "",
                            "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><w:OptimizeEnumeration/>"
                            "<w:MaxElements>100</w:MaxElements></Enumerate>"));
    EXPECT_EQ(r.status, 200u) << r.error << r.body;
    return r.body;
  }

  wsman::eventing::HttpPostResult createSubscriber(int port, int policy, const std::string& address = "127.0.0.1") {
    const std::string uri = kAmt + "AMT_SNMPEventSubscriber";
    return wsman(envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Create", uri, "",
                          "<g:AMT_SNMPEventSubscriber xmlns:g=\"" + uri + "\"><g:AccessInfo>" + address +
                              "</g:AccessInfo><g:InfoFormat>3</g:InfoFormat><g:PortInfo>" + std::to_string(port) +
                              "</g:PortInfo><g:PolicyID>" + std::to_string(policy) +
                              "</g:PolicyID><g:CommunityString>mesimtest</g:CommunityString></g:AMT_SNMPEventSubscriber>"));
  }

  wsman::eventing::HttpPostResult putFilter(int number, const std::string& properties) {
    const std::string uri = kAmt + "AMT_PETFilterSetting";
    const std::string id = "Intel(r) AMT:PET Filter " + std::to_string(number);
    return wsman(envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", uri,
                          "<w:SelectorSet><w:Selector Name=\"InstanceID\">" + id + "</w:Selector></w:SelectorSet>",
                          "<g:AMT_PETFilterSetting xmlns:g=\"" + uri + "\"><g:InstanceID>" + id + "</g:InstanceID>" +
                              properties + "</g:AMT_PETFilterSetting>"));
  }

  void post(const std::string& target, const std::string& body) {
    auto r = controlCall(daemon_.controlPort(), "POST", target, body);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 200u) << target << " " << body << ": " << r->body;
  }

  // The device's GUID as platform.json has it (identity.uuid), in the byte order the PET frame carries.
  std::vector<std::uint8_t> deviceGuid() {
    std::ifstream in(daemon_.stateDir() / "platform.json");
    std::stringstream s;
    s << in.rdbuf();
    auto uuid = text::parseUuid(boost::json::parse(s.str()).at("identity").at("uuid").as_string());
    return uuid ? std::vector<std::uint8_t>(uuid->begin(), uuid->end()) : std::vector<std::uint8_t>{};
  }

  DaemonProcess daemon_;
};

TEST_F(PetDaemonTest, AFanFailureReachesSnmptrapdAsAPetTrap) {
  SnmpTrapReceiver receiver;
  ASSERT_TRUE(receiver.start()) << receiver.text();
  ASSERT_TRUE(start()) << daemon_.log();

  // The shipped filters and the event manager.
  const auto filters = enumerate("AMT_PETFilterSetting");
  EXPECT_NE(filters.find("<h:ElementName>Fan</h:ElementName>"), std::string::npos) << filters;
  EXPECT_NE(filters.find("<h:PolicyID>134</h:PolicyID>"), std::string::npos) << filters;
  EXPECT_NE(enumerate("AMT_EventManagerService").find("<h:DefaultCommunityString>public"), std::string::npos);

  auto created = createSubscriber(receiver.port(), 1);
  ASSERT_EQ(created.status, 200u) << created.body;
  EXPECT_NE(created.body.find("Intel(r) AMT:SNMP Subscriber 1"), std::string::npos) << created.body;
  const auto subscribers = enumerate("AMT_SNMPEventSubscriber");
  EXPECT_NE(subscribers.find("<h:AccessInfo>127.0.0.1</h:AccessInfo>"), std::string::npos) << subscribers;
  EXPECT_NE(subscribers.find("<h:PortInfo>" + std::to_string(receiver.port()) + "</h:PortInfo>"), std::string::npos);
  EXPECT_NE(enumerate("AMT_TrapTargetForService").find("AMT_EventManagerService"), std::string::npos);
  EXPECT_NE(enumerate("AMT_PETFilterForTarget").find("Intel(r) AMT:PET Filter 3"), std::string::npos);
  // The same receiver and policy again: a duplicate.
  EXPECT_EQ(createSubscriber(receiver.port(), 1).status, 400u);

  post("/hardware/fans/cpu_fan", R"({"failed": true})");
  ASSERT_TRUE(receiver.waitFor("Hex-STRING", 10s)) << receiver.text() << daemon_.log();
  auto traps = receiver.traps();
  ASSERT_EQ(traps.size(), 1u) << receiver.text();
  const auto& trap = traps[0];
  EXPECT_EQ(trap.community, "mesimtest");
  EXPECT_EQ(trap.specific, 0x040102u) << "fan (04h), threshold (01h), lower critical going low (02h)";
  ASSERT_EQ(trap.frame.size(), 47u) << receiver.text();
  EXPECT_EQ(std::vector<std::uint8_t>(trap.frame.begin(), trap.frame.begin() + 16), deviceGuid());
  EXPECT_EQ(trap.frame[16] << 8 | trap.frame[17], 1) << "sequence";
  EXPECT_EQ(trap.frame[25], 0x68) << "ASF";
  EXPECT_EQ(trap.frame[26], 0x10) << "critical";
  // Sensor number and entity as the message log's record has them (the fan's tachometer; entity 29, fan).
  const auto log = boost::json::parse(daemon_.get("/logs/events").substr(4)).as_object();
  const auto& record = log.at("records").as_array().back().as_object();
  EXPECT_EQ(trap.frame[28], record.at("sensor_number").to_number<int>()) << record;
  EXPECT_EQ(record.at("entity"), "0x1D") << record;
  EXPECT_EQ(trap.frame[29], 29) << "entity: fan";
  EXPECT_EQ(trap.frame[39], 0x19);
  EXPECT_EQ(trap.frame[43], 0x57);
  EXPECT_EQ(trap.frame[46], 0xC1);

  // Fan filter disabled: the fan's recovery sends nothing. A temperature event after it does arrive, and alone.
  auto put = putFilter(3, "<g:EnableFilter>false</g:EnableFilter>");
  ASSERT_EQ(put.status, 200u) << put.body;
  EXPECT_NE(enumerate("AMT_PETFilterSetting").find("<h:EnableFilter>false</h:EnableFilter>"), std::string::npos);
  post("/hardware/fans/cpu_fan", R"({"failed": false})");
  post("/hardware/sensors/cpu_temperature", R"({"reading": 105})");
  ASSERT_TRUE(receiver.waitFor("Enterprise Specific Trap (65", 10s)) << receiver.text();  // 0x01xxxx
  traps = receiver.traps();
  ASSERT_EQ(traps.size(), 2u) << receiver.text();
  EXPECT_EQ(traps[1].specific >> 16, 0x01u) << "temperature";
  EXPECT_EQ(traps[1].frame[16] << 8 | traps[1].frame[17], 2) << "the disabled filter's event raised no trap";

  // LogOnEvent false keeps the temperature events out of the message log; the trap still goes.
  ASSERT_EQ(putFilter(1, "<g:LogOnEvent>false</g:LogOnEvent>").status, 200u);
  const auto logged = daemon_.get("/logs/events");
  post("/hardware/sensors/cpu_temperature", R"({"state": "good"})");
  ASSERT_TRUE(receiver.waitFor("Enterprise Specific Trap (65929)", 10s)) << receiver.text();  // 0x010189: recovered
  EXPECT_EQ(daemon_.get("/logs/events"), logged);
  // The sender's counters in /status: the three traps, none failed.
  const auto status = boost::json::parse(daemon_.get("/status").substr(4)).as_object();
  EXPECT_EQ(status.at("pet").at("subscribers").to_number<int>(), 1) << status;
  EXPECT_EQ(status.at("pet").at("traps_sent").to_number<int>(), 3) << status;
  EXPECT_EQ(status.at("pet").at("traps_failed").to_number<int>(), 0) << status;

  // An OEM filter cannot be changed; a value out of range is refused.
  EXPECT_EQ(putFilter(17, "<g:SendAlert>false</g:SendAlert>").status, 400u);
  EXPECT_EQ(putFilter(2, "<g:EventSensorType>300</g:EventSensorType>").status, 400u);

  // Persisted: after a restart the subscriber and the filter settings are there.
  daemon_.stop();
  ASSERT_TRUE(start()) << daemon_.log();
  EXPECT_NE(enumerate("AMT_SNMPEventSubscriber").find("<h:CommunityString>mesimtest"), std::string::npos);
  const auto after = enumerate("AMT_PETFilterSetting");
  EXPECT_NE(after.find("<h:EnableFilter>false</h:EnableFilter>"), std::string::npos) << after;
  EXPECT_NE(after.find("<h:LogOnEvent>false</h:LogOnEvent>"), std::string::npos) << after;
}

TEST_F(PetDaemonTest, TheSubscriberTableHoldsFourteen) {
  ASSERT_TRUE(start()) << daemon_.log();
  for (int i = 0; i < 14; ++i) ASSERT_EQ(createSubscriber(20000 + i, 1).status, 200u) << i;
  auto full = createSubscriber(30000, 1);
  EXPECT_EQ(full.status, 400u) << full.body;
  EXPECT_NE(full.body.find("MAX_LIMIT_REACHED"), std::string::npos) << full.body;
  EXPECT_EQ(createSubscriber(30000, 1, "not-an-address").status, 400u);
  // Deleting one makes room.
  const std::string uri = kAmt + "AMT_SNMPEventSubscriber";
  auto deleted = wsman(envelope(
      "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete", uri,
      "<w:SelectorSet><w:Selector Name=\"CreationClassName\">AMT_SNMPEventSubscriber</w:Selector>"
      "<w:Selector Name=\"Name\">Intel(r) AMT:SNMP Subscriber 3</w:Selector>"
      "<w:Selector Name=\"SystemCreationClassName\">CIM_ComputerSystem</w:Selector>"
      "<w:Selector Name=\"SystemName\">Intel(r) AMT</w:Selector></w:SelectorSet>",
      ""));
  ASSERT_EQ(deleted.status, 200u) << deleted.body;
  EXPECT_EQ(createSubscriber(30000, 1).status, 200u);
}

// A trap the network refuses (broadcast without SO_BROADCAST) is counted and logged; the firmware goes on.
TEST_F(PetDaemonTest, AFailedSendIsCountedNotFatal) {
  ASSERT_TRUE(start()) << daemon_.log();
  ASSERT_EQ(createSubscriber(16162, 1, "255.255.255.255").status, 200u);
  post("/hardware/fans/cpu_fan", R"({"failed": true})");
  int failed = 0;
  for (int i = 0; i < 100 && failed == 0; ++i) {
    const auto status = boost::json::parse(daemon_.get("/status").substr(4)).as_object();
    failed = status.at("pet").at("traps_failed").to_number<int>();
    if (!failed) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(failed, 1) << daemon_.log();
  EXPECT_TRUE(daemon_.waitForLog("trap to 255.255.255.255:16162")) << daemon_.log();
  EXPECT_EQ(daemon_.get("/healthz").substr(0, 3), "200");
}

}  // namespace
}  // namespace mesim::test
