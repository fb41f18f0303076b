#include "firmware/platform/third_party_storage_json.h"

#include <boost/json.hpp>

#include <limits>
#include <set>
#include <stdexcept>

#include "common/text_codecs.h"

namespace mesim::platform {
namespace json = boost::json;
namespace {

using L = TpdsLimits;

json::array handles(const std::vector<std::uint32_t>& list) {
  json::array out;
  for (auto h : list) out.push_back(h);
  return out;
}

// Reading: throws std::invalid_argument naming the field; thirdPartyStorageFromJson turns it into an error.
class In {
 public:
  In(const json::value& v, std::string path) : path_(std::move(path)) {
    if (!v.is_object()) throw std::invalid_argument(path_ + " must be an object");
    obj_ = &v.get_object();
  }
  std::string at(std::string_view key) const { return path_ + "." + std::string(key); }
  const json::value* find(std::string_view key) const { return obj_->if_contains(key); }

  void number(std::string_view key, std::uint32_t& out) const {
    const json::value* v = find(key);
    if (!v) return;
    out = toNumber(*v, at(key));
  }
  void boolean(std::string_view key, bool& out) const {
    const json::value* v = find(key);
    if (!v) return;
    if (!v->is_bool()) throw std::invalid_argument(at(key) + " must be true or false");
    out = v->get_bool();
  }
  void name(std::string_view key, std::string& out, std::size_t maxLength) const {
    const json::value* v = find(key);
    if (!v) return;
    if (!v->is_string()) throw std::invalid_argument(at(key) + " must be a string");
    out = std::string(v->get_string());
    if (out.size() > maxLength || !text::isValidUtf8(out))
      throw std::invalid_argument(at(key) + " must be UTF-8 of at most " + std::to_string(maxLength) + " bytes");
  }
  void hex(std::string_view key, std::vector<std::uint8_t>& out) const {
    std::string text;
    name(key, text, 64);
    auto b = text::fromHex(text);
    if (!b) throw std::invalid_argument(at(key) + " must be hex");
    out = std::move(*b);
  }
  void base64(std::string_view key, std::vector<std::uint8_t>& out) const {
    const json::value* v = find(key);
    if (!v) return;
    if (!v->is_string()) throw std::invalid_argument(at(key) + " must be a base64 string");
    auto b = text::base64Decode(v->get_string());
    if (!b) throw std::invalid_argument(at(key) + " is not valid base64");
    out = std::move(*b);
  }
  void handleList(std::string_view key, std::vector<std::uint32_t>& out) const {
    const json::array* a = array(key);
    if (!a) return;
    out.clear();
    for (std::size_t i = 0; i < a->size(); ++i) out.push_back(toNumber((*a)[i], at(key) + "[" + std::to_string(i) + "]"));
  }
  const json::array* array(std::string_view key) const {
    const json::value* v = find(key);
    if (!v) return nullptr;
    if (!v->is_array()) throw std::invalid_argument(at(key) + " must be an array");
    return &v->get_array();
  }

 private:
  static std::uint32_t toNumber(const json::value& v, const std::string& where) {
    std::uint64_t n = 0;
    if (v.is_uint64()) n = v.get_uint64();
    else if (v.is_int64() && v.get_int64() >= 0) n = static_cast<std::uint64_t>(v.get_int64());
    else throw std::invalid_argument(where + " must be a non-negative integer");
    if (n > std::numeric_limits<std::uint32_t>::max()) throw std::invalid_argument(where + " is out of range");
    return static_cast<std::uint32_t>(n);
  }
  const json::object* obj_ = nullptr;
  std::string path_;
};

template <class T, class ReadOne>
std::vector<T> readList(const In& in, std::string_view key, std::size_t maxCount, ReadOne readOne) {
  std::vector<T> out;
  const json::array* a = in.array(key);
  if (!a) return out;
  if (a->size() > maxCount)
    throw std::invalid_argument(in.at(key) + " holds more than " + std::to_string(maxCount) + " entries");
  for (std::size_t i = 0; i < a->size(); ++i) out.push_back(readOne(In((*a)[i], in.at(key) + "[" + std::to_string(i) + "]")));
  return out;
}

void check(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

}  // namespace

json::value thirdPartyStorageToJson(const ThirdPartyStorageState& s) {
  json::array enterprises, entries, applications, blocks;
  for (const auto& e : s.enterprises) enterprises.push_back(json::object{{"handle", e.handle}, {"name", e.name}});
  for (const auto& e : s.allocEntries)
    entries.push_back(json::object{{"handle", e.handle},
                                   {"vendorName", e.vendorName},
                                   {"applicationName", e.applicationName},
                                   {"partner", e.partner},
                                   {"totalAllocationSize", e.totalAllocationSize}});
  for (const auto& a : s.applications)
    applications.push_back(json::object{{"handle", a.handle},
                                        {"uuid", text::toHex(a.uuid)},
                                        {"vendorName", a.vendorName},
                                        {"applicationName", a.applicationName},
                                        {"enterpriseName", a.enterpriseName},
                                        {"local", a.local}});
  for (const auto& b : s.blocks) {
    json::array groups;
    for (const auto& g : b.groups)
      groups.push_back(json::object{
          {"handle", g.handle}, {"name", g.name}, {"permissions", g.permissions}, {"members", handles(g.members)}});
    blocks.push_back(json::object{{"handle", b.handle},
                                  {"owner", b.owner},
                                  {"name", b.name},
                                  {"hidden", b.hidden},
                                  {"partnerArea", b.partnerArea},
                                  {"size", b.data.size()},
                                  {"data", text::base64Encode(b.data)},
                                  {"groups", std::move(groups)}});
  }
  return json::object{{"maxPartnerStorage", s.maxPartnerStorage},
                      {"maxNonPartnerTotalAllocationSize", s.maxNonPartnerTotalAllocationSize},
                      {"writesRemaining", s.writesRemaining},
                      {"nextHandle", s.nextHandle},
                      {"enterprises", std::move(enterprises)},
                      {"allocEntries", std::move(entries)},
                      {"applications", std::move(applications)},
                      {"blocks", std::move(blocks)}};
}

Result<> thirdPartyStorageFromJson(const json::value& v, ThirdPartyStorageState& out) {
  try {
    const std::string path = "thirdPartyStorage";
    In in(v, path);
    ThirdPartyStorageState s;
    in.number("maxPartnerStorage", s.maxPartnerStorage);
    in.number("maxNonPartnerTotalAllocationSize", s.maxNonPartnerTotalAllocationSize);
    in.number("writesRemaining", s.writesRemaining);
    in.number("nextHandle", s.nextHandle);
    check(s.maxPartnerStorage <= L::kTotalStorage, in.at("maxPartnerStorage") + " is above the total storage");
    s.enterprises = readList<TpdsEnterprise>(in, "enterprises", L::kMaxEaclEntries, [](const In& e) {
      TpdsEnterprise x;
      e.number("handle", x.handle);
      e.name("name", x.name, L::kMaxNameLength);
      return x;
    });
    s.allocEntries = readList<TpdsAllocEntry>(in, "allocEntries", 1024, [](const In& e) {
      TpdsAllocEntry x;
      e.number("handle", x.handle);
      e.name("vendorName", x.vendorName, L::kMaxNameLength);
      e.name("applicationName", x.applicationName, L::kMaxNameLength);
      e.boolean("partner", x.partner);
      e.number("totalAllocationSize", x.totalAllocationSize);
      return x;
    });
    s.applications = readList<TpdsApplication>(in, "applications", 1024, [](const In& e) {
      TpdsApplication x;
      e.number("handle", x.handle);
      e.hex("uuid", x.uuid);
      check(x.uuid.size() == 16, e.at("uuid") + " must be 16 bytes");
      e.name("vendorName", x.vendorName, L::kMaxNameLength);
      e.name("applicationName", x.applicationName, L::kMaxNameLength);
      e.name("enterpriseName", x.enterpriseName, L::kMaxNameLength);
      e.boolean("local", x.local);
      return x;
    });
    std::uint64_t total = 0;
    s.blocks = readList<TpdsBlock>(in, "blocks", L::kTotalStorage / L::kMtu, [&](const In& e) {
      TpdsBlock x;
      e.number("handle", x.handle);
      e.number("owner", x.owner);
      e.name("name", x.name, L::kMaxBlockNameLength);
      e.boolean("hidden", x.hidden);
      e.boolean("partnerArea", x.partnerArea);
      e.base64("data", x.data);
      std::uint32_t size = 0;
      e.number("size", size);
      check(size == x.data.size() && size > 0 && size % L::kMtu == 0,
            e.at("data") + " must hold size bytes, a multiple of " + std::to_string(L::kMtu));
      total += size;
      x.groups = readList<TpdsGroup>(e, "groups", L::kMaxGroupsPerBlock, [](const In& g) {
        TpdsGroup y;
        g.number("handle", y.handle);
        g.name("name", y.name, L::kMaxBlockNameLength);
        g.number("permissions", y.permissions);
        check(y.permissions == 1 || y.permissions == 2, g.at("permissions") + " must be 1 or 2");
        g.handleList("members", y.members);
        check(y.members.size() <= L::kMaxMembersPerGroup, g.at("members") + " holds too many members");
        return y;
      });
      return x;
    });
    check(total <= L::kTotalStorage, path + ".blocks hold more than the total storage");
    // Handles are unique and below nextHandle, so a new one never repeats an old one.
    std::set<std::uint32_t> seen;
    auto note = [&](std::uint32_t h, const std::string& what) {
      check(h != 0 && h < s.nextHandle && seen.insert(h).second, path + ": " + what + " handle " + std::to_string(h) +
                                                                     " is zero, repeated or not below nextHandle");
    };
    for (const auto& e : s.enterprises) note(e.handle, "enterprise");
    for (const auto& e : s.allocEntries) note(e.handle, "allocation entry");
    for (const auto& a : s.applications) note(a.handle, "application");
    for (const auto& b : s.blocks) {
      note(b.handle, "block");
      for (const auto& g : b.groups) note(g.handle, "group");
    }
    out = std::move(s);
    return {};
  } catch (const std::invalid_argument& e) {
    return fail(e.what());
  }
}

}  // namespace mesim::platform
