// AMT_TimeSynchronizationService: AMT's clock is the firmware clock plus an offset that
// SetHighAccuracyTimeSynch sets (spec/wsman.md §3.3 MeshCentral time sync).
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {

void registerTimeSynchronization(ClassRegistry& r) {
  using T = PropType;
  constexpr const char* kName = "Intel(r) AMT Time Synchronization Service";
  ClassDef c{.name = "AMT_TimeSynchronizationService", .schema = Schema::Amt, .keys = kServiceKeys};
  c.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("LocalTimeSyncEnabled", T::UInt32),
                  P("Name"), P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName"),
                  P("TimeSource", T::UInt32)};
  c.methods = {
      {"GetLowAccuracyTimeSynch", {}, {Out("Ta0", T::SInt32)},
       [](CimContext& ctx, const Instance&, const Arguments&) {
         MethodResult r;
         r.outputs["Ta0"] = Value::signedNumber(std::int64_t{ctx.now()} + ctx.platform.state().amtClockOffset);
         return r;
       }},
      // Ta0: when the client asked for AMT's time; Tm1/Tm2: the client's clock around that request.
      {"SetHighAccuracyTimeSynch", {In("Ta0", T::SInt32), In("Tm1", T::SInt32), In("Tm2", T::SInt32)}, {},
       [](CimContext& ctx, const Instance&, const Arguments& in) {
         std::string ta0, tm1, tm2;
         if (!argString(in, "Ta0", ta0) || !argString(in, "Tm1", tm1) || !argString(in, "Tm2", tm2))
           return MethodResult::status(status::kInvalidParameter);
         // Ta0 was AMT's time when asked; Tm1/Tm2 the client's clock around that request (validated as SInt32).
         const std::int64_t m1 = std::stoll(tm1), m2 = std::stoll(tm2);
         if (m2 < m1 || std::stoll(ta0) < 0) return MethodResult::status(status::kInvalidParameter);
         const std::int64_t now = ctx.now();
         auto result = ctx.platform.update([&](platform::PlatformState& s) { s.amtClockOffset = m2 - now; });
         return MethodResult::status(result == platform::ChangeResult::Ok ? 0 : status::kInternalError);
       }}};
  c.enumerate = [](CimContext&) {
    Instance i;
    setServiceKeys(i, "AMT_TimeSynchronizationService", kName)
        .set("ElementName", kName)
        .setNum("EnabledState", 5)
        .setNum("LocalTimeSyncEnabled", 0)
        .setNum("RequestedState", 12)
        .setNum("TimeSource", 1);
    return std::vector<Instance>{i};
  };
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
