#include "app/ocr_boot_host.h"

#include "common/log.h"
#include "common/text_codecs.h"
#include "wsman/eventing/http_client.h"
#include "wsman/redirection/ider_session.h"

namespace mesim::app {
namespace {

using platform::OcrError;
using platform::OcrProgress;

// The BIOS's own wait when the parameters give none (TLV 30 = 0), and the largest image it takes.
constexpr std::chrono::seconds kDefaultTimeout{30};
constexpr std::size_t kMaxImageBytes = 16 * 1024 * 1024;

const char* errorName(OcrError e) {
  switch (e) {
    case OcrError::NoNetwork: return "no network connection";
    case OcrError::NameResolution: return "name resolution of the URI failed";
    case OcrError::Connect: return "connect to the URI failed";
    case OcrError::AppNotFound: return "OEM app not found";
    case OcrError::TlsAuthentication: return "HTTPS TLS authentication failed";
    case OcrError::DigestAuthentication: return "HTTPS Digest authentication failed";
    case OcrError::VerifiedBoot: return "verified boot failed (bad image)";
    case OcrError::FileNotFound: return "HTTPS boot file not found";
  }
  return "error";
}

}  // namespace

OcrBootHost::OcrBootHost(boost::asio::io_context& io, platform::PlatformModel& platform, const core::FirmwareClock& clock)
    : io_(io), platform_(platform), clock_(clock) {}

OcrBootHost::~OcrBootHost() { *alive_ = false; }

void OcrBootHost::powerChanged(const platform::PowerChange& change) {
  if (!wsman::redirection::IderHub::isHostBoot(change)) return;
  ++generation_;  // whatever was downloading belongs to a boot that is over
  inProgress_ = false;
  runningImage_.clear();  // a boot runs the host's own OS unless this one is an OCR boot that succeeds
  if (auto plan = platform::armedOcrHttpsBoot(platform_.state())) start(std::move(*plan));
}

void OcrBootHost::record(std::initializer_list<platform::MessageLogEvent> events) {
  // One state change (and one write of the state) for the records a step of the boot writes together.
  const auto now = core::unixSeconds(clock_.now());
  platform_.update([&](platform::PlatformState& s) {
    for (const auto& event : events) platform::appendMessageLogRecord(s, platform::makeMessageLogRecord(event, now));
  });
}

void OcrBootHost::start(platform::OcrHttpsBoot plan) {
  ++boots_;
  inProgress_ = true;
  lastUri_ = plan.uri;
  lastResult_ = "downloading";
  lastError_.clear();
  record({platform::ocrProgressEvent(OcrProgress::ParametersReceived), platform::ocrProgressEvent(OcrProgress::OptionAdded)});
  MESIM_LOG(Info, "ocr", "One Click Recovery: HTTPS boot from " + plan.uri);

  std::vector<std::string> roots;
  for (const auto& der : plan.trustedRootsPem) roots.push_back(wsman::eventing::pemOfBase64Der(der));
  // With sync root CA the BIOS trusts AMT's roots only; without it, its own store (the system's, here).
  auto tls = wsman::eventing::makeVerifyingTlsClientContext(roots, !plan.syncRootCa);
  if (!tls) {
    record({platform::ocrErrorEvent(OcrError::TlsAuthentication)});
    finish(plan.uri, OcrError::TlsAuthentication, tls.error().message, {});
    return;
  }
  wsman::eventing::HttpPostRequest request;
  request.url = plan.uri;
  request.method = "GET";
  request.username = plan.username;
  request.password = plan.password;
  request.timeout = plan.timeoutSeconds ? std::chrono::seconds(plan.timeoutSeconds) : kDefaultTimeout;
  request.maxBody = kMaxImageBytes;
  request.verifyHostName = true;
  wsman::eventing::httpPost(
      io_, *tls, std::move(request),
      [this, alive = alive_, generation = generation_, plan](wsman::eventing::HttpPostResult r) {
        if (!*alive || generation != generation_) return;  // the host booted again meanwhile
        using Stage = wsman::eventing::HttpPostResult::Stage;
        const auto resolved = platform::ocrProgressEvent(OcrProgress::Resolved);
        const auto connected = platform::ocrProgressEvent(OcrProgress::Connected);
        if (!r.error.empty()) {
          const OcrError e = r.failedAt == Stage::Resolve ? OcrError::NameResolution
                             : r.failedAt == Stage::Tls   ? OcrError::TlsAuthentication
                                                          : OcrError::Connect;
          if (e == OcrError::NameResolution)
            record({platform::ocrErrorEvent(e)});
          else
            record({resolved, platform::ocrErrorEvent(e)});
          return finish(plan.uri, e, r.error, {});
        }
        if (r.status != 200) {
          const OcrError e = r.status == 401 ? OcrError::DigestAuthentication : OcrError::FileNotFound;
          record({resolved, connected, platform::ocrErrorEvent(e)});
          return finish(plan.uri, e, "HTTP " + std::to_string(r.status), {});
        }
        const auto downloaded = platform::ocrProgressEvent(OcrProgress::Downloaded);
        if (auto bad = platform::checkOcrImage(plan.imageHash, r.body)) {
          record({resolved, connected, downloaded, platform::ocrErrorEvent(*bad)});
          return finish(plan.uri, *bad, "the image's hash is not the one given", {});
        }
        record({resolved, connected, downloaded, platform::ocrProgressEvent(OcrProgress::Booting),
                platform::ocrProgressEvent(OcrProgress::ExitBootServices)});
        finish(plan.uri, std::nullopt, {}, std::move(r.body));
      });
}

void OcrBootHost::finish(const std::string& uri, std::optional<OcrError> error, std::string detail, std::string image) {
  inProgress_ = false;
  if (error) {
    lastResult_ = "failed";
    lastError_ = std::string(errorName(*error)) + (detail.empty() ? "" : ": " + detail);
    MESIM_LOG(Warn, "ocr", "One Click Recovery from " + uri + ": " + lastError_);
  } else {
    const auto id = platform::ocrImageIdentity(image);
    lastResult_ = "booted";
    lastImageName_ = id.name.empty() ? "recovery image" : id.name;
    lastImageVersion_ = id.version;
    lastImageBytes_ = image.size();
    runningImage_ = lastImageName_ + (lastImageVersion_.empty() ? "" : " " + lastImageVersion_);
    MESIM_LOG(Info, "ocr", "One Click Recovery: booted " + runningImage_ + " (" + std::to_string(image.size()) +
                               " bytes) from " + uri);
  }
  if (finished_) finished_();
}

boost::json::object OcrBootHost::statusJson() const {
  boost::json::object r{{"boots", boots_}, {"state", inProgress_ ? "downloading" : lastResult_}};
  if (!lastUri_.empty()) r["uri"] = lastUri_;
  if (!lastError_.empty() && lastResult_ == "failed") r["error"] = lastError_;
  if (lastResult_ == "booted")
    r["image"] = {{"name", lastImageName_}, {"version", lastImageVersion_}, {"bytes", lastImageBytes_}};
  r["running"] = runningImage_.empty() ? boost::json::value(nullptr) : boost::json::value(runningImage_);
  return r;
}

}  // namespace mesim::app
