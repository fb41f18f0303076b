// WS-Eventing as AMT models it (spec/wsman.md §1.6, §3.3 "Events panel"): the CIM_FilterCollection instances one
// subscribes to, and per subscription a CIM_ListenerDestinationWSManagement (enumerable through its base
// CIM_ListenerDestination) and a CIM_FilterCollectionSubscription that links the two and shows the delivery state.
// Subscribe/Renew/Unsubscribe are generic operations (wsman/ops); deleting either instance unsubscribes.
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kListenerCreationClassName = "CIM_ListenerDestinationWSMAN";  // truncated, as AMT writes it
constexpr const char* kFilterPrefix = "Intel(r) AMT:";
// The collections an alert's category can match besides All (events::filterMatches).
const std::vector<std::string> kFilters = {"All", "Features", "Watchdog", "Security", "Power", "Network"};

// CIM_IndicationSubscription.SubscriptionState / OnFatalErrorPolicy values.
constexpr std::uint32_t kStateEnabled = 2, kStateDegraded = 3, kStateDisabled = 4;
constexpr std::uint32_t kPolicyIgnore = 2, kPolicyDisable = 3, kPolicyRemove = 4;

EndpointReference filterRef(const std::string& instanceId) {
  return instanceIdRef(Schema::Cim, "CIM_FilterCollection", instanceId);
}

EndpointReference listenerRef(std::uint32_t id) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Cim, "CIM_ListenerDestinationWSManagement");
  e.selectors = {soap::textSelector("CreationClassName", kListenerCreationClassName),
                 soap::textSelector("Name", events::listenerName(id)),
                 soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                 soap::textSelector("SystemName", kAmtSystemName)};
  return e;
}

std::vector<events::SubscriptionStatus> subscriptions(CimContext& ctx) {
  return ctx.events ? ctx.events->subscriptions() : std::vector<events::SubscriptionStatus>{};
}

ChangeFault unsubscribe(CimContext& ctx, const Instance& target) {
  auto id = subscriptionIdOf(target);
  if (!ctx.events || !ctx.events->unsubscribe(id)) return soap::Fault{soap::FaultCode::InvalidSelectors, std::string(soap::detail::kInvalidValue), {}};
  return std::nullopt;
}

std::uint32_t onFatalErrorPolicy(events::FailurePolicy p) {
  switch (p) {
    case events::FailurePolicy::Terminate: return kPolicyRemove;
    case events::FailurePolicy::Suspend: return kPolicyDisable;
    case events::FailurePolicy::RetryForever: return kPolicyIgnore;
  }
  return kPolicyDisable;
}

}  // namespace

std::uint32_t subscriptionIdOf(const Instance& instance) {
  if (auto id = events::listenerId(instance.str("Name"))) return id;
  const Value* handler = instance.get("Handler");
  if (!handler || !handler->isRef()) return 0;
  const auto* name = handler->refs.front().find("Name");
  return name ? events::listenerId(name->value) : 0;
}

EndpointReference subscriptionRef(const events::Subscription& s) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Cim, "CIM_FilterCollectionSubscription");
  e.selectors = {soap::eprSelector("Filter", filterRef(s.filter)), soap::eprSelector("Handler", listenerRef(s.id))};
  return e;
}

void registerEventSubscriptions(ClassRegistry& r) {
  ClassDef filters{.name = "CIM_FilterCollection", .schema = Schema::Cim, .keys = {"InstanceID"}};
  filters.properties = {P("CollectionName"), P("ElementName"), P("InstanceID")};
  filters.enumerate = [](CimContext&) {
    std::vector<Instance> out;
    for (const auto& f : kFilters) {
      Instance i;
      i.set("CollectionName", kFilterPrefix + f);
      i.set("ElementName", kFilterPrefix + f);
      i.set("InstanceID", kFilterPrefix + f);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(filters));

  // Abstract: enumerating it lists the WS-Management listeners (MeshCommander's events panel does that).
  ClassDef destination{.name = "CIM_ListenerDestination", .schema = Schema::Cim, .keys = kServiceKeys};
  destination.properties = {P("CreationClassName"), P("Name"), P("SystemCreationClassName"), P("SystemName")};
  r.add(std::move(destination));

  ClassDef listener{.name = "CIM_ListenerDestinationWSManagement", .schema = Schema::Cim,
                    .base = "CIM_ListenerDestination", .keys = kServiceKeys};
  listener.properties = {P("CreationClassName"), P("DeliveryMode", T::UInt16), P("Destination"), P("ElementName"),
                         P("Name"), P("PersistenceType", T::UInt16), P("Protocol", T::UInt16),
                         P("SystemCreationClassName"), P("SystemName")};
  listener.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& st : subscriptions(ctx)) {
      const auto& s = st.subscription;
      Instance i;
      i.set("CreationClassName", kListenerCreationClassName);
      i.setNum("DeliveryMode", static_cast<std::uint16_t>(s.mode));
      i.set("Destination", s.notifyTo);
      i.set("ElementName", events::listenerName(s.id));
      i.set("Name", events::listenerName(s.id));
      i.setNum("PersistenceType", 2);  // Permanent: kept across restarts
      i.setNum("Protocol", 4);         // WS-Management
      i.set("SystemCreationClassName", "CIM_ComputerSystem");
      i.set("SystemName", kAmtSystemName);
      out.push_back(std::move(i));
    }
    return out;
  };
  listener.remove = unsubscribe;
  r.add(std::move(listener));

  // PendingIndications and LastDeliveryError are mesim's additions (docs/configuration.md "Event delivery").
  ClassDef subscription{.name = "CIM_FilterCollectionSubscription", .schema = Schema::Cim, .keys = {"Filter", "Handler"}};
  subscription.properties = {P("FailureTriggerTimeInterval", T::UInt64), P("Filter", T::Reference),
                             P("Handler", T::Reference), P("LastDeliveryError"), P("OnFatalErrorPolicy", T::UInt16),
                             P("PendingIndications", T::UInt32), P("SubscriptionDuration", T::UInt64),
                             P("SubscriptionStartTime", T::DateTime), P("SubscriptionState", T::UInt16),
                             P("SubscriptionTimeRemaining", T::UInt64)};
  subscription.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const auto now = ctx.clock.now();
    for (const auto& st : subscriptions(ctx)) {
      const auto& s = st.subscription;
      const auto& policy = ctx.events->policy();
      Instance i;
      i.setNum("FailureTriggerTimeInterval",
               static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(policy.retryInterval).count()) *
                   (policy.retries + 1));
      i.setRef("Filter", filterRef(s.filter));
      i.setRef("Handler", listenerRef(s.id));
      i.set("LastDeliveryError", st.lastError);
      i.setNum("OnFatalErrorPolicy", onFatalErrorPolicy(policy.onFailure));
      i.setNum("PendingIndications", st.pending);
      if (s.expires) {
        auto secs = [](auto d) { return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(d).count()); };
        i.setNum("SubscriptionDuration", secs(*s.expires - s.created));
        i.setNum("SubscriptionTimeRemaining", *s.expires > now ? secs(*s.expires - now) : 0);
      }
      i.set("SubscriptionStartTime", Value::dateTime(cimDatetime(core::unixSeconds(s.created))));
      i.setNum("SubscriptionState", st.suspended ? kStateDisabled : st.failures > 0 ? kStateDegraded : kStateEnabled);
      out.push_back(std::move(i));
    }
    return out;
  };
  subscription.remove = unsubscribe;
  r.add(std::move(subscription));
}

}  // namespace mesim::wsman::cim
