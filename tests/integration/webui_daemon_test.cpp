// The firmware web UI in the real daemon (issue 14 item 9; docs/web-ui.md), driven by a Beast client with Digest:
// the public logon page and the redirect to it, Digest on every other page, the status and hardware pages from
// the same platform model and classes as WS-Man, remote control with its single-use CSRF token (a missing, wrong or
// used one is a 303 to invreq) seen over WS-Man, the system name form seen in AMT_GeneralSettings, and user
// accounts: a user added from the page logs on, is refused (403) the pages its realms do not cover, and is gone
// after its deletion. Text from state is HTML-escaped.
#include <gtest/gtest.h>

#include "tests/support/daemon_process.h"
#include "tests/support/web_digest_client.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

std::string wsmanProperty(const std::string& body, const std::string& property) {
  const auto at = body.find(":" + property + ">");
  if (at == std::string::npos) return "none in " + body;
  const auto start = at + property.size() + 2;
  return body.substr(start, body.find('<', start) - start);
}

std::string wsmanPowerState(std::uint16_t port) {
  WsmanDigestClient client(port);
  return wsmanProperty(
      client
          .post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
                              "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService",
                              "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><OptimizeEnumeration "
                              "xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"/></Enumerate>"))
          .body,
      "PowerState");
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class WebUiDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
    ASSERT_NE(daemon.httpPort(), 0);
  }
  DaemonProcess daemon;
};

TEST_F(WebUiDaemon, RootRedirectsToThePublicLogonPageAndEveryOtherPageNeedsDigest) {
  WebDigestClient anonymous(daemon.httpPort());
  auto root = anonymous.get("/", false);
  EXPECT_EQ(root.status, 303u);
  EXPECT_EQ(root.location, "/logon.htm");
  auto logon = anonymous.get("/logon.htm", false);
  EXPECT_EQ(logon.status, 200u);
  EXPECT_TRUE(contains(logon.body, "<h1>Log On</h1>")) << logon.body;
  EXPECT_TRUE(contains(logon.body, "value=\"  Log On... \"")) << logon.body;
  EXPECT_TRUE(contains(logon.body, "action=\"index.htm\" method=\"get\"")) << logon.body;
  EXPECT_EQ(anonymous.get("/styles.css", false).status, 200u);
  EXPECT_EQ(anonymous.get("/logo.gif", false).contentType, "image/gif");
  auto index = anonymous.get("/index.htm", false);
  EXPECT_EQ(index.status, 401u);
  EXPECT_TRUE(contains(index.body, "Log on failed")) << index.body;
  WebDigestClient wrong(daemon.httpPort(), "admin", "not-it");
  EXPECT_EQ(wrong.get("/index.htm").status, 401u);
  EXPECT_EQ(WebDigestClient(daemon.httpPort()).get("/nothing.htm").status, 404u);
  // POST /wsman still serves WS-Man; GET on it is still 405.
  EXPECT_EQ(WebDigestClient(daemon.httpPort()).get("/wsman").status, 405u);
}

TEST_F(WebUiDaemon, StatusAndHardwarePagesShowThePlatformModel) {
  WebDigestClient admin(daemon.httpPort());
  auto index = admin.get("/index.htm");
  ASSERT_EQ(index.status, 200u) << index.body;
  EXPECT_TRUE(contains(index.body, "<p class=\"top2\">Computer: mesim</p>")) << index.body;
  EXPECT_TRUE(contains(index.body, "<table class=\"spread\">"));
  EXPECT_TRUE(contains(index.body, "<td class=\"navbar\""));
  EXPECT_TRUE(contains(index.body, "<td class=\"maincell\""));
  EXPECT_TRUE(contains(index.body, "<td class=\"r1\">Power</td><td class=\"r1\">On</td>")) << index.body;
  auto sys = admin.get("/hw-sys.htm");
  EXPECT_EQ(sys.status, 200u);
  EXPECT_TRUE(contains(sys.body, "<h2>Platform</h2>")) << sys.body;
  EXPECT_TRUE(contains(sys.body, "<h2>Baseboard</h2>"));
  EXPECT_TRUE(contains(sys.body, "MESIM-BOARD"));
  EXPECT_TRUE(contains(sys.body, "<h2>BIOS</h2>"));
  // The serial number is the one CIM_Chassis serves.
  WsmanDigestClient wsman(daemon.httpPort());
  const auto chassis = wsman.post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
                                                "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_Chassis"));
  const auto serial = wsmanProperty(chassis.body, "SerialNumber");
  ASSERT_FALSE(contains(serial, "none in")) << chassis.body;
  EXPECT_TRUE(contains(sys.body, "<td class=\"r1\">" + serial + "</td>")) << serial << "\n" << sys.body;
  EXPECT_TRUE(contains(admin.get("/hw-proc.htm").body, "Intel(R) Core(TM) i7-10700"));
  EXPECT_TRUE(contains(admin.get("/hw-mem.htm").body, "BANK 0"));
  EXPECT_TRUE(contains(admin.get("/hw-disk.htm").body, "Managed System Media Access Device"));
  EXPECT_EQ(admin.get("/hw-batt.htm").status, 200u);
  for (const char* page : {"/events.htm", "/power.htm", "/ip.htm", "/ipv6.htm", "/wlan.htm", "/fqdn.htm", "/acl.htm", "/links.htm"})
    EXPECT_EQ(admin.get(page).status, 200u) << page;
}

TEST_F(WebUiDaemon, RemoteControlNeedsItsSingleUseTokenAndPowersTheHostOff) {
  const auto port = daemon.httpPort();
  WebDigestClient admin(port);
  ASSERT_EQ(wsmanPowerState(port), "2");
  auto remote = admin.get("/remote.htm");
  ASSERT_EQ(remote.status, 200u);
  EXPECT_TRUE(contains(remote.body, "Power state: On")) << remote.body;
  EXPECT_TRUE(contains(remote.body, "confirm(")) << remote.body;
  const auto token = csrfToken(remote.body);
  ASSERT_EQ(token.size(), 32u) << remote.body;

  const std::string off = "amt_html_rc_radio_group=1&amt_html_rc_boot_special=1";
  auto missing = admin.post("/remoteform", off);
  EXPECT_EQ(missing.status, 303u);
  EXPECT_TRUE(contains(missing.location, "invreq")) << missing.location;
  auto wrong = admin.post("/remoteform", "t=00112233445566778899aabbccddeeff&" + off);
  EXPECT_TRUE(contains(wrong.location, "invreq")) << wrong.location;
  EXPECT_EQ(wsmanPowerState(port), "2") << "a refused form changed nothing";

  auto sent = admin.post("/remoteform", "t=" + token + "&" + off);
  EXPECT_EQ(sent.status, 303u) << sent.body;
  EXPECT_EQ(sent.location, "/remote.htm");
  EXPECT_EQ(wsmanPowerState(port), "8");
  EXPECT_TRUE(contains(admin.get("/remote.htm").body, "Power state: Off"));
  auto again = admin.post("/remoteform", "t=" + token + "&amt_html_rc_radio_group=2&amt_html_rc_boot_special=1");
  EXPECT_TRUE(contains(again.location, "invreq")) << "a token is good once";
  EXPECT_EQ(wsmanPowerState(port), "8");
  // The power change reached the event log page.
  auto events = admin.get("/events.htm");
  EXPECT_TRUE(contains(events.body, "<td class=\"r1\">1</td>")) << events.body;
  // A token is also its user's alone: tests/unit/webui_test.cpp (WebUiCsrf).
}

TEST_F(WebUiDaemon, SystemNameFormSetsWhatAmtGeneralSettingsShows) {
  const auto port = daemon.httpPort();
  WebDigestClient admin(port);
  const auto token = csrfToken(admin.get("/fqdn.htm").body);
  ASSERT_FALSE(token.empty());
  auto bad = admin.post("/fqdnform", "t=" + csrfToken(admin.get("/fqdn.htm").body) + "&HostName=no%20spaces&DomainName=x");
  EXPECT_EQ(bad.status, 200u);
  EXPECT_TRUE(contains(bad.body, "class=\"error\"")) << bad.body;
  auto set = admin.post("/fqdnform", "t=" + token + "&HostName=web-host&DomainName=lab.example&Submit=+++Submit+++");
  EXPECT_EQ(set.status, 303u) << set.body;
  WsmanDigestClient wsman(port);
  const auto settings = wsman.post(wsmanGetGeneralSettings()).body;
  EXPECT_EQ(wsmanProperty(settings, "HostName"), "web-host");
  EXPECT_EQ(wsmanProperty(settings, "DomainName"), "lab.example");
  EXPECT_TRUE(contains(admin.get("/index.htm").body, "Computer: web-host"));
}

TEST_F(WebUiDaemon, UserAccountsAddedFromThePageLogOnWithTheirRealmsOnly) {
  const auto port = daemon.httpPort();
  WebDigestClient admin(port);
  auto acl = admin.get("/acl.htm");
  ASSERT_EQ(acl.status, 200u);
  auto form = admin.post("/user.htm", "t=" + csrfToken(acl.body) + "&UserSubmit=++New...++");
  ASSERT_EQ(form.status, 200u) << form.body;
  ASSERT_TRUE(contains(form.body, "name=\"UserPwd2\"")) << form.body;
  // Realm 13 General Info and 4 Hardware Asset; a weak password first.
  const std::string fields = "&UserName=viewer&OldUserName=&command=1&AccessPermission=2&Realm=13&Realm=4&UserSubmit=Submit";
  auto weak = admin.post("/userform", "t=" + csrfToken(form.body) + "&UserPwd=short&UserPwd2=short" + fields);
  EXPECT_TRUE(contains(weak.body, "not strong enough")) << weak.body;
  form = admin.post("/user.htm", "t=" + csrfToken(admin.get("/acl.htm").body) + "&UserSubmit=++New...++");
  auto added = admin.post("/userform", "t=" + csrfToken(form.body) + "&UserPwd=Vi3wer%21pw&UserPwd2=Vi3wer%21pw" + fields);
  EXPECT_TRUE(contains(added.body, "The user viewer was added.")) << added.body;

  WebDigestClient viewer(port, "viewer", "Vi3wer!pw");
  EXPECT_EQ(viewer.get("/index.htm").status, 200u);
  EXPECT_EQ(viewer.get("/hw-mem.htm").status, 200u);
  EXPECT_EQ(viewer.get("/remote.htm").status, 403u);
  EXPECT_EQ(viewer.get("/acl.htm").status, 403u);
  EXPECT_EQ(viewer.post("/remoteform", "t=x&amt_html_rc_radio_group=1").status, 403u);
  EXPECT_TRUE(contains(viewer.get("/links.htm").body, "Web Applications Links")) << "links.htm needs no realm";

  // A name from state is escaped: a user called <b>x</b> shows as text.
  form = admin.post("/user.htm", "t=" + csrfToken(admin.get("/acl.htm").body) + "&UserSubmit=++New...++");
  admin.post("/userform", "t=" + csrfToken(form.body) +
                              "&UserPwd=Vi3wer%21pw&UserPwd2=Vi3wer%21pw&UserName=%3Cb%3Ex%3C%2Fb%3E&command=1&Realm=13");
  acl = admin.get("/acl.htm");
  EXPECT_TRUE(contains(acl.body, "&lt;b&gt;x&lt;/b&gt;")) << acl.body;
  EXPECT_FALSE(contains(acl.body, "<b>x</b>"));

  // Delete the viewer: it can no longer log on.
  auto confirm = admin.post("/user.htm", "t=" + csrfToken(acl.body) + "&SelUser=viewer&UserSubmit=++Delete++");
  ASSERT_TRUE(contains(confirm.body, "Delete the user viewer?")) << confirm.body;
  auto deleted = admin.post("/userform", "t=" + csrfToken(confirm.body) + "&OldUserName=viewer&command=3");
  EXPECT_TRUE(contains(deleted.body, "The user viewer was deleted.")) << deleted.body;
  EXPECT_EQ(WebDigestClient(port, "viewer", "Vi3wer!pw").get("/index.htm").status, 401u);
}

TEST_F(WebUiDaemon, MalformedFormsAreRefusedAndTheDaemonGoesOn) {
  WebDigestClient admin(daemon.httpPort());
  auto token = csrfToken(admin.get("/remote.htm").body);
  auto bad = admin.post("/remoteform", "t=" + token + "&amt_html_rc_radio_group=%zz");
  EXPECT_EQ(bad.status, 303u);
  EXPECT_TRUE(contains(bad.location, "invreq"));
  EXPECT_EQ(admin.get("/invreq.htm").status, 200u);
  EXPECT_EQ(admin.get("/remoteform").status, 405u);
  EXPECT_EQ(admin.request("DELETE", "/index.htm").status, 405u);
  EXPECT_EQ(admin.get("/index.htm").status, 200u);
  const auto status = daemon.get("/status");
  EXPECT_TRUE(contains(status, "\"invalid_forms\":1")) << status;
  EXPECT_TRUE(contains(status, "\"web_ui\":{")) << status;
}

}  // namespace
}  // namespace mesim::test
