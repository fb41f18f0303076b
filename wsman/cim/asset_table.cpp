// AMT_AssetTableService and AMT_AssetTable (spec/features.md §4): the SMBIOS structures the BIOS handed the ME at
// boot, one instance each (key TableType + InstanceID), TableData the structure's bytes (formatted area and
// strings) in base64. Made from the same HardwareInventory as the CIM inventory classes, so a console that
// decodes the tables sees the same serials, sizes and versions; types 130 ("$AMT") and 131 ("vPro") are Intel's.
#include "firmware/platform/hardware_model.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"
#include "wsman/cim/hardware_common.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kServiceName = "Intel(r) AMT Asset Table Service";

std::array<std::uint16_t, 4> meVersionOf(CimContext& ctx) {
  const auto& v = ctx.platform.firmware().code;
  return {v.major, v.minor, v.hotfix, v.build};
}

}  // namespace

void registerAssetTable(ClassRegistry& r) {
  ClassDef service{.name = "AMT_AssetTableService", .schema = Schema::Amt, .keys = kServiceKeys};
  service.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
                        P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
  service.enumerate = [](CimContext&) {
    Instance i;
    setServiceKeys(i, "AMT_AssetTableService", kServiceName)
        .set("ElementName", kServiceName)
        .setNum("EnabledState", 5)  // not applicable: the tables are read, not switched
        .setNum("RequestedState", 12);
    return std::vector<Instance>{i};
  };
  r.add(std::move(service));

  ClassDef table{.name = "AMT_AssetTable", .schema = Schema::Amt, .keys = {"InstanceID", "TableType"}};
  table.properties = {P("ElementName"), P("InstanceID"), P("TableData", T::Base64), P("TableType", T::UInt32),
                      P("TableTypeInfo")};
  table.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const auto structures = platform::buildSmbiosStructures(inventoryOf(ctx), ctx.platform.uuid(), meVersionOf(ctx));
    for (const auto& s : structures) {
      if (s.type == 127) continue;  // the end-of-table marker is no asset
      Instance i;
      i.set("ElementName", "Intel(r) AMT Asset Table")
          .set("InstanceID", std::to_string(s.handle))
          .set("TableData", base64Encode(s.bytes))
          .setNum("TableType", s.type)
          .set("TableTypeInfo", "SMbios:" + std::to_string(s.type));
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(table));
}

}  // namespace mesim::wsman::cim
