#include "app/config.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <boost/program_options.hpp>

#include "common/log.h"

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

po::options_description describe() {
  po::options_description d("Options (each also MESIM_<NAME> in the environment and <name> in the config file)");
  // clang-format off
  d.add_options()
    ("help,h", "print this help and exit")
    ("version", "print the version and exit")
    ("config", po::value<std::string>(), "config file (key = value lines, # comments)")
    ("state-dir", po::value<std::string>(), "simulated platform state [/var/lib/mesim as root, else $XDG_STATE_HOME/mesim]")
    ("runtime-dir", po::value<std::string>(), "sockets and the FUSE mount [/run/mesim as root, else $XDG_RUNTIME_DIR/mesim]")
    ("log-level", po::value<std::string>(), "trace, debug, info, warn, error or off [info]")
    ("control-address", po::value<std::string>(), "control API address [127.0.0.1]")
    ("control-port", po::value<unsigned>(), "control API port; 0 picks a free one [16990]")
    ("mei-dev", po::value<std::string>(), "also make this path (e.g. /dev/mei0) lead to the FUSE device")
    ("hbm-listen", po::value<std::string>(), "unix:PATH - serve raw HBM to an external host driver instead of the built-in one")
    ("fuse", po::value<std::string>(), "auto, on or off: mount dev/mei0 and sysfs with FUSE [auto]")
    ("preload", po::value<std::string>(), "on or off: serve libmesim-preload.so on runtime-dir/preload.sock [on]")
    ("buffer-slots", po::value<unsigned>(), "HBM circular buffer depth in 4-byte slots, 16..128 [128]")
    ("listen", po::value<std::string>(), "WS-Man listen address [127.0.0.1]")
    ("http-port", po::value<int>(), "WS-Man over HTTP; 0 picks a free port, -1 disables [16992]")
    ("https-port", po::value<int>(), "WS-Man over TLS; 0 picks a free port, -1 disables [16993]")
    ("tls-cert", po::value<std::string>(), "PEM certificate for 16993 instead of the generated one (with --tls-key)")
    ("tls-key", po::value<std::string>(), "PEM private key for --tls-cert")
    ("power-hook", po::value<std::string>(), "command run (sh -c) on every host power change, with MESIM_POWER_OLD/NEW/REQUEST set")
    ("admin-password", po::value<std::string>(), "password of the AMT admin user; re-applied on every start when given [P@ssw0rd]")
    ("loop-spin-us", po::value<unsigned>(), "microseconds the firmware loop keeps polling after its last event before it sleeps, 0..10000 [50]")
    ("watchdog-min-timeout", po::value<unsigned>(), "dev/watchdog0: smallest and default timeout in seconds, 1..65535 [120, as Linux mei_wdt]")
    ("event-retries", po::value<unsigned>(), "WS-Eventing: delivery attempts after the first before --event-policy applies [5]")
    ("event-retry-interval", po::value<std::string>(), "WS-Eventing: time between attempts, e.g. 500ms, 5s, 1m [5s]")
    ("event-policy", po::value<std::string>(), "WS-Eventing: after the last retry terminate, suspend or retry-forever [suspend]")
    ("event-queue-limit", po::value<unsigned>(), "WS-Eventing: alerts kept per subscriber; the oldest is dropped when full [64]")
    ("event-timeout", po::value<std::string>(), "WS-Eventing: limit of one delivery POST (connect to Ack) [5s]")
    ("event-subscribers", po::value<unsigned>(), "WS-Eventing: most subscriptions at once [9, as AMT]");
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

}  // namespace

std::optional<std::chrono::milliseconds> parseInterval(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  long long value = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  if (unit == "ms") return std::chrono::milliseconds(value);
  if (unit.empty() || unit == "s") return std::chrono::seconds(value);
  if (unit == "m") return std::chrono::minutes(value);
  return std::nullopt;
}

ParseResult parseConfig(int argc, const char* const argv[], char** environ) {
  ParseResult result;
  auto description = describe();
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, description), vm);
    po::store(po::parse_environment(description, [&](const std::string& env) { return envNameToOption(env, description); }),
              vm);
    (void)environ;
    if (vm.count("config")) {
      std::ifstream in(vm["config"].as<std::string>());
      if (!in) {
        result.action = ParseResult::Action::Error;
        result.message = "cannot read config file " + vm["config"].as<std::string>();
        return result;
      }
      po::store(po::parse_config_file(in, description, false), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    result.action = ParseResult::Action::Error;
    result.message = e.what();
    return result;
  }
  if (vm.count("help")) {
    std::ostringstream text;
    text << "mesim " << MESIM_VERSION << " - a simulated Intel ME / AMT platform\n\n"
         << "Usage: mesim [options]\n\n"
         << description << "\nGET http://127.0.0.1:16990/healthz answers 200 once every front end is up.\n";
    result.action = ParseResult::Action::Help;
    result.message = text.str();
    return result;
  }
  if (vm.count("version")) {
    result.action = ParseResult::Action::Version;
    result.message = std::string("mesim ") + MESIM_VERSION + "\n";
    return result;
  }
  auto fail = [&](std::string why) {
    result.action = ParseResult::Action::Error;
    result.message = std::move(why);
    return result;
  };
  Config& c = result.config;
  c.stateDir = vm.count("state-dir") ? std::filesystem::path(vm["state-dir"].as<std::string>()) : defaultStateDir();
  c.runtimeDir =
      vm.count("runtime-dir") ? std::filesystem::path(vm["runtime-dir"].as<std::string>()) : defaultRuntimeDir();
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
  if (vm.count("mei-dev")) c.meiDev = vm["mei-dev"].as<std::string>();
  if (vm.count("hbm-listen")) {
    std::string value = vm["hbm-listen"].as<std::string>();
    if (value.rfind("unix:", 0) != 0 || value.size() <= 5) return fail("--hbm-listen takes unix:PATH");
    c.hbmListen = value.substr(5);
  }
  if (vm.count("fuse")) {
    std::string value = vm["fuse"].as<std::string>();
    bool on = false;
    if (value == "auto")
      c.fuse = FuseMode::Auto;
    else if (parseOnOff(value, on))
      c.fuse = on ? FuseMode::On : FuseMode::Off;
    else
      return fail("--fuse takes auto, on or off");
  }
  if (vm.count("preload") && !parseOnOff(vm["preload"].as<std::string>(), c.preload))
    return fail("--preload takes on or off");
  if (vm.count("buffer-slots")) {
    unsigned slots = vm["buffer-slots"].as<unsigned>();
    if (slots < 16 || slots > 128) return fail("--buffer-slots must be 16..128 (bus messages fit one fragment)");
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
  if (!port("http-port", c.httpPort)) return fail("--http-port out of range");
  if (!port("https-port", c.httpsPort)) return fail("--https-port out of range");
  if (vm.count("tls-cert")) c.tlsCert = vm["tls-cert"].as<std::string>();
  if (vm.count("tls-key")) c.tlsKey = vm["tls-key"].as<std::string>();
  if (c.tlsCert.has_value() != c.tlsKey.has_value()) return fail("--tls-cert and --tls-key go together");
  if (vm.count("power-hook")) c.powerHook = vm["power-hook"].as<std::string>();
  if (vm.count("admin-password")) {
    c.adminPassword = vm["admin-password"].as<std::string>();
    c.adminPasswordGiven = true;
  }
  if (vm.count("loop-spin-us")) {
    c.loopSpin = std::chrono::microseconds(vm["loop-spin-us"].as<unsigned>());
    if (c.loopSpin > std::chrono::microseconds(10000)) return fail("--loop-spin-us must be 0..10000");
  }
  if (vm.count("watchdog-min-timeout")) {
    c.watchdogMinTimeout = vm["watchdog-min-timeout"].as<unsigned>();
    if (c.watchdogMinTimeout < 1 || c.watchdogMinTimeout > 65535) return fail("--watchdog-min-timeout must be 1..65535");
  }
  auto& ev = c.eventDelivery;
  if (vm.count("event-retries")) ev.retries = vm["event-retries"].as<unsigned>();
  if (vm.count("event-retry-interval")) {
    auto d = parseInterval(vm["event-retry-interval"].as<std::string>());
    if (!d || d->count() == 0) return fail("--event-retry-interval takes a time such as 500ms, 5s or 1m");
    ev.retryInterval = *d;
  }
  if (vm.count("event-policy")) {
    auto p = events::parseFailurePolicy(vm["event-policy"].as<std::string>());
    if (!p) return fail("--event-policy takes terminate, suspend or retry-forever");
    ev.onFailure = *p;
  }
  if (vm.count("event-queue-limit")) {
    unsigned limit = vm["event-queue-limit"].as<unsigned>();
    if (limit < 1 || limit > 10000) return fail("--event-queue-limit must be 1..10000");
    ev.maxPending = limit;
  }
  if (vm.count("event-timeout")) {
    auto d = parseInterval(vm["event-timeout"].as<std::string>());
    if (!d || d->count() == 0) return fail("--event-timeout takes a time such as 500ms, 5s or 1m");
    ev.attemptTimeout = *d;
  }
  if (vm.count("event-subscribers")) {
    unsigned n = vm["event-subscribers"].as<unsigned>();
    if (n < 1 || n > 64) return fail("--event-subscribers must be 1..64");
    ev.maxSubscriptions = n;
  }
  return result;
}

}  // namespace mesim::app
