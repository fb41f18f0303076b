// app::Device as an object (issue 9): several on one io_context, created and destroyed any number of times in one
// process, each stopping without disturbing the others; and the config that declares them ([device.NAME], --fleet).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "app/config.h"
#include "app/device.h"
#include "hostif/os/host_machine.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim::app {
namespace {

using namespace std::chrono_literals;

DeviceConfig deviceIn(const std::filesystem::path& dir, const std::string& name) {
  DeviceConfig c;
  c.name = name;
  c.stateDir = dir / name / "state";
  c.runtimeDir = dir / name / "run";
  c.fuse = FuseMode::Off;
  c.preload = false;
  c.httpPort = 0;
  c.httpsPort = -1;  // no TLS key to make: keeps the test fast
  c.redirectionPort = 0;
  c.redirectionTlsPort = -1;
  c.rfbPort = 0;
  return c;
}

// Runs `io` until `done()` or a deadline; false on the deadline.
bool runUntil(boost::asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (io.stopped()) io.restart();  // it ran out of work (a device stopped): new work may come
    io.run_for(5ms);
  }
  return true;
}

// An HTTP port that accepts a connection and answers a request (any answer) is serving.
bool answersHttp(boost::asio::io_context& io, std::uint16_t port) {
  boost::asio::ip::tcp::socket socket(io);
  bool answered = false, finished = false;
  std::string request = "GET /wsman HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto buffer = std::make_shared<std::array<char, 64>>();
  socket.async_connect({boost::asio::ip::make_address("127.0.0.1"), port}, [&](boost::system::error_code ec) {
    if (ec) return void(finished = true);
    boost::asio::async_write(socket, boost::asio::buffer(request), [&](boost::system::error_code wec, std::size_t) {
      if (wec) return void(finished = true);
      socket.async_read_some(boost::asio::buffer(*buffer), [&](boost::system::error_code rec, std::size_t n) {
        answered = !rec && n > 0;
        finished = true;
      });
    });
  });
  runUntil(io, [&] { return finished; }, 3s);
  return answered;
}

std::uint16_t httpPortOf(const Device& device) {
  auto where = device.whereabouts();
  auto at = where.find("WS-Man http://127.0.0.1:");
  if (at == std::string::npos) return 0;
  return static_cast<std::uint16_t>(std::stoi(where.substr(at + 24)));
}

TEST(Device, TwoOnOneLoopAreIndependentAndOneCanGo) {
  test::TempDir dir{"device"};
  boost::asio::io_context io;
  auto a = std::make_unique<Device>(io, deviceIn(dir.path(), "a"));
  auto b = std::make_unique<Device>(io, deviceIn(dir.path(), "b"));
  ASSERT_TRUE(a->start({}));
  ASSERT_TRUE(b->start({}));
  ASSERT_TRUE(runUntil(io, [&] { return a->ready() && b->ready(); }));
  EXPECT_EQ(a->status()["name"], "a");
  EXPECT_NE(a->status()["firmware"].as_object()["hbm_state"], "");

  events::Alert alert;
  alert.messageId = "iAMT0005";
  a->raiseAlert(alert);
  EXPECT_EQ(a->status()["events"].as_object()["raised"], 1);
  EXPECT_EQ(b->status()["events"].as_object()["raised"], 0);

  auto portB = httpPortOf(*b);
  ASSERT_NE(portB, 0);
  bool stopped = false;
  a->stop([&] { stopped = true; });
  ASSERT_TRUE(runUntil(io, [&] { return stopped; }));
  a.reset();  // destroying one leaves the other serving
  EXPECT_TRUE(answersHttp(io, portB));
  EXPECT_TRUE(b->ready());
}

// Each device has the clock its config asks for, from construction on (the control API reads it while the state
// opens); moving one device's manual clock leaves another's time alone.
TEST(Device, EachHasTheClockItsConfigAsksFor) {
  test::TempDir dir{"device-clock"};
  boost::asio::io_context io;
  const core::FirmwareClock::time_point start{std::chrono::seconds(1'893'553'445)};
  auto manualConfig = deviceIn(dir.path(), "manual");
  manualConfig.clock.mode = core::ClockSetting::Mode::Manual;
  manualConfig.clock.start = start;
  Device manual(io, manualConfig);
  Device real(io, deviceIn(dir.path(), "real"));
  ASSERT_NE(manual.manualClock(), nullptr);
  EXPECT_EQ(real.manualClock(), nullptr);
  EXPECT_EQ(manual.clock().now(), start) << "before start()";
  ASSERT_TRUE(manual.start({}));
  ASSERT_TRUE(real.start({}));
  ASSERT_TRUE(runUntil(io, [&] { return manual.ready() && real.ready(); }));
  EXPECT_EQ(manual.clock().now(), start) << "real time passing does not move it";
  manual.manualClock()->advance(90s);
  EXPECT_EQ(manual.clock().now(), start + 90s);
  const auto realNow = core::SystemFirmwareClock().now();
  EXPECT_LT(real.clock().now() - realNow, 5s);
  EXPECT_GT(real.clock().now() - realNow, -5s);
  for (auto* d : {&manual, &real}) {
    bool stopped = false;
    d->stop([&] { stopped = true; });
    ASSERT_TRUE(runUntil(io, [&] { return stopped; }));
  }
}

// A manual clock's move, made from a handler as the control route makes it, lets the loop run between its steps: the
// simulated OS's heartbeats cross HBM in time and keep the firmware's watchdog alive through an hour in one move, and
// the loop goes on running afterwards (a nested poll that lost count of the route handler's work would stop it).
TEST(Device, AManualClocksMoveLetsTheLoopRunBetweenItsSteps) {
  test::TempDir dir{"device-settle"};
  boost::asio::io_context io{1};  // as the process shell's
  auto config = deviceIn(dir.path(), "manual");
  config.clock.mode = core::ClockSetting::Mode::Manual;
  Device device(io, config);
  ASSERT_TRUE(device.start({}));
  ASSERT_TRUE(runUntil(io, [&] { return device.ready(); }));
  auto move = [&](std::chrono::seconds span) {
    bool done = false, stoppedAfter = true;
    boost::asio::post(io, [&] {
      device.manualClock()->advance(span);
      stoppedAfter = io.stopped();
      done = true;
    });
    EXPECT_TRUE(runUntil(io, [&] { return done; }));
    EXPECT_FALSE(stoppedAfter) << "the move stopped the loop";
  };
  auto* os = device.hostMachine()->os();
  ASSERT_NE(os, nullptr);
  EXPECT_EQ(os->state(), hostos::SimulatedOs::State::Booting);
  move(5s);
  ASSERT_EQ(os->state(), hostos::SimulatedOs::State::Running);
  move(1h);
  EXPECT_EQ(os->watchdogDaemon().stats().heartbeats, 60u);
  EXPECT_EQ(device.status().at("watchdog").at("os_expiries").to_number<int>(), 0);
  EXPECT_EQ(device.status().at("watchdog").at("os_state").as_string(), "running");
  bool stopped = false;
  device.stop([&] { stopped = true; });
  ASSERT_TRUE(runUntil(io, [&] { return stopped; }));
}

TEST(Device, CreatedAndDestroyedManyTimesInOneProcess) {
  test::TempDir dir{"device-again"};
  boost::asio::io_context io;
  for (int round = 0; round < 20; ++round) {
    auto device = std::make_unique<Device>(io, deviceIn(dir.path(), "again"));
    ASSERT_TRUE(device->start({})) << round;
    ASSERT_TRUE(runUntil(io, [&] { return device->ready(); })) << round;
    bool stopped = false;
    device->stop([&] { stopped = true; });
    ASSERT_TRUE(runUntil(io, [&] { return stopped; })) << round;
  }
  // The same state dir served every round: the platform kept its identity.
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "again" / "state" / "platform.json"));
}

// A device is ready without a TLS key (a fleet starts in milliseconds); its first TLS handshake makes the key off
// the loop, and the pair is kept in its state dir.
TEST(Device, TheTlsKeyIsMadeOnFirstUse) {
  test::TempDir dir{"device-tls"};
  boost::asio::io_context io;
  std::vector<std::thread> blocking;
  Device::Services services;
  services.runBlocking = [&](std::function<void()> job) { blocking.emplace_back(std::move(job)); };
  auto config = deviceIn(dir.path(), "tls");
  config.httpsPort = 0;
  auto device = std::make_unique<Device>(io, config, services);
  ASSERT_TRUE(device->start({}));
  ASSERT_TRUE(runUntil(io, [&] { return device->ready(); }, 10s));
  const auto keyFile = config.stateDir / "tls-key.pem";
  EXPECT_FALSE(std::filesystem::exists(keyFile));

  const auto where = device->whereabouts();
  const auto at = where.find("https://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << where;
  const auto port = static_cast<std::uint16_t>(std::stoi(where.substr(at + 18)));
  std::string answer;
  std::thread client([&] {
    boost::asio::io_context cio;
    boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
    ctx.set_verify_mode(boost::asio::ssl::verify_none);
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> s(cio, ctx);
    boost::system::error_code ec;
    s.next_layer().connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) s.handshake(boost::asio::ssl::stream_base::client, ec);
    answer = ec ? "handshake: " + ec.message() : "ok";
  });
  runUntil(io, [&] { return !answer.empty(); }, 30s);
  client.join();
  EXPECT_EQ(answer, "ok");
  EXPECT_TRUE(std::filesystem::exists(keyFile));
  bool stopped = false;
  device->stop([&] { stopped = true; });
  ASSERT_TRUE(runUntil(io, [&] { return stopped; }));
  for (auto& t : blocking) t.join();
}

// With a worker the state is opened off the loop: start() returns at once, the device is not started until the
// worker is done (status() says so, control calls wait), a state it cannot use reaches `failed`, and a device
// destroyed meanwhile leaves the late worker nothing to touch.
TEST(Device, WithAWorkerTheStateOpensOffTheLoop) {
  test::TempDir dir{"device-async"};
  boost::asio::io_context io;
  std::vector<std::function<void()>> jobs;
  Device::Services services;
  services.runBlocking = [&](std::function<void()> job) { jobs.push_back(std::move(job)); };
  auto device = std::make_unique<Device>(io, deviceIn(dir.path(), "a"), services);
  ASSERT_TRUE(device->start({}));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_FALSE(device->started());
  EXPECT_FALSE(device->status().contains("firmware"));
  auto job = std::move(jobs.front());
  jobs.clear();
  job();  // opens (and on this first start writes) the state, then posts the rest to the loop
  ASSERT_TRUE(runUntil(io, [&] { return device->ready(); }, 10s));
  EXPECT_TRUE(device->started());
  bool stopped = false;
  device->stop([&] { stopped = true; });
  ASSERT_TRUE(runUntil(io, [&] { return stopped; }));

  auto bad = deviceIn(dir.path(), "bad");
  std::filesystem::create_directories(bad.stateDir);
  { std::ofstream(bad.stateDir / "platform.json") << "{ not json"; }
  std::string failure;
  device = std::make_unique<Device>(io, bad, services);
  ASSERT_TRUE(device->start({nullptr, [&](const std::string& why) { failure = why; }}));
  for (auto& j : std::exchange(jobs, {})) j();
  ASSERT_TRUE(runUntil(io, [&] { return !failure.empty(); }, 10s));
  EXPECT_NE(failure.find("platform.json"), std::string::npos) << failure;

  device = std::make_unique<Device>(io, deviceIn(dir.path(), "gone"), services);
  ASSERT_TRUE(device->start({}));
  device.reset();
  for (auto& j : std::exchange(jobs, {})) j();
  io.restart();
  io.poll();  // the posted rest finds the device gone
  SUCCEED();
}

TEST(Device, AStateItCannotUseIsAnErrorAtStart) {
  test::TempDir dir{"device-bad"};
  auto config = deviceIn(dir.path(), "bad");
  std::filesystem::create_directories(config.stateDir);
  { std::ofstream(config.stateDir / "platform.json") << "{ not json"; }
  boost::asio::io_context io;
  Device device(io, config);
  auto started = device.start({});
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("platform.json"), std::string::npos) << started.error().message;
}

ParseResult parse(std::vector<std::string> args, const std::string& configText = "") {
  static int serial = 0;
  auto file = std::filesystem::temp_directory_path() / ("mesim-config-test-" + std::to_string(::getpid()) + "-" +
                                                        std::to_string(serial++) + ".conf");
  if (!configText.empty()) {
    std::ofstream(file) << configText;
    args.insert(args.begin(), {"--config", file.string()});
  }
  args.insert(args.begin(), "mesim");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  char* noEnvironment[] = {nullptr};
  auto result = parseConfig(static_cast<int>(argv.size()), argv.data(), noEnvironment);
  std::filesystem::remove(file);
  return result;
}

TEST(DeviceConfig, LoginLockoutOptions) {
  auto r = parse({"--login-lockout-threshold", "0", "--login-lockout-initial", "2s", "--login-lockout-max", "1m",
                  "--login-lockout-reset", "2h"});
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  const auto& lockout = r.config.devices[0].loginLockout;
  EXPECT_EQ(lockout.threshold, 0u);
  EXPECT_EQ(lockout.initial, std::chrono::seconds(2));
  EXPECT_EQ(lockout.max, std::chrono::seconds(60));
  EXPECT_EQ(lockout.reset, std::chrono::hours(2));
  auto defaults = parse({});
  EXPECT_EQ(defaults.config.devices[0].loginLockout.threshold, 10u);
  auto bad = parse({"--login-lockout-initial", "500ms"});
  EXPECT_EQ(bad.action, ParseResult::Action::Error);
  EXPECT_EQ(bad.message, "--login-lockout-initial takes whole seconds, such as 5s or 1m");
  bad = parse({"--login-lockout-initial", "10s", "--login-lockout-max", "5s"});
  EXPECT_EQ(bad.message, "--login-lockout-max must not be shorter than --login-lockout-initial");
}

TEST(DeviceConfig, HostOsOptionsAndTheirSectionKey) {
  auto defaults = parse({});
  ASSERT_EQ(defaults.action, ParseResult::Action::Run) << defaults.message;
  EXPECT_EQ(defaults.config.devices[0].hostOs, HostOsMode::Simulated);
  EXPECT_EQ(defaults.config.devices[0].hostOsBootTime, std::chrono::seconds(5));
  auto r = parse({"--state-dir", "/s", "--runtime-dir", "/r", "--host-os", "none", "--host-os-boot-time", "750ms"},
                 "[device.lab2]\nhttp-port = 17992\nhttps-port = 17993\nredirection-port = 17994\nredirection-tls-port = 17995\nhost-os = simulated\n");
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  EXPECT_EQ(r.config.devices[0].hostOs, HostOsMode::None);
  EXPECT_EQ(r.config.devices[0].hostOsBootTime, std::chrono::milliseconds(750));
  EXPECT_EQ(r.config.devices[1].hostOs, HostOsMode::Simulated);
  EXPECT_EQ(r.config.devices[1].hostOsBootTime, std::chrono::milliseconds(750)) << "inherited";
  auto bad = parse({"--host-os", "windows"});
  EXPECT_EQ(bad.action, ParseResult::Action::Error);
  EXPECT_EQ(bad.message, "--host-os takes simulated or none");
  bad = parse({"--host-os-boot-time", "soon"});
  EXPECT_EQ(bad.message, "--host-os-boot-time takes a time up to 1h, such as 500ms or 5s");
}

// A device's host: its OS boots on the firmware clock and follows the platform's power; the /host routes' object.
TEST(DeviceConfig, TrustedRootHashesRepeatAndSectionsReplaceThem) {
  const std::string sha256(64, 'a'), sha1(40, 'B'), sha384(96, '0');
  auto r = parse({"--state-dir", "/s", "--runtime-dir", "/r", "--trusted-root-hash", sha256, "--trusted-root-hash",
                  "BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB"},
                 "trusted-root-hash = " + sha384 + "\n[device.b]\nhttp-port = -1\nhttps-port = -1\nredirection-port = -1\nredirection-tls-port = -1\ntrusted-root-hash = " + sha1 +
                     "\n[device.c]\nhttp-port = -1\nhttps-port = -1\nredirection-port = -1\nredirection-tls-port = -1\n");
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  ASSERT_EQ(r.config.devices.size(), 3u);
  const auto& top = r.config.devices[0].trustedRootHashes;
  ASSERT_EQ(top.size(), 3u) << "flags and file lines compose";
  EXPECT_EQ(top[0], std::vector<std::uint8_t>(32, 0xAA));
  EXPECT_EQ(top[1], std::vector<std::uint8_t>(20, 0xBB));
  EXPECT_EQ(top[2], std::vector<std::uint8_t>(48, 0x00));
  EXPECT_EQ(r.config.devices[1].trustedRootHashes, (std::vector<std::vector<std::uint8_t>>{std::vector<std::uint8_t>(20, 0xBB)}));
  EXPECT_EQ(r.config.devices[2].trustedRootHashes, top) << "a section without the key inherits the list";

  EXPECT_EQ(parse({"--trusted-root-hash", "abcd"}).message,
            "--trusted-root-hash 'abcd': give the hex of a SHA-1, SHA-256 or SHA-384 hash (40, 64 or 96 digits)");
  EXPECT_EQ(parse({"--trusted-root-hash", std::string(63, 'a') + "g"}).action, ParseResult::Action::Error);
  EXPECT_EQ(parse({"--trusted-root-hash", sha256, "--trusted-root-hash", sha1, "--trusted-root-hash", sha384,
                   "--trusted-root-hash", std::string(64, 'c')})
                .message,
            "--trusted-root-hash: AMT holds at most 3 user hashes");
}

TEST(Device, HasAHostWhoseOsBootsAndFollowsThePower) {
  test::TempDir dir("device-host");
  boost::asio::io_context io;
  auto config = deviceIn(dir.path(), "a");
  config.hostOsBootTime = 50ms;
  Device device(io, config);
  ASSERT_TRUE(device.start({}));
  ASSERT_TRUE(runUntil(io, [&] { return device.ready(); }));
  auto* host = device.hostMachine();
  ASSERT_NE(host, nullptr);
  ASSERT_NE(host->os(), nullptr);
  ASSERT_TRUE(runUntil(io, [&] { return host->os()->state() == hostos::SimulatedOs::State::Running; }));
  ASSERT_TRUE(runUntil(io, [&] { return host->os()->watchdogDaemon().timeout() == 120; }))
      << "the daemon set the driver's default timeout through the firmware";
  EXPECT_EQ(host->holdPowerButton().value(), "forced off");
  EXPECT_EQ(host->os()->state(), hostos::SimulatedOs::State::Off);
  EXPECT_EQ(device.status().at("watchdog").at("os_state").as_string(), "idle");
  bool stopped = false;
  device.stop([&] { stopped = true; });
  ASSERT_TRUE(runUntil(io, [&] { return stopped; }));

  // --host-os none: a host with a power button and no OS.
  boost::asio::io_context io2;
  auto none = deviceIn(dir.path(), "b");
  none.hostOs = HostOsMode::None;
  Device bare(io2, none);
  ASSERT_TRUE(bare.start({}));
  ASSERT_TRUE(runUntil(io2, [&] { return bare.ready(); }));
  ASSERT_NE(bare.hostMachine(), nullptr);
  EXPECT_EQ(bare.hostMachine()->os(), nullptr);
  EXPECT_FALSE(bare.hostMachine()->hasWatchdog()) << "no FUSE and no OS: no iamt_wdt, as before";
  bool bareStopped = false;
  bare.stop([&] { bareStopped = true; });
  ASSERT_TRUE(runUntil(io2, [&] { return bareStopped; }));
}

TEST(DeviceConfig, ClockOptionsPerDevice) {
  auto r = parse({"--state-dir", "/s", "--runtime-dir", "/r", "--http-port", "0", "--https-port", "0", "--redirection-port", "0", "--redirection-tls-port", "0", "--clock", "manual",
                  "--clock-start", "2030-01-02T03:04:05Z"},
                 "[device.b]\nclock = scaled:60\n[device.c]\nclock = real\n[device.d]\nfuse = off\n");
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  ASSERT_EQ(r.config.devices.size(), 4u);
  const core::FirmwareClock::time_point start{std::chrono::seconds(1'893'553'445)};
  const auto& manual = r.config.devices[0].clock;
  EXPECT_EQ(manual.mode, core::ClockSetting::Mode::Manual);
  EXPECT_EQ(manual.start, start);
  const auto& scaled = r.config.devices[1].clock;
  EXPECT_EQ(scaled.mode, core::ClockSetting::Mode::Scaled);
  EXPECT_EQ(scaled.scale, 60);
  EXPECT_EQ(scaled.start, start) << "the start is inherited with the rest";
  EXPECT_EQ(r.config.devices[2].clock.mode, core::ClockSetting::Mode::Real);
  EXPECT_FALSE(r.config.devices[2].clock.start) << "a real clock has no start of its own";
  EXPECT_EQ(r.config.devices[3].clock.mode, core::ClockSetting::Mode::Manual);

  auto defaults = parse({});
  EXPECT_EQ(defaults.config.devices[0].clock.mode, core::ClockSetting::Mode::Real);
  EXPECT_EQ(parse({"--clock", "slow"}).message, "--clock 'slow': takes real, scaled:N (e.g. scaled:60, scaled:0.5) or manual");
  EXPECT_EQ(parse({"--clock", "scaled:0"}).message, "--clock scaled:N takes a factor from 0.001 to 1000000");
  EXPECT_EQ(parse({"--clock-start", "2030-01-02T03:04:05Z"}).message,
            "--clock-start sets where a scaled or manual clock starts: give --clock scaled:N or --clock manual too");
  EXPECT_EQ(parse({"--clock", "manual", "--clock-start", "2030-01-02"}).message,
            "--clock-start: expected an ISO-8601 UTC time such as 2030-01-02T03:04:05Z or 2030-01-02T03:04:05.250Z");
  auto badSection = parse({"--http-port", "0", "--https-port", "0", "--redirection-port", "0", "--redirection-tls-port", "0"}, "[device.b]\nclock-start = 2030-01-02T03:04:05Z\n");
  EXPECT_EQ(badSection.message,
            "[device.b]: --clock-start sets where a scaled or manual clock starts: give --clock scaled:N or --clock manual too");
}

TEST(DeviceConfig, OneDefaultDeviceFromTodaysCommandLine) {
  auto r = parse({"--state-dir", "/s", "--runtime-dir", "/r", "--http-port", "1234"});
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  ASSERT_EQ(r.config.devices.size(), 1u);
  EXPECT_EQ(r.config.devices[0].name, "default");
  EXPECT_EQ(r.config.devices[0].stateDir, "/s");
  EXPECT_EQ(r.config.devices[0].httpPort, 1234);
}

TEST(DeviceConfig, SectionsInheritTheDefaultsAndGetTheirOwnDirs) {
  auto r = parse({"--state-dir", "/s", "--runtime-dir", "/r", "--name", "lab1", "--mei-dev", "/dev/mei0"},
                 "admin-password = Secret1!\n[device.lab2]\nhttp-port = 17992\nhttps-port = 17993\nredirection-port = 17994\nredirection-tls-port = 17995\n");
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  ASSERT_EQ(r.config.devices.size(), 2u);
  const auto& lab2 = r.config.devices[1];
  EXPECT_EQ(r.config.devices[0].name, "lab1");
  EXPECT_EQ(lab2.name, "lab2");
  EXPECT_EQ(lab2.stateDir, std::filesystem::path("/s/devices/lab2"));
  EXPECT_EQ(lab2.runtimeDir, std::filesystem::path("/r/devices/lab2"));
  EXPECT_EQ(lab2.httpPort, 17992);
  EXPECT_EQ(lab2.adminPassword, "Secret1!");
  EXPECT_FALSE(lab2.meiDev) << "a host-global path is the default device's alone";
}

TEST(DeviceConfig, AFleetCountsUpItsAddresses) {
  auto r = parse({"--state-dir", "/s", "--runtime-dir", "/r", "--fleet", "3", "--fleet-address", "127.1.0.254"});
  ASSERT_EQ(r.action, ParseResult::Action::Run) << r.message;
  ASSERT_EQ(r.config.devices.size(), 4u);
  EXPECT_EQ(r.config.devices[1].name, "fleet-0001");
  EXPECT_EQ(r.config.devices[1].listenAddress, "127.1.0.254");
  EXPECT_EQ(r.config.devices[3].listenAddress, "127.1.1.0");
  EXPECT_EQ(r.config.devices[3].fuse, FuseMode::Off);
  EXPECT_EQ(r.config.devices[3].httpPort, 16992) << "each fleet device has the standard ports on its own address";
}

TEST(DeviceConfig, ClashesAndBadSectionsAreErrors) {
  auto clash = parse({"--state-dir", "/s", "--runtime-dir", "/r"}, "[device.b]\nfuse = off\n");
  EXPECT_EQ(clash.action, ParseResult::Action::Error);
  EXPECT_NE(clash.message.find("both use 127.0.0.1:16992"), std::string::npos) << clash.message;
  auto sameDir = parse({"--state-dir", "/s", "--runtime-dir", "/r", "--http-port", "0", "--https-port", "0", "--redirection-port", "0", "--redirection-tls-port", "0"},
                       "[device.b]\nstate-dir = /s\n");
  EXPECT_EQ(sameDir.action, ParseResult::Action::Error);
  EXPECT_NE(sameDir.message.find("state dir"), std::string::npos) << sameDir.message;
  auto badValue = parse({"--http-port", "0", "--https-port", "0", "--redirection-port", "0", "--redirection-tls-port", "0"}, "[device.b]\nbuffer-slots = 3\n");
  EXPECT_EQ(badValue.action, ParseResult::Action::Error);
  EXPECT_NE(badValue.message.find("[device.b]"), std::string::npos) << badValue.message;
  auto badName = parse({"--name", "a b"});
  EXPECT_EQ(badName.action, ParseResult::Action::Error);
}

// KVM's RFB port (docs/kvm.md): 5900 for the default device, none for a section unless given above or in it.
TEST(DeviceConfig, RfbPortDefaultsAndSections) {
  auto plain = parse({});
  ASSERT_EQ(plain.action, ParseResult::Action::Run) << plain.message;
  EXPECT_EQ(plain.config.devices[0].rfbPort, 5900);
  const std::string section = "[device.lab2]\nhttp-port = 17992\nhttps-port = 17993\nredirection-port = 17994\nredirection-tls-port = 17995\n";
  auto sections = parse({"--state-dir", "/s", "--runtime-dir", "/r"}, section);
  ASSERT_EQ(sections.action, ParseResult::Action::Run) << sections.message;
  EXPECT_EQ(sections.config.devices[1].rfbPort, -1) << "not inherited: it would collide with the default device's";
  auto own = parse({"--state-dir", "/s", "--runtime-dir", "/r", "--rfb-port", "0"}, section + "rfb-port = 15900\n");
  ASSERT_EQ(own.action, ParseResult::Action::Run) << own.message;
  EXPECT_EQ(own.config.devices[0].rfbPort, 0);
  EXPECT_EQ(own.config.devices[1].rfbPort, 15900);
  auto clash = parse({"--state-dir", "/s", "--runtime-dir", "/r", "--rfb-port", "15900"}, section + "rfb-port = 15900\n");
  EXPECT_EQ(clash.action, ParseResult::Action::Error);
  EXPECT_NE(clash.message.find("15900"), std::string::npos) << clash.message;
  EXPECT_EQ(parse({"--rfb-port", "70000"}).message, "--rfb-port out of range");
}

}  // namespace
}  // namespace mesim::app
