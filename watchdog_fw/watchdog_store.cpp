#include "watchdog_fw/watchdog_store.h"

#include <algorithm>

#include <boost/json.hpp>

#include "common/text_codecs.h"
#include "firmware/core/atomic_file.h"
#include "common/log.h"

namespace mesim::watchdog {
namespace json = boost::json;
namespace {

bool unhex(std::string_view text, platform::AgentGuid& out) {
  const auto bytes = text::fromHex(text);
  if (!bytes || bytes->size() != out.size()) return false;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return true;
}

template <class T>
bool number(const json::object& o, const char* key, T& out) {
  auto* v = o.if_contains(key);
  if (!v) return true;  // absent: keep the default
  if (!v->is_int64() && !v->is_uint64()) return false;
  auto n = v->is_int64() ? static_cast<std::uint64_t>(v->as_int64()) : v->as_uint64();
  if (v->is_int64() && v->as_int64() < 0) return false;
  out = static_cast<T>(n);
  return static_cast<std::uint64_t>(out) == n;
}

bool boolean(const json::object& o, const char* key, bool& out) {
  auto* v = o.if_contains(key);
  if (!v) return true;
  if (!v->is_bool()) return false;
  out = v->as_bool();
  return true;
}

}  // namespace

std::string toJson(const WatchdogStoreData& d) {
  json::object root;
  root["amtOperational"] = d.amtOperational;
  root["heciExpirationAction"] = d.actions.heciExpirationAction;
  root["agentPresenceExpirationAction"] = d.actions.agentPresenceExpirationAction;
  root["timeout"] = d.actions.timeout;
  root["reArmReset"] = d.actions.reArmReset;
  root["nextActionId"] = d.nextActionId;
  json::array agents;
  for (const auto& a : d.agents) {
    json::array actions;
    for (const auto& x : a.actions)
      actions.push_back({{"id", x.id}, {"oldStates", x.oldStates}, {"newStates", x.newStates},
                         {"eventOnTransition", x.eventOnTransition}, {"actionSd", x.actionSd}, {"actionEac", x.actionEac}});
    agents.push_back({{"guid", text::toHex(a.guid)}, {"startupInterval", a.startupInterval}, {"timeoutInterval", a.timeoutInterval},
                      {"description", a.description}, {"actions", std::move(actions)}});
  }
  root["agents"] = std::move(agents);
  return json::serialize(root) + "\n";
}

Result<WatchdogStoreData> fromJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return fail("not a JSON object");
  const auto& o = v.as_object();
  WatchdogStoreData d;
  bool ok = boolean(o, "amtOperational", d.amtOperational) && number(o, "heciExpirationAction", d.actions.heciExpirationAction) &&
            number(o, "agentPresenceExpirationAction", d.actions.agentPresenceExpirationAction) &&
            number(o, "timeout", d.actions.timeout) && boolean(o, "reArmReset", d.actions.reArmReset) &&
            number(o, "nextActionId", d.nextActionId);
  if (auto* agents = o.if_contains("agents"); ok && agents) {
    if (!agents->is_array()) ok = false;
    for (std::size_t i = 0; ok && i < agents->as_array().size(); ++i) {
      const auto& av = agents->as_array()[i];
      if (!av.is_object()) {
        ok = false;
        break;
      }
      const auto& a = av.as_object();
      StoredAgent s;
      auto* guid = a.if_contains("guid");
      ok = guid && guid->is_string() && unhex(guid->as_string(), s.guid) && number(a, "startupInterval", s.startupInterval) &&
           number(a, "timeoutInterval", s.timeoutInterval);
      if (auto* desc = a.if_contains("description"); ok && desc) {
        if (desc->is_string()) s.description = std::string(desc->as_string());
        else ok = false;
      }
      if (auto* actions = a.if_contains("actions"); ok && actions) {
        if (!actions->is_array()) ok = false;
        for (std::size_t j = 0; ok && j < actions->as_array().size(); ++j) {
          const auto& xv = actions->as_array()[j];
          if (!xv.is_object()) {
            ok = false;
            break;
          }
          const auto& x = xv.as_object();
          platform::AgentPresenceAction act;
          ok = number(x, "id", act.id) && number(x, "oldStates", act.oldStates) && number(x, "newStates", act.newStates) &&
               boolean(x, "eventOnTransition", act.eventOnTransition) && number(x, "actionSd", act.actionSd) &&
               number(x, "actionEac", act.actionEac);
          s.actions.push_back(act);
        }
      }
      d.agents.push_back(std::move(s));
    }
  }
  if (!ok) return fail("a field has the wrong type or range");
  return d;
}

Result<std::unique_ptr<WatchdogStore>> WatchdogStore::open(const std::filesystem::path& stateDir, log::Context log) {
  if (stateDir.empty()) return std::unique_ptr<WatchdogStore>(new WatchdogStore({}, {}, std::move(log)));
  auto file = stateDir / kFileName;
  std::string text;
  WatchdogStoreData data;
  if (auto ec = core::readFile(file, text)) {
    if (ec != std::errc::no_such_file_or_directory) return fail(file.string() + ": " + ec.message());
  } else if (auto parsed = fromJson(text); !parsed) {
    return fail(file.string() + ": " + parsed.error().message +
                "; fix that file, or move it aside to start with the default watchdog settings and no agents");
  } else {
    data = std::move(*parsed);
  }
  return std::unique_ptr<WatchdogStore>(new WatchdogStore(std::move(file), std::move(data), std::move(log)));
}

bool WatchdogStore::update(const std::function<void(WatchdogStoreData&)>& change) {
  if (file_.empty()) {  // in memory: nothing can fail, no copy needed
    change(data_);
    return true;
  }
  WatchdogStoreData next = data_;
  change(next);
  // An agent's description may come from a host program: never a file the next start cannot parse.
  auto text = toJson(next);
  if (!text::isValidUtf8(text)) text = text::toValidUtf8(text);
  if (auto ec = core::writeFileAtomic(file_, text, core::kOwnerReadWrite, disk_)) {
    MESIM_LOG(Error, "watchdog", "cannot write " << file_.string() << ": " << ec.message());
    return false;
  }
  data_ = std::move(next);
  return true;
}

}  // namespace mesim::watchdog
