#include "firmware/events/event_store.h"

#include <boost/json.hpp>

#include "common/text_codecs.h"
#include "firmware/core/atomic_file.h"

namespace mesim::events {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr const char* kSubscriptionsFile = "subscriptions.json";
constexpr const char* kIndicationsFile = "indications.json";
constexpr const char* kQueuePrefix = "queue-";

std::int64_t toMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint fromMs(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

// Readers with defaults, so files written by older versions (or missing keys) still load.
std::string str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}
std::int64_t num(const json::object& o, const char* key, std::int64_t fallback = 0) {
  auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return fallback;
}
bool flag(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

json::object alertJson(const QueuedAlert& q) {
  const Alert& a = q.alert;
  json::array args;
  for (const auto& s : a.messageArguments) args.emplace_back(s);
  return {{"indication", q.indication},
          {"message_id", a.messageId},
          {"message_arguments", std::move(args)},
          {"message", a.message},
          {"perceived_severity", a.perceivedSeverity},
          {"alert_type", a.alertType},
          {"indication_filter_name", a.indicationFilterName},
          {"category", a.category},
          {"time_ms", toMs(a.time)}};
}

QueuedAlert alertFrom(const json::object& o) {
  QueuedAlert q;
  q.indication = static_cast<std::uint64_t>(num(o, "indication"));
  Alert& a = q.alert;
  a.messageId = str(o, "message_id");
  if (auto* args = o.if_contains("message_arguments"); args && args->is_array())
    for (const auto& s : args->get_array())
      if (s.is_string()) a.messageArguments.emplace_back(s.get_string());
  a.message = str(o, "message");
  a.perceivedSeverity = static_cast<std::uint16_t>(num(o, "perceived_severity", 2));
  a.alertType = static_cast<std::uint16_t>(num(o, "alert_type", 8));
  if (o.contains("indication_filter_name")) a.indicationFilterName = str(o, "indication_filter_name");
  a.category = str(o, "category");
  a.time = fromMs(num(o, "time_ms"));
  return q;
}

json::object subscriptionJson(const Subscription& s) {
  json::object o{{"id", s.id},
                 {"filter", s.filter},
                 {"notify_to", s.notifyTo},
                 {"delivery_mode", static_cast<int>(s.mode)},
                 {"reference_parameters", s.referenceParameters},
                 {"username", s.username},
                 {"password", s.password},
                 {"created_ms", toMs(s.created)}};
  if (s.expires) o["expires_ms"] = toMs(*s.expires);
  return o;
}

std::optional<Subscription> subscriptionFrom(const json::object& o) {
  Subscription s;
  s.id = static_cast<std::uint32_t>(num(o, "id"));
  s.filter = str(o, "filter");
  s.notifyTo = str(o, "notify_to");
  auto mode = num(o, "delivery_mode", 2);
  if (s.id == 0 || s.notifyTo.empty() || (mode != 2 && mode != 3)) return std::nullopt;
  s.mode = static_cast<DeliveryMode>(mode);
  s.referenceParameters = str(o, "reference_parameters");
  s.username = str(o, "username");
  s.password = str(o, "password");
  s.created = fromMs(num(o, "created_ms"));
  if (o.contains("expires_ms")) s.expires = fromMs(num(o, "expires_ms"));
  return s;
}

// A missing file is a null value. `without` says what is lost if the user moves a broken file aside.
Result<json::value> readJson(const fs::path& path, const std::string& without) {
  std::string text;
  if (auto ec = core::readFile(path, text)) {
    if (ec == std::errc::no_such_file_or_directory) return json::value();
    return fail(path.string() + ": " + ec.message());
  }
  boost::system::error_code jec;
  json::value value = json::parse(text, jec);
  if (jec || !value.is_object())
    return fail(path.string() + ": not a JSON object; fix that file, or move it aside to start " + without);
  return value;
}

}  // namespace

Result<StoredEvents> EventStore::load() const {
  StoredEvents out;
  auto subs = readJson(dir_ / kSubscriptionsFile, "without the event subscriptions it holds");
  if (!subs) return subs.error();
  if (subs->is_object()) {
    const auto& o = subs->get_object();
    out.nextId = static_cast<std::uint32_t>(std::max<std::int64_t>(num(o, "next_id", 1), 1));
    if (auto* list = o.if_contains("subscriptions"); list && list->is_array())
      for (const auto& item : list->get_array())
        if (item.is_object())
          if (auto s = subscriptionFrom(item.get_object())) out.subscriptions.push_back(std::move(*s));
  }
  for (const auto& s : out.subscriptions) {
    auto q = readJson(dir_ / (kQueuePrefix + std::to_string(s.id) + ".json"),
                      "without the alerts pending for subscription " + std::to_string(s.id));
    if (!q) return q.error();
    DeliveryQueue::State state;
    if (q->is_object()) {
      const auto& o = q->get_object();
      if (auto* list = o.if_contains("pending"); list && list->is_array())
        for (const auto& item : list->get_array())
          if (item.is_object()) state.pending.push_back(alertFrom(item.get_object()));
      state.failures = static_cast<unsigned>(num(o, "failures"));
      state.nextAttempt = fromMs(num(o, "next_attempt_ms"));
      state.suspended = flag(o, "suspended");
      state.lastError = str(o, "last_error");
      state.delivered = static_cast<std::uint64_t>(num(o, "delivered"));
      state.dropped = static_cast<std::uint64_t>(num(o, "dropped"));
    }
    out.queues[s.id] = std::move(state);
  }
  // Moving this one aside would let alert identifiers be handed out again after a restart.
  auto ind = readJson(dir_ / kIndicationsFile, "numbering alerts from the highest identifier still queued");
  if (!ind) return ind.error();
  if (ind->is_object()) out.indicationReserve = static_cast<std::uint64_t>(num(ind->get_object(), "reserved_below"));
  return out;
}

std::error_code EventStore::write(const std::string& name, const std::string& text) const {
  if (disk_) {
    if (auto full = disk_->checkWrite()) return full;
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return ec;
  // Boost.JSON copies string bytes as they are: text that is not UTF-8 (refused at the boundaries, so only ever
  // by mistake) would make a file the next start cannot parse. Such bytes only occur inside strings.
  return core::writeFileAtomic(dir_ / name, text::isValidUtf8(text) ? text : text::toValidUtf8(text),
                               core::kOwnerReadWrite, disk_);
}

std::error_code EventStore::saveSubscriptions(const std::vector<Subscription>& subscriptions, std::uint32_t nextId) const {
  json::array list;
  for (const auto& s : subscriptions) list.push_back(subscriptionJson(s));
  return write(kSubscriptionsFile, json::serialize(json::object{{"next_id", nextId}, {"subscriptions", std::move(list)}}));
}

std::error_code EventStore::saveQueue(std::uint32_t id, const DeliveryQueue::State& q) const {
  json::array pending;
  for (const auto& a : q.pending) pending.push_back(alertJson(a));
  json::object o{{"pending", std::move(pending)},
                 {"failures", q.failures},
                 {"next_attempt_ms", toMs(q.nextAttempt)},
                 {"suspended", q.suspended},
                 {"last_error", q.lastError},
                 {"delivered", q.delivered},
                 {"dropped", q.dropped}};
  return write(kQueuePrefix + std::to_string(id) + ".json", json::serialize(o));
}

std::error_code EventStore::removeQueue(std::uint32_t id) const {
  std::error_code ec;
  fs::remove(dir_ / (kQueuePrefix + std::to_string(id) + ".json"), ec);
  return ec;
}

std::error_code EventStore::saveIndicationReserve(std::uint64_t reserve) const {
  return write(kIndicationsFile, json::serialize(json::object{{"reserved_below", reserve}}));
}

}  // namespace mesim::events
