// AMT's web storage (AMT >= 11.6; spec features.md §3): the /amt-storage/ HTTP API on 16992/16993 behind the same
// Digest login as the web UI. GET /amt-storage/ lists what is stored (JSON "information" and "content");
// PUT /amt-storage/[VENDOR/APP/]NAME[?append=] stores an item in chunks of at most kMaxChunkBytes, the first one
// prefixed with <metadata><headers><h>Content-Type: …</h>[<h>Content-Encoding: …</h>]</headers>[<link>…</link>]
// </metadata>; GET serves an item with its stored headers; DELETE removes it. Each name is 1..11 characters of
// [A-Za-z0-9._-]; vendor "Intel" is Intel's own. A root index.htm or logon.htm replaces the web UI's page of that
// name; items with a link appear in links.htm.
//
// Persisted in the state dir's amt-storage/ folder: each item's bytes in a file of its own and index.json naming
// them, each written whole and atomically (firmware/core/atomic_file.h), the content before the index that names it,
// so a kill at any instant leaves the old or the new item, never a torn one (a content file no index names is
// removed on the next start). The stored total is capped at kQuotaBytes (a choice, see docs/web-ui.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "firmware/core/disk_full_switch.h"
#include "wsman/cim/realms.h"
#include "wsman/http/web_service.h"

namespace mesim::wsman::webui {

inline constexpr std::size_t kMaxChunkBytes = 7000;
inline constexpr std::size_t kMaxStorageNameLength = 11;
inline constexpr std::size_t kQuotaBytes = 192 * 1024;
inline constexpr std::size_t kMaxStorageItems = 64;
inline constexpr std::size_t kMaxMetadataHeaderLength = 128;

// What the metadata prefix of a first chunk says.
struct StorageMetadata {
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type, Content-Encoding
  std::string link;                                          // the links.htm title; "" for none
};

// Splits a PUT body into its <metadata> prefix (when it starts with one) and the bytes after it. Refuses an
// unclosed or malformed prefix, a header other than Content-Type and Content-Encoding, a value with control
// characters or over kMaxMetadataHeaderLength, and a link that is not UTF-8 text of at most 64 bytes.
struct StoragePut {
  std::optional<StorageMetadata> metadata;
  std::string_view data;
};
Result<StoragePut> parseStoragePut(std::string_view body);

// Where an /amt-storage/ target points: the listing (all empty), a root item (name only) or vendor/app/name.
struct StorageName {
  std::string vendor;
  std::string app;
  std::string name;
  bool listing() const { return name.empty(); }
  std::string path() const;  // "/amt-storage/vendor/app/name"
};
Result<StorageName> parseStoragePath(std::string_view path);

class AmtStorage {
 public:
  // Reads `dir`/index.json (made on the first PUT) and drops what it cannot use, naming it in the log.
  static Result<std::unique_ptr<AmtStorage>> open(std::filesystem::path dir, const core::DiskFullSwitch* disk,
                                                  log::Context log);

  static bool handles(std::string_view path) { return path == "/amt-storage" || path.starts_with("/amt-storage/"); }
  // An authenticated request for an /amt-storage/ path by a caller with `realms`.
  http::WebResponse handle(const http::WebRequest& request, cim::RealmSet realms);
  // The stored root item `name` (index.htm, logon.htm) as a page, when there is one.
  std::optional<http::WebResponse> frontPage(std::string_view name) const;
  // (link title, path) of every item with a link, in storing order.
  std::vector<std::pair<std::string, std::string>> links() const;
  std::size_t usedBytes() const;
  std::size_t itemCount() const { return items_.size(); }

  const log::Context& logContext() const { return log_; }

 private:
  struct Item {
    StorageName name;
    StorageMetadata metadata;
    std::string file;  // under dir_
    std::string data;
  };
  AmtStorage(std::filesystem::path dir, const core::DiskFullSwitch* disk, log::Context log)
      : dir_(std::move(dir)), disk_(disk), log_(std::move(log)) {}
  Result<> load();
  Result<> saveIndex() const;
  Item* find(const StorageName& name);
  http::WebResponse list(const http::WebRequest& request, cim::RealmSet realms) const;
  http::WebResponse put(const http::WebRequest& request, const StorageName& name);
  http::WebResponse remove(const StorageName& name);

  std::filesystem::path dir_;
  const core::DiskFullSwitch* disk_;
  log::Context log_;
  std::vector<Item> items_;
  std::uint64_t nextFile_ = 1;
};

}  // namespace mesim::wsman::webui
