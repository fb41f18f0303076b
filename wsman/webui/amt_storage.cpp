#include "wsman/webui/amt_storage.h"

#include <algorithm>
#include <cctype>
#include <system_error>

#include <boost/json.hpp>

#include "common/text_codecs.h"
#include "firmware/core/atomic_file.h"

namespace mesim::wsman::webui {

namespace fs = std::filesystem;
using http::WebRequest;
using http::WebResponse;

namespace {

constexpr std::string_view kPrefix = "/amt-storage/";
constexpr const char* kIndexFile = "index.json";
constexpr std::size_t kMaxLinkBytes = 64;

WebResponse jsonAnswer(unsigned status, const boost::json::value& body) {
  WebResponse r;
  r.status = status;
  r.header("Content-Type", "application/json").header("Cache-Control", "no-cache");
  r.body = boost::json::serialize(body);
  return r;
}

WebResponse jsonError(unsigned status, std::string message) {
  return jsonAnswer(status, boost::json::object{{"error", std::move(message)}});
}

bool validName(std::string_view name) {
  if (name.empty() || name.size() > kMaxStorageNameLength || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

bool hasQueryKey(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    if (part.substr(0, part.find('=')) == key) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

// The text between `open` and `close` at the start of `in` (after `open`), advancing `in` past `close`.
std::optional<std::string_view> element(std::string_view& in, std::string_view open, std::string_view close) {
  if (!in.starts_with(open)) return std::nullopt;
  const auto end = in.find(close, open.size());
  if (end == std::string_view::npos) return std::nullopt;
  auto inner = in.substr(open.size(), end - open.size());
  in.remove_prefix(end + close.size());
  return inner;
}

std::uint32_t realmBits(cim::RealmSet realms) {
  std::uint32_t bits = 0;
  for (auto realm : cim::kAllRealms)
    if (realms.has(realm)) bits |= std::uint32_t{1} << static_cast<unsigned>(realm);
  return bits;
}

}  // namespace

Result<StoragePut> parseStoragePut(std::string_view body) {
  StoragePut put;
  if (!body.starts_with("<metadata>")) {
    put.data = body;
    return put;
  }
  std::string_view rest = body;
  auto inner = element(rest, "<metadata>", "</metadata>");
  if (!inner) return fail("the <metadata> prefix is not closed");
  put.data = rest;
  StorageMetadata metadata;
  std::string_view in = *inner;
  if (auto headers = element(in, "<headers>", "</headers>")) {
    std::string_view list = *headers;
    while (!list.empty()) {
      auto h = element(list, "<h>", "</h>");
      if (!h) return fail("<headers> holds something other than <h>…</h> elements");
      const auto colon = h->find(':');
      if (colon == std::string_view::npos) return fail("a metadata header has no ':'");
      std::string name(h->substr(0, colon));
      std::string_view value = h->substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      std::string canonical;
      if (equalsIgnoringCase(name, "Content-Type")) canonical = "Content-Type";
      else if (equalsIgnoringCase(name, "Content-Encoding")) canonical = "Content-Encoding";
      else return fail("metadata header '" + text::toValidUtf8(name) + "' is not stored: only Content-Type and Content-Encoding are");
      if (value.empty() || value.size() > kMaxMetadataHeaderLength ||
          !std::all_of(value.begin(), value.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7F; }))
        return fail(canonical + " must be 1.." + std::to_string(kMaxMetadataHeaderLength) + " printable ASCII characters");
      for (const auto& [existing, _] : metadata.headers)
        if (existing == canonical) return fail(canonical + " is given twice");
      metadata.headers.emplace_back(std::move(canonical), std::string(value));
    }
  }
  if (auto link = element(in, "<link>", "</link>")) {
    if (link->size() > kMaxLinkBytes || !text::isValidUtf8(*link) ||
        std::any_of(link->begin(), link->end(), [](unsigned char c) { return c < 0x20; }))
      return fail("the <link> must be UTF-8 text of at most " + std::to_string(kMaxLinkBytes) + " bytes");
    metadata.link = std::string(*link);
  }
  if (!in.empty()) return fail("<metadata> holds something other than <headers> and <link>");
  put.metadata = std::move(metadata);
  return put;
}

std::string StorageName::path() const {
  return std::string(kPrefix) + (vendor.empty() ? name : vendor + "/" + app + "/" + name);
}

Result<StorageName> parseStoragePath(std::string_view path) {
  StorageName n;
  if (path == "/amt-storage" || path == kPrefix) return n;
  if (!path.starts_with(kPrefix)) return fail("not an /amt-storage/ path");
  std::string_view rest = path.substr(kPrefix.size());
  std::vector<std::string_view> parts;
  while (true) {
    const auto slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (parts.size() != 1 && parts.size() != 3)
    return fail("an item is /amt-storage/NAME or /amt-storage/VENDOR/APP/NAME");
  for (auto part : parts)
    if (!validName(part))
      return fail("each name is 1 to " + std::to_string(kMaxStorageNameLength) +
                  " characters of letters, digits, '.', '_' and '-', not starting with '.'");
  n.name = std::string(parts.back());
  if (parts.size() == 3) {
    n.vendor = std::string(parts[0]);
    n.app = std::string(parts[1]);
  }
  return n;
}

Result<std::unique_ptr<AmtStorage>> AmtStorage::open(fs::path dir, const core::DiskFullSwitch* disk, log::Context log) {
  std::unique_ptr<AmtStorage> storage(new AmtStorage(std::move(dir), disk, std::move(log)));
  if (auto loaded = storage->load(); !loaded) return loaded.error();
  return storage;
}

Result<> AmtStorage::load() {
  std::string text;
  if (auto ec = core::readFile(dir_ / kIndexFile, text); ec) {
    if (ec == std::errc::no_such_file_or_directory) return {};
    return fail("cannot read " + (dir_ / kIndexFile).string() + ": " + ec.message());
  }
  boost::system::error_code ec;
  auto doc = boost::json::parse(text, ec);
  if (ec || !doc.is_object() || !doc.as_object().contains("items") || !doc.at("items").is_array())
    return fail((dir_ / kIndexFile).string() + " is not an /amt-storage/ index; move it away to start empty");
  std::vector<std::string> named;
  for (const auto& entry : doc.at("items").as_array()) {
    const auto* o = entry.if_object();
    auto str = [o](const char* key) -> std::string {
      const auto* v = o ? o->if_contains(key) : nullptr;
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    Item item;
    item.name.vendor = str("vendor");
    item.name.app = str("app");
    item.name.name = str("name");
    item.metadata.link = str("link");
    item.file = str("file");
    if (const auto* headers = o ? o->if_contains("headers") : nullptr; headers && headers->is_array())
      for (const auto& h : headers->as_array())
        if (h.is_array() && h.as_array().size() == 2 && h.as_array()[0].is_string() && h.as_array()[1].is_string())
          item.metadata.headers.emplace_back(std::string(h.as_array()[0].as_string()),
                                             std::string(h.as_array()[1].as_string()));
    auto parsed = parseStoragePath(item.name.path());
    const bool fileNameOk = item.file.starts_with("item-") && item.file.find('/') == std::string::npos;
    if (!parsed || item.name.name.empty() || !fileNameOk || core::readFile(dir_ / item.file, item.data)) {
      MESIM_LOG(Warn, "amt-storage", "dropping stored item '" << text::toValidUtf8(item.name.path())
                                                              << "': its entry or its file is not usable");
      continue;
    }
    named.push_back(item.file);
    nextFile_ = std::max<std::uint64_t>(nextFile_, std::strtoull(item.file.c_str() + 5, nullptr, 10) + 1);
    items_.push_back(std::move(item));
  }
  // Content written before a kill, its index never: nobody names it.
  std::error_code dirEc;
  for (const auto& file : fs::directory_iterator(dir_, dirEc)) {
    const auto name = file.path().filename().string();
    if (name.starts_with("item-") && std::find(named.begin(), named.end(), name) == named.end()) {
      std::error_code ignored;
      fs::remove(file.path(), ignored);
    }
  }
  return {};
}

Result<> AmtStorage::saveIndex() const {
  boost::json::array items;
  for (const auto& item : items_) {
    boost::json::array headers;
    for (const auto& [name, value] : item.metadata.headers) headers.push_back(boost::json::array{name, value});
    items.push_back(boost::json::object{{"vendor", item.name.vendor}, {"app", item.name.app}, {"name", item.name.name},
                                        {"headers", std::move(headers)}, {"link", item.metadata.link},
                                        {"file", item.file}, {"size", item.data.size()}});
  }
  const auto text = boost::json::serialize(boost::json::object{{"version", 1}, {"items", std::move(items)}});
  if (auto ec = core::writeFileAtomic(dir_ / kIndexFile, text, core::kOwnerReadWrite, disk_); ec)
    return fail("cannot write " + (dir_ / kIndexFile).string() + ": " + ec.message());
  return {};
}

AmtStorage::Item* AmtStorage::find(const StorageName& name) {
  for (auto& item : items_)
    if (item.name.vendor == name.vendor && item.name.app == name.app && item.name.name == name.name) return &item;
  return nullptr;
}

std::size_t AmtStorage::usedBytes() const {
  std::size_t used = 0;
  for (const auto& item : items_) used += item.data.size();
  return used;
}

WebResponse AmtStorage::handle(const WebRequest& request, cim::RealmSet realms) {
  auto name = parseStoragePath(request.path);
  if (!name) return jsonError(400, name.error().message);
  const bool reading = request.method == "GET" || request.method == "HEAD";
  if (name->listing()) {
    if (!reading) {
      auto r = jsonError(405, "the listing is read with GET; store items at /amt-storage/[VENDOR/APP/]NAME");
      r.header("Allow", "GET, HEAD");
      return r;
    }
    return list(request, realms);
  }
  if (reading) {
    const auto* item = find(*name);
    if (!item) return jsonError(404, "nothing is stored at " + name->path());
    WebResponse r;
    bool typed = false;
    for (const auto& [header, value] : item->metadata.headers) {
      r.header(header, value);
      typed = typed || header == "Content-Type";
    }
    if (!typed) r.header("Content-Type", "application/octet-stream");
    r.header("Cache-Control", "no-cache");
    r.body = item->data;
    return r;
  }
  if (request.method != "PUT" && request.method != "DELETE") {
    auto r = jsonError(405, "an item takes GET, PUT and DELETE");
    r.header("Allow", "GET, HEAD, PUT, DELETE");
    return r;
  }
  if (!realms.has(cim::Realm::Storage) && !realms.has(cim::Realm::StorageAdmin))
    return jsonError(403, "storing and deleting need the Storage or Storage Admin realm");
  if (equalsIgnoringCase(name->vendor, "Intel"))
    return jsonError(403, "vendor Intel is reserved for Intel's own applications");
  return request.method == "PUT" ? put(request, *name) : remove(*name);
}

WebResponse AmtStorage::list(const WebRequest& request, cim::RealmSet realms) const {
  boost::json::array content;
  for (const auto& item : items_) {
    boost::json::object o;
    if (!item.name.vendor.empty()) {
      o["vendor"] = item.name.vendor;
      o["app"] = item.name.app;
    }
    o["name"] = item.name.name;
    o["size"] = item.data.size();
    if (!item.metadata.link.empty()) o["link"] = item.metadata.link;
    content.push_back(std::move(o));
  }
  boost::json::object information{{"version", 1.1}, {"realms", realmBits(realms)}, {"user", request.user},
                                  {"used", usedBytes()}, {"quota", kQuotaBytes}};
  return jsonAnswer(200, boost::json::object{{"information", std::move(information)}, {"content", std::move(content)}});
}

WebResponse AmtStorage::put(const WebRequest& request, const StorageName& name) {
  if (request.body.size() > kMaxChunkBytes)
    return jsonError(413, "a chunk is at most " + std::to_string(kMaxChunkBytes) + " bytes; send the rest with ?append=");
  const bool append = hasQueryKey(request.query, "append");
  Item* existing = find(name);
  Item next;
  if (append) {
    if (!existing) return jsonError(404, "nothing is stored at " + name.path() + " to append to");
    next = *existing;
    next.data += request.body;
  } else {
    auto parsed = parseStoragePut(request.body);
    if (!parsed) return jsonError(400, parsed.error().message);
    next.name = name;
    if (parsed->metadata) next.metadata = std::move(*parsed->metadata);
    next.data = std::string(parsed->data);
  }
  const std::size_t others = usedBytes() - (existing ? existing->data.size() : 0);
  if (others + next.data.size() > kQuotaBytes)
    return jsonError(507, "the storage quota of " + std::to_string(kQuotaBytes) + " bytes would be exceeded (" +
                              std::to_string(others) + " used by other items, " + std::to_string(next.data.size()) +
                              " for this one)");
  if (!existing && items_.size() >= kMaxStorageItems)
    return jsonError(507, "at most " + std::to_string(kMaxStorageItems) + " items can be stored");
  std::error_code ec;
  fs::create_directories(dir_, ec);
  next.file = "item-" + std::to_string(nextFile_++) + ".bin";
  const std::string newFile = next.file;
  if (auto wec = core::writeFileAtomic(dir_ / next.file, next.data, core::kOwnerReadWrite, disk_); wec) {
    MESIM_LOG(Warn, "amt-storage", "cannot store " << name.path() << ": " << wec.message());
    return jsonError(507, "the item could not be stored: " + wec.message());
  }
  const std::string oldFile = existing ? existing->file : std::string();
  const bool replaced = existing != nullptr;
  const std::size_t at = existing ? static_cast<std::size_t>(existing - items_.data()) : items_.size();
  Item previous;
  if (existing) {
    previous = std::move(*existing);
    *existing = std::move(next);
  } else {
    items_.push_back(std::move(next));
  }
  if (auto saved = saveIndex(); !saved) {
    if (existing) std::swap(items_[at], previous); else items_.pop_back();
    fs::remove(dir_ / newFile, ec);
    MESIM_LOG(Warn, "amt-storage", saved.error().message);
    return jsonError(507, "the item could not be stored: " + saved.error().message);
  }
  if (!oldFile.empty()) fs::remove(dir_ / oldFile, ec);
  const auto& stored = items_[at];
  return jsonAnswer(replaced ? 200 : 201, boost::json::object{{"name", stored.name.name}, {"size", stored.data.size()}});
}

WebResponse AmtStorage::remove(const StorageName& name) {
  Item* existing = find(name);
  if (!existing) return jsonError(404, "nothing is stored at " + name.path());
  const auto at = static_cast<std::size_t>(existing - items_.data());
  Item removed = std::move(*existing);
  items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(at));
  if (auto saved = saveIndex(); !saved) {
    items_.insert(items_.begin() + static_cast<std::ptrdiff_t>(at), std::move(removed));
    return jsonError(507, "the item could not be deleted: " + saved.error().message);
  }
  std::error_code ec;
  fs::remove(dir_ / removed.file, ec);
  return jsonAnswer(200, boost::json::object{{"deleted", name.path()}});
}

std::optional<WebResponse> AmtStorage::frontPage(std::string_view name) const {
  for (const auto& item : items_) {
    if (!item.name.vendor.empty() || item.name.name != name) continue;
    WebResponse r;
    bool typed = false;
    for (const auto& [header, value] : item.metadata.headers) {
      r.header(header, value);
      typed = typed || header == "Content-Type";
    }
    if (!typed) r.header("Content-Type", "text/html");
    r.header("Cache-Control", "no-cache");
    r.body = item.data;
    return r;
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> AmtStorage::links() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : items_)
    if (!item.metadata.link.empty()) out.emplace_back(item.metadata.link, item.name.path());
  return out;
}

}  // namespace mesim::wsman::webui
