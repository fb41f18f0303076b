// app/config and app/fleet_config: the fleet's options and [fleet] section, the identity seeds, the port layout, the
// shards' numbering and the host side (docs/fleet.md, docs/configuration.md).
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/fleet_config.h"
#include "tests/support/provisioning_pki.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim::app {
namespace {

ParseResult parse(std::vector<std::string> args, const std::string& configText = "",
                  std::vector<std::string> environment = {}) {
  static int serial = 0;
  auto file = std::filesystem::temp_directory_path() /
              ("mesim-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(serial++) + ".conf");
  if (!configText.empty()) {
    std::ofstream(file) << configText;
    args.insert(args.begin(), {"--config", file.string()});
  }
  args.insert(args.begin(), {"mesim", "--state-dir", "/s", "--runtime-dir", "/r"});
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  // parse_environment reads the process's environment: set the variables for this call only.
  for (const auto& e : environment) ::putenv(const_cast<char*>(e.c_str()));
  char* noEnvironment[] = {nullptr};
  auto result = parseConfig(static_cast<int>(argv.size()), argv.data(), noEnvironment);
  for (const auto& e : environment) ::unsetenv(e.substr(0, e.find('=')).c_str());
  std::filesystem::remove(file);
  return result;
}

const DeviceConfig& device(const ParseResult& r, const std::string& name) {
  for (const auto& d : r.config.devices)
    if (d.name == name) return d;
  ADD_FAILURE() << "no device " << name;
  return r.config.devices.front();
}

TEST(FleetConfig, SeedGivesEachDeviceItsGlobalNumberAsSubject) {
  auto r = parse({"--fleet", "3", "--fleet-seed", "lab"});
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  ASSERT_EQ(r.config.devices.size(), 4u);
  EXPECT_FALSE(r.config.devices[0].identity) << "the default device stays random without a seed of its own";
  for (unsigned n = 1; n <= 3; ++n) {
    const auto& d = r.config.devices[n];
    EXPECT_EQ(d.name, fleetDeviceName(n));
    ASSERT_TRUE(d.identity);
    EXPECT_EQ(d.identity->seed, "lab");
    EXPECT_EQ(d.identity->subject, "fleet/" + std::to_string(n));
    EXPECT_EQ(d.hostName, d.name);
    EXPECT_EQ(d.stateDir, std::filesystem::path("/s/devices") / d.name);
    EXPECT_EQ(d.fuse, FuseMode::Off);
    EXPECT_FALSE(d.preload) << "no host side unless asked";
    EXPECT_FALSE(d.iderNbd);
    EXPECT_EQ(d.listenAddress, "127.1.0." + std::to_string(n));
  }
  auto unseeded = parse({"--fleet", "2"});
  ASSERT_EQ(unseeded.action, ParseResult::Action::Run) << unseeded.message;
  EXPECT_FALSE(unseeded.config.devices[1].identity);
  EXPECT_EQ(unseeded.config.devices[0].hostName, "mesim");
}

TEST(FleetConfig, ShardsNumberTheirDevicesFromFirstIndex) {
  auto r = parse({"--fleet", "2", "--fleet-first-index", "9999", "--fleet-seed", "lab"});
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  EXPECT_EQ(r.config.devices[1].name, "fleet-9999");
  EXPECT_EQ(r.config.devices[2].name, "fleet-10000");
  EXPECT_EQ(r.config.devices[2].identity->subject, "fleet/10000");
  EXPECT_EQ(r.config.devices[1].listenAddress, "127.1.0.1") << "addresses count within the shard";
  EXPECT_EQ(parse({"--fleet", "1", "--fleet-first-index", "0"}).message.find("--fleet-first-index"), 0u);
  EXPECT_EQ(parse({"--fleet", "2", "--fleet-first-index", "999999"}).message.find("--fleet-first-index"), 0u);
  EXPECT_EQ(parse({"--fleet", "10001"}).message, "--fleet must be 0..10000");
}

TEST(FleetConfig, PortBasePutsEveryDeviceOnOneAddressWithItsOwnPorts) {
  auto r = parse({"--fleet", "3", "--fleet-address", "127.0.0.1", "--fleet-port-base", "20000", "--fleet-port-stride",
                  "10", "--rfb-port", "-1"});
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  const auto& third = device(r, "fleet-0003");
  EXPECT_EQ(third.listenAddress, "127.0.0.1");
  EXPECT_EQ(third.httpPort, 20020);
  EXPECT_EQ(third.httpsPort, 20021);
  EXPECT_EQ(third.redirectionPort, 20022);
  EXPECT_EQ(third.redirectionTlsPort, 20023);
  EXPECT_EQ(third.rfbPort, -1) << "a port the default device turns off stays off";
  auto dense = parse({"--fleet", "2", "--fleet-port-base", "30000"});
  ASSERT_EQ(dense.action, ParseResult::Action::Run) << dense.message;
  EXPECT_EQ(device(dense, "fleet-0002").httpPort, 30005) << "stride 5 by default";
  EXPECT_EQ(device(dense, "fleet-0002").rfbPort, 30009);

  EXPECT_EQ(parse({"--fleet", "2", "--fleet-port-base", "20000", "--fleet-port-stride", "4"}).message,
            "--fleet-port-stride must be 5..1000 (each device has 5 ports)");
  EXPECT_EQ(parse({"--fleet", "2", "--fleet-port-stride", "10"}).message,
            "--fleet-port-stride goes with --fleet-port-base");
  auto past = parse({"--fleet", "1000", "--fleet-port-base", "65000"});
  EXPECT_EQ(past.action, ParseResult::Action::Error);
  EXPECT_EQ(past.message, "--fleet-port-base 65000: 1000 devices with stride 5 need ports up to 69999, past 65535");
  auto clash = parse({"--fleet", "2", "--fleet-address", "127.0.0.1", "--fleet-port-base", "16990"});
  EXPECT_EQ(clash.action, ParseResult::Action::Error) << "the default device's 16992 is taken by fleet-0001";
  EXPECT_NE(clash.message.find("both use 127.0.0.1:16992"), std::string::npos) << clash.message;
}

TEST(FleetConfig, HostSideIsForTheListedDevicesOnly) {
  auto r = parse({"--fleet", "3", "--fuse", "auto", "--fleet-host-side", "fleet-0002, fleet-0042"});
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  EXPECT_EQ(device(r, "fleet-0001").fuse, FuseMode::Off);
  EXPECT_EQ(device(r, "fleet-0002").fuse, FuseMode::Auto);
  EXPECT_TRUE(device(r, "fleet-0002").preload);
  EXPECT_TRUE(device(r, "fleet-0002").iderNbd);
  EXPECT_FALSE(device(r, "fleet-0003").preload);
  EXPECT_EQ(parse({"--fleet", "3", "--fleet-host-side", "lab2"}).message,
            "--fleet-host-side: 'lab2' is not a fleet device's name (fleet-0001, fleet-0002, ...)");
  EXPECT_EQ(parse({"--fleet", "3", "--fleet-host-side", "fleet-00002"}).action, ParseResult::Action::Error)
      << "one spelling per device";
}

TEST(FleetConfig, TheFleetSectionOfTheFileAndItsPrecedence) {
  const std::string file =
      "[fleet]\ncount = 2\nseed = from-file\naddress = 127.0.0.1\nport-base = 21000\nfirst-index = 11\n"
      "host-side = fleet-0012\n";
  auto r = parse({}, file);
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  ASSERT_EQ(r.config.devices.size(), 3u);
  const auto& d = device(r, "fleet-0012");
  EXPECT_EQ(d.identity->seed, "from-file");
  EXPECT_EQ(d.identity->subject, "fleet/12");
  EXPECT_EQ(d.httpPort, 21005);
  EXPECT_TRUE(d.preload);
  auto flag = parse({"--fleet-seed", "from-flag", "--fleet", "1"}, file);
  ASSERT_EQ(flag.action, ParseResult::Action::Run) << flag.message;
  EXPECT_EQ(flag.config.devices.size(), 2u) << "a flag beats [fleet]";
  EXPECT_EQ(flag.config.devices[1].identity->seed, "from-flag");
  auto env = parse({}, file, {"MESIM_FLEET_SEED=from-env", "MESIM_FLEET_FIRST_INDEX=21"});
  ASSERT_EQ(env.action, ParseResult::Action::Run) << env.message;
  EXPECT_EQ(env.config.devices[1].name, "fleet-0021") << "the environment beats [fleet]";
  EXPECT_EQ(env.config.devices[1].identity->seed, "from-env");

  auto bad = parse({}, "[fleet]\ncount = 2\nports = 3\n");
  EXPECT_EQ(bad.action, ParseResult::Action::Error);
  EXPECT_NE(bad.message.find("unknown key 'ports' in [fleet]"), std::string::npos) << bad.message;
  auto notNumber = parse({}, "[fleet]\ncount = many\n");
  EXPECT_EQ(notNumber.action, ParseResult::Action::Error) << notNumber.message;
  EXPECT_EQ(parse({"--fleet", "1", "--fleet-seed", ""}).message, "--fleet-seed takes 1..256 characters of text");
}

TEST(IdentitySeedConfig, ANamedDeviceKeysTheSeedByItsName) {
  auto r = parse({"--identity-seed", "lab", "--name", "one"},
                 "[device.two]\nhttp-port = 17992\nhttps-port = 17993\nredirection-port = 17994\n"
                 "redirection-tls-port = 17995\n");
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  ASSERT_TRUE(r.config.devices[0].identity && r.config.devices[1].identity);
  EXPECT_EQ(r.config.devices[0].identity->subject, "device/one");
  EXPECT_EQ(r.config.devices[1].identity->subject, "device/two") << "inherited, but another device";
  auto fleet = parse({"--identity-seed", "lab", "--fleet", "1"});
  ASSERT_EQ(fleet.action, ParseResult::Action::Run) << fleet.message;
  EXPECT_EQ(fleet.config.devices[1].identity->subject, "fleet/1") << "fleet devices are keyed by number";
  EXPECT_EQ(parse({"--identity-seed", ""}).message, "--identity-seed takes 1..256 characters of text");
}

}  // namespace
}  // namespace mesim::app

namespace mesim::app {
namespace {

TEST(CiraConfig, ThePresetIsParsedAndEveryFleetDeviceHasIt) {
  test::TempDir dir;
  const auto pem = dir.path() / "root.pem";
  {
    // A certificate made at run time: any self-signed PEM does for the parser.
    auto key = test::makeRsaKey(2048);
    test::CertSpec spec;
    spec.commonName = "mps root";
    spec.isCa = true;
    spec.notAfter = 4'000'000'000;
    auto cert = test::makeCert(spec, key, nullptr, key);
    BIO* bio = BIO_new_file(pem.c_str(), "w");
    PEM_write_bio_X509(bio, cert.get());
    BIO_free(bio);
  }
  auto r = parse({"--fleet", "2", "--cira-mps", "127.0.0.1:4433", "--cira-user", "0123456789abcdef",
                  "--cira-password", "P@ss", "--cira-root", pem.string(), "--cira-cn", "mps.test", "--cira-interval", "30"});
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  for (const auto& d : r.config.devices) {
    ASSERT_TRUE(d.cira.has_value()) << d.name;
    EXPECT_EQ(d.cira->host, "127.0.0.1");
    EXPECT_EQ(d.cira->port, 4433u);
    EXPECT_EQ(d.cira->commonName, "mps.test");
    EXPECT_EQ(d.cira->intervalSeconds, 30u);
    EXPECT_FALSE(d.cira->rootDerBase64.empty());
  }
}

TEST(CiraConfig, BadValuesGetAClearError) {
  auto error = [](std::vector<std::string> args) {
    auto r = parse(std::move(args));
    EXPECT_EQ(r.action, ParseResult::Action::Error);
    return r.message;
  };
  EXPECT_NE(error({"--cira-mps", "mps.example"}).find("HOST:PORT"), std::string::npos);
  EXPECT_NE(error({"--cira-mps", "mps.example:70000"}).find("HOST:PORT"), std::string::npos);
  EXPECT_NE(error({"--cira-user", "u"}).find("need --cira-mps"), std::string::npos);
  EXPECT_NE(error({"--cira-mps", "mps.example:4433"}).find("--cira-user and --cira-password"), std::string::npos);
  EXPECT_NE(error({"--cira-mps", "mps.example:4433", "--cira-user", "u", "--cira-password", "p"}).find("--cira-root"),
            std::string::npos);
  EXPECT_NE(error({"--cira-mps", "m:1", "--cira-user", "u", "--cira-password", "p", "--cira-root", "/nonexistent.pem"})
                .find("not a readable PEM certificate"),
            std::string::npos);
  EXPECT_NE(error({"--cira-interval", "0", "--cira-mps", "m:1"}).find("--cira-interval"), std::string::npos);
}

}  // namespace
}  // namespace mesim::app
