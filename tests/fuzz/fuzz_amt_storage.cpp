// Arbitrary /amt-storage/ PUT bodies and paths (wsman/webui/amt_storage.h): parseStoragePut and parseStoragePath on
// every input, then the input as a PUT (first byte: which path, whether ?append=) into a real AmtStorage over a
// temporary directory, then GET of the same path. The parsers never accept what the API says they refuse; every
// answer is a 2xx or a 4xx/507 with a JSON error; what a 2xx PUT stored reads back byte for byte.
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "tests/fuzz/fuzz_platform.h"
#include "wsman/webui/amt_storage.h"

namespace {

struct Fixture {
  Fixture() {
    auto opened = mesim::wsman::webui::AmtStorage::open(dir.path(), nullptr, {});
    if (!opened) std::abort();
    storage = std::move(*opened);
  }
  mesim::test::LogThreshold quiet{mesim::log::Level::Off};
  mesim::test::TempDir dir{"fuzz-amt-storage"};
  std::unique_ptr<mesim::wsman::webui::AmtStorage> storage;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  if (auto put = mesim::wsman::webui::parseStoragePut(body)) {
    if (put->metadata) {
      for (const auto& [name, value] : put->metadata->headers) {
        if (name != "Content-Type" && name != "Content-Encoding") std::abort();
        if (value.empty() || value.size() > mesim::wsman::webui::kMaxMetadataHeaderLength) std::abort();
        for (unsigned char c : value)
          if (c < 0x20 || c >= 0x7F) std::abort();  // nothing can end the HTTP header it goes into
      }
    } else if (put->data != body) {
      std::abort();
    }
  }
  if (auto name = mesim::wsman::webui::parseStoragePath("/amt-storage/" + std::string(body.substr(0, 40)))) {
    for (const auto* part : {&name->vendor, &name->app, &name->name})
      if (part->size() > mesim::wsman::webui::kMaxStorageNameLength || part->find('/') != std::string::npos) std::abort();
  }

  static constexpr const char* kPaths[] = {"/amt-storage/index.htm", "/amt-storage/User/SDK/a.htm",
                                           "/amt-storage/Intel/x/y", "/amt-storage/bad/path"};
  mesim::wsman::http::WebRequest request;
  request.method = "PUT";
  request.user = "admin";
  request.path = request.target = kPaths[data[0] % 4];
  if (data[0] & 0x10) request.query = "append=";
  request.body = std::string(body);
  const auto answer = fixture.storage->handle(request, mesim::wsman::cim::RealmSet::all());
  const bool ok = answer.status == 200 || answer.status == 201;
  if (!ok) {
    if (answer.status < 400 || answer.status > 507) std::abort();
    boost::system::error_code ec;
    auto json = boost::json::parse(answer.body, ec);
    if (ec || !json.is_object() || !json.as_object().contains("error")) std::abort();
    return 0;
  }
  request.method = "GET";
  request.query.clear();
  const auto read = fixture.storage->handle(request, mesim::wsman::cim::RealmSet::all());
  if (read.status != 200) std::abort();
  if (!(data[0] & 0x10)) {
    auto put = mesim::wsman::webui::parseStoragePut(body);
    if (!put || read.body != put->data) std::abort();
  }
  if (fixture.storage->usedBytes() > mesim::wsman::webui::kQuotaBytes) std::abort();
  return 0;
}
