// wsman/webui's pieces on their own: urlencoded form parsing (Boost.URL), the single-use CSRF tokens on the
// firmware clock, and HTML escaping.
#include <gtest/gtest.h>

#include <fstream>

#include "firmware/core/firmware_clock.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/webui/amt_storage.h"
#include "wsman/webui/csrf_tokens.h"
#include "wsman/webui/form_data.h"
#include "wsman/webui/html.h"

namespace mesim::wsman::webui {
namespace {

TEST(WebUiForm, DecodesPlusPercentAndRepeatedNames) {
  auto form = parseForm("t=ab12&UserName=J%C3%BCrgen+M&Realm=13&Realm=4&empty=&flag&UserSubmit=++New...++");
  ASSERT_TRUE(form) << form.error().message;
  EXPECT_EQ(form->get("t"), "ab12");
  EXPECT_EQ(form->get("UserName"), "J\xC3\xBCrgen M");
  EXPECT_EQ(form->all("Realm"), (std::vector<std::string>{"13", "4"}));
  ASSERT_NE(form->find("empty"), nullptr);
  EXPECT_EQ(*form->find("empty"), "");
  EXPECT_EQ(form->get("flag"), "");
  EXPECT_EQ(form->get("UserSubmit"), "  New...  ");
  EXPECT_EQ(form->find("missing"), nullptr);
}

TEST(WebUiForm, RefusesWhatIsNotAFormAndBoundsTheRest) {
  EXPECT_FALSE(parseForm("a=%zz"));
  EXPECT_FALSE(parseForm("a=%C3%28")) << "not UTF-8";
  EXPECT_FALSE(parseForm(std::string(kMaxFormBytes + 1, 'a')));
  std::string many;
  for (std::size_t i = 0; i <= kMaxFormFields; ++i) many += "f=1&";
  EXPECT_FALSE(parseForm(many));
  auto empty = parseForm("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->fields.empty());
  auto nameless = parseForm("=x&&a=1");
  ASSERT_TRUE(nameless);
  EXPECT_EQ(nameless->fields.size(), 1u);
}

TEST(WebUiCsrf, ATokenIsGoodOnceForItsUserWithinItsLifetime) {
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  CsrfTokens tokens;
  const auto first = tokens.issue("admin", clock.now());
  EXPECT_EQ(first.size(), 32u);
  EXPECT_NE(tokens.issue("admin", clock.now()), first);
  EXPECT_FALSE(tokens.consume(first, "viewer", clock.now())) << "another user's token";
  EXPECT_TRUE(tokens.consume(first, "admin", clock.now()));
  EXPECT_FALSE(tokens.consume(first, "admin", clock.now())) << "used already";
  EXPECT_FALSE(tokens.consume("", "admin", clock.now()));
  const auto late = tokens.issue("admin", clock.now());
  clock.advance(CsrfTokens::kLifetime);
  EXPECT_FALSE(tokens.consume(late, "admin", clock.now())) << "expired";
}

TEST(WebUiCsrf, TheOldestTokenGoesWhenTooManyAreOutstanding) {
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  CsrfTokens tokens;
  const auto oldest = tokens.issue("admin", clock.now());
  std::string newest;
  for (std::size_t i = 0; i < CsrfTokens::kCapacity; ++i) newest = tokens.issue("admin", clock.now());
  EXPECT_EQ(tokens.outstanding(), CsrfTokens::kCapacity);
  EXPECT_FALSE(tokens.consume(oldest, "admin", clock.now()));
  EXPECT_TRUE(tokens.consume(newest, "admin", clock.now()));
}

TEST(WebUiHtml, EscapesEverythingThatCouldOpenMarkup) {
  EXPECT_EQ(escapeHtml("<b a=\"1\">&'x'</b>"), "&lt;b a=&quot;1&quot;&gt;&amp;&#39;x&#39;&lt;/b&gt;");
  const auto page = framedPage("<host>", "/index.htm", "<p>main</p>");
  EXPECT_NE(page.find("<p class=\"top2\">Computer: &lt;host&gt;</p>"), std::string::npos) << page;
  EXPECT_NE(page.find("<td class=\"navbar\""), std::string::npos);
  EXPECT_NE(page.find("<td class=\"maincell\""), std::string::npos);
  EXPECT_EQ(logoImage().substr(0, 6), "GIF89a");
  EXPECT_EQ(logoImage().back(), ';');
}

TEST(AmtStorageParse, MetadataPrefixHeadersAndLink) {
  auto put = parseStoragePut("<metadata><headers><h>Content-Type: text/html</h><h>content-encoding:gzip</h></headers>"
                             "<link>SDK Sample</link></metadata>BYTES");
  ASSERT_TRUE(put) << put.error().message;
  ASSERT_TRUE(put->metadata);
  EXPECT_EQ(put->metadata->headers,
            (std::vector<std::pair<std::string, std::string>>{{"Content-Type", "text/html"}, {"Content-Encoding", "gzip"}}));
  EXPECT_EQ(put->metadata->link, "SDK Sample");
  EXPECT_EQ(put->data, "BYTES");
  auto raw = parseStoragePut("just bytes");
  ASSERT_TRUE(raw);
  EXPECT_FALSE(raw->metadata);
  EXPECT_EQ(raw->data, "just bytes");
  EXPECT_FALSE(parseStoragePut("<metadata><headers>"));
  EXPECT_FALSE(parseStoragePut("<metadata><headers><h>Location: /x</h></headers></metadata>"));
  EXPECT_FALSE(parseStoragePut("<metadata><headers><h>Content-Type: a\r\nX: y</h></headers></metadata>"));
  EXPECT_FALSE(parseStoragePut("<metadata><headers><h>Content-Type: a</h><h>Content-Type: b</h></headers></metadata>"));
  EXPECT_FALSE(parseStoragePut("<metadata><script/></metadata>"));
}

TEST(AmtStorageParse, PathsAreRootOrVendorAppNameOfShortNames) {
  auto root = parseStoragePath("/amt-storage/index.htm");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->name, "index.htm");
  EXPECT_TRUE(root->vendor.empty());
  auto full = parseStoragePath("/amt-storage/User/SDK/Sample.html");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->path(), "/amt-storage/User/SDK/Sample.html");
  EXPECT_TRUE(parseStoragePath("/amt-storage/")->listing());
  EXPECT_FALSE(parseStoragePath("/amt-storage/Sample.html12"));  // 13 characters
  EXPECT_FALSE(parseStoragePath("/amt-storage/a/b"));
  EXPECT_FALSE(parseStoragePath("/amt-storage/../x"));
  EXPECT_FALSE(parseStoragePath("/amt-storage/a/b/c/d"));
  EXPECT_FALSE(parseStoragePath("/amt-storage/a%20b"));
}

TEST(AmtStorageFiles, ItemsPersistAndAnUnnamedFileIsRemoved) {
  test::TempDir dir("amt-storage");
  const cim::RealmSet all = cim::RealmSet::all();
  http::WebRequest put;
  put.method = "PUT";
  put.user = "admin";
  put.path = "/amt-storage/V/A/n.txt";
  put.body = "<metadata><headers><h>Content-Type: text/plain</h></headers><link>L</link></metadata>hello";
  {
    auto storage = AmtStorage::open(dir.path(), nullptr, {});
    ASSERT_TRUE(storage);
    EXPECT_EQ((*storage)->handle(put, all).status, 201u);
    put.query = "append=";
    put.body = " world";
    EXPECT_EQ((*storage)->handle(put, all).status, 200u);
    http::WebRequest store = put;
    store.query.clear();
    store.path = "/amt-storage/x.bin";
    store.body = "x";
    store.method = "PUT";
    EXPECT_EQ((*storage)->handle(store, {cim::Realm::GeneralInfo}).status, 403u) << "storing needs a storage realm";
  }
  std::ofstream(dir.path() / "item-99.bin") << "left by a kill";
  auto again = AmtStorage::open(dir.path(), nullptr, {});
  ASSERT_TRUE(again);
  http::WebRequest get;
  get.method = "GET";
  get.path = "/amt-storage/V/A/n.txt";
  const auto read = (*again)->handle(get, all);
  EXPECT_EQ(read.status, 200u);
  EXPECT_EQ(read.body, "hello world");
  EXPECT_EQ((*again)->links(), (std::vector<std::pair<std::string, std::string>>{{"L", "/amt-storage/V/A/n.txt"}}));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "item-99.bin"));
  std::ofstream(dir.path() / "index.json") << "not json";
  EXPECT_FALSE(AmtStorage::open(dir.path(), nullptr, {})) << "a broken index is an error, never silently emptied";
}

}  // namespace
}  // namespace mesim::wsman::webui
