#include "app/config.h"
#include "app/fleet_config.h"
#include "app/host_netns.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <tuple>

#include <boost/program_options.hpp>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "common/text_codecs.h"
#include "firmware/core/clock_text.h"

namespace mesim::app {

namespace po = boost::program_options;

std::filesystem::path defaultStateDir() {
  if (geteuid() == 0) return "/var/lib/mesim";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "mesim";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".local" / "state" / "mesim";
  return std::filesystem::path("/tmp") / ("mesim-state-" + std::to_string(geteuid()));
}

std::filesystem::path defaultRuntimeDir() {
  if (geteuid() == 0) return "/run/mesim";
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) return std::filesystem::path(xdg) / "mesim";
  return std::filesystem::path("/tmp") / ("mesim-run-" + std::to_string(geteuid()));
}

namespace {

// Options of the process as a whole.
po::options_description describeProcess() {
  po::options_description d("Process (each also MESIM_<NAME> in the environment and <name> in the config file)");
  // clang-format off
  d.add_options()
    ("help,h", "print this help and exit")
    ("version", "print the version and exit")
    ("config", po::value<std::string>(), "config file (key = value lines, # comments, [device.NAME] sections)")
    ("log-level", po::value<std::string>(), "trace, debug, info, warn, error or off [info]")
    ("control-address", po::value<std::string>(), "control API address [127.0.0.1]")
    ("control-port", po::value<unsigned>(), "control API port; 0 picks a free one [16990]")
    ("loop-spin-us", po::value<unsigned>(), "microseconds the firmware loop keeps polling after its last event before it sleeps, 0..10000 [50]")
    ("control-max-connections", po::value<unsigned>(), "control API connections at once; at the limit the longest-idle one makes room, else 503; 0 = no limit [32]")
    ("fd-reserve", po::value<unsigned>(), "file descriptors below the process limit that network listeners leave to the firmware; 0 = none [64]")
    ("name", po::value<std::string>(), "name of the default device, in log lines and /devices/NAME routes [default]")
    ("fleet", po::value<unsigned>(), "also run N devices alike (fleet-0001...), 0..10000, each with its own state, WS-Man on its own loopback address (or ports: --fleet-port-base), no host side unless --fleet-host-side; also a [fleet] section (docs/fleet.md) [0]")
    ("fleet-address", po::value<std::string>(), "IPv4 address of the first fleet device's WS-Man listeners; the next ones count up (with --fleet-port-base: every device's address) [127.1.0.1]")
    ("fleet-seed", po::value<std::string>(), "text from which each fleet device's UUID, MACs and Digest realm derive (with its global number) on its first start [none: random]")
    ("fleet-first-index", po::value<unsigned>(), "global number of this process's first fleet device, for shards: devices first-index..first-index+N-1 [1]")
    ("fleet-port-base", po::value<unsigned>(), "put every fleet device on --fleet-address, device k (0..N-1) on ports base+k*stride: http, https, redirection, redirection TLS, rfb [unset: one address per device]")
    ("fleet-port-stride", po::value<unsigned>(), "ports between two fleet devices with --fleet-port-base, 5..1000 [5]")
    ("fleet-host-side", po::value<std::string>(), "fleet devices (comma-separated names) that keep FUSE, the preload socket and the IDE-R NBD export as the default device has them [none]")
    ("scenario", po::value<std::vector<std::string>>()->composing(), "QA scenario file (YAML, docs/scenarios.md) run once every device is ready; repeat for more, run in order")
    ("scenario-exit", po::value<std::string>()->implicit_value("on"), "on or off: stop after the --scenario files ran, exiting 0 if all passed and 1 if not [off]");
  // clang-format on
  return d;
}

// Options of one device: the default device takes them at the top level, others in [device.NAME] sections.
po::options_description describeDevice() {
  po::options_description d("Device (at the top level for the default device, in [device.NAME] sections for more)");
  // clang-format off
  d.add_options()
    ("clock", po::value<std::string>(), "firmware time: real; scaled:N, N times as fast as real time (0.001..1000000, e.g. scaled:60 or scaled:0.5); or manual, moved only by POST /clock/advance [real]")
    ("clock-start", po::value<std::string>(), "where a scaled or manual clock starts, ISO-8601 UTC such as 2030-01-02T03:04:05Z [the real time at start-up]")
    ("state-dir", po::value<std::string>(), "simulated platform state [/var/lib/mesim as root, else $XDG_STATE_HOME/mesim; STATE/devices/NAME for more devices]")
    ("runtime-dir", po::value<std::string>(), "sockets and the FUSE mount [/run/mesim as root, else $XDG_RUNTIME_DIR/mesim; RUNTIME/devices/NAME for more]")
    ("mei-dev", po::value<std::string>(), "also make this path (e.g. /dev/mei0) lead to the FUSE device")
    ("hbm-listen", po::value<std::string>(), "unix:PATH - serve raw HBM to an external host driver instead of the built-in one")
    ("mei-mode", po::value<std::string>(), "permission bits (octal) of dev/mei0, preload.sock and the hbm-listen socket: whoever may open them can read the OS admin account [0600; 0660 with --mei-group]")
    ("mei-group", po::value<std::string>(), "group (name or number) owning dev/mei0, preload.sock and the hbm-listen socket; the daemon's user must be root or a member [the daemon's group]")
    ("watchdog-mode", po::value<std::string>(), "permission bits (octal) of dev/watchdog0 [0600; 0660 with --watchdog-group]")
    ("watchdog-group", po::value<std::string>(), "group (name or number) owning dev/watchdog0 [the daemon's group]")
    ("fuse", po::value<std::string>(), "auto, on or off: mount dev/mei0 and sysfs with FUSE [auto]")
    ("preload", po::value<std::string>(), "on or off: serve libmesim-preload.so on runtime-dir/preload.sock [on]")
    ("buffer-slots", po::value<unsigned>(), "HBM circular buffer depth in 4-byte slots, 16..128 [128]")
    ("listen", po::value<std::string>(), "WS-Man listen address [127.0.0.1]")
    ("http-port", po::value<int>(), "WS-Man over HTTP; 0 picks a free port, -1 disables [16992]")
    ("https-port", po::value<int>(), "WS-Man over TLS; 0 picks a free port, -1 disables [16993]")
    ("rfb-port", po::value<int>(), "KVM as standard RFB/VNC (served while IPS_KVMRedirectionSettingData.Is5900PortEnabled); 0 picks a free port, -1 disables [5900]")
    ("redirection-port", po::value<int>(), "redirection (SOL) over TCP, as amtterm speaks it; 0 picks a free port, -1 disables [16994]")
    ("redirection-tls-port", po::value<int>(), "redirection (SOL) over TLS with 16993's certificate; 0 picks a free port, -1 disables [16995]")
    ("sol-host", po::value<std::string>(), "the host side of Serial-over-LAN: console (the simulated OS's serial console), pty (a pseudo-terminal whose path is logged and in /status), unix:PATH (listen on a Unix socket; QEMU -serial unix:PATH connects) or unix-connect:PATH (connect to one, e.g. QEMU -serial unix:PATH,server=on,wait=off) [console with --host-os simulated, else pty]")
    ("kvm-host", po::value<std::string>(), "what KVM shows: console (the simulated console's screen) or unix:PATH (the picture of a VNC server listening on a Unix socket, e.g. QEMU -vnc unix:PATH, proxied; mesim connects again every second while it is absent) [console]")
    ("kvm-host-password", po::value<std::string>(), "VNC password for --kvm-host unix:PATH when that server asks for VNC authentication [none: security None only]")
    ("tls-cert", po::value<std::string>(), "PEM certificate for 16993 instead of the generated one (with --tls-key)")
    ("tls-key", po::value<std::string>(), "PEM private key for --tls-cert")
    ("power-hook", po::value<std::string>(), "command run (sh -c) on every host power change, with MESIM_POWER_OLD/NEW/REQUEST set")
    ("host-netns", po::value<std::string>(), "network namespace (ip netns NAME) that plays the simulated host's network: the System Defense policy in force becomes nftables rules in it (needs CAP_NET_ADMIN and nft) [none: policies have no effect on traffic]")
    ("identity-seed", po::value<std::string>(), "text from which a new state dir's UUID, MACs and Digest realm derive (with the device's name), the same on every machine [none: random]")
    ("admin-password", po::value<std::string>(), "password of the AMT admin user; re-applied on every start when given, unless a console set its own in provisioning [P@ssw0rd]")
    ("provisioning", po::value<std::string>(), "provisioning state of a new state dir: pre (factory), ccm (client control mode) or acm (admin control mode); an existing platform.json keeps its own [acm]")
    ("wireless", po::value<std::string>(), "whether a new state dir's platform has a Wi-Fi NIC (on) or only the wired one (off); an existing platform.json keeps its own [on]")
    ("provisioning-timeout", po::value<std::string>(), "firmware time an unfinished host-based configuration has before AMT goes back to pre-provisioning, e.g. 10m, 24h [24h]")
    ("cira-mps", po::value<std::string>(), "HOST:PORT of a Management Presence Server: at start a device with no MPS configured gets it, with a periodic CIRA rule (docs/cira.md)")
    ("cira-user", po::value<std::string>(), "the MPS login's user name (MeshCentral: the first 16 characters of the device group's id)")
    ("cira-password", po::value<std::string>(), "the MPS login's password")
    ("cira-root", po::value<std::string>(), "PEM file of the MPS certificate's root, made an AMT trusted root")
    ("cira-cn", po::value<std::string>(), "the name the MPS certificate must carry [the host of --cira-mps]")
    ("cira-interval", po::value<unsigned>(), "seconds between the periodic rule's calls while no tunnel is up [60]")
    ("trusted-root-hash", po::value<std::vector<std::string>>()->composing(), "hex SHA-1, SHA-256 or SHA-384 hash of a test root CA, added to the trusted provisioning hashes as an enabled user hash on every start; repeat for more (at most 3)")
    ("watchdog-min-timeout", po::value<unsigned>(), "dev/watchdog0: smallest and default timeout in seconds, 1..65535 [120, as Linux mei_wdt]")
    ("host-os", po::value<std::string>(), "simulated or none: mesim plays the host's OS (boots on power-on, heartbeats dev/watchdog0 through the host model, answers power actions) or leaves the host to your programs [simulated]")
    ("host-os-boot-time", po::value<std::string>(), "simulated host OS: firmware time from power-on to its watchdog daemon, e.g. 500ms, 5s [5s]")
    ("event-retries", po::value<unsigned>(), "WS-Eventing: delivery attempts after the first before --event-policy applies [5]")
    ("event-retry-interval", po::value<std::string>(), "WS-Eventing: time between attempts, e.g. 500ms, 5s, 1m [5s]")
    ("event-policy", po::value<std::string>(), "WS-Eventing: after the last retry terminate, suspend or retry-forever [suspend]")
    ("event-queue-limit", po::value<unsigned>(), "WS-Eventing: alerts kept per subscriber; the oldest is dropped when full [64]")
    ("event-timeout", po::value<std::string>(), "WS-Eventing: limit of one delivery POST (name lookup to Ack) [5s]")
    ("event-subscribers", po::value<unsigned>(), "WS-Eventing: most subscriptions at once [9, as AMT]")
    ("login-lockout-threshold", po::value<unsigned>(), "Digest: successive failed logins that lock a user name out; 0 never locks [10, as AMT]")
    ("login-lockout-initial", po::value<std::string>(), "Digest: the first lockout, doubled for each further one [5s, as AMT]")
    ("login-lockout-max", po::value<std::string>(), "Digest: the longest lockout [80s, as AMT]")
    ("login-lockout-reset", po::value<std::string>(), "Digest: time without failures after which the back-off starts over [1h, as AMT]")
    ("wsman-max-connections", po::value<unsigned>(), "WS-Man connections at once per listener (HTTP, HTTPS, LMS channels); 0 = no limit [64]")
    ("wsman-max-connections-per-address", po::value<unsigned>(), "WS-Man connections at once from one client address per listener; 0 = no limit [32]");
  // clang-format on
  return d;
}

std::string envNameToOption(const std::string& env, const po::options_description& d) {
  if (env.rfind("MESIM_", 0) != 0) return "";
  std::string name = env.substr(6);
  for (auto& c : name) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "help" || name == "version") return "";
  return d.find_nothrow(name, false) ? name : "";
}

bool parseOnOff(const std::string& text, bool& out) {
  if (text == "on" || text == "true" || text == "1" || text == "yes") return out = true, true;
  if (text == "off" || text == "false" || text == "0" || text == "no") return out = false, true;
  return false;
}

bool validDeviceName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return name != "." && name != "..";
}

// Applies the device options present in `vm` to `c`; "" or the error.
// The first certificate of a PEM file as base64 DER (what AMT_PublicKeyCertificate.X509Certificate holds).
std::optional<std::string> firstCertificateOfPem(const std::string& path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  if (!bio) return std::nullopt;
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) return std::nullopt;
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert.get(), &der);
  if (length <= 0) return std::nullopt;
  std::string encoded = text::base64Encode(std::span<const std::uint8_t>(der, static_cast<std::size_t>(length)));
  OPENSSL_free(der);
  return encoded;
}

std::string applyCiraOptions(const po::variables_map& vm, DeviceConfig& c) {
  const bool any = vm.count("cira-mps") || vm.count("cira-user") || vm.count("cira-password") || vm.count("cira-root") ||
                   vm.count("cira-cn") || vm.count("cira-interval");
  if (!any) return "";
  DeviceConfig::CiraPreset preset = c.cira.value_or(DeviceConfig::CiraPreset{});
  if (vm.count("cira-mps")) {
    const std::string text = vm["cira-mps"].as<std::string>();
    const auto colon = text.rfind(':');
    unsigned long port = 0;
    if (colon != std::string::npos && colon > 0) {
      const std::string digits = text.substr(colon + 1);
      if (!digits.empty() && digits.size() <= 5 && std::all_of(digits.begin(), digits.end(), ::isdigit))
        port = std::stoul(digits);
    }
    if (port == 0 || port > 65535) return "--cira-mps takes HOST:PORT, such as mps.example.com:4433, not '" + text + "'";
    preset.host = text.substr(0, colon);
    if (preset.host.size() > 2 && preset.host.front() == '[' && preset.host.back() == ']')
      preset.host = preset.host.substr(1, preset.host.size() - 2);
    preset.port = static_cast<std::uint32_t>(port);
  }
  if (vm.count("cira-user")) preset.user = vm["cira-user"].as<std::string>();
  if (vm.count("cira-password")) preset.password = vm["cira-password"].as<std::string>();
  if (vm.count("cira-cn")) preset.commonName = vm["cira-cn"].as<std::string>();
  if (vm.count("cira-interval")) {
    preset.intervalSeconds = vm["cira-interval"].as<unsigned>();
    if (preset.intervalSeconds < 1 || preset.intervalSeconds > 86400) return "--cira-interval must be 1..86400 seconds";
  }
  if (vm.count("cira-root")) {
    const std::string path = vm["cira-root"].as<std::string>();
    auto der = firstCertificateOfPem(path);
    if (!der) return "--cira-root '" + path + "': not a readable PEM certificate";
    preset.rootDerBase64 = std::move(*der);
  }
  if (preset.host.empty()) return "--cira-user, --cira-password, --cira-root and --cira-cn need --cira-mps";
  if (preset.user.empty() || preset.password.empty() || preset.user.size() > 32 || preset.password.size() > 32)
    return "--cira-mps needs --cira-user and --cira-password (1..32 characters each, as AMT_RemoteAccessService.AddMpServer)";
  if (preset.rootDerBase64.empty()) return "--cira-mps needs --cira-root: AMT calls an MPS only over TLS it can verify";
  c.cira = std::move(preset);
  return "";
}

std::string applyDeviceOptions(const po::variables_map& vm, DeviceConfig& c) {
  if (vm.count("clock")) {
    auto setting = core::parseClockMode(vm["clock"].as<std::string>());
    if (!setting) return "--clock " + setting.error().message;
    const auto start = c.clock.start;  // a section may change the mode and keep the start it inherits
    c.clock = *setting;
    c.clock.start = start;
  }
  if (vm.count("clock-start")) {
    auto start = core::parseUtc(vm["clock-start"].as<std::string>());
    if (!start) return "--clock-start: " + start.error().message;
    c.clock.start = *start;
  }
  if (c.clock.mode == core::ClockSetting::Mode::Real && c.clock.start) {
    if (vm.count("clock-start"))
      return "--clock-start sets where a scaled or manual clock starts: give --clock scaled:N or --clock manual too";
    c.clock.start.reset();  // inherited from the default device, whose clock is not real
  }
  if (vm.count("state-dir")) c.stateDir = vm["state-dir"].as<std::string>();
  if (vm.count("runtime-dir")) c.runtimeDir = vm["runtime-dir"].as<std::string>();
  if (vm.count("mei-dev")) c.meiDev = vm["mei-dev"].as<std::string>();
  if (vm.count("hbm-listen")) {
    std::string value = vm["hbm-listen"].as<std::string>();
    if (value.rfind("unix:", 0) != 0 || value.size() <= 5) return "--hbm-listen takes unix:PATH";
    c.hbmListen = value.substr(5);
  }
  for (auto [modeKey, groupKey, access] : {std::tuple{"mei-mode", "mei-group", &c.meiAccess},
                                            std::tuple{"watchdog-mode", "watchdog-group", &c.watchdogAccess}}) {
    if (vm.count(modeKey)) {
      auto mode = parseFileMode(vm[modeKey].as<std::string>());
      if (!mode) return std::string("--") + modeKey + ": " + mode.error().message;
      access->mode = *mode;
    }
    if (vm.count(groupKey)) {
      auto group = resolveGroup(vm[groupKey].as<std::string>());
      if (!group) return std::string("--") + groupKey + ": " + group.error().message;
      access->group = *group;
      // A group of its own is for sharing the node with it, as distributions give /dev/mei0 0660.
      if (!vm.count(modeKey) && access->mode == FileAccess{}.mode) access->mode = 0660;
    }
  }
  if (vm.count("fuse")) {
    std::string value = vm["fuse"].as<std::string>();
    bool on = false;
    if (value == "auto")
      c.fuse = FuseMode::Auto;
    else if (parseOnOff(value, on))
      c.fuse = on ? FuseMode::On : FuseMode::Off;
    else
      return "--fuse takes auto, on or off";
  }
  if (vm.count("preload") && !parseOnOff(vm["preload"].as<std::string>(), c.preload)) return "--preload takes on or off";
  if (vm.count("buffer-slots")) {
    unsigned slots = vm["buffer-slots"].as<unsigned>();
    if (slots < 16 || slots > 128) return "--buffer-slots must be 16..128 (bus messages fit one fragment)";
    c.bufferSlots = slots;
  }
  if (vm.count("listen")) c.listenAddress = vm["listen"].as<std::string>();
  auto port = [&](const char* name, int& out) {
    if (!vm.count(name)) return true;
    int value = vm[name].as<int>();
    if (value > 65535) return false;
    out = value < 0 ? -1 : value;
    return true;
  };
  if (!port("http-port", c.httpPort)) return "--http-port out of range";
  if (!port("https-port", c.httpsPort)) return "--https-port out of range";
  if (!port("redirection-port", c.redirectionPort)) return "--redirection-port out of range";
  if (!port("redirection-tls-port", c.redirectionTlsPort)) return "--redirection-tls-port out of range";
  if (!port("rfb-port", c.rfbPort)) return "--rfb-port out of range";
  if (vm.count("sol-host")) {
    const std::string value = vm["sol-host"].as<std::string>();
    const auto unixPath = [&value](std::string_view prefix) -> std::optional<std::string> {
      if (!value.starts_with(prefix)) return std::nullopt;
      return value.substr(prefix.size());
    };
    if (value == "console") {
      c.solHost = SolHostMode::Console;
    } else if (value == "pty") {
      c.solHost = SolHostMode::Pty;
    } else if (auto path = unixPath("unix:")) {
      c.solHost = SolHostMode::UnixListen;
      c.solHostPath = *path;
    } else if (auto path = unixPath("unix-connect:")) {
      c.solHost = SolHostMode::UnixConnect;
      c.solHostPath = *path;
    } else {
      return "--sol-host takes console, pty, unix:PATH or unix-connect:PATH";
    }
    if ((c.solHost == SolHostMode::UnixListen || c.solHost == SolHostMode::UnixConnect) && c.solHostPath.empty())
      return "--sol-host " + value + " names no socket path";
  }
  if (vm.count("kvm-host")) {
    const std::string value = vm["kvm-host"].as<std::string>();
    if (value == "console") {
      c.kvmHost = KvmHostMode::Console;
    } else if (value.starts_with("unix:")) {
      c.kvmHost = KvmHostMode::Unix;
      c.kvmHostPath = value.substr(5);
      if (c.kvmHostPath.empty()) return "--kvm-host unix: names no socket path";
      if (c.kvmHostPath.size() > 107) return "--kvm-host " + value + ": a Unix socket path has at most 107 bytes";
    } else {
      return "--kvm-host takes console or unix:PATH";
    }
  }
  if (vm.count("kvm-host-password")) c.kvmHostPassword = vm["kvm-host-password"].as<std::string>();
  if (vm.count("tls-cert")) c.tlsCert = vm["tls-cert"].as<std::string>();
  if (vm.count("tls-key")) c.tlsKey = vm["tls-key"].as<std::string>();
  if (c.tlsCert.has_value() != c.tlsKey.has_value()) return "--tls-cert and --tls-key go together";
  if (vm.count("power-hook")) c.powerHook = vm["power-hook"].as<std::string>();
  if (vm.count("host-netns")) {
    c.hostNetns = vm["host-netns"].as<std::string>();
    if (!validNetnsName(c.hostNetns)) return "--host-netns takes a network namespace name (no '/', not . or ..)";
  }
  if (vm.count("identity-seed")) {
    const std::string seed = vm["identity-seed"].as<std::string>();
    if (seed.empty() || seed.size() > 256) return "--identity-seed takes 1..256 characters of text";
    c.identity = platform::IdentitySeed{seed, "device/" + c.name};
  }
  if (vm.count("admin-password")) {
    c.adminPassword = vm["admin-password"].as<std::string>();
    c.adminPasswordGiven = true;
  }
  if (vm.count("provisioning")) {
    const std::string value = vm["provisioning"].as<std::string>();
    if (value == "pre") c.provisioning.state = platform::ProvisioningState::Pre, c.provisioning.controlMode = platform::ControlMode::None;
    else if (value == "ccm") c.provisioning.state = platform::ProvisioningState::Post, c.provisioning.controlMode = platform::ControlMode::Client;
    else if (value == "acm") c.provisioning.state = platform::ProvisioningState::Post, c.provisioning.controlMode = platform::ControlMode::Admin;
    else return "--provisioning takes pre, ccm or acm";
  }
  if (vm.count("wireless")) {
    const std::string value = vm["wireless"].as<std::string>();
    if (value != "on" && value != "off") return "--wireless takes on or off";
    c.wirelessNic = value == "on";
  }
  if (vm.count("provisioning-timeout")) {
    auto d = parseInterval(vm["provisioning-timeout"].as<std::string>());
    if (!d || d->count() == 0 || d->count() % 1000 != 0 || *d > std::chrono::hours(24 * 365))
      return "--provisioning-timeout takes whole seconds up to a year, such as 10m or 24h";
    c.provisioning.timeout = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  if (vm.count("trusted-root-hash")) {
    c.trustedRootHashes.clear();  // a [device.NAME] section's list replaces the one it inherits
    for (const auto& text : vm["trusted-root-hash"].as<std::vector<std::string>>()) {
      std::string hex;
      for (char ch : text)
        if (ch != ':') hex.push_back(ch);  // openssl x509 -fingerprint writes AB:CD:...
      auto hash = text::fromHex(hex);
      if (!hash || (hash->size() != 20 && hash->size() != 32 && hash->size() != 48))
        return "--trusted-root-hash '" + text + "': give the hex of a SHA-1, SHA-256 or SHA-384 hash (40, 64 or 96 digits)";
      c.trustedRootHashes.push_back(std::move(*hash));
    }
    if (c.trustedRootHashes.size() > 3) return "--trusted-root-hash: AMT holds at most 3 user hashes";
  }
  if (auto err = applyCiraOptions(vm, c); !err.empty()) return err;
  if (vm.count("watchdog-min-timeout")) {
    c.watchdogMinTimeout = vm["watchdog-min-timeout"].as<unsigned>();
    if (c.watchdogMinTimeout < 1 || c.watchdogMinTimeout > 65535) return "--watchdog-min-timeout must be 1..65535";
  }
  if (vm.count("host-os")) {
    const std::string value = vm["host-os"].as<std::string>();
    if (value == "simulated") c.hostOs = HostOsMode::Simulated;
    else if (value == "none") c.hostOs = HostOsMode::None;
    else return "--host-os takes simulated or none";
  }
  if (vm.count("host-os-boot-time")) {
    auto d = parseInterval(vm["host-os-boot-time"].as<std::string>());
    if (!d || *d > std::chrono::hours(1)) return "--host-os-boot-time takes a time up to 1h, such as 500ms or 5s";
    c.hostOsBootTime = *d;
  }
  auto& ev = c.eventDelivery;
  if (vm.count("event-retries")) ev.retries = vm["event-retries"].as<unsigned>();
  if (vm.count("event-retry-interval")) {
    auto d = parseInterval(vm["event-retry-interval"].as<std::string>());
    if (!d || d->count() == 0) return "--event-retry-interval takes a time such as 500ms, 5s or 1m";
    ev.retryInterval = *d;
  }
  if (vm.count("event-policy")) {
    auto p = events::parseFailurePolicy(vm["event-policy"].as<std::string>());
    if (!p) return "--event-policy takes terminate, suspend or retry-forever";
    ev.onFailure = *p;
  }
  if (vm.count("event-queue-limit")) {
    unsigned limit = vm["event-queue-limit"].as<unsigned>();
    if (limit < 1 || limit > 10000) return "--event-queue-limit must be 1..10000";
    ev.maxPending = limit;
  }
  if (vm.count("event-timeout")) {
    auto d = parseInterval(vm["event-timeout"].as<std::string>());
    if (!d || d->count() == 0) return "--event-timeout takes a time such as 500ms, 5s or 1m";
    ev.attemptTimeout = *d;
  }
  if (vm.count("event-subscribers")) {
    unsigned n = vm["event-subscribers"].as<unsigned>();
    if (n < 1 || n > 64) return "--event-subscribers must be 1..64";
    ev.maxSubscriptions = n;
  }
  auto& lockout = c.loginLockout;
  if (vm.count("login-lockout-threshold")) lockout.threshold = vm["login-lockout-threshold"].as<unsigned>();
  auto seconds = [&](const char* name, std::chrono::seconds& out) {
    if (!vm.count(name)) return true;
    auto d = parseInterval(vm[name].as<std::string>());
    if (!d || d->count() == 0 || d->count() % 1000 != 0) return false;
    out = std::chrono::duration_cast<std::chrono::seconds>(*d);
    return true;
  };
  if (!seconds("login-lockout-initial", lockout.initial)) return "--login-lockout-initial takes whole seconds, such as 5s or 1m";
  if (!seconds("login-lockout-max", lockout.max)) return "--login-lockout-max takes whole seconds, such as 80s or 10m";
  if (!seconds("login-lockout-reset", lockout.reset)) return "--login-lockout-reset takes whole seconds, such as 1h or 30m";
  if (lockout.max < lockout.initial) return "--login-lockout-max must not be shorter than --login-lockout-initial";
  if (vm.count("wsman-max-connections")) c.wsmanMaxConnections = vm["wsman-max-connections"].as<unsigned>();
  if (vm.count("wsman-max-connections-per-address"))
    c.wsmanMaxConnectionsPerAddress = vm["wsman-max-connections-per-address"].as<unsigned>();
  return "";
}

// Two devices may not share a directory, a socket path or a listening address and port.
std::string checkDistinct(const std::vector<DeviceConfig>& devices) {
  std::map<std::string, std::string> claimed;  // what -> device
  auto claim = [&](const std::string& what, const std::string& device) -> std::string {
    auto [it, fresh] = claimed.emplace(what, device);
    if (fresh || it->second == device) return "";
    return "devices " + it->second + " and " + device + " both use " + what;
  };
  for (const auto& d : devices) {
    std::string err;
    if (err.empty()) err = claim("the name " + d.name, d.name);
    if (err.empty()) err = claim("state dir " + d.stateDir.lexically_normal().string(), d.name);
    if (err.empty()) err = claim("runtime dir " + d.runtimeDir.lexically_normal().string(), d.name);
    if (err.empty() && d.meiDev) err = claim("mei-dev " + d.meiDev->string(), d.name);
    if (err.empty() && d.hbmListen) err = claim("hbm-listen " + d.hbmListen->string(), d.name);
    if (err.empty() && d.httpPort > 0) err = claim(d.listenAddress + ":" + std::to_string(d.httpPort), d.name);
    if (err.empty() && d.httpsPort > 0) err = claim(d.listenAddress + ":" + std::to_string(d.httpsPort), d.name);
    if (err.empty() && d.redirectionPort > 0) err = claim(d.listenAddress + ":" + std::to_string(d.redirectionPort), d.name);
    if (err.empty() && d.redirectionTlsPort > 0)
      err = claim(d.listenAddress + ":" + std::to_string(d.redirectionTlsPort), d.name);
    if (err.empty() && d.rfbPort > 0) err = claim(d.listenAddress + ":" + std::to_string(d.rfbPort), d.name);
    if (!err.empty()) return err;
  }
  return "";
}

}  // namespace

DeviceConfig derivedDevice(const DeviceConfig& base, const std::string& name) {
  DeviceConfig c = base;
  c.name = name;
  c.stateDir = base.stateDir / "devices" / name;
  c.runtimeDir = base.runtimeDir / "devices" / name;
  c.meiDev.reset();
  c.hbmListen.reset();
  if (c.identity) c.identity->subject = "device/" + name;  // the same seed, another device
  return c;
}

std::optional<std::chrono::milliseconds> parseInterval(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  long long value = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  if (unit == "ms") return std::chrono::milliseconds(value);
  if (unit.empty() || unit == "s") return std::chrono::seconds(value);
  if (unit == "m") return std::chrono::minutes(value);
  if (unit == "h") return std::chrono::hours(value);
  return std::nullopt;
}

ParseResult parseConfig(int argc, const char* const argv[], char** environ) {
  ParseResult result;
  auto processOptions = describeProcess();
  auto deviceOptions = describeDevice();
  po::options_description all;
  all.add(processOptions).add(deviceOptions);
  po::variables_map vm;
  // [device.NAME] sections of the config file, in the order they appear: NAME -> "key = value" lines.
  std::vector<std::pair<std::string, std::string>> sections;
  auto fail = [&](std::string why) {
    result.action = ParseResult::Action::Error;
    result.message = std::move(why);
    return result;
  };
  try {
    po::store(po::parse_command_line(argc, argv, all), vm);
    po::store(po::parse_environment(all, [&](const std::string& env) { return envNameToOption(env, all); }), vm);
    (void)environ;
    if (vm.count("config")) {
      std::ifstream in(vm["config"].as<std::string>());
      if (!in) return fail("cannot read config file " + vm["config"].as<std::string>());
      auto parsed = po::parse_config_file(in, all, true);
      std::string fleetLines;  // the [fleet] section, as the top-level fleet-* keys it stands for
      for (const auto& option : parsed.options) {
        if (!option.unregistered) continue;
        if (option.string_key.starts_with("fleet.")) {
          const std::string key = option.string_key.substr(6);
          const std::string value = option.value.empty() ? "" : option.value.front();
          static const std::set<std::string> kFleetKeys{"seed", "address", "first-index", "port-base", "port-stride", "host-side"};
          if (key == "count") fleetLines += "fleet = " + value + "\n";
          else if (kFleetKeys.contains(key)) fleetLines += "fleet-" + key + " = " + value + "\n";
          else return fail("unknown key '" + key + "' in [fleet] of " + vm["config"].as<std::string>() +
                           " (count, seed, address, first-index, port-base, port-stride, host-side)");
          continue;
        }
        // "device.NAME.key": NAME may not hold dots, so the key is what follows the second dot.
        const std::string& key = option.string_key;
        auto firstDot = key.find('.');
        auto secondDot = firstDot == std::string::npos ? std::string::npos : key.find('.', firstDot + 1);
        if (key.rfind("device.", 0) != 0 || secondDot == std::string::npos)
          return fail("unknown option '" + key + "' in " + vm["config"].as<std::string>());
        std::string name = key.substr(firstDot + 1, secondDot - firstDot - 1);
        std::string line = key.substr(secondDot + 1) + " = " + (option.value.empty() ? "" : option.value.front()) + "\n";
        auto it = std::find_if(sections.begin(), sections.end(), [&](auto& s) { return s.first == name; });
        if (it == sections.end()) sections.emplace_back(name, line);
        else it->second += line;
      }
      po::store(parsed, vm);
      // After the file's top-level keys: a flag, the environment and a top-level fleet-* key all beat [fleet].
      std::istringstream fleetSection(fleetLines);
      po::store(po::parse_config_file(fleetSection, all, false), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return fail(e.what());
  }
  if (vm.count("help")) {
    std::ostringstream text;
    text << "mesim " << MESIM_VERSION << " - a simulated Intel ME / AMT platform\n\n"
         << "Usage: mesim [options]\n\n"
         << processOptions << "\n" << deviceOptions
         << "\nGET http://127.0.0.1:16990/healthz answers 200 once every device is up.\n";
    result.action = ParseResult::Action::Help;
    result.message = text.str();
    return result;
  }
  if (vm.count("version")) {
    result.action = ParseResult::Action::Version;
    result.message = std::string("mesim ") + MESIM_VERSION + "\n";
    return result;
  }
  Config& c = result.config;
  if (vm.count("config")) c.configFile = vm["config"].as<std::string>();
  if (vm.count("log-level")) c.logLevel = vm["log-level"].as<std::string>();
  log::Level level;
  if (!log::parseLevel(c.logLevel, level)) return fail("unknown log level '" + c.logLevel + "'");
  if (vm.count("control-address")) c.controlAddress = vm["control-address"].as<std::string>();
  if (vm.count("control-port")) {
    unsigned port = vm["control-port"].as<unsigned>();
    if (port > 65535) return fail("control port out of range");
    c.controlPort = static_cast<std::uint16_t>(port);
  }
  if (vm.count("control-max-connections")) c.controlMaxConnections = vm["control-max-connections"].as<unsigned>();
  if (vm.count("fd-reserve")) {
    c.descriptorReserve = vm["fd-reserve"].as<unsigned>();
    if (c.descriptorReserve > 65536) return fail("--fd-reserve must be 0..65536");
  }
  if (vm.count("loop-spin-us")) {
    c.loopSpin = std::chrono::microseconds(vm["loop-spin-us"].as<unsigned>());
    if (c.loopSpin > std::chrono::microseconds(10000)) return fail("--loop-spin-us must be 0..10000");
  }

  if (vm.count("scenario"))
    for (const auto& file : vm["scenario"].as<std::vector<std::string>>()) c.scenarios.emplace_back(file);
  if (vm.count("scenario-exit") && !parseOnOff(vm["scenario-exit"].as<std::string>(), c.scenarioExit))
    return fail("--scenario-exit takes on or off");
  if (c.scenarioExit && c.scenarios.empty()) return fail("--scenario-exit needs a --scenario file");

  DeviceConfig base;
  base.stateDir = defaultStateDir();
  base.runtimeDir = defaultRuntimeDir();
  if (vm.count("name")) base.name = vm["name"].as<std::string>();
  if (!validDeviceName(base.name)) return fail("--name '" + base.name + "': use 1..64 letters, digits, '-', '_' or '.'");
  if (auto err = applyDeviceOptions(vm, base); !err.empty()) return fail(err);
  c.devices.push_back(base);

  for (const auto& [name, lines] : sections) {
    if (!validDeviceName(name)) return fail("[device." + name + "]: use 1..64 letters, digits, '-' or '_' in a device name");
    DeviceConfig device = derivedDevice(base, name);
    // 5900 is not inherited unless set above: configurations written before KVM give each device its own ports
    // and would otherwise collide on it.
    if (!vm.count("rfb-port")) device.rfbPort = -1;
    po::variables_map sectionVm;
    try {
      std::istringstream in(lines);
      po::store(po::parse_config_file(in, deviceOptions, false), sectionVm);
      po::notify(sectionVm);
    } catch (const po::error& e) {
      return fail("[device." + name + "]: " + e.what());
    }
    if (auto err = applyDeviceOptions(sectionVm, device); !err.empty()) return fail("[device." + name + "]: " + err);
    c.devices.push_back(std::move(device));
  }

  FleetConfig fleet;
  if (vm.count("fleet")) fleet.count = vm["fleet"].as<unsigned>();
  if (vm.count("fleet-address")) fleet.address = vm["fleet-address"].as<std::string>();
  if (vm.count("fleet-seed")) fleet.seed = vm["fleet-seed"].as<std::string>();
  if (vm.count("fleet-first-index")) fleet.firstIndex = vm["fleet-first-index"].as<unsigned>();
  if (vm.count("fleet-port-base")) fleet.portBase = vm["fleet-port-base"].as<unsigned>();
  if (vm.count("fleet-port-stride")) {
    if (!fleet.portBase) return fail("--fleet-port-stride goes with --fleet-port-base");
    fleet.portStride = vm["fleet-port-stride"].as<unsigned>();
  }
  if (vm.count("fleet-host-side")) {
    std::istringstream names(vm["fleet-host-side"].as<std::string>());
    for (std::string name; std::getline(names, name, ',');) {
      name.erase(0, name.find_first_not_of(" \t"));
      name.erase(name.find_last_not_of(" \t") + 1);
      if (!name.empty()) fleet.hostSide.push_back(name);
    }
  }
  if (auto err = addFleetDevices(fleet, base, c.devices); !err.empty()) return fail(err);
  if (auto err = checkDistinct(c.devices); !err.empty()) return fail(err);
  return result;
}

}  // namespace mesim::app
