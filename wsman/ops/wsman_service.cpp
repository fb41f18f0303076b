#include "wsman/ops/wsman_service.h"

#include <algorithm>
#include <optional>
#include <sstream>
#include <variant>

#include "common/log.h"
#include "wsman/cim/cim_util.h"
#include "wsman/eventing/subscribe_request.h"
#include "wsman/ops/enumeration_contexts.h"
#include "wsman/ops/instance_xml.h"
#include "wsman/ops/realm_table.h"
#include "wsman/soap/namespaces.h"
#include "wsman/soap/response_writer.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman::ops {
namespace {

using soap::Fault;
using soap::FaultCode;
namespace ns = soap::ns;
namespace action = soap::action;

constexpr const char* kLog = "wsman";
constexpr std::size_t kMaxPullElements = 1000;
constexpr std::string_view kUnknownClass = "unknown";

// The standard operations; a class method (Invoke) is told apart once the class is known.
WsmanAction standardAction(std::string_view requested) {
  if (requested == action::kGet) return WsmanAction::Get;
  if (requested == action::kPut) return WsmanAction::Put;
  if (requested == action::kCreate) return WsmanAction::Create;
  if (requested == action::kDelete) return WsmanAction::Delete;
  if (requested == action::kEnumerate) return WsmanAction::Enumerate;
  if (requested == action::kPull) return WsmanAction::Pull;
  if (requested == action::kRelease) return WsmanAction::Release;
  if (requested == eventing::action::kSubscribe) return WsmanAction::Subscribe;
  if (requested == eventing::action::kUnsubscribe) return WsmanAction::Unsubscribe;
  if (requested == eventing::action::kRenew) return WsmanAction::Renew;
  return WsmanAction::Unknown;
}

Fault fault(FaultCode code, std::string_view detail = {}, std::string reason = {}) {
  return Fault{code, std::string(detail), std::move(reason)};
}

std::uint64_t readCount(pugi::xml_node n, std::uint64_t fallback) {
  if (!n) return fallback;
  auto t = soap::text(n);
  std::uint64_t v = 0;
  for (char c : t) {
    if (c < '0' || c > '9' || v > 1'000'000'000) return 0;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return t.empty() ? 0 : v;
}

bool matches(const cim::Instance& instance, const soap::Selector& sel) {
  const cim::Value* v = instance.get(sel.name);
  if (!v) return false;
  if (sel.isEpr()) return v->isRef() && v->refs.front() == sel.epr.front();
  return !v->isRef() && v->first() == sel.value;
}

}  // namespace

class WsmanService::Impl {
 public:
  Impl(platform::PlatformModel& platform, const core::FirmwareClock& clock, platform::HostPowerStateMachine& power,
       WsmanOptions options)
      : platform_(platform),
        clock_(clock),
        power_(power),
        options_(std::move(options)),
        registry_(cim::makeAmtClassRegistry()),
        contexts_(clock, options_.maxEnumerationContexts, options_.enumerationContextLifetime) {}

  ~Impl() { *alive_ = false; }

  WsmanResult handle(std::string_view body, const WsmanCallContext& call) {
    WsmanRequestKey key{WsmanAction::Unknown, kUnknownClass, {}, std::nullopt};  // filled in as the request is read
    WsmanResult result = serve(body, call, key);
    ++stats_.requests[key];
    if (pending_) {
      auto pending = std::move(*pending_);
      pending_.reset();
      MethodFinish finish = pending.work();
      return finishPending(pending, finish);
    }
    return result;
  }

  void handle(std::string_view body, const WsmanCallContext& call, std::function<void(WsmanResult)> done) {
    if (!offLoop_) return done(handle(body, call));
    WsmanRequestKey key{WsmanAction::Unknown, kUnknownClass, {}, std::nullopt};
    WsmanResult result = serve(body, call, key);
    ++stats_.requests[key];
    if (!pending_) return done(std::move(result));
    auto pending = std::make_shared<PendingInvoke>(std::move(*pending_));
    pending_.reset();
    auto finish = std::make_shared<MethodFinish>();
    offLoop_([pending, finish] { *finish = pending->work(); },
             [this, alive = alive_, pending, finish, done = std::move(done)] {
               if (*alive) done(finishPending(*pending, *finish));
             });
  }

  void setOffLoop(WsmanService::OffLoopRunner runner) { offLoop_ = std::move(runner); }

  const cim::ClassRegistry& registry() const { return registry_; }
  void setEventDelivery(events::EventDelivery* events) { events_ = events; }
  void setAgentPresence(platform::AgentPresence* agentPresence) { agentPresence_ = agentPresence; }
  void setHardware(platform::HardwareModel* hardware) { hardware_ = hardware; }
  void setFaultRules(WsmanFaultRules* rules) { faultRules_ = rules; }
  void forgetProvisioningSession() { runtime_.forgetProvisioningSession(); }
  void setUserConsent(platform::UserConsent* consent) { consent_ = consent; }
  void setSystemDefense(platform::SystemDefenseMonitor* monitor) { systemDefense_ = monitor; }
  void setProvisioningTimeout(platform::ProvisioningTimeout* timeout) { provisioningTimeout_ = timeout; }
  void setSessionTerminator(cim::SessionTerminator terminator) { terminator_ = std::move(terminator); }
  // The parts of a CimContext the setters above supply.
  void equip(cim::CimContext& ctx) const {
    ctx.registry = &registry_;
    ctx.provisioningTimeout = provisioningTimeout_;
    ctx.terminateSessions = terminator_ ? &terminator_ : nullptr;
  }
  std::string optInCode() const { return consent_ && consent_->code() ? *consent_->code() : std::string(); }
  std::size_t openContexts() const { return contexts_.size(); }
  const WsmanServiceStats& stats() const { return stats_; }

  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  using Outcome = std::variant<std::string, Fault>;
  using MethodFinish = cim::MethodFinish;

  // An Invoke whose method handed its slow part to offLoop: what answering it later needs.
  struct PendingInvoke {
    std::function<MethodFinish()> work;
    soap::RequestHeader header;
    std::string classUri;
    std::string methodName;
    WsmanCallContext call;
  };

  WsmanResult finishPending(const PendingInvoke& pending, const MethodFinish& finish) {
    cim::CimContext ctx{platform_, clock_, power_, runtime_, pending.call.user, pending.call.local, events_,
                        agentPresence_, consent_, systemDefense_, hardware_};
    equip(ctx);
    cim::MethodResult result = finish ? finish(ctx) : cim::MethodResult::status(cim::status::kInternalError);
    WsmanRequestKey key{WsmanAction::Invoke, kUnknownClass, {}, std::nullopt};  // already counted
    return resultOf(invokeOutput(pending.header, pending.classUri, pending.methodName, std::move(result)),
                    pending.header, key);
  }

  // The body of an Invoke's answer (or its fault) from the method's result.
  Outcome invokeOutput(const soap::RequestHeader& header, const std::string& uri, const std::string& methodName,
                       cim::MethodResult result) {
    if (result.fault) return *result.fault;
    result.outputs["ReturnValue"] = cim::Value::number(result.returnValue);
    soap::ResponseWriter w(header.action + "Response", header.messageId, nextMessageId(), header.resourceUri);
    auto out = w.add(w.body(), uri, methodName + "_OUTPUT");
    writeProperties(w, out, uri, result.outputs);
    return w.finish();
  }

  std::string nextMessageId() { return soap::amtMessageId(++messageCounter_); }

  WsmanResult serve(std::string_view body, const WsmanCallContext& call, WsmanRequestKey& key) {
    auto parsed = soap::parseRequest(body, options_.limits);
    if (parsed.fault) {
      MESIM_LOG(Debug, kLog, "request refused: " << soap::faultName(parsed.fault->code));
      return faultResult(*parsed.fault, parsed.messageId, key);
    }
    const soap::Request& req = *parsed.request;
    if (faultRules_ && !faultRules_->empty()) {
      auto [className, operation] = describeCall(req);
      if (auto rule = faultRules_->take(className, operation)) return injected(*rule, req, call, key);
    }
    return answer(req, call, key);
  }

  WsmanResult answer(const soap::Request& req, const WsmanCallContext& call, WsmanRequestKey& key) {
    if (req.isIdentify()) {
      key.action = WsmanAction::Identify;
      key.className = {};
      return {200, identifyResponse()};
    }

    cim::CimContext ctx{platform_, clock_, power_, runtime_, call.user, call.local, events_, agentPresence_,
                         consent_, systemDefense_, hardware_};
    equip(ctx);
    const cim::RealmSet realms = cim::callerRealms(platform_, call.user, call.local);
    return resultOf(dispatch(req, ctx, realms, key), req.header, key);
  }

  WsmanResult resultOf(Outcome outcome, const soap::RequestHeader& header, WsmanRequestKey& key) {
    if (auto* f = std::get_if<Fault>(&outcome)) {
      MESIM_LOG(Debug, kLog, header.action << " " << header.resourceUri << " -> " << soap::faultName(f->code));
      return faultResult(*f, header.messageId, key);
    }
    auto& text = std::get<std::string>(outcome);
    if (header.maxEnvelopeSize && text.size() > *header.maxEnvelopeSize)
      return faultResult(fault(FaultCode::EncodingLimit, soap::detail::kMaxEnvelopeSize), header.messageId, key);
    MESIM_LOG(Debug, kLog, header.action << " " << header.resourceUri << " -> 200");
    return {200, std::move(text)};
  }

  // A call that meets an injected fault rule (wsman_faults.h): served and answered late, or not served at all.
  WsmanResult injected(const WsmanFaultRule& rule, const soap::Request& req, const WsmanCallContext& call,
                       WsmanRequestKey& key) {
    MESIM_LOG(Info, kLog, "injected " << toString(rule.action) << " (rule " << rule.id << ") on " << req.header.action
                                      << " " << req.header.resourceUri);
    if (rule.action == WsmanFaultRule::Action::Delay) {
      WsmanResult late = answer(req, call, key);
      late.delay = rule.delay;
      return late;
    }
    key.action = req.isIdentify() ? WsmanAction::Identify : standardAction(req.header.action);
    if (const cim::ClassDef* cls = registry_.byUri(req.header.resourceUri)) key.className = cls->name;
    if (rule.action == WsmanFaultRule::Action::SoapFault)
      return faultResult(fault(rule.fault, {}, "Injected fault (mesim control API)."), req.header.messageId, key);
    key.fault = FaultCode::InternalError;  // in the request counts, an injected HTTP error is the receiver's failure
    return {rule.httpStatus, "injected fault: HTTP " + std::to_string(rule.httpStatus) + "\n", "text/plain; charset=UTF-8"};
  }

  // The class and operation of a call as fault rules name them: the class's name (of the enumeration, for Pull and
  // Release), and Get, Put, ... or the method's name.
  std::pair<std::string, std::string> describeCall(const soap::Request& req) {
    const auto& h = req.header;
    if (req.isIdentify()) return {"", "Identify"};
    const cim::ClassDef* cls = registry_.byUri(h.resourceUri);
    auto last = [](const std::string& uri) { return uri.substr(uri.rfind('/') + 1); };
    if (h.action == action::kPull || h.action == action::kRelease) {
      if (!cls && req.payload) {
        const std::string id = soap::text(soap::child(req.payload, ns::kEnumeration, "EnumerationContext"));
        if (const EnumerationContext* context = contexts_.find(id)) cls = registry_.byUri(context->resourceUri);
      }
      return {cls ? cls->name : "", h.action == action::kPull ? "Pull" : "Release"};
    }
    std::string operation = last(h.action);
    const std::string classUri = cls ? cls->resourceUri() : std::string();
    if (cls && h.action.size() > classUri.size() + 1 && h.action.compare(0, classUri.size(), classUri) == 0)
      operation = h.action.substr(classUri.size() + 1);  // a method of the class
    return {cls ? cls->name : last(h.resourceUri), operation};
  }

  WsmanResult faultResult(const Fault& f, const std::string& relatesTo, WsmanRequestKey& key) {
    key.fault = f.code;
    return {soap::faultInfo(f.code).httpStatus, soap::writeFault(f, relatesTo, nextMessageId())};
  }

  std::string identifyResponse() {
    const auto& v = platform_.firmware().code;
    std::string version = "AMT " + std::to_string(v.major) + "." + std::to_string(v.minor);
    pugi::xml_document doc;
    auto env = doc.append_child("a:Envelope");
    env.append_attribute("xmlns:a") = std::string(ns::kEnvelope).c_str();
    env.append_attribute("xmlns:b") = std::string(ns::kIdentity).c_str();
    env.append_child("a:Header");
    auto r = env.append_child("a:Body").append_child("b:IdentifyResponse");
    r.append_child("b:ProtocolVersion").text() = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
    r.append_child("b:ProductVendor").text() = "Intel Corporation";
    r.append_child("b:ProductVersion").text() = version.c_str();
    r.append_child("b:DASHVersion").text() = "1.0.0";
    auto profiles = r.append_child("b:SecurityProfiles");
    profiles.append_child("b:SecurityProfileName").text() = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest";
    profiles.append_child("b:SecurityProfileName").text() = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/digest";
    std::ostringstream out;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    doc.save(out, "", pugi::format_raw | pugi::format_no_declaration | pugi::format_no_empty_element_tags);
    return out.str();
  }

  // The operation the action `requested` asks of `cls` (`method` set for a class method); nullopt when the class
  // has no such action (ActionNotSupported, whoever asks).
  static std::optional<Operation> operationOf(const std::string& requested, const cim::ClassDef& cls,
                                              std::string& method) {
    if (requested == action::kGet || requested == action::kEnumerate) return Operation::Read;
    if (requested == action::kPut) return Operation::Put;
    if (requested == action::kCreate) return Operation::Create;
    if (requested == action::kDelete) return Operation::Delete;
    if (requested == eventing::action::kSubscribe) return Operation::Subscribe;
    if (requested == eventing::action::kUnsubscribe) return Operation::Unsubscribe;
    if (requested == eventing::action::kRenew) return Operation::Renew;
    const std::string prefix = cls.resourceUri() + "/";
    if (requested.size() <= prefix.size() || requested.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    method = requested.substr(prefix.size());
    if (!cls.method(method)) return std::nullopt;
    return Operation::Invoke;
  }

  // AccessDenied unless the caller holds one of the realms the table names for the operation (realm_table.h).
  std::optional<Fault> authorize(const std::string& className, Operation op, const std::string& method,
                                 const cim::CimContext& ctx, cim::RealmSet realms) {
    const cim::ClassDef* cls = op == Operation::Read ? registry_.byName(className) : nullptr;
    const cim::RealmSet needs = cls ? readRealms(registry_, *cls) : requiredRealms(className, op, method);
    if (needs.intersects(realms)) return std::nullopt;
    MESIM_LOG(Info, kLog, "access denied: " << (ctx.user.empty() ? "(anonymous)" : ctx.user) << " holds no realm for "
                                            << operationName(op) << " " << className << (method.empty() ? "" : ".")
                                            << method);
    return fault(FaultCode::AccessDenied);
  }

  Outcome dispatch(const soap::Request& req, cim::CimContext& ctx, cim::RealmSet realms, WsmanRequestKey& key) {
    const auto& h = req.header;
    key.action = standardAction(h.action);
    if (key.action == WsmanAction::Pull) return pull(req, ctx, realms, key);
    if (key.action == WsmanAction::Release) return release(req, ctx, realms, key);
    const cim::ClassDef* cls = registry_.byUri(h.resourceUri);
    if (!cls) return fault(FaultCode::DestinationUnreachable);
    key.className = cls->name;
    std::string method;
    const std::optional<Operation> op = operationOf(h.action, *cls, method);
    if (!op) return fault(FaultCode::ActionNotSupported);
    if (*op == Operation::Invoke) {
      key.action = WsmanAction::Invoke;
      key.method = cls->method(method)->name;
    }
    if (auto denied = authorize(cls->name, *op, method, ctx, realms)) return *denied;
    if (h.action == action::kGet) return get(req, *cls, ctx, realms);
    if (h.action == action::kPut) return put(req, *cls, ctx);
    if (h.action == action::kCreate) return create(req, *cls, ctx);
    if (h.action == action::kDelete) return remove(req, *cls, ctx);
    if (h.action == action::kEnumerate) return enumerate(req, *cls, ctx, realms);
    if (h.action == eventing::action::kSubscribe) return subscribe(req, *cls, ctx);
    if (h.action == eventing::action::kUnsubscribe) return unsubscribe(req, *cls, ctx);
    if (h.action == eventing::action::kRenew) return renew(req, *cls, ctx);
    return invoke(req, *cls, method, ctx);
  }

  // Pull and Release need what reading the enumerated class needs; they count as requests on that class.
  std::optional<Fault> authorizeEnumeration(const EnumerationContext& context, const cim::CimContext& ctx,
                                            cim::RealmSet realms, WsmanRequestKey& key) {
    const cim::ClassDef* cls = registry_.byUri(context.resourceUri);
    if (cls) key.className = cls->name;
    return authorize(cls ? cls->name : std::string(), Operation::Read, {}, ctx, realms);
  }

  // The instance the selectors name; a singleton needs none (MeshCentral sends none, spec/wsman.md §1.2).
  // Instances of `cls` and the classes below it, leaving out those of classes `readable` (when given) may not read.
  std::vector<cim::ServedInstance> instancesFor(const cim::ClassDef& cls, cim::CimContext& ctx,
                                                const cim::RealmSet* readable) {
    auto all = cim::instancesOf(registry_, cls, ctx);
    if (readable)
      std::erase_if(all, [&](const cim::ServedInstance& si) {
        return si.cls != &cls && !requiredRealms(si.cls->name, Operation::Read).intersects(*readable);
      });
    return all;
  }

  std::variant<cim::ServedInstance, Fault> select(const soap::RequestHeader& h, const cim::ClassDef& cls,
                                                  cim::CimContext& ctx, const cim::RealmSet* readable = nullptr) {
    const auto& sels = h.selectors;
    for (std::size_t i = 0; i < sels.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j)
        if (sels[j].name == sels[i].name) return fault(FaultCode::InvalidSelectors, soap::detail::kDuplicateSelectors);
      if (std::find(cls.keys.begin(), cls.keys.end(), sels[i].name) == cls.keys.end())
        return fault(FaultCode::InvalidSelectors, soap::detail::kUnexpectedSelectors);
    }
    auto all = instancesFor(cls, ctx, readable);
    std::vector<cim::ServedInstance> found;
    for (auto& si : all) {
      bool ok = std::all_of(sels.begin(), sels.end(), [&](const soap::Selector& s) { return matches(si.instance, s); });
      if (ok) found.push_back(std::move(si));
    }
    if (found.size() == 1) return std::move(found.front());
    if (found.empty())
      return fault(FaultCode::InvalidSelectors, sels.empty() ? soap::detail::kInsufficientSelectors : soap::detail::kInvalidValue);
    return fault(FaultCode::InvalidSelectors, soap::detail::kInsufficientSelectors);
  }

  Outcome get(const soap::Request& req, const cim::ClassDef& cls, cim::CimContext& ctx, cim::RealmSet realms) {
    auto chosen = select(req.header, cls, ctx, &realms);
    if (auto* f = std::get_if<Fault>(&chosen)) return *f;
    auto& si = std::get<cim::ServedInstance>(chosen);
    soap::ResponseWriter w(std::string(action::kGet) + "Response", req.header.messageId, nextMessageId(),
                           req.header.resourceUri);
    writeInstance(w, w.body(), *si.cls, si.instance);
    return w.finish();
  }

  // The property values of a Put/Create body `<p:Class>…</p:Class>`, typed against `cls`.
  std::variant<cim::Arguments, Fault> readBody(const soap::Request& req, const cim::ClassDef& cls) {
    if (!req.payload || soap::localName(req.payload) != cls.name)
      return fault(FaultCode::SchemaValidationError, {}, "The body does not hold a " + cls.name + " instance.");
    cim::Arguments values;
    if (auto f = readValues(req.payload, values)) return *f;
    for (const auto& [name, value] : values) {
      const cim::PropertyDef* def = cls.property(name);
      if (!def) continue;
      if ((def->type == cim::PropType::Reference) != value.isRef())
        return fault(FaultCode::SchemaValidationError, {}, name + " has the wrong kind of value.");
      if (!def->array && value.items.size() > 1) return fault(FaultCode::SchemaValidationError, {}, name + " is not an array.");
      for (const auto& item : value.items)
        if (!cim::validLiteral(def->type, item))
          return fault(FaultCode::SchemaValidationError, {}, name + " has an invalid value.");
    }
    return values;
  }

  Outcome put(const soap::Request& req, const cim::ClassDef& cls, cim::CimContext& ctx) {
    auto chosen = select(req.header, cls, ctx);
    if (auto* f = std::get_if<Fault>(&chosen)) return *f;
    auto& si = std::get<cim::ServedInstance>(chosen);
    if (!si.cls->put) return fault(FaultCode::ActionNotSupported);
    auto body = readBody(req, *si.cls);
    if (auto* f = std::get_if<Fault>(&body)) return *f;
    cim::Arguments changes;
    for (auto& [name, value] : std::get<cim::Arguments>(body)) {
      const cim::PropertyDef* def = si.cls->property(name);
      if (def && def->writable) changes[name] = std::move(value);  // read-only values are ignored, as AMT does
    }
    if (auto f = si.cls->put(ctx, si.instance, changes)) return *f;
    auto after = select(req.header, cls, ctx);
    if (auto* f = std::get_if<Fault>(&after)) return *f;
    auto& updated = std::get<cim::ServedInstance>(after);
    soap::ResponseWriter w(std::string(action::kPut) + "Response", req.header.messageId, nextMessageId(),
                           req.header.resourceUri);
    writeInstance(w, w.body(), *updated.cls, updated.instance);
    return w.finish();
  }

  Outcome create(const soap::Request& req, const cim::ClassDef& cls, cim::CimContext& ctx) {
    if (!cls.create) return fault(FaultCode::ActionNotSupported);
    auto body = readBody(req, cls);
    if (auto* f = std::get_if<Fault>(&body)) return *f;
    std::vector<soap::Selector> created;
    if (auto f = cls.create(ctx, std::get<cim::Arguments>(body), created)) return *f;
    soap::ResponseWriter w(std::string(action::kCreate) + "Response", req.header.messageId, nextMessageId(),
                           req.header.resourceUri);
    soap::EndpointReference epr;
    epr.resourceUri = cls.resourceUri();
    epr.selectors = std::move(created);
    w.addEprContent(w.add(w.body(), ns::kTransfer, "ResourceCreated"), epr);
    return w.finish();
  }

  Outcome remove(const soap::Request& req, const cim::ClassDef& cls, cim::CimContext& ctx) {
    auto chosen = select(req.header, cls, ctx);
    if (auto* f = std::get_if<Fault>(&chosen)) return *f;
    auto& si = std::get<cim::ServedInstance>(chosen);
    if (!si.cls->remove) return fault(FaultCode::ActionNotSupported);
    if (auto f = si.cls->remove(ctx, si.instance)) return *f;
    soap::ResponseWriter w(std::string(action::kDelete) + "Response", req.header.messageId, nextMessageId(),
                           req.header.resourceUri);
    return w.finish();
  }

  // Items of `context` from its read position: at most `maxElements`, and no more than `maxCharacters` Unicode
  // characters of XML in all (0: no limit; WS-Enumeration's Pull). Returns true when the sequence is exhausted.
  // `firstTooLarge` is set when not even the next item fits: nothing is written or consumed then.
  bool writeItems(soap::ResponseWriter& w, pugi::xml_node parent, EnumerationContext& context,
                  std::uint64_t maxElements, std::uint64_t maxCharacters, bool* firstTooLarge = nullptr) {
    std::uint64_t written = 0;
    std::uint64_t chars = 0;
    while (context.next < context.items.size() && written < maxElements) {
      const auto& si = context.items[context.next];
      pugi::xml_node item;
      switch (context.mode) {
        case EnumerationMode::Objects: item = writeInstance(w, parent, *si.cls, si.instance); break;
        case EnumerationMode::ObjectsAndEprs:
          item = w.add(parent, ns::kWsman, "Item");
          writeInstance(w, item, *si.cls, si.instance);
          w.addEprContent(w.add(item, ns::kAddressing, "EndpointReference"), si.cls->eprOf(si.instance));
          break;
        case EnumerationMode::Eprs:
          item = w.add(parent, ns::kAddressing, "EndpointReference");
          w.addEprContent(item, si.cls->eprOf(si.instance));
          break;
      }
      if (maxCharacters) {
        std::ostringstream xml;
        item.print(xml, "", pugi::format_raw | pugi::format_no_empty_element_tags);
        const std::string text = xml.str();
        // Characters, not bytes: every UTF-8 byte but a continuation byte starts one.
        chars += static_cast<std::uint64_t>(
            std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
        if (chars > maxCharacters) {
          parent.remove_child(item);
          if (written == 0 && firstTooLarge) *firstTooLarge = true;
          break;
        }
      }
      ++written;
      ++context.next;
    }
    return context.next >= context.items.size();
  }

  Outcome enumerate(const soap::Request& req, const cim::ClassDef& cls, cim::CimContext& ctx, cim::RealmSet realms) {
    auto e = req.payload;
    if (!e || !soap::is(e, ns::kEnumeration, "Enumerate"))
      return fault(FaultCode::SchemaValidationError, {}, "The body has no wsen:Enumerate.");
    EnumerationContext context;
    context.resourceUri = req.header.resourceUri;
    context.owner = ctx.user;
    context.ownerLocal = ctx.local;
    if (auto mode = soap::child(e, ns::kWsman, "EnumerationMode")) {
      auto m = soap::text(mode);
      if (m == "EnumerateObjectAndEPR") context.mode = EnumerationMode::ObjectsAndEprs;
      else if (m == "EnumerateEPR") context.mode = EnumerationMode::Eprs;
      else return fault(FaultCode::UnsupportedFeature, {}, "EnumerationMode " + m + " is not supported.");
    }
    if (soap::child(e, ns::kWsman, "Filter") || soap::child(e, ns::kEnumeration, "Filter"))
      return fault(FaultCode::UnsupportedFeature, {}, "Enumeration filters are not supported.");
    const bool optimize = static_cast<bool>(soap::child(e, ns::kWsman, "OptimizeEnumeration"));
    const std::uint64_t maxElements = readCount(soap::child(e, ns::kWsman, "MaxElements"), 1);
    if (optimize && (maxElements == 0 || maxElements > kMaxPullElements))
      return fault(FaultCode::InvalidParameter, {}, "MaxElements is out of range.");
    context.items = instancesFor(cls, ctx, &realms);

    soap::ResponseWriter w(std::string(action::kEnumerate) + "Response", req.header.messageId, nextMessageId(),
                           req.header.resourceUri);
    auto response = w.add(w.body(), ns::kEnumeration, "EnumerateResponse");
    if (!optimize) {
      w.add(response, ns::kEnumeration, "EnumerationContext", contexts_.open(std::move(context)));
      return w.finish();
    }
    auto ctxNode = w.add(response, ns::kEnumeration, "EnumerationContext");
    auto items = w.add(response, ns::kWsman, "Items");
    const bool done = writeItems(w, items, context, maxElements, 0);
    if (done) {
      w.add(response, ns::kWsman, "EndOfSequence");
      // The sequence is complete: nothing is kept, the id only names this response.
      ctxNode.text().set(contexts_.open(std::move(context)).c_str());
      contexts_.release(ctxNode.text().get());
    } else {
      ctxNode.text().set(contexts_.open(std::move(context)).c_str());
    }
    return w.finish();
  }

  // Another user's context answers as an unknown one to a caller who holds the class's realms (one who does not
  // is refused first, as for any context).
  static bool ownedBy(const EnumerationContext& context, const cim::CimContext& ctx) {
    return context.owner == ctx.user && context.ownerLocal == ctx.local;
  }

  Outcome pull(const soap::Request& req, const cim::CimContext& ctx, cim::RealmSet realms, WsmanRequestKey& key) {
    auto p = req.payload;
    if (!p || !soap::is(p, ns::kEnumeration, "Pull")) return fault(FaultCode::SchemaValidationError, {}, "The body has no wsen:Pull.");
    const std::string id = soap::text(soap::child(p, ns::kEnumeration, "EnumerationContext"));
    EnumerationContext* context = contexts_.find(id);
    if (!context) return fault(FaultCode::InvalidEnumerationContext);
    if (auto denied = authorizeEnumeration(*context, ctx, realms, key)) return *denied;
    if (!ownedBy(*context, ctx)) return fault(FaultCode::InvalidEnumerationContext);
    const std::uint64_t maxElements = readCount(soap::child(p, ns::kEnumeration, "MaxElements"), 1);
    const std::uint64_t maxCharacters = readCount(soap::child(p, ns::kEnumeration, "MaxCharacters"), 0);
    if (maxElements == 0) return fault(FaultCode::InvalidParameter, {}, "MaxElements must be at least 1.");

    soap::ResponseWriter w(std::string(action::kPull) + "Response", req.header.messageId, nextMessageId(),
                           req.header.resourceUri.empty() ? context->resourceUri : req.header.resourceUri);
    auto response = w.add(w.body(), ns::kEnumeration, "PullResponse");
    auto ctxNode = w.add(response, ns::kEnumeration, "EnumerationContext", id);
    auto items = w.add(response, ns::kEnumeration, "Items");
    bool firstTooLarge = false;
    const bool done = writeItems(w, items, *context, std::min<std::uint64_t>(maxElements, kMaxPullElements),
                                 maxCharacters, &firstTooLarge);
    if (firstTooLarge) {
      // WS-Enumeration lets the source skip an item larger than MaxCharacters and return it to a Pull with a larger
      // value: it stays next, and the client is told why nothing came (as openwsman does).
      contexts_.touch(*context);
      return fault(FaultCode::EncodingLimit, {},
                   "The next item is larger than MaxCharacters (" + std::to_string(maxCharacters) +
                       " characters); pull again with a larger MaxCharacters.");
    }
    w.prefix(ns::kCommon);  // AMT declares it (after the class, as i) in every PullResponse (spec/wsman.md §1.3)
    if (done) {
      response.remove_child(ctxNode);
      w.add(response, ns::kEnumeration, "EndOfSequence");
      contexts_.release(id);
    } else {
      contexts_.touch(*context);
    }
    return w.finish();
  }

  Outcome release(const soap::Request& req, const cim::CimContext& ctx, cim::RealmSet realms, WsmanRequestKey& key) {
    auto r = req.payload;
    if (!r || !soap::is(r, ns::kEnumeration, "Release"))
      return fault(FaultCode::SchemaValidationError, {}, "The body has no wsen:Release.");
    const std::string id = soap::text(soap::child(r, ns::kEnumeration, "EnumerationContext"));
    const EnumerationContext* context = contexts_.find(id);
    if (!context) return fault(FaultCode::InvalidEnumerationContext);
    if (auto denied = authorizeEnumeration(*context, ctx, realms, key)) return *denied;
    if (!ownedBy(*context, ctx)) return fault(FaultCode::InvalidEnumerationContext);
    contexts_.release(id);
    soap::ResponseWriter w(std::string(action::kRelease) + "Response", req.header.messageId, nextMessageId(),
                           req.header.resourceUri);
    return w.finish();
  }

  // ---- WS-Eventing the AMT way (spec/wsman.md §1.6): Subscribe on a CIM_FilterCollection instance; Renew and
  // Unsubscribe on the CIM_FilterCollectionSubscription that SubscribeResponse names as SubscriptionManager.
  static void addExpires(soap::ResponseWriter& w, pugi::xml_node parent, const std::optional<events::TimePoint>& expires) {
    if (expires) w.add(parent, ns::kEventing, "Expires", cim::cimDatetime(core::unixSeconds(*expires)));
  }

  Outcome subscribe(const soap::Request& req, const cim::ClassDef& cls, cim::CimContext& ctx) {
    if (cls.name != "CIM_FilterCollection" || !ctx.events) return fault(FaultCode::ActionNotSupported);
    auto chosen = select(req.header, cls, ctx);
    if (auto* f = std::get_if<Fault>(&chosen)) return *f;
    auto parsed = eventing::parseSubscribe(req, clock_.now());
    if (auto* f = std::get_if<Fault>(&parsed)) return *f;
    auto& request = std::get<eventing::SubscribeRequest>(parsed);
    events::Subscription s;
    s.filter = std::get<cim::ServedInstance>(chosen).instance.str("InstanceID");
    s.notifyTo = std::move(request.notifyTo);
    s.mode = request.mode;
    s.referenceParameters = std::move(request.referenceParameters);
    s.username = std::move(request.username);
    s.password = std::move(request.password);
    s.expires = request.expires;
    auto made = ctx.events->subscribe(s);
    if (auto* e = std::get_if<events::SubscribeError>(&made))
      return *e == events::SubscribeError::LimitReached
                 ? fault(FaultCode::InternalError, {},
                         "The maximum number of event subscribers (" + std::to_string(ctx.events->policy().maxSubscriptions) +
                             ") is reached.")
                 : fault(FaultCode::InternalError);
    s.id = std::get<std::uint32_t>(made);
    soap::ResponseWriter w(std::string(eventing::action::kSubscribe) + "Response", req.header.messageId, nextMessageId(),
                           req.header.resourceUri);
    auto response = w.add(w.body(), ns::kEventing, "SubscribeResponse");
    w.addEprContent(w.add(response, ns::kEventing, "SubscriptionManager"), cim::subscriptionRef(s));
    addExpires(w, response, s.expires);
    return w.finish();
  }

  Outcome unsubscribe(const soap::Request& req, const cim::ClassDef& cls, cim::CimContext& ctx) {
    if (cls.name != "CIM_FilterCollectionSubscription" || !ctx.events) return fault(FaultCode::ActionNotSupported);
    auto chosen = select(req.header, cls, ctx);
    if (auto* f = std::get_if<Fault>(&chosen)) return *f;
    auto& si = std::get<cim::ServedInstance>(chosen);
    if (auto f = si.cls->remove(ctx, si.instance)) return *f;
    soap::ResponseWriter w(std::string(eventing::action::kUnsubscribe) + "Response", req.header.messageId,
                           nextMessageId(), req.header.resourceUri);
    return w.finish();
  }

  Outcome renew(const soap::Request& req, const cim::ClassDef& cls, cim::CimContext& ctx) {
    if (cls.name != "CIM_FilterCollectionSubscription" || !ctx.events) return fault(FaultCode::ActionNotSupported);
    auto chosen = select(req.header, cls, ctx);
    if (auto* f = std::get_if<Fault>(&chosen)) return *f;
    auto expires = eventing::parseRenew(req, clock_.now());
    if (auto* f = std::get_if<Fault>(&expires)) return *f;
    auto& at = std::get<std::optional<events::TimePoint>>(expires);
    if (!ctx.events->renew(cim::subscriptionIdOf(std::get<cim::ServedInstance>(chosen).instance), at))
      return fault(FaultCode::InvalidSelectors, soap::detail::kInvalidValue);
    soap::ResponseWriter w(std::string(eventing::action::kRenew) + "Response", req.header.messageId, nextMessageId(),
                           req.header.resourceUri);
    addExpires(w, w.add(w.body(), ns::kEventing, "RenewResponse"), at);
    return w.finish();
  }

  Outcome invoke(const soap::Request& req, const cim::ClassDef& cls, const std::string& methodName,
                 cim::CimContext& ctx) {
    const cim::MethodDef* method = cls.method(methodName);
    if (!method) return fault(FaultCode::ActionNotSupported);
    cim::Arguments args;
    if (req.payload) {
      if (soap::localName(req.payload) != methodName + "_INPUT")
        return fault(FaultCode::SchemaValidationError, {}, "The body is not " + methodName + "_INPUT.");
      if (auto f = readValues(req.payload, args)) return *f;
    }
    for (const auto& param : method->inputs) {
      auto it = args.find(param.name);
      if (it == args.end()) continue;
      const bool isRef = param.type == cim::PropType::Reference;
      if (isRef != it->second.isRef() || (!param.array && it->second.items.size() + it->second.refs.size() > 1))
        return fault(FaultCode::InvalidParameter, {}, param.name + " has the wrong kind of value.");
      for (const auto& item : it->second.items)
        if (!cim::validLiteral(param.type, item))
          return fault(FaultCode::InvalidParameter, {}, param.name + " has an invalid value.");
    }
    auto chosen = select(req.header, cls, ctx);
    if (auto* f = std::get_if<Fault>(&chosen)) return *f;
    auto result = method->handler(ctx, std::get<cim::ServedInstance>(chosen).instance, args);
    if (result.offLoop) {
      // Answered by handle() once the slow part ran; this placeholder is never sent.
      pending_ = PendingInvoke{std::move(result.offLoop), req.header, cls.resourceUri(), methodName,
                               {ctx.user, ctx.local}};
      return std::string();
    }
    return invokeOutput(req.header, cls.resourceUri(), methodName, std::move(result));
  }

  platform::PlatformModel& platform_;
  const core::FirmwareClock& clock_;
  platform::HostPowerStateMachine& power_;
  WsmanOptions options_;
  cim::ClassRegistry registry_;
  cim::CimRuntime runtime_;
  events::EventDelivery* events_ = nullptr;
  platform::AgentPresence* agentPresence_ = nullptr;
  platform::HardwareModel* hardware_ = nullptr;
  platform::UserConsent* consent_ = nullptr;
  platform::ProvisioningTimeout* provisioningTimeout_ = nullptr;
  cim::SessionTerminator terminator_;
  platform::SystemDefenseMonitor* systemDefense_ = nullptr;
  WsmanFaultRules* faultRules_ = nullptr;
  EnumerationContexts contexts_;
  std::uint64_t messageCounter_ = 0;
  WsmanServiceStats stats_;
  std::optional<PendingInvoke> pending_;  // set by invoke() for handle() to finish
  WsmanService::OffLoopRunner offLoop_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed: late answers are dropped
};

std::string_view actionName(WsmanAction action) {
  switch (action) {
    case WsmanAction::Identify: return "Identify";
    case WsmanAction::Get: return "Get";
    case WsmanAction::Put: return "Put";
    case WsmanAction::Create: return "Create";
    case WsmanAction::Delete: return "Delete";
    case WsmanAction::Enumerate: return "Enumerate";
    case WsmanAction::Pull: return "Pull";
    case WsmanAction::Release: return "Release";
    case WsmanAction::Subscribe: return "Subscribe";
    case WsmanAction::Unsubscribe: return "Unsubscribe";
    case WsmanAction::Renew: return "Renew";
    case WsmanAction::Invoke: return "Invoke";
    case WsmanAction::Unknown: break;
  }
  return "unknown";
}

WsmanService::WsmanService(platform::PlatformModel& platform, const core::FirmwareClock& clock,
                           platform::HostPowerStateMachine& power, WsmanOptions options)
    : impl_(std::make_unique<Impl>(platform, clock, power, std::move(options))) {}

WsmanService::~WsmanService() = default;

WsmanResult WsmanService::handle(std::string_view body, const WsmanCallContext& ctx) { return impl_->handle(body, ctx); }
void WsmanService::handle(std::string_view body, const WsmanCallContext& ctx, std::function<void(WsmanResult)> done) {
  impl_->handle(body, ctx, std::move(done));
}
void WsmanService::setOffLoop(OffLoopRunner runner) { impl_->setOffLoop(std::move(runner)); }

bool WsmanService::isIdentify(std::string_view body) {
  auto parsed = soap::parseRequest(body);
  return parsed.request && parsed.request->isIdentify();
}

const cim::ClassRegistry& WsmanService::registry() const { return impl_->registry(); }
void WsmanService::setEventDelivery(events::EventDelivery* events) { impl_->setEventDelivery(events); }
void WsmanService::setAgentPresence(platform::AgentPresence* agentPresence) { impl_->setAgentPresence(agentPresence); }
void WsmanService::setHardware(platform::HardwareModel* hardware) { impl_->setHardware(hardware); }
void WsmanService::forgetProvisioningSession() { impl_->forgetProvisioningSession(); }
void WsmanService::setFaultRules(WsmanFaultRules* rules) { impl_->setFaultRules(rules); }
void WsmanService::setUserConsent(platform::UserConsent* consent) { impl_->setUserConsent(consent); }
void WsmanService::setSystemDefense(platform::SystemDefenseMonitor* monitor) { impl_->setSystemDefense(monitor); }
void WsmanService::setProvisioningTimeout(platform::ProvisioningTimeout* timeout) { impl_->setProvisioningTimeout(timeout); }
void WsmanService::setSessionTerminator(cim::SessionTerminator terminator) {
  impl_->setSessionTerminator(std::move(terminator));
}
std::string WsmanService::optInCode() const { return impl_->optInCode(); }
std::size_t WsmanService::openEnumerationContexts() const { return impl_->openContexts(); }
const WsmanServiceStats& WsmanService::stats() const { return impl_->stats(); }

}  // namespace mesim::wsman::ops
