// AMT's /amt-storage/ HTTP API in the real daemon (issue 14 item 3, HTTP part; docs/web-ui.md "Web storage"):
// PUT in chunks with the <metadata> prefix and ?append=, the listing, GET with the stored Content-Type and
// Content-Encoding, DELETE, the name and vendor rules, the chunk limit and the quota, linked items in links.htm, a
// stored index.htm replacing the UI's front page, everything kept across a restart; and Debian's curl --digest as
// a real client of the same API.
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/program_run.h"
#include "tests/support/web_digest_client.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
constexpr char kPassword[] = "P@ssw0rd";
constexpr char kCurl[] = "/usr/bin/curl";

std::string metadata(const std::string& type, const std::string& extra = {}) {
  return "<metadata><headers><h>Content-Type: " + type + "</h>" + extra + "</headers></metadata>";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class AmtStorageDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
    ASSERT_NE(daemon.httpPort(), 0);
  }
  WebAnswer put(const std::string& path, const std::string& body) {
    return WebDigestClient(daemon.httpPort()).request("PUT", path, body, "application/octet-stream");
  }
  DaemonProcess daemon;
};

TEST_F(AmtStorageDaemon, ChunkedPutListGetDeleteAndTheRules) {
  const auto port = daemon.httpPort();
  WebDigestClient admin(port);
  // 12000 bytes in two chunks: the first with its metadata and a link, the second appended.
  std::string page = "<html><body><h1>SDK Sample</h1>";
  while (page.size() < 12000) page += "<p>line of the sample application</p>";
  page.resize(12000);
  const std::string first = "<metadata><headers><h>Content-Type: text/html</h></headers><link>SDK Sample</link></metadata>" +
                            page.substr(0, 6000);
  ASSERT_LE(first.size(), 7000u);
  auto created = put("/amt-storage/User/SDK/Sample.html", first);
  EXPECT_EQ(created.status, 201u) << created.body;
  auto appended = put("/amt-storage/User/SDK/Sample.html?append=", page.substr(6000));
  EXPECT_EQ(appended.status, 200u) << appended.body;
  auto got = admin.get("/amt-storage/User/SDK/Sample.html");
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.contentType, "text/html");
  EXPECT_EQ(got.body, page);

  EXPECT_EQ(put("/amt-storage/blob.gz", metadata("application/json", "<h>Content-Encoding: gzip</h>") + "\x1f\x8b").status,
            201u);
  auto listing = admin.get("/amt-storage/");
  ASSERT_EQ(listing.status, 200u);
  auto json = boost::json::parse(listing.body);
  EXPECT_EQ(json.at("information").at("user").as_string(), "admin");
  const auto& content = json.at("content").as_array();
  ASSERT_EQ(content.size(), 2u) << listing.body;
  EXPECT_EQ(content[0].at("vendor").as_string(), "User");
  EXPECT_EQ(content[0].at("app").as_string(), "SDK");
  EXPECT_EQ(content[0].at("name").as_string(), "Sample.html");
  EXPECT_EQ(content[0].at("size").to_number<std::size_t>(), 12000u);
  EXPECT_EQ(content[0].at("link").as_string(), "SDK Sample");
  EXPECT_EQ(content[1].at("name").as_string(), "blob.gz");
  EXPECT_FALSE(content[1].as_object().contains("vendor"));
  EXPECT_TRUE(contains(admin.get("/links.htm").body, "<a href=\"/amt-storage/User/SDK/Sample.html\">SDK Sample</a>"));

  // The rules, each a clear JSON error.
  auto intel = put("/amt-storage/Intel/app/x.htm", "data");
  EXPECT_EQ(intel.status, 403u);
  EXPECT_TRUE(contains(intel.body, "\"error\":\"vendor Intel")) << intel.body;
  EXPECT_EQ(put("/amt-storage/toolongname12", "x").status, 400u);
  EXPECT_EQ(put("/amt-storage/a/b", "x").status, 400u);
  EXPECT_EQ(put("/amt-storage/x.htm", std::string(7001, 'x')).status, 413u);
  EXPECT_EQ(put("/amt-storage/x.htm", "<metadata><headers><h>Set-Cookie: a=b</h></headers></metadata>").status, 400u);
  EXPECT_EQ(put("/amt-storage/none?append=", "x").status, 404u);
  EXPECT_EQ(WebDigestClient(port, "admin", "wrong").get("/amt-storage/").status, 401u);

  // The quota: 192 KiB in all.
  const std::string chunk(7000, 'q');
  unsigned last = 0;
  for (int i = 0; i < 40 && last != 507; ++i) last = put("/amt-storage/big.bin" + std::string(i ? "?append=" : ""), chunk).status;
  EXPECT_EQ(last, 507u);

  auto deleted = admin.request("DELETE", "/amt-storage/User/SDK/Sample.html");
  EXPECT_EQ(deleted.status, 200u) << deleted.body;
  EXPECT_EQ(admin.get("/amt-storage/User/SDK/Sample.html").status, 404u);
  EXPECT_FALSE(contains(admin.get("/links.htm").body, "SDK Sample"));
}

TEST_F(AmtStorageDaemon, AStoredIndexReplacesTheFrontPageAndSurvivesARestart) {
  ASSERT_EQ(put("/amt-storage/index.htm", metadata("text/html") + "<html><body>Vendor front page</body></html>").status,
            201u);
  EXPECT_TRUE(contains(WebDigestClient(daemon.httpPort()).get("/index.htm").body, "Vendor front page"));
  daemon.kill(SIGKILL);
  ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
  WebDigestClient admin(daemon.httpPort());
  EXPECT_TRUE(contains(admin.get("/index.htm").body, "Vendor front page"));
  EXPECT_EQ(admin.request("DELETE", "/amt-storage/index.htm").status, 200u);
  EXPECT_TRUE(contains(admin.get("/index.htm").body, "System Status"));
}

TEST_F(AmtStorageDaemon, CurlWithDigestStoresAndReadsAnItem) {
  if (::access(kCurl, X_OK) != 0) GTEST_SKIP() << "curl is not installed (scripts/test.sh installs it)";
  const std::string base = "http://127.0.0.1:" + std::to_string(daemon.httpPort()) + "/amt-storage/";
  auto curl = [](std::vector<std::string> args) {
    std::vector<std::string> argv{kCurl, "--silent", "--show-error", "--digest", "--user", std::string("admin:") + kPassword};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProgram(argv, {}, 20s);
  };
  auto stored = curl({"-X", "PUT", "--data-binary", metadata("text/plain") + "hello from curl", "-w", "%{http_code}",
                      base + "Curl/Test/hello.txt"});
  EXPECT_EQ(stored.status, 0) << stored.output;
  EXPECT_TRUE(contains(stored.output, "201")) << stored.output;
  auto read = curl({"-i", base + "Curl/Test/hello.txt"});
  EXPECT_TRUE(contains(read.output, "Content-Type: text/plain")) << read.output;
  EXPECT_TRUE(contains(read.output, "hello from curl")) << read.output;
  auto listing = curl({base});
  EXPECT_TRUE(contains(listing.output, "\"name\":\"hello.txt\"")) << listing.output;
  auto removed = curl({"-X", "DELETE", "-w", "%{http_code}", base + "Curl/Test/hello.txt"});
  EXPECT_TRUE(contains(removed.output, "200")) << removed.output;
}

}  // namespace
}  // namespace mesim::test
