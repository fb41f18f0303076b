#include "tools/mesimctl/commands.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/json_text.h"

namespace mesim::ctl {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

int usageError(const Invocation& in, const Command& command, const std::string& why) {
  in.err << "mesimctl " << command.name << ": " << why << "\nusage: mesimctl [OPTIONS] " << command.usage << "\n";
  return kExitUsage;
}

// The words after a command's fixed arguments as key=value query pairs, or a usage error.
std::optional<Query> params(const Invocation& in, const std::vector<std::string>& words, std::size_t from) {
  std::vector<std::string> rest;
  if (from < words.size()) rest.assign(words.begin() + static_cast<std::ptrdiff_t>(from), words.end());
  return keyValues(rest, in.err);
}

bool isNumber(const std::string& text) {
  if (text.empty()) return false;
  std::size_t used = 0;
  try {
    (void)std::stod(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used == text.size();
}

// A command that reads one route with GET, or runs ACTION on it with POST: `host`, `fault`.
Command readOrAct(std::string name, std::string route, std::string summary, std::string details) {
  Command c;
  c.name = name;
  c.usage = name + " [ACTION [KEY=VALUE...]]";
  c.summary = std::move(summary);
  c.details = std::move(details);
  c.run = [route, c](const Invocation& in, const std::vector<std::string>& args) {
    if (args.empty()) return in.call("GET", route);
    auto query = params(in, args, 1);
    if (!query) return usageError(in, c, "parameters are KEY=VALUE");
    return in.call("POST", route + "/" + args[0], *query);
  };
  return c;
}

}  // namespace

std::optional<Query> keyValues(const std::vector<std::string>& words, std::ostream& err) {
  Query query;
  for (const auto& word : words) {
    const auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      err << "mesimctl: '" << word << "' is not KEY=VALUE\n";
      return std::nullopt;
    }
    query.emplace_back(word.substr(0, eq), word.substr(eq + 1));
  }
  return query;
}

int Invocation::call(const std::string& method, const std::string& path, const Query& query,
                     const std::string& body, const std::string& contentType) const {
  return print(method, path, client.request(method, devicePrefix + path, query, body, contentType));
}

int Invocation::callProcess(const std::string& method, const std::string& path, const Query& query) const {
  return print(method, path, client.request(method, path, query));
}

int Invocation::print(const std::string& method, const std::string& path, const Result<ControlAnswer>& answer) const {
  if (!answer) {
    err << "mesimctl: " << answer.error().message << "\n";
    return kExitUnreachable;
  }
  const bool isJson = answer->contentType.rfind("application/json", 0) == 0;
  if (answer->status >= 400) {
    std::string why = answer->body;
    if (isJson) {
      boost::system::error_code ec;
      auto value = boost::json::parse(answer->body, ec);
      if (!ec && value.is_object() && value.as_object().contains("error") && value.at("error").is_string())
        why = std::string(value.at("error").as_string());
    }
    while (!why.empty() && why.back() == '\n') why.pop_back();
    err << "mesimctl: " << method << " " << devicePrefix << path << ": " << answer->status << ": " << why << "\n";
    return kExitFailed;
  }
  if (isJson && !rawJson) {
    boost::system::error_code ec;
    auto value = boost::json::parse(answer->body, ec);
    if (!ec) {
      out << json_text::indented(value) << "\n";
      return kExitOk;
    }
  }
  out << answer->body;
  if (!answer->body.empty() && answer->body.back() != '\n') out << "\n";
  return kExitOk;
}

std::vector<Command> makeCommands() {
  std::vector<Command> list;

  list.push_back({"status", "status", "the device's state, ports, host clients and counters",
                  "GET /status. With --device NAME, that device's.",
                  [](const Invocation& in, const std::vector<std::string>& args) {
                    if (!args.empty()) {
                      in.err << "mesimctl status: takes no arguments\n";
                      return kExitUsage;
                    }
                    return in.call("GET", "/status");
                  }});

  Command health{"health", "health [--wait SECONDS]", "exit 0 when the device is ready, 1 when not",
                 "GET /healthz. With --wait, asks again every 100 ms until the device is ready or SECONDS have\n"
                 "passed (real time): for scripts and container health checks that start mesim and wait.",
                 {}};
  health.run = [health](const Invocation& in, const std::vector<std::string>& args) {
    double waitSeconds = 0;
    if (args.size() == 2 && args[0] == "--wait" && isNumber(args[1]) && std::stod(args[1]) >= 0)
      waitSeconds = std::stod(args[1]);
    else if (!args.empty())
      return usageError(in, health, "expected --wait SECONDS");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(waitSeconds);
    for (;;) {
      auto answer = in.client.request("GET", in.devicePrefix + "/healthz");
      const bool last = std::chrono::steady_clock::now() >= deadline;
      if ((answer && answer->status == 200) || last) {
        if (!answer || answer->status == 200) return in.print("GET", "/healthz", answer);
        in.err << "mesimctl: not ready (" << answer->status << " " << answer->body.substr(0, 80) << ")\n";
        return kExitFailed;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  list.push_back(health);

  list.push_back({"devices", "devices", "the devices of this process, their names and state dirs",
                  "GET /devices (process-wide: --device does not apply).",
                  [](const Invocation& in, const std::vector<std::string>&) { return in.callProcess("GET", "/devices"); }});

  list.push_back({"routes", "routes", "every control API route with a one-line summary",
                  "GET /routes: the daemon's own route table (what docs/control-api.md describes).",
                  [](const Invocation& in, const std::vector<std::string>&) { return in.callProcess("GET", "/routes"); }});

  Command raise{"raise",
                "raise MESSAGE_ID [--arg VALUE]... [--category NAME] [--severity N] [--message TEXT]",
                "raise an alert as a firmware feature would, to every subscriber",
                "POST /events/raise. MESSAGE_ID is a registry prefix and four digits (iAMT0005, PLAT0004).\n"
                "Example: mesimctl raise iAMT0005 --arg 0 --category Watchdog",
                {}};
  raise.run = [raise](const Invocation& in, const std::vector<std::string>& args) {
    if (args.empty()) return usageError(in, raise, "MESSAGE_ID is required");
    Query query{{"messageId", args[0]}};
    for (std::size_t i = 1; i < args.size(); i += 2) {
      if (i + 1 >= args.size()) return usageError(in, raise, args[i] + " needs a value");
      const auto& option = args[i];
      if (option == "--arg") query.emplace_back("arg", args[i + 1]);
      else if (option == "--category") query.emplace_back("category", args[i + 1]);
      else if (option == "--severity") query.emplace_back("severity", args[i + 1]);
      else if (option == "--message") query.emplace_back("message", args[i + 1]);
      else return usageError(in, raise, "unknown option " + option);
    }
    return in.call("POST", "/events/raise", query);
  };
  list.push_back(raise);

  Command clock{"clock", "clock [advance SECONDS | KEY=VALUE...]",
                "show the firmware clock, or move a manual one forward",
                "GET /clock shows the mode (real, scaled:N, manual), the firmware time and pending timers.\n"
                "`clock advance SECONDS` (fractions allowed) moves a manual clock: timers due in the span fire in\n"
                "order, each at its own due time.",
                {}};
  clock.run = [clock](const Invocation& in, const std::vector<std::string>& args) {
    if (args.empty()) return in.call("GET", "/clock");
    if (args[0] == "advance") {
      if (args.size() != 2 || !isNumber(args[1])) return usageError(in, clock, "advance takes a number of seconds");
      return in.call("POST", "/clock/advance", {{"seconds", args[1]}});
    }
    auto query = params(in, args, 1);
    if (!query) return usageError(in, clock, "parameters are KEY=VALUE");
    return in.call("POST", "/clock/" + args[0], *query);
  };
  list.push_back(clock);

  Command provisioning{"provisioning", "provisioning [factory-reset]",
                       "show the provisioning state, or return the device to factory state",
                       "GET /provisioning shows the state (pre, in, post), the control mode (none, ccm, acm), the\n"
                       "host-based setup under way and its deadline. `provisioning factory-reset` posts\n"
                       "/provisioning/factory-reset: pre-provisioning, the factory admin password, no ACL users,\n"
                       "no user root hashes, the event log cleared and the audit log kept (a full unprovision).",
                       {}};
  provisioning.run = [provisioning](const Invocation& in, const std::vector<std::string>& args) {
    if (args.empty()) return in.call("GET", "/provisioning");
    if (args.size() == 1 && args[0] == "factory-reset") return in.call("POST", "/provisioning/factory-reset");
    return usageError(in, provisioning, "the only action is factory-reset");
  };
  list.push_back(provisioning);

  Command consent{"consent", "consent", "user consent: its state and the code the host's screen shows",
                  "GET /consent (docs/user-consent.md): state (0 not started, 2 displayed, 3 received, 4 in\n"
                  "session), the six-digit code while displayed (what the host's user would read out), the time\n"
                  "left, the policy and what needs consent.",
                  {}};
  consent.run = [consent](const Invocation& in, const std::vector<std::string>& args) {
    if (!args.empty()) return usageError(in, consent, "consent takes no arguments");
    return in.call("GET", "/consent");
  };
  list.push_back(consent);

  list.push_back(readOrAct("host", "/host", "show the simulated host OS, or act on the host",
                           "GET /host shows the host OS and power state. Actions (POST /host/ACTION): os-crash,\n"
                           "os-hang, power-button, power-loss and those docs/control-api.md lists.\n"
                           "Example: mesimctl host power-button seconds=4"));
  list.push_back(readOrAct("fault", "/faults", "list active faults, or inject one",
                           "GET /faults lists active faults and counts. `fault KIND KEY=VALUE...` posts\n"
                           "/faults/KIND: firmware-reset, me-stop, host-reset, and the kinds docs/control-api.md\n"
                           "lists; `fault clear` ends them all.\n"
                           "Example: mesimctl fault hbm client=amthi action=drop count=1"));

  Command logs{"logs", "logs events|audit [KEY=VALUE...]", "read the firmware event log or the audit log",
               "GET /logs/events or /logs/audit, decoded. Example: mesimctl logs audit limit=10", {}};
  logs.run = [logs](const Invocation& in, const std::vector<std::string>& args) {
    if (args.empty()) return usageError(in, logs, "which log: events or audit");
    auto query = params(in, args, 1);
    if (!query) return usageError(in, logs, "parameters are KEY=VALUE");
    return in.call("GET", "/logs/" + args[0], *query);
  };
  list.push_back(logs);

  list.push_back({"subscriptions", "subscriptions", "WS-Eventing subscriptions and their delivery state",
                  "GET /subscriptions: address, filter, expiry, queued, delivered, failures, last error.",
                  [](const Invocation& in, const std::vector<std::string>&) { return in.call("GET", "/subscriptions"); }});

  list.push_back({"metrics", "metrics", "Prometheus metrics of every device",
                  "GET /metrics: the Prometheus text format (docs/metrics.md).",
                  [](const Invocation& in, const std::vector<std::string>&) { return in.callProcess("GET", "/metrics"); }});

  list.push_back(scenarioCommand());

  Command call{"call", "call METHOD PATH [KEY=VALUE...] [--body-file FILE|-]",
               "send any request to the control API",
               "METHOD PATH goes to the device's route (with --device, under /devices/NAME); KEY=VALUE words\n"
               "become the query, --body-file sends a file (or standard input) as the body.\n"
               "Example: mesimctl call POST /clock/advance seconds=0.5",
               {}};
  call.run = [call](const Invocation& in, const std::vector<std::string>& args) {
    if (args.size() < 2) return usageError(in, call, "METHOD and PATH are required");
    if (args[1].empty() || args[1][0] != '/') return usageError(in, call, "PATH starts with /");
    std::vector<std::string> words(args.begin() + 2, args.end());
    std::string body;
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (words[i] != "--body-file") continue;
      if (i + 1 >= words.size()) return usageError(in, call, "--body-file needs a file");
      const std::string file = words[i + 1];
      if (file == "-") {
        body.assign(std::istreambuf_iterator<char>(std::cin), {});
      } else {
        std::ifstream stream(file, std::ios::binary);
        if (!stream) return usageError(in, call, "cannot read " + file);
        body.assign(std::istreambuf_iterator<char>(stream), {});
      }
      words.erase(words.begin() + static_cast<std::ptrdiff_t>(i), words.begin() + static_cast<std::ptrdiff_t>(i) + 2);
      break;
    }
    auto query = keyValues(words, in.err);
    if (!query) return usageError(in, call, "parameters are KEY=VALUE");
    return in.call(args[0], args[1], *query, body, body.empty() ? "" : "application/octet-stream");
  };
  list.push_back(call);
  return list;
}

namespace {

constexpr const char* kDefaultUrl = "http://127.0.0.1:16990";

void printOverview(const std::vector<Command>& commands, std::ostream& out) {
  out << "mesimctl: drive a running mesim through its control API\n\n"
         "usage: mesimctl [OPTIONS] COMMAND [ARGS...]\n\n"
         "options:\n"
         "  --url URL        the control API (default $MESIMCTL_URL, else " << kDefaultUrl << ")\n"
         "  --device NAME    address that device of a multi-device process (default: the default device)\n"
         "  --json           print JSON answers as sent, on one line\n"
         "  --timeout SEC    give up on an answer after SEC seconds (default 30)\n"
         "  -h, --help       this text; `mesimctl help COMMAND` or `mesimctl COMMAND --help` for one command\n"
         "  --version        mesimctl's version\n\n"
         "commands:\n";
  for (const auto& c : commands) {
    out << "  " << c.name << std::string(c.name.size() < 15 ? 15 - c.name.size() : 1, ' ') << c.summary << "\n";
  }
  out << "\nexit status: 0 done, 1 the daemon answered an error (or a check failed), 2 bad command line,\n"
         "3 the control API did not answer.\n";
}

void printCommandHelp(const Command& c, std::ostream& out) {
  out << "usage: mesimctl [OPTIONS] " << c.usage << "\n\n" << c.summary << ".\n\n" << c.details << "\n";
}

}  // namespace

int runMesimctl(const std::vector<std::string>& args, const std::string& defaultUrl, std::ostream& out,
                std::ostream& err) {
  const auto commands = makeCommands();
  auto find = [&](const std::string& name) -> const Command* {
    for (const auto& c : commands)
      if (c.name == name) return &c;
    return nullptr;
  };
  std::string url = defaultUrl.empty() ? kDefaultUrl : defaultUrl;
  std::string device;
  bool rawJson = false;
  double timeoutSeconds = 30;
  std::size_t at = 0;
  for (; at < args.size(); ++at) {
    const auto& arg = args[at];
    auto value = [&](const char* option) -> std::optional<std::string> {
      if (at + 1 >= args.size()) {
        err << "mesimctl: " << option << " needs a value\n";
        return std::nullopt;
      }
      return args[++at];
    };
    if (arg == "-h" || arg == "--help") {
      printOverview(commands, out);
      return kExitOk;
    } else if (arg == "--version") {
      out << "mesimctl " << MESIM_VERSION << "\n";
      return kExitOk;
    } else if (arg == "--json") {
      rawJson = true;
    } else if (arg == "--url") {
      auto v = value("--url");
      if (!v) return kExitUsage;
      url = *v;
    } else if (arg == "--device") {
      auto v = value("--device");
      if (!v) return kExitUsage;
      device = *v;
    } else if (arg == "--timeout") {
      auto v = value("--timeout");
      if (!v) return kExitUsage;
      if (!isNumber(*v) || std::stod(*v) <= 0) {
        err << "mesimctl: --timeout takes a positive number of seconds\n";
        return kExitUsage;
      }
      timeoutSeconds = std::stod(*v);
    } else if (!arg.empty() && arg[0] == '-') {
      err << "mesimctl: unknown option " << arg << " (mesimctl --help lists them)\n";
      return kExitUsage;
    } else {
      break;
    }
  }
  if (at >= args.size()) {
    printOverview(commands, err);
    return kExitUsage;
  }
  const std::string name = args[at];
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(at) + 1, args.end());
  if (name == "help") {
    if (rest.empty()) {
      printOverview(commands, out);
      return kExitOk;
    }
    if (const Command* c = find(rest[0])) {
      printCommandHelp(*c, out);
      return kExitOk;
    }
    err << "mesimctl: no command '" << rest[0] << "' (mesimctl --help lists them)\n";
    return kExitUsage;
  }
  const Command* command = find(name);
  if (!command) {
    err << "mesimctl: no command '" << name << "' (mesimctl --help lists them)\n";
    return kExitUsage;
  }
  for (const auto& word : rest)
    if (word == "--help" || word == "-h") {
      printCommandHelp(*command, out);
      return kExitOk;
    }
  auto client = ControlClient::create(url, std::chrono::milliseconds(static_cast<long>(timeoutSeconds * 1000)));
  if (!client) {
    err << "mesimctl: " << client.error().message << "\n";
    return kExitUsage;
  }
  if (!device.empty() && (device.find('/') != std::string::npos || device == "." || device == "..")) {
    err << "mesimctl: '" << device << "' is not a device name\n";
    return kExitUsage;
  }
  Invocation invocation{*client, device.empty() ? "" : "/devices/" + device, rawJson, out, err};
  return command->run(invocation, rest);
}

}  // namespace mesim::ctl
