// One Click Recovery's HTTPS boot in the real daemon (issue 14 item 5, docs/alarm-clock-and-boot.md): a console trusts
// its CA in AMT, puts the boot options as MeshCentral does ({1 URI, 20 sync root CA, 30 timeout}), orders the OCR
// HTTPS source first, arms them and resets the host; the simulated BIOS downloads the image from a loopback HTTPS
// server, writes the progress records MeshCentral decodes, and the host runs the image. A missing file, a server
// AMT does not trust and a wrong image hash each end in the error record a real BIOS writes.
#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/sha.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "common/text_codecs.h"
#include "tests/support/daemon_process.h"
#include "tests/support/provisioning_pki.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

using Bytes = std::vector<std::uint8_t>;
const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
const std::string kOcrSource = "Intel(r) AMT: Force OCR UEFI HTTPS Boot";
const std::int64_t kNow = static_cast<std::int64_t>(std::time(nullptr));
const std::string kManifest = "name: mesim recovery\nversion: 2.1\n";

std::string pemOf(const Cert& cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string pemOf(const Pkey& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

// A loopback HTTPS server of boot images: GET of a known path answers its bytes, anything else 404. One thread,
// one connection at a time (the BIOS makes one request per boot).
class BootServer {
 public:
  BootServer(const Cert& cert, const Pkey& key, std::map<std::string, std::string> files) : files_(std::move(files)) {
    namespace asio = boost::asio;
    tls_.use_certificate(asio::buffer(pemOf(cert)), asio::ssl::context::pem);
    tls_.use_private_key(asio::buffer(pemOf(key)), asio::ssl::context::pem);
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~BootServer() {
    stopped_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int requests() const { return requests_; }

 private:
  void serve() {
    namespace bhttp = boost::beast::http;
    while (!stopped_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopped_) return;
      boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream(std::move(socket), tls_);
      stream.handshake(boost::asio::ssl::stream_base::server, ec);
      if (ec) continue;  // a client that does not trust us
      boost::beast::flat_buffer buffer;
      bhttp::request<bhttp::string_body> req;
      bhttp::read(stream, buffer, req, ec);
      if (ec) continue;
      ++requests_;
      const auto file = files_.find(std::string(req.target()));
      bhttp::response<bhttp::string_body> res{file == files_.end() ? bhttp::status::not_found : bhttp::status::ok, 11};
      if (file != files_.end()) res.body() = file->second;
      res.prepare_payload();
      bhttp::write(stream, res, ec);
      stream.shutdown(ec);
    }
  }

  std::map<std::string, std::string> files_;
  boost::asio::io_context io_;
  boost::asio::ssl::context tls_{boost::asio::ssl::context::tls_server};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

Bytes tlv(std::uint16_t type, const Bytes& value) {
  Bytes out{0x86, 0x80, static_cast<std::uint8_t>(type), static_cast<std::uint8_t>(type >> 8)};
  const auto n = static_cast<std::uint32_t>(value.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

std::string ref(const std::string& uri, const std::string& instanceId) {
  return "<a:Address>/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>" + uri +
         "</w:ResourceURI><w:SelectorSet><w:Selector Name=\"InstanceID\">" + instanceId +
         "</w:Selector></w:SelectorSet></a:ReferenceParameters>";
}

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  const auto at = text.find(open);
  if (at == std::string::npos) return "<none>";
  const auto end = text.find(close, at + open.size());
  return text.substr(at + open.size(), end - at - open.size());
}

boost::json::value jsonOf(const std::string& answer) {
  boost::system::error_code ec;
  auto value = answer.size() > 4 ? boost::json::parse(answer.substr(4), ec) : boost::json::value();
  return ec ? boost::json::value() : value;
}

class OcrBootDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(daemon.start({"--host-os", "none", "--fuse", "off", "--preload", "off"})) << daemon.log();
    wsman.emplace(daemon.httpPort());
  }

  std::string post(const std::string& envelope) {
    auto answer = wsman->post(envelope);
    EXPECT_EQ(answer.status, 200u) << answer.body << answer.error;
    return answer.body;
  }
  std::string invoke(const std::string& uri, const std::string& method, const std::string& params) {
    return between(post(wsmanEnvelope(uri + "/" + method, uri,
                                      "<h:" + method + "_INPUT xmlns:h=\"" + uri + "\">" + params + "</h:" + method +
                                          "_INPUT>")),
                   "ReturnValue>", "</");
  }
  void trust(const Cert& root) {
    ASSERT_EQ(invoke(kAmt + "AMT_PublicKeyManagementService", "AddTrustedRootCertificate",
                     "<h:CertificateBlob>" + text::base64Encode(derOf(root)) + "</h:CertificateBlob>"),
              "0");
  }
  // The console's side of an OCR boot, as MeshCentral's amtmanager does it, then a reset.
  void bootFrom(const std::string& uri, const Bytes& extraParams = {}, int count = 3) {
    Bytes params = tlv(1, Bytes(uri.begin(), uri.end()));
    for (const auto& p : {tlv(20, {1}), tlv(30, {0, 0}), extraParams}) params.insert(params.end(), p.begin(), p.end());
    const std::string settings = kAmt + "AMT_BootSettingData";
    post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", settings,
                       "<h:AMT_BootSettingData xmlns:h=\"" + settings +
                           "\"><h:BIOSPause>false</h:BIOSPause><h:BIOSSetup>false</h:BIOSSetup><h:BootMediaIndex>0"
                           "</h:BootMediaIndex><h:InstanceID>Intel(r) AMT:BootSettingData 0</h:InstanceID>"
                           "<h:UseIDER>false</h:UseIDER><h:UseSOL>false</h:UseSOL><h:UefiBootParametersArray>" +
                           text::base64Encode(params) + "</h:UefiBootParametersArray><h:UefiBootNumberOfParams>" +
                           std::to_string(count) + "</h:UefiBootNumberOfParams></h:AMT_BootSettingData>"));
    const std::string config = kCim + "CIM_BootConfigSetting";
    ASSERT_EQ(invoke(config, "ChangeBootOrder", "<h:Source>" + ref(kCim + "CIM_BootSourceSetting", kOcrSource) + "</h:Source>"), "0");
    ASSERT_EQ(invoke(kCim + "CIM_BootService", "SetBootConfigRole",
                     "<h:BootConfigSetting>" + ref(config, "Intel(r) AMT: Boot Configuration 0") +
                         "</h:BootConfigSetting><h:Role>1</h:Role>"),
              "0");
    ASSERT_EQ(between(post(wsmanRequestPowerStateChange(10)), "ReturnValue>", "</"), "0");
  }
  // /status's "ocr" once the download is over (it runs on real time, off the firmware's loop).
  boost::json::object ocrWhenDone() {
    boost::json::object ocr;
    for (int i = 0; i < 200; ++i) {
      auto status = jsonOf(daemon.get("/status"));
      if (status.is_object() && status.as_object().contains("ocr")) {
        ocr = status.as_object()["ocr"].as_object();
        if (ocr["state"] != "downloading") return ocr;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the OCR boot did not finish: " << daemon.get("/status");
    return ocr;
  }
  // The One Click Recovery records of the message log (sensor 0x0F), as the control API decodes them.
  std::vector<std::string> ocrRecords() {
    std::vector<std::string> out;
    auto log = jsonOf(daemon.get("/logs/events"));
    if (!log.is_object()) return out;
    for (const auto& r : log.as_object()["records"].as_array()) {
      const auto& o = r.as_object();
      if (o.at("sensor_type").as_int64() == 0x0F && o.at("message").is_string())
        out.emplace_back(o.at("message").as_string());
    }
    return out;
  }

  DaemonProcess daemon;
  std::optional<WsmanDigestClient> wsman;
  Pkey rootKey = makeRsaKey(2048);
  Cert root = makeCert(spec("OCR test CA", true, {}, 1), rootKey, nullptr, rootKey);
  Pkey serverKey = makeRsaKey(2048);
  Cert serverCert = makeCert(spec("localhost", false, {"localhost"}, 2), serverKey, root, rootKey);

  static CertSpec spec(const std::string& cn, bool isCa, std::vector<std::string> dns, long serial) {
    CertSpec s;
    s.commonName = cn;
    s.isCa = isCa;
    s.dnsNames = std::move(dns);
    s.notBefore = kNow - 86400;
    s.notAfter = kNow + 30 * 86400;
    s.serial = serial;
    return s;
  }
};

TEST_F(OcrBootDaemonTest, TheBiosDownloadsTheImageWritesItsProgressAndBootsIt) {
  BootServer server(serverCert, serverKey, {{"/recovery.img", kManifest}});
  trust(root);
  bootFrom("https://localhost:" + std::to_string(server.port()) + "/recovery.img");
  auto ocr = ocrWhenDone();
  EXPECT_EQ(ocr["state"], "booted") << boost::json::serialize(ocr);
  EXPECT_EQ(ocr["running"], "mesim recovery 2.1");
  EXPECT_EQ(ocr["image"].as_object()["bytes"].to_number<std::size_t>(), kManifest.size());
  EXPECT_EQ(server.requests(), 1);
  const std::vector<std::string> expected = {
      "One Click Recovery: Boot parameters received from CSME", "One Click Recovery: CSME Boot Option added successfully",
      "One Click Recovery: HTTPS URI name resolved",            "One Click Recovery: HTTPS connected successfully",
      "One Click Recovery: HTTPSBoot download is completed",    "One Click Recovery: Attempt to boot",
      "One Click Recovery: Exit boot services"};
  EXPECT_EQ(ocrRecords(), expected);
  // The boot used the options up; the next reset boots the host's own OS.
  EXPECT_EQ(between(post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", kAmt + "AMT_BootSettingData")),
                    "OptionsCleared>", "</"),
            "true");
  ASSERT_EQ(between(post(wsmanRequestPowerStateChange(10)), "ReturnValue>", "</"), "0");
  EXPECT_TRUE(jsonOf(daemon.get("/status")).as_object()["ocr"].as_object()["running"].is_null());
}

TEST_F(OcrBootDaemonTest, AMissingFileAnUntrustedServerAndABadHashEachEndInTheirErrorRecord) {
  BootServer server(serverCert, serverKey, {{"/recovery.img", kManifest}});
  const std::string base = "https://localhost:" + std::to_string(server.port());

  // AMT trusts no root yet, and sync root CA says only AMT's roots count.
  bootFrom(base + "/recovery.img");
  auto ocr = ocrWhenDone();
  EXPECT_EQ(ocr["state"], "failed");
  ASSERT_FALSE(ocrRecords().empty());
  EXPECT_EQ(ocrRecords().back(), "One Click Recovery: HTTPS TLS Auth failed");

  trust(root);
  bootFrom(base + "/nothing-here.img");
  ocr = ocrWhenDone();
  EXPECT_EQ(ocr["state"], "failed");
  EXPECT_EQ(ocrRecords().back(), "One Click Recovery: HTTPS Boot File not found");

  // TLV 5: the SHA-256 the image must have; this one is of something else.
  Bytes wrong(SHA256_DIGEST_LENGTH, 0);
  SHA256(reinterpret_cast<const unsigned char*>("other"), 5, wrong.data());
  bootFrom(base + "/recovery.img", tlv(5, wrong), 4);
  ocr = ocrWhenDone();
  EXPECT_EQ(ocr["state"], "failed");
  EXPECT_EQ(ocrRecords().back(), "One Click Recovery: Verified boot failed (bad image)");
  EXPECT_TRUE(ocr["running"].is_null());

  // The right hash boots.
  Bytes right(SHA256_DIGEST_LENGTH, 0);
  SHA256(reinterpret_cast<const unsigned char*>(kManifest.data()), kManifest.size(), right.data());
  bootFrom(base + "/recovery.img", tlv(5, right), 4);
  EXPECT_EQ(ocrWhenDone()["state"], "booted");
  EXPECT_EQ(ocrRecords().back(), "One Click Recovery: Exit boot services");
}

}  // namespace
}  // namespace mesim::test
