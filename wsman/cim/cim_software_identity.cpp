// CIM_SoftwareIdentity: one instance per AMTHI code version entry (the same list GetCodeVersions
// returns), plus "AMT FW Core Version" (spec/wsman.md §3.4).
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {

void registerSoftwareIdentity(ClassRegistry& r) {
  ClassDef c;
  c.name = "CIM_SoftwareIdentity";
  c.schema = Schema::Cim;
  c.keys = {"InstanceID"};
  c.properties = {P("InstanceID"), P("IsEntity", PropType::Boolean), P("VersionString")};
  c.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const auto& fw = ctx.platform.firmware();
    for (const auto& cv : fw.codeVersions) {
      Instance i;
      i.set("InstanceID", cv.description).setBool("IsEntity", true).set("VersionString", cv.version);
      out.push_back(std::move(i));
    }
    Instance core;
    core.set("InstanceID", "AMT FW Core Version")
        .setBool("IsEntity", true)
        .set("VersionString", std::to_string(fw.code.major) + "." + std::to_string(fw.code.minor) + "." +
                                  std::to_string(fw.code.hotfix));
    out.push_back(std::move(core));
    return out;
  };
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
