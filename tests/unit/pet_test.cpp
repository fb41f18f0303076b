// PET over SNMP (docs/pet.md): the BER encoder, the PET frame byte by byte against features.md §6's table, the
// SNMPv1 trap around it, the filters' matching and what they do to the message log, and the JSON of the settings.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "firmware/platform/event_records.h"
#include "firmware/platform/pet_filters.h"
#include "firmware/platform/pet_json.h"
#include "firmware/platform/pet_trap.h"
#include "firmware/platform/platform_model.h"
#include "firmware/platform/platform_state.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim::platform {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(PetBer, LengthsShortAndLong) {
  EXPECT_EQ(ber::length(0), (Bytes{0x00}));
  EXPECT_EQ(ber::length(127), (Bytes{0x7F}));
  EXPECT_EQ(ber::length(128), (Bytes{0x81, 0x80}));
  EXPECT_EQ(ber::length(200), (Bytes{0x81, 0xC8}));
  EXPECT_EQ(ber::length(300), (Bytes{0x82, 0x01, 0x2C}));
  EXPECT_EQ(ber::length(0x10000), (Bytes{0x83, 0x01, 0x00, 0x00}));
}

TEST(PetBer, IntegersAreMinimalTwosComplement) {
  EXPECT_EQ(ber::integer(0), (Bytes{0x02, 0x01, 0x00}));
  EXPECT_EQ(ber::integer(6), (Bytes{0x02, 0x01, 0x06}));
  EXPECT_EQ(ber::integer(127), (Bytes{0x02, 0x01, 0x7F}));
  EXPECT_EQ(ber::integer(128), (Bytes{0x02, 0x02, 0x00, 0x80}));
  EXPECT_EQ(ber::integer(256), (Bytes{0x02, 0x02, 0x01, 0x00}));
  EXPECT_EQ(ber::integer(-1), (Bytes{0x02, 0x01, 0xFF}));
  EXPECT_EQ(ber::integer(-128), (Bytes{0x02, 0x01, 0x80}));
  EXPECT_EQ(ber::integer(-129), (Bytes{0x02, 0x02, 0xFF, 0x7F}));
  EXPECT_EQ(ber::integer(0x040102), (Bytes{0x02, 0x03, 0x04, 0x01, 0x02}));
  // TimeTicks are unsigned: a high bit gets a leading zero.
  EXPECT_EQ(ber::unsignedValue(0x43, 0), (Bytes{0x43, 0x01, 0x00}));
  EXPECT_EQ(ber::unsignedValue(0x43, 0xFFFFFFFF), (Bytes{0x43, 0x05, 0x00, 0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(ber::unsignedValue(0x43, 1000), (Bytes{0x43, 0x02, 0x03, 0xE8}));
}

TEST(PetBer, ObjectIdentifiersAndStrings) {
  // 1.3 -> 2B; 3183 = 24 * 128 + 111 -> 98 6F.
  EXPECT_EQ(ber::oid(kPetEnterpriseOid), (Bytes{0x06, 0x09, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x98, 0x6F, 0x01, 0x01}));
  EXPECT_EQ(ber::oid(kPetVarbindOid), (Bytes{0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x98, 0x6F, 0x01, 0x01, 0x01}));
  EXPECT_EQ(ber::oid({2, 999, 16384}), (Bytes{0x06, 0x05, 0x88, 0x37, 0x81, 0x80, 0x00}));
  EXPECT_EQ(ber::octetString("public"), (Bytes{0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c'}));
  EXPECT_EQ(ber::ipAddress({192, 168, 1, 20}), (Bytes{0x40, 0x04, 192, 168, 1, 20}));
  const Bytes big(130, 0xAB);
  const Bytes encoded = ber::octetString(big);
  ASSERT_EQ(encoded.size(), 133u);
  EXPECT_EQ((Bytes{encoded[0], encoded[1], encoded[2]}), (Bytes{0x04, 0x81, 0x82}));
}

// A fan record as hardware_model.cpp writes it: time 2024-01-31T15:40:09Z, fan (04h), threshold (01h), offset 02h
// (lower critical going low), ASF, critical, sensor 2, entity 29 (fan), event data 52 ...
Bytes fanRecord() {
  MessageLogEvent e;
  e.sensorType = 0x04;
  e.eventType = 0x01;
  e.offset = 0x02;
  e.sourceType = 0x68;
  e.severity = 0x10;
  e.sensorNumber = 2;
  e.entity = 29;
  e.entityInstance = 1;
  const std::uint8_t data[8] = {0x52, 0x00, 0x64, 1, 2, 3, 4, 5};
  std::copy(std::begin(data), std::end(data), e.eventData);
  return makeMessageLogRecord(e, 1706715609);
}

TEST(PetFrame, LaysTheRecordOutAsTheSpecTable) {
  std::array<std::uint8_t, 16> guid{};
  for (std::size_t i = 0; i < guid.size(); ++i) guid[i] = static_cast<std::uint8_t>(0xA0 + i);
  const Bytes f = petFrame(guid, 0x0102, fanRecord());
  ASSERT_EQ(f.size(), 47u);
  EXPECT_EQ(Bytes(f.begin(), f.begin() + 16), Bytes(guid.begin(), guid.end()));  // 0-15 GUID
  EXPECT_EQ(f[16], 0x01);                                                           // 16-17 sequence
  EXPECT_EQ(f[17], 0x02);
  // 18-21: 1706715609 - 883612800 = 823102809 = 0x310F8D59, big-endian.
  EXPECT_EQ((Bytes{f[18], f[19], f[20], f[21]}), (Bytes{0x31, 0x0F, 0x8D, 0x59}));
  EXPECT_EQ((Bytes{f[22], f[23]}), (Bytes{0xFF, 0xFF}));  // UTC offset not given
  EXPECT_EQ(f[24], 0x68);  // trap source type
  EXPECT_EQ(f[25], 0x68);  // event source type = record[8]
  EXPECT_EQ(f[26], 0x10);  // severity = record[9]
  EXPECT_EQ(f[27], 0xFF);  // sensor device = record[4]
  EXPECT_EQ(f[28], 2);     // sensor number = record[10]
  EXPECT_EQ(f[29], 29);    // entity = record[11]
  EXPECT_EQ(f[30], 1);     // instance = record[12]
  EXPECT_EQ(Bytes(f.begin() + 31, f.begin() + 39), (Bytes{0x52, 0x00, 0x64, 1, 2, 3, 4, 5}));  // event data 1-8
  EXPECT_EQ(f[39], 0x19);  // language: English
  EXPECT_EQ((Bytes{f[40], f[41], f[42], f[43]}), (Bytes{0x00, 0x00, 0x01, 0x57}));  // IANA 343
  EXPECT_EQ((Bytes{f[44], f[45]}), (Bytes{0x00, 0x00}));  // system ID
  EXPECT_EQ(f[46], 0xC1);  // end of OEM fields
  EXPECT_EQ(petSpecificTrap(fanRecord()), 0x040102u);
  auto deasserted = fanRecord();
  deasserted[7] = 0x82;
  EXPECT_EQ(petSpecificTrap(deasserted), 0x040182u);
}

TEST(PetTrap, IsAnSnmpV1TrapPdu) {
  SnmpV1Trap trap;
  trap.community = "public";
  trap.agentAddress = {10, 0, 0, 5};
  trap.specificTrap = 0x040102;
  trap.timeTicks = 100;
  trap.varbinds.emplace_back(kPetVarbindOid, Bytes{0xDE, 0xAD});
  const Bytes expected = {
      0x30, 0x3D,                                                              // Message
      0x02, 0x01, 0x00,                                                        // version-1 (0)
      0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c',                                // community
      0xA4, 0x30,                                                              // Trap-PDU
      0x06, 0x09, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x98, 0x6F, 0x01, 0x01,        // enterprise
      0x40, 0x04, 10, 0, 0, 5,                                                 // agent-addr
      0x02, 0x01, 0x06,                                                        // generic-trap 6
      0x02, 0x03, 0x04, 0x01, 0x02,                                            // specific-trap
      0x43, 0x01, 0x64,                                                        // time-stamp
      0x30, 0x12, 0x30, 0x10,                                                  // variable-bindings, one
      0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x98, 0x6F, 0x01, 0x01, 0x01,  // name
      0x04, 0x02, 0xDE, 0xAD,                                                  // value
  };
  EXPECT_EQ(encodeSnmpV1Trap(trap), expected);
}

TEST(PetFilters, MatchEachByteOrAny) {
  PetFilter f;  // all 0xFF: anything
  EXPECT_TRUE(petFilterMatches(f, fanRecord()));
  f.sensorType = 0x04;
  EXPECT_TRUE(petFilterMatches(f, fanRecord()));
  f.sensorType = 0x01;
  EXPECT_FALSE(petFilterMatches(f, fanRecord())) << "a temperature filter";
  f = PetFilter{};
  f.offset = 0x02;
  f.severity = 0x10;
  f.entity = 29;
  f.entityInstance = 1;
  f.sensorNumber = 2;
  f.sourceType = 0x68;
  f.eventType = 0x01;
  f.deviceAddress = 0xFF;
  EXPECT_TRUE(petFilterMatches(f, fanRecord()));
  f.entityInstance = 2;
  EXPECT_FALSE(petFilterMatches(f, fanRecord()));
  EXPECT_FALSE(petFilterMatches(PetFilter{}, Bytes{1, 2, 3})) << "not a record";
}

TEST(PetFilters, TheDefaultsAsAmtShipsThem) {
  const PetSettings pet;
  ASSERT_EQ(pet.filters.size(), PetSettings::kMaxFilters);
  EXPECT_EQ(pet.filters[0].elementName, "Temperature");
  EXPECT_EQ(pet.filters[0].sensorType, 0x01);
  EXPECT_EQ(pet.filters[1].elementName, "Voltage");
  EXPECT_EQ(pet.filters[2].elementName, "Fan");
  EXPECT_EQ(pet.filters[2].sensorType, 0x04);
  EXPECT_EQ(pet.filters.back().elementName, "AMT Diagnostic");
  EXPECT_EQ(pet.filters.back().policyId, PetSettings::kDiagnosticPolicyId);
  EXPECT_TRUE(pet.filters.back().oemFilter);
  EXPECT_EQ(pet.defaultCommunityString, "public");
}

TEST(PetFilters, DecideLoggingAndAlerts) {
  PetSettings pet;
  auto d = decidePetEvent(pet, fanRecord());
  EXPECT_TRUE(d.log);
  EXPECT_EQ(d.alerts, (Bytes{1})) << "the Fan filter, PolicyID 1";

  pet.filters[2].sendAlert = false;
  d = decidePetEvent(pet, fanRecord());
  EXPECT_TRUE(d.log);
  EXPECT_TRUE(d.alerts.empty());

  pet.filters[2].sendAlert = true;
  pet.filters[2].enabled = false;
  d = decidePetEvent(pet, fanRecord());
  EXPECT_TRUE(d.log) << "no enabled filter matches: logged as before";
  EXPECT_TRUE(d.alerts.empty()) << "a disabled filter sends nothing";

  pet.filters[2].enabled = true;
  pet.filters[2].logOnEvent = false;
  d = decidePetEvent(pet, fanRecord());
  EXPECT_FALSE(d.log) << "the only matching filter does not log";
  EXPECT_EQ(d.alerts, (Bytes{1}));

  // A second matching filter of another policy that logs: logged, both policies alerted once each.
  PetFilter any;
  any.instanceId = "x";
  any.policyId = 7;
  pet.filters.push_back(any);
  d = decidePetEvent(pet, fanRecord());
  EXPECT_TRUE(d.log);
  EXPECT_EQ(d.alerts, (Bytes{1, 7}));
}

TEST(PetFilters, AppendingARecordRaisesTheAlertAndHonoursLogOnEvent) {
  PlatformState s;
  appendMessageLogRecord(s, fanRecord());
  EXPECT_EQ(s.logs.messageLog.size(), 1u);
  ASSERT_EQ(s.petOutbox.raised, 1u);
  ASSERT_EQ(s.petOutbox.recent.size(), 1u);
  EXPECT_EQ(s.petOutbox.recent[0].sequence, 1u);
  EXPECT_EQ(s.petOutbox.recent[0].record, fanRecord());

  s.pet.filters[2].logOnEvent = false;
  appendMessageLogRecord(s, fanRecord());
  EXPECT_EQ(s.logs.messageLog.size(), 1u) << "LogOnEvent false keeps it out of the log";
  EXPECT_EQ(s.petOutbox.raised, 2u) << "but the trap still goes";

  // A frozen log still sends traps.
  s.pet.filters[2].logOnEvent = true;
  s.services.messageLogFrozen = true;
  appendMessageLogRecord(s, fanRecord());
  EXPECT_EQ(s.logs.messageLog.size(), 1u);
  EXPECT_EQ(s.petOutbox.raised, 3u);

  // The outbox keeps the newest alerts only.
  for (int i = 0; i < 100; ++i) appendMessageLogRecord(s, fanRecord());
  EXPECT_EQ(s.petOutbox.recent.size(), PetOutbox::kKept);
  EXPECT_EQ(s.petOutbox.recent.back().sequence, 103u);
}

TEST(PetJson, RoundTripsAndNamesBadFields) {
  PetSettings pet;
  pet.defaultCommunityString = "ops";
  pet.filters[0].sendAlert = false;
  pet.filters[0].offset = 0x02;
  pet.subscribers.push_back({"Intel(r) AMT:SNMP Subscriber 1", "10.0.0.9", 3, 16162, "secret", 1});
  pet.nextSubscriberNumber = 2;
  PetSettings back;
  back.filters.clear();
  ASSERT_EQ(petFromJson(petToJson(pet), back), "");
  EXPECT_EQ(back, pet);

  auto json = petToJson(pet);
  json.as_object()["filters"].as_array()[3].as_object()["policyId"] = 256;
  PetSettings untouched;
  EXPECT_EQ(petFromJson(json, untouched), "filters[3].policyId is out of range");
  EXPECT_EQ(untouched, PetSettings{});
  json = petToJson(pet);
  json.as_object()["subscribers"].as_array()[0].as_object()["port"] = "x";
  EXPECT_EQ(petFromJson(json, untouched), "subscribers[0].port must be an integer");
}

// Subscribers and filter settings are kept in the state dir, and an unprovision takes them back to the defaults.
TEST(PetState, PersistedAndResetByAnUnprovision) {
  test::TempDir dir;
  {
    auto model = PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(model) << model.error().message;
    ASSERT_EQ((*model)->update([](PlatformState& s) {
      s.pet.subscribers.push_back({"Intel(r) AMT:SNMP Subscriber 1", "10.0.0.9", 3, 162, "", 1});
      s.pet.filters[0].enabled = false;
      s.pet.defaultCommunityString = "ops";
    }), ChangeResult::Ok);
  }
  auto model = PlatformModel::open(dir.path(), {});
  ASSERT_TRUE(model) << model.error().message;
  const auto& pet = (*model)->state().pet;
  ASSERT_EQ(pet.subscribers.size(), 1u);
  EXPECT_EQ(pet.subscribers[0].accessInfo, "10.0.0.9");
  EXPECT_FALSE(pet.filters[0].enabled);
  EXPECT_EQ(pet.defaultCommunityString, "ops");
  ASSERT_EQ((*model)->unprovision(UnprovisionScope::Full), ChangeResult::Ok);
  EXPECT_EQ((*model)->state().pet, PetSettings{});
}

}  // namespace
}  // namespace mesim::platform
