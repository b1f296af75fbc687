// The platform's accounts API through the real binary: `jiancang up` on SQLite, and two
// instances sharing one real PostgreSQL. Every refusal has its own status and code and stores
// nothing; what the node logged is kept for the suite-wide check that no secret reached a log.
#include <algorithm>
#include <map>
#include <regex>
#include <thread>

#include <chain/fair_random.h>
#include <chain/merkle_list.h>
#include <core/crypto.h>
#include <gtest/gtest.h>

#include "support/node_harness.h"
#include "support/platform_client.h"
#include "support/postgres_server.h"
#include "support/test_logs.h"

namespace jiancang::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// argon2id at its lowest cost: the tests check behaviour, not the hash's strength.
const std::string kFastHashing = "--password-ops 1 --password-memory-mib 1";
const std::string kIdNumber = "11010519491231002X";  // GB 11643's own example

// What no log may contain (tests/check-logs): the identity and every password these tests use.
void recordTheTestsSecrets() {
  for (const char* secret :
       {kIdNumber.c_str(), "张三", "correct horse", "battery staple", "wrong horse",
        "operator secret", "a better password", "mallory's own", "alice password", "bob password",
        "carol's password", "issuer password", "museum password", "other password"}) {
    recordSecret(secret);
  }
}

class PlatformApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = freshDirectory("platform-api");
    node_ = std::make_unique<NodeProcess>(data_, kFastHashing);
    std::string output;
    ASSERT_TRUE(node_->start(&output)) << output;
  }
  void TearDown() override {
    if (node_ && node_->running()) {
      EXPECT_EQ(node_->stop(), 0) << node_->output();
    }
    // The suite-wide check (tests/check-logs) looks for these in every log the node wrote.
    recordTheTestsSecrets();
    for (const std::string& secret : secrets_) recordSecret(secret);
    fs::remove_all(data_);
  }

  // The first operator, logged in with the one-time password the node printed, which is then
  // changed to "operator secret" as the node requires.
  void signInAsOperator(Browser& admin) {
    std::string failure;
    ASSERT_TRUE(jiancang::testing::signInAsOperator(admin, node_->output(), &failure)) << failure;
  }

  fs::path data_;
  std::unique_ptr<NodeProcess> node_;
  std::vector<std::string> secrets_;  // what a test adds: exported keys
};

TEST_F(PlatformApiTest, ACollectorRegistersVerifiesTheirNameAndExportsTheirKey) {
  Browser alice(node_->port());
  HttpResult registered = alice.call("POST", "/api/v1/auth/register",
                                     {{"phone", "13800138000"}, {"password", "correct horse"}});
  ASSERT_EQ(registered.status, 201) << registered.body;
  const std::string& cookie = registered.headers["set-cookie"];
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(registered.json()["user"]["roles"], json::array({"collector"}));

  HttpResult me = alice.call("GET", "/api/v1/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.json()["user"]["identity_verified"], false);

  // Refusals first: each its own code, nothing stored.
  EXPECT_EQ(codeOf(alice.call("POST", "/api/v1/me/identity",
                              {{"name", "张三"}, {"id_number", "110105194912310021"}})),
            "identity-check-digit");
  EXPECT_EQ(codeOf(alice.call("POST", "/api/v1/me/identity",
                              {{"name", "张三"}, {"id_number", "110105200902300011"}})),
            "identity-birth-date");
  HttpResult minor = alice.call("POST", "/api/v1/me/identity",
                                {{"name", "张三"}, {"id_number", "110105201501010017"}});
  EXPECT_EQ(minor.status, 409);
  EXPECT_EQ(codeOf(minor), "identity-under-age");
  EXPECT_EQ(alice.call("GET", "/api/v1/me").json()["user"]["identity_verified"], false);

  HttpResult verified =
      alice.call("POST", "/api/v1/me/identity", {{"name", "张三"}, {"id_number", kIdNumber}});
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(verified.json()["user"]["identity_verified"], true);
  EXPECT_EQ(verified.body.find(kIdNumber), std::string::npos);  // never echoed back

  // One identity, one account.
  Browser bob(node_->port());
  ASSERT_EQ(bob.call("POST", "/api/v1/auth/register",
                     {{"phone", "13800138001"}, {"password", "battery staple"}})
                .status,
            201);
  HttpResult taken =
      bob.call("POST", "/api/v1/me/identity", {{"name", "张三"}, {"id_number", kIdNumber}});
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(codeOf(taken), "identity-taken");

  // Key export needs the password again, and gives a key file for the account's address.
  HttpResult wrong = alice.call("POST", "/api/v1/me/key", {{"password", "wrong horse"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(codeOf(wrong), "password-wrong");
  HttpResult key = alice.call("POST", "/api/v1/me/key", {{"password", "correct horse"}});
  ASSERT_EQ(key.status, 200);
  EXPECT_EQ(key.headers["cache-control"], "no-store");
  EXPECT_EQ(key.json()["format"], "jiancang-key-v1");
  EXPECT_EQ(key.json()["address"], me.json()["user"]["address"]);
  secrets_.push_back(key.json()["secret_key"].get<std::string>());

  // A new password ends the old sessions.
  Browser aliceElsewhere(node_->port());
  aliceElsewhere.adopt(alice);
  HttpResult changed =
      alice.call("POST", "/api/v1/me/password",
                 {{"current_password", "correct horse"}, {"new_password", "a better password"}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(codeOf(aliceElsewhere.call("GET", "/api/v1/me")), "session-invalid");
  EXPECT_EQ(alice.call("GET", "/api/v1/me").status, 200);
  EXPECT_EQ(alice.call("POST", "/api/v1/auth/logout").status, 204);
  EXPECT_EQ(alice.call("GET", "/api/v1/me").status, 401);
}

TEST_F(PlatformApiTest, StateChangesNeedTheSessionsCsrfTokenAndThisSitesOrigin) {
  Browser alice(node_->port());
  ASSERT_EQ(alice
                .call("POST", "/api/v1/auth/register",
                      {{"phone", "13800138000"}, {"password", "correct horse"}})
                .status,
            201);
  const json identity = {{"name", "张三"}, {"id_number", kIdNumber}};
  HttpResult noToken = alice.call("POST", "/api/v1/me/identity", identity, {}, false);
  EXPECT_EQ(noToken.status, 403);
  EXPECT_EQ(codeOf(noToken), "csrf-token-invalid");

  // Another session's token is no better.
  Browser mallory(node_->port());
  ASSERT_EQ(mallory
                .call("POST", "/api/v1/auth/register",
                      {{"phone", "13800138009"}, {"password", "mallory's own"}})
                .status,
            201);
  HttpResult foreign = alice.call("POST", "/api/v1/me/identity", identity,
                                  {{"X-CSRF-Token", mallory.csrf()}}, false);
  EXPECT_EQ(codeOf(foreign), "csrf-token-invalid");

  HttpResult crossSite =
      alice.call("POST", "/api/v1/me/identity", identity, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(crossSite.status, 403);
  EXPECT_EQ(codeOf(crossSite), "cross-origin");
  HttpResult crossSiteLogin = mallory.call(
      "POST", "/api/v1/auth/login", {{"phone", "13800138000"}, {"password", "correct horse"}},
      {{"Origin", "https://evil.example"}});
  EXPECT_EQ(codeOf(crossSiteLogin), "cross-origin");

  // None of that changed anything.
  EXPECT_EQ(alice.call("GET", "/api/v1/me").json()["user"]["identity_verified"], false);
  EXPECT_EQ(alice.call("POST", "/api/v1/me/identity", identity).status, 200);
}

TEST_F(PlatformApiTest, BadInputGetsItsOwnAnswer) {
  Browser anyone(node_->port());
  struct Case {
    std::string method;
    std::string target;
    std::string body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"POST", "/api/v1/auth/register", "{not json", 400, "invalid-json"},
      {"POST", "/api/v1/auth/register", "[1,2]", 400, "invalid-json"},
      {"POST", "/api/v1/auth/register", R"({"password":"correct horse"})", 400, "missing-field"},
      {"POST", "/api/v1/auth/register", R"({"phone":13800138000,"password":"x"})", 400,
       "wrong-type"},
      {"POST", "/api/v1/auth/register",
       R"({"phone":"13800138000","password":")" + std::string(300, 'p') + R"("})", 400,
       "field-too-long"},
      {"POST", "/api/v1/auth/register", R"({"phone":"138-0013-8000","password":"correct horse"})",
       400, "phone-format"},
      {"POST", "/api/v1/auth/register", R"({"phone":"13800138000","password":"123"})", 400,
       "password-too-short"},
      {"POST", "/api/v1/auth/register", R"({"phone":"13800138000","password":"12345678"})", 400,
       "password-too-common"},
      {"GET", "/api/v1/auth/login", "", 405, "method-not-allowed"},
      {"POST", "/api/v1/auth/login", R"({"phone":"13800138000","password":"correct horse"})", 401,
       "login-failed"},
      {"GET", "/api/v1/me", "", 401, "login-required"},
      {"POST", "/api/v1/me/identity", R"({"name":"x","id_number":"y"})", 401, "login-required"},
      {"PUT", "/api/v1/users/1/roles", R"({"roles":["operator"]})", 401, "login-required"},
      {"GET", "/api/v1/me/nothing", "", 401, "login-required"},
  };
  for (const Case& c : cases) {
    HttpResult result = anyone.raw(c.method, c.target, c.body);
    EXPECT_EQ(result.status, c.status) << c.method << " " << c.target << " " << c.body;
    EXPECT_EQ(codeOf(result), c.code) << c.method << " " << c.target << " " << result.body;
  }
  // Nothing was registered by any of it.
  EXPECT_EQ(codeOf(anyone.call("POST", "/api/v1/auth/login",
                               {{"phone", "13800138000"}, {"password", "correct horse"}})),
            "login-failed");

  Browser alice(node_->port());
  ASSERT_EQ(alice
                .call("POST", "/api/v1/auth/register",
                      {{"phone", "13800138000"}, {"password", "correct horse"}})
                .status,
            201);
  EXPECT_EQ(codeOf(alice.call("GET", "/api/v1/me/nothing")), "no-such-route");
  EXPECT_EQ(codeOf(alice.call("GET", "/api/v1/me/identity")), "method-not-allowed");
  EXPECT_EQ(codeOf(alice.call("PUT", "/api/v1/users/abc/roles", {{"roles", json::array()}})),
            "bad-id");
  EXPECT_EQ(codeOf(alice.call("PUT", "/api/v1/users/1/roles", {{"roles", "operator"}})),
            "wrong-type");
  EXPECT_EQ(codeOf(alice.call("PUT", "/api/v1/users/1/roles", {{"roles", {"root"}}})),
            "unknown-role");
  // A collector cannot give anyone a role, themselves included.
  HttpResult escalate = alice.call("PUT", "/api/v1/users/2/roles", {{"roles", {"operator"}}});
  EXPECT_EQ(escalate.status, 403);
  EXPECT_EQ(codeOf(escalate), "not-operator");
  EXPECT_EQ(alice.call("GET", "/api/v1/me").json()["user"]["roles"], json::array({"collector"}));
  // The phone is taken now.
  EXPECT_EQ(codeOf(anyone.call("POST", "/api/v1/auth/register",
                               {{"phone", "13800138000"}, {"password", "other password"}})),
            "phone-taken");
}

TEST_F(PlatformApiTest, TheFirstOperatorMustChangeTheOneTimePassword) {
  const std::string password = oneTimePassword(node_->output());
  ASSERT_FALSE(password.empty()) << node_->output();
  Browser admin(node_->port());
  HttpResult login =
      admin.call("POST", "/api/v1/auth/login", {{"phone", "13000000000"}, {"password", password}});
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(login.json()["user"]["must_change_password"], true);
  EXPECT_EQ(codeOf(admin.call("PUT", "/api/v1/users/1/roles", {{"roles", {"operator"}}})),
            "password-change-required");
  ASSERT_EQ(admin
                .call("POST", "/api/v1/me/password",
                      {{"current_password", password}, {"new_password", "operator secret"}})
                .status,
            200);

  Browser carol(node_->port());
  HttpResult registered = carol.call("POST", "/api/v1/auth/register",
                                     {{"phone", "13800138002"}, {"password", "carol's password"}});
  ASSERT_EQ(registered.status, 201);
  const auto carolId = registered.json()["user"]["id"].get<std::int64_t>();
  HttpResult granted = admin.call("PUT", "/api/v1/users/" + std::to_string(carolId) + "/roles",
                                  {{"roles", {"collector", "issuer"}}});
  ASSERT_EQ(granted.status, 200) << granted.body;
  EXPECT_EQ(carol.call("GET", "/api/v1/me").json()["user"]["roles"],
            json::array({"collector", "issuer"}));
  EXPECT_EQ(codeOf(admin.call("PUT", "/api/v1/users/999/roles", {{"roles", {"collector"}}})),
            "no-such-user");

  // A restart does not make a second operator or print a password again.
  ASSERT_EQ(node_->stop(), 0);
  ASSERT_TRUE(node_->start());
  EXPECT_TRUE(oneTimePassword(node_->output()).empty() ||
              oneTimePassword(node_->output()) == password);
  Browser again(node_->port());
  EXPECT_EQ(again
                .call("POST", "/api/v1/auth/login",
                      {{"phone", "13000000000"}, {"password", "operator secret"}})
                .status,
            200);
}

TEST_F(PlatformApiTest, IssuersUploadMediaThatIsServedSafely) {
  Browser admin(node_->port());
  ASSERT_NO_FATAL_FAILURE(signInAsOperator(admin));
  Browser issuer(node_->port());
  HttpResult registered = issuer.call("POST", "/api/v1/auth/register",
                                      {{"phone", "13800138002"}, {"password", "issuer password"}});
  ASSERT_EQ(registered.status, 201);
  const std::string image = noisePng(900, 900);  // about 2.4 MB: over the 1 MiB default
  ASSERT_GT(image.size(), std::size_t{2} << 20);

  auto upload = [&](Browser& who, const std::string& bytes, const std::string& type) {
    return who.raw("POST", "/api/v1/media", bytes, type);
  };
  HttpResult refused = upload(issuer, image, "image/png");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(codeOf(refused), "not-issuer");
  const auto issuerId = registered.json()["user"]["id"].get<std::int64_t>();
  ASSERT_EQ(admin
                .call("PUT", "/api/v1/users/" + std::to_string(issuerId) + "/roles",
                      {{"roles", {"collector", "issuer"}}})
                .status,
            200);

  // The name and Content-Type say nothing: a PNG sent as text/plain is a PNG.
  HttpResult stored = upload(issuer, image, "text/plain");
  ASSERT_EQ(stored.status, 201) << stored.body;
  json media = stored.json()["media"];
  EXPECT_EQ(media["mime"], "image/png");
  EXPECT_EQ(media["width"], 900);
  HttpResult served = issuer.call("GET", media["url"].get<std::string>());
  ASSERT_EQ(served.status, 200);
  EXPECT_EQ(served.body, image);
  EXPECT_EQ(served.headers["content-type"], "image/png");
  EXPECT_EQ(served.headers["x-content-type-options"], "nosniff");
  EXPECT_NE(served.headers["cache-control"].find("immutable"), std::string::npos);
  EXPECT_NE(served.headers["content-security-policy"].find("sandbox"), std::string::npos);
  EXPECT_EQ(issuer.call("GET", media["thumbnail_url"].get<std::string>()).status, 200);

  // Lies and scripts.
  EXPECT_EQ(codeOf(upload(issuer, "<svg onload=\"alert(1)\"/>", "image/png")), "media-svg-refused");
  EXPECT_EQ(codeOf(upload(issuer, "\x89PNG\r\n\x1A\n but no image", "image/png")),
            "media-image-corrupt");
  EXPECT_EQ(codeOf(upload(issuer, "", "image/png")), "media-empty");

  // A gigabyte announced: refused from its headers, before the body is read.
  RawConnection raw(node_->port());
  ASSERT_TRUE(
      raw.send("POST /api/v1/media HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n"
               "\r\n" +
               std::string(65536, 'x')));
  std::string answer = raw.receive(std::chrono::seconds(5));
  EXPECT_NE(answer.find("413"), std::string::npos) << answer.substr(0, 200);
  EXPECT_NE(answer.find("body-too-large"), std::string::npos);

  // Addresses are hashes; anything else is refused.
  EXPECT_EQ(codeOf(issuer.call("GET", "/media/..%2f..%2fkeys%2fplatform.key")), "bad-id");
  EXPECT_EQ(codeOf(issuer.call("GET", "/media/" + std::string(64, '0'))), "no-such-media");
  EXPECT_EQ(codeOf(issuer.call("POST", media["url"].get<std::string>())), "method-not-allowed");
}

TEST_F(PlatformApiTest, AnIssuersSeriesIsReviewedByAnotherAndPublishedOnChain) {
  Browser admin(node_->port());
  ASSERT_NO_FATAL_FAILURE(signInAsOperator(admin));
  // The operator uploads the issuer's copyright authorisation and onboards them.
  HttpResult document =
      admin.raw("POST", "/api/v1/media", "%PDF-1.7\nauthorisation\n", "application/pdf");
  ASSERT_EQ(document.status, 201) << document.body;
  const std::string documentHash = document.json()["media"]["sha256"];
  Browser issuer(node_->port());
  HttpResult registered = issuer.call("POST", "/api/v1/auth/register",
                                      {{"phone", "13800138005"}, {"password", "museum password"}});
  ASSERT_EQ(registered.status, 201);
  const auto issuerUser = registered.json()["user"]["id"].get<std::int64_t>();

  // Before onboarding the issuer can do nothing with the catalogue.
  const json draftBody = {{"title", "敦煌飞天"},
                          {"description", "莫高窟第 320 窟"},
                          {"edition_cap", 8888},
                          {"royalty_basis_points", 500},
                          {"policy", {{"hold_before_first_transfer_ms", 86'400'000}}},
                          {"rights", {{{"kind", "museum-entry"}, {"uses", 1}}}}};
  HttpResult early = issuer.call("POST", "/api/v1/catalog/series", draftBody);
  EXPECT_EQ(codeOf(early), "missing-field");  // no media yet
  HttpResult onboarded = admin.call(
      "POST", "/api/v1/catalog/issuers",
      {{"user_id", issuerUser}, {"display_name", "敦煌研究院"}, {"documents", {documentHash}}});
  ASSERT_EQ(onboarded.status, 201) << onboarded.body;
  EXPECT_GT(onboarded.json()["issuer"]["registration_height"].get<int>(), 0);
  EXPECT_EQ(codeOf(issuer.call("GET", "/api/v1/catalog/issuers")), "not-operator");

  // Roles are read on every request: the issuer needs no new login to act as one.
  HttpResult work = issuer.raw("POST", "/api/v1/media", noisePng(64, 64), "image/png");
  ASSERT_EQ(work.status, 201) << work.body;
  json body = draftBody;
  body["media"] = work.json()["media"]["sha256"];
  HttpResult drafted = issuer.call("POST", "/api/v1/catalog/series", body);
  ASSERT_EQ(drafted.status, 201) << drafted.body;
  const std::string id = std::to_string(drafted.json()["series"]["id"].get<std::int64_t>());
  EXPECT_EQ(drafted.json()["series"]["state"], "draft");

  // Bad drafts, each with its reason.
  json bad = body;
  bad["edition_cap"] = "many";
  EXPECT_EQ(codeOf(issuer.call("POST", "/api/v1/catalog/series", bad)), "wrong-type");
  bad = body;
  bad["edition_cap"] = 0;
  EXPECT_EQ(codeOf(issuer.call("POST", "/api/v1/catalog/series", bad)), "edition-cap-out-of-range");
  bad = body;
  bad["royalty_basis_points"] = 5000;
  EXPECT_EQ(codeOf(issuer.call("POST", "/api/v1/catalog/series", bad)), "royalty-too-high");
  bad = body;
  bad["media"] = documentHash;
  EXPECT_EQ(codeOf(issuer.call("POST", "/api/v1/catalog/series", bad)), "media-not-a-work");
  bad = body;
  bad["rights"] = {{{"uses", 1}}};
  EXPECT_EQ(codeOf(issuer.call("POST", "/api/v1/catalog/series", bad)), "bad-right");

  // Not public, not visible to a stranger, not reviewable before it is submitted.
  Browser stranger(node_->port());
  EXPECT_EQ(codeOf(stranger.call("GET", "/api/v1/catalog/series/" + id)), "no-such-series");
  EXPECT_EQ(stranger.call("GET", "/api/v1/catalog/series").json()["series"].size(), 0u);
  EXPECT_EQ(
      codeOf(admin.call("POST", "/api/v1/catalog/series/" + id + "/review", {{"approve", true}})),
      "not-in-review");
  ASSERT_EQ(issuer.call("POST", "/api/v1/catalog/series/" + id + "/submit").status, 200);
  EXPECT_EQ(admin.call("GET", "/api/v1/catalog/series?view=review").json()["series"].size(), 1u);
  EXPECT_EQ(
      codeOf(issuer.call("POST", "/api/v1/catalog/series/" + id + "/review", {{"approve", true}})),
      "not-reviewer");
  EXPECT_EQ(
      codeOf(admin.call("POST", "/api/v1/catalog/series/" + id + "/review", {{"approve", false}})),
      "reason-required");
  HttpResult approved =
      admin.call("POST", "/api/v1/catalog/series/" + id + "/review", {{"approve", true}});
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(approved.json()["series"]["state"], "approved");
  EXPECT_EQ(codeOf(admin.call("POST", "/api/v1/catalog/series/" + id + "/publish")), "not-issuer");

  HttpResult published = issuer.call("POST", "/api/v1/catalog/series/" + id + "/publish");
  ASSERT_EQ(published.status, 200) << published.body;
  const json series = published.json()["series"];
  EXPECT_EQ(series["state"], "published");
  const auto seriesId = series["series_id"].get<std::uint64_t>();
  // On chain, with the cap, the media hash and the metadata hash of the published document.
  HttpResult onChain = stranger.call("GET", "/api/v1/series/" + std::to_string(seriesId));
  ASSERT_EQ(onChain.status, 200) << onChain.body;
  EXPECT_EQ(onChain.json()["edition_cap"], 8888);
  EXPECT_EQ(onChain.body.find(body["media"].get<std::string>()) != std::string::npos, true);
  // Public now.
  EXPECT_EQ(stranger.call("GET", "/api/v1/catalog/series").json()["series"].size(), 1u);
  EXPECT_EQ(stranger.call("GET", "/api/v1/catalog/series/" + id).status, 200);
}

TEST_F(PlatformApiTest, AnnouncementsArePublicAndTicketsPrivate) {
  Browser admin(node_->port());
  ASSERT_NO_FATAL_FAILURE(signInAsOperator(admin));
  Browser alice(node_->port());
  Browser bob(node_->port());
  ASSERT_EQ(alice
                .call("POST", "/api/v1/auth/register",
                      {{"phone", "13800138000"}, {"password", "alice password"}})
                .status,
            201);
  ASSERT_EQ(bob.call("POST", "/api/v1/auth/register",
                     {{"phone", "13800138001"}, {"password", "bob password"}})
                .status,
            201);

  EXPECT_EQ(codeOf(alice.call("POST", "/api/v1/announcements", {{"title", "x"}, {"body", "y"}})),
            "not-operator");
  HttpResult posted =
      admin.call("POST", "/api/v1/announcements",
                 {{"title", "首发公告"}, {"body", "敦煌飞天今晚开售"}, {"pinned", true}});
  ASSERT_EQ(posted.status, 201) << posted.body;
  Browser anyone(node_->port());
  HttpResult listed = anyone.call("GET", "/api/v1/announcements");
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.json()["announcements"].size(), 1u);
  EXPECT_EQ(listed.json()["announcements"][0]["title"], "首发公告");
  EXPECT_EQ(codeOf(anyone.call("GET", "/api/v1/announcements?limit=1000")), "bad-limit");

  HttpResult opened = alice.call("POST", "/api/v1/tickets",
                                 {{"subject", "订单未到账"}, {"body", "付款后没有藏品"}});
  ASSERT_EQ(opened.status, 201) << opened.body;
  const std::string ticket =
      "/api/v1/tickets/" + std::to_string(opened.json()["ticket"]["id"].get<std::int64_t>());
  // Bob asks for Alice's ticket by its number: for him it does not exist.
  EXPECT_EQ(codeOf(bob.call("GET", ticket)), "no-such-ticket");
  EXPECT_EQ(codeOf(bob.call("POST", ticket + "/messages", {{"body", "hi"}})), "no-such-ticket");
  EXPECT_EQ(codeOf(bob.call("POST", ticket + "/close")), "no-such-ticket");
  EXPECT_EQ(codeOf(bob.call("GET", "/api/v1/tickets?view=all")), "not-operator");
  EXPECT_EQ(codeOf(anyone.call("GET", ticket)), "login-required");

  HttpResult replied = admin.call("POST", ticket + "/messages", {{"body", "已补发，请刷新"}});
  ASSERT_EQ(replied.status, 201);
  HttpResult seen = alice.call("GET", ticket);
  ASSERT_EQ(seen.status, 200);
  ASSERT_EQ(seen.json()["ticket"]["messages"].size(), 2u);
  EXPECT_EQ(seen.json()["ticket"]["messages"][1]["from_staff"], true);
  EXPECT_EQ(alice.call("POST", ticket + "/close").json()["ticket"]["open"], false);
  EXPECT_EQ(codeOf(alice.call("POST", ticket + "/messages", {{"body", "again"}})), "ticket-closed");
  EXPECT_EQ(codeOf(alice.call("POST", "/api/v1/tickets", {{"subject", ""}, {"body", "x"}})),
            "subject-length");
}

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The waiting room through the real binary: collectors join before the start, the node draws
// their places at the start, and anyone can recompute every place from the revealed seed.
TEST_F(PlatformApiTest, TheWaitingRoomIsDrawnAtTheStartAndAnyoneCanRecomputeIt) {
  Browser admin(node_->port());
  ASSERT_NO_FATAL_FAILURE(signInAsOperator(admin));
  std::string failure;
  const std::int64_t series = publishSeries(admin, node_->port(), 100, &failure);
  ASSERT_GT(series, 0) << failure;
  const std::int64_t startsAt = nowMillis() + 4'000;
  HttpResult created = admin.call("POST", "/api/v1/drops",
                                  {{"series_draft_id", series},
                                   {"title", "排队首发"},
                                   {"price_fen", 990},
                                   {"stock", 10},
                                   {"starts_at", startsAt},
                                   {"ends_at", startsAt + 9'000},
                                   {"admit_per_second", 2}});
  ASSERT_EQ(created.status, 201) << created.body;
  const json dropJson = created.json()["drop"];
  EXPECT_TRUE(dropJson["queue_seed"].is_null());
  EXPECT_EQ(dropJson["admit_per_second"], 2);
  const std::string drop = "/api/v1/drops/" + std::to_string(dropJson["id"].get<int>());

  std::vector<std::unique_ptr<Browser>> entrants;
  std::map<std::string, std::size_t> byAddress;
  for (int i = 0; i < 6; ++i) {
    auto browser = std::make_unique<Browser>(node_->port());
    ASSERT_EQ(browser
                  ->call("POST", "/api/v1/auth/register",
                         {{"phone", "1370000000" + std::to_string(i)}, {"password", "queue pass"}})
                  .status,
              201);
    const std::string number = identityNumber(500 + i);
    recordSecret(number);
    ASSERT_EQ(
        browser->call("POST", "/api/v1/me/identity", {{"name", "李四"}, {"id_number", number}})
            .status,
        200);
    HttpResult joined = browser->call("POST", drop + "/queue");
    ASSERT_EQ(joined.status, 200) << joined.body;
    EXPECT_TRUE(joined.json()["place"]["position"].is_null());  // drawn at the start
    byAddress[browser->call("GET", "/api/v1/me").json()["user"]["address"]] = entrants.size();
    entrants.push_back(std::move(browser));
  }
  recordSecret("queue pass");
  HttpClient anyone(node_->port());
  EXPECT_TRUE(anyone.get(drop + "/queue/draw").json()["seed"].is_null());
  EXPECT_EQ(anyone.get(drop + "/queue/draw").json()["entrants_total"], 6);

  // Each entrant's page watches the waiting room: its place (no position yet) and the progress.
  std::vector<std::unique_ptr<RawConnection>> streams;
  for (const auto& browser : entrants) {
    auto stream = std::make_unique<RawConnection>(node_->port());
    ASSERT_TRUE(stream->send("GET " + drop + "/queue/events HTTP/1.1\r\nHost: x\r\nCookie: " +
                             browser->cookieHeader() + "\r\n\r\n"));
    ASSERT_TRUE(stream->receiveUntil("\"position\":null}", std::chrono::seconds(5)));
    ASSERT_TRUE(
        stream->receiveUntil("\"entrants\":6,\"state\":\"waiting\"", std::chrono::seconds(5)));
    streams.push_back(std::move(stream));
  }
  Browser stranger(node_->port());
  ASSERT_EQ(stranger
                .call("POST", "/api/v1/auth/register",
                      {{"phone", "13700000099"}, {"password", "queue pass"}})
                .status,
            201);
  EXPECT_EQ(codeOf(stranger.call("GET", drop + "/queue/events")), "not-in-queue");
  EXPECT_EQ(codeOf(stranger.call("GET", "/api/v1/drops/999/queue/events")), "no-such-drop");
  EXPECT_EQ(codeOf(stranger.call("POST", drop + "/queue/events")), "method-not-allowed");

  // The node draws at the start by itself.
  json draw;
  for (int wait = 0; wait < 200 && !draw.contains("drawn_at"); ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    json seen = anyone.get(drop + "/queue/draw").json();
    if (!seen["seed"].is_null()) draw = seen;
  }
  ASSERT_TRUE(draw.contains("seed")) << "no draw within 10 s of the start";
  auto seed = core::Hash256::fromHex(draw["seed"].get<std::string>());
  ASSERT_TRUE(seed.ok());
  const core::CryptoSuite& suite = core::cryptoSuite(core::SuiteId::kEd25519Sha256);
  EXPECT_EQ(suite.hash({core::asBytes("jiancang/seed-commitment/v1"), seed->view()}).hex(),
            dropJson["queue_commitment"]);
  std::vector<std::pair<std::string, std::string>> keyed;  // key, address
  for (const auto& [address, index] : byAddress) {
    auto bytes = core::fromHex(address);
    ASSERT_TRUE(bytes.ok());
    keyed.emplace_back(suite.hash({core::asBytes("jiancang/queue/v1"), seed->view(), *bytes}).hex(),
                       address);
  }
  std::sort(keyed.begin(), keyed.end());
  ASSERT_EQ(draw["entrants"].size(), keyed.size());
  for (std::size_t i = 0; i < keyed.size(); ++i) {
    EXPECT_EQ(draw["entrants"][i]["address"], keyed[i].second);
    EXPECT_EQ(draw["entrants"][i]["position"], i + 1);
    // Each entrant sees the same place; two a second are let in.
    Browser& entrant = *entrants[byAddress[keyed[i].second]];
    json place = entrant.call("GET", drop + "/queue").json()["place"];
    EXPECT_EQ(place["position"], i + 1);
    EXPECT_EQ(place["admitted_at"],
              startsAt + (i < 2 ? 0 : static_cast<std::int64_t>(i - 1) * 500));
  }
  // The last place is let in two seconds after the start: ordering before then is refused.
  Browser& last = *entrants[byAddress[keyed.back().second]];
  HttpResult early = last.call("POST", drop + "/orders", {}, {{"Idempotency-Key", "q"}});
  if (nowMillis() < startsAt + 2'000) {
    EXPECT_EQ(codeOf(early), "queue-not-reached") << early.body;
  }
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::max<std::int64_t>(0, startsAt + 2'100 - nowMillis())));
  EXPECT_EQ(last.call("POST", drop + "/orders", {}, {{"Idempotency-Key", "q"}}).status, 201);

  // The streams told each entrant its drawn place and then that it was let in; the progress
  // reached every place and the copy sold; at the end each stream said so and closed.
  for (std::size_t i = 0; i < keyed.size(); ++i) {
    RawConnection& stream = *streams[byAddress[keyed[i].second]];
    const std::string position = "\"position\":" + std::to_string(i + 1) + "}";
    EXPECT_TRUE(stream.receiveUntil("\"admitted\":true", std::chrono::seconds(5)))
        << "place " << i + 1 << " was not told it was let in";
    EXPECT_TRUE(stream.receiveUntil(position, std::chrono::seconds(1))) << "place " << i + 1;
    EXPECT_TRUE(
        stream.receiveUntil("\"admitted_through\":6,\"available\":9", std::chrono::seconds(5)))
        << "place " << i + 1;
  }
  HttpResult figures = admin.call("GET", drop + "/figures");
  EXPECT_EQ(figures.json()["figures"]["queue"], 6) << figures.body;
  for (auto& stream : streams) {
    EXPECT_TRUE(stream->receiveUntil("\"state\":\"ended\"", std::chrono::seconds(12)));
    const std::string rest = stream->receive(std::chrono::seconds(3));
    EXPECT_EQ(rest.find("event:"), std::string::npos) << rest;  // closed, nothing after
  }
}

// A lottery drop through the real binary: entries, the node's own commit and draw on chain, and
// the winners recomputed here from the published entrants, the chain's lottery record and the
// commit block's hash; then an airdrop to the winners.
TEST_F(PlatformApiTest, ALotteryIsDrawnOnChainAndAnyoneCanRecomputeTheWinners) {
  Browser admin(node_->port());
  ASSERT_NO_FATAL_FAILURE(signInAsOperator(admin));
  std::string failure;
  const std::int64_t series = publishSeries(admin, node_->port(), 100, &failure);
  ASSERT_GT(series, 0) << failure;
  // The entrants sign up first: registering and verifying five people (argon2id each) took over
  // the whole entry window on a loaded machine when the drop was created before them.
  std::vector<std::unique_ptr<Browser>> entrants;
  std::vector<std::string> phones;
  std::map<std::string, std::size_t> byAddress;
  for (int i = 0; i < 5; ++i) {
    auto browser = std::make_unique<Browser>(node_->port());
    phones.push_back("1360000000" + std::to_string(i));
    ASSERT_EQ(browser
                  ->call("POST", "/api/v1/auth/register",
                         {{"phone", phones.back()}, {"password", "lottery pass"}})
                  .status,
              201);
    const std::string number = identityNumber(600 + i);
    recordSecret(number);
    ASSERT_EQ(
        browser->call("POST", "/api/v1/me/identity", {{"name", "王五"}, {"id_number", number}})
            .status,
        200);
    byAddress[browser->call("GET", "/api/v1/me").json()["user"]["address"]] = entrants.size();
    entrants.push_back(std::move(browser));
  }
  recordSecret("lottery pass");
  const std::int64_t startsAt = nowMillis() + 1'000;
  const std::int64_t endsAt = startsAt + 4'000;
  HttpResult created = admin.call("POST", "/api/v1/drops",
                                  {{"series_draft_id", series},
                                   {"title", "抽签首发"},
                                   {"mode", "lottery"},
                                   {"price_fen", 990},
                                   {"stock", 2},
                                   {"starts_at", startsAt},
                                   {"ends_at", endsAt}});
  ASSERT_EQ(created.status, 201) << created.body;
  const json dropJson = created.json()["drop"];
  EXPECT_EQ(dropJson["mode"], "lottery");
  EXPECT_TRUE(dropJson["lottery"]["seed"].is_null());
  const std::string commitment = dropJson["lottery"]["seed_commitment"];
  const std::string drop = "/api/v1/drops/" + std::to_string(dropJson["id"].get<int>());
  EXPECT_EQ(codeOf(admin.call("POST", "/api/v1/drops",
                              {{"series_draft_id", series},
                               {"title", "x"},
                               {"mode", "raffle"},
                               {"price_fen", 990},
                               {"stock", 2},
                               {"starts_at", startsAt},
                               {"ends_at", endsAt}})),
            "mode-invalid");

  EXPECT_EQ(codeOf(entrants[0]->call("POST", drop + "/lottery")), "entries-not-open");
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::max<std::int64_t>(0, startsAt + 100 - nowMillis())));
  for (auto& browser : entrants) {
    HttpResult entered = browser->call("POST", drop + "/lottery");
    ASSERT_EQ(entered.status, 201) << entered.body;
    EXPECT_TRUE(entered.json()["entry"]["index"].is_null());
  }
  EXPECT_EQ(codeOf(entrants[0]->call("POST", drop + "/orders", {}, {{"Idempotency-Key", "k"}})),
            "not-for-sale");
  HttpClient anyone(node_->port());
  EXPECT_EQ(anyone.get(drop).json()["drop"]["state"], "entering");

  // The node freezes the list at the end, commits it and draws in a later block by itself.
  json published;
  for (int wait = 0; wait < 400; ++wait) {
    published = anyone.get(drop + "/lottery/entrants").json();
    if (published["lottery"]["state"] == "settled") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(published["lottery"]["state"], "settled") << published.dump();
  EXPECT_EQ(anyone.get(drop).json()["drop"]["state"], "drawn");
  ASSERT_EQ(published["entrants"].size(), 5u);

  const core::CryptoSuite& suite = core::cryptoSuite(core::SuiteId::kEd25519Sha256);
  std::vector<core::Hash256> leaves;
  for (const json& entrant : published["entrants"]) {
    auto address = core::fromHex(entrant["address"].get<std::string>());
    ASSERT_TRUE(address.ok());
    leaves.push_back(suite.hash({core::asBytes("jiancang/lottery-entrant/v1"), *address}));
  }
  const core::Hash256 root = chain::listMerkleRoot(suite, leaves);
  EXPECT_EQ(root.hex(), published["lottery"]["entrants_root"]);
  auto seed = core::Hash256::fromHex(published["lottery"]["seed"].get<std::string>());
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(chain::seedCommitment(suite, *seed).hex(), commitment);
  const std::string chainLottery =
      "/api/v1/lotteries/" + std::to_string(published["lottery"]["chain_lottery_id"].get<int>());
  HttpResult onChain = anyone.get(chainLottery);
  ASSERT_EQ(onChain.status, 200) << onChain.body;
  const json record = onChain.json();
  EXPECT_EQ(record["entrants_root"], root.hex());
  EXPECT_EQ(record["seed"], seed->hex());
  EXPECT_EQ(record["entrant_count"], 5);
  auto commitBlock = core::BlockHash::fromHex(record["commit_block_hash"].get<std::string>());
  ASSERT_TRUE(commitBlock.ok());
  EXPECT_EQ(anyone.get("/api/v1/blocks/" + std::to_string(record["committed_at_height"].get<int>()))
                .json()["hash"],
            commitBlock->hex());
  const auto winners = chain::drawLotteryWinners(
      suite,
      chain::lotteryDrawSeed(suite, *seed, *commitBlock, root,
                             chain::LotteryId(record["id"].get<std::uint64_t>())),
      5, 2);
  EXPECT_EQ(record["winners"], json(winners));
  EXPECT_EQ(anyone.get("/api/v1/lotteries/999").status, 404);

  // Each winner, and nobody else, has an order to pay.
  std::vector<std::string> winnerPhones;
  for (std::size_t index = 0; index < 5; ++index) {
    const bool won = std::find(winners.begin(), winners.end(), index) != winners.end();
    EXPECT_EQ(published["entrants"][index]["won"], won);
    const std::size_t who = byAddress[published["entrants"][index]["address"]];
    json entry = entrants[who]->call("GET", drop + "/lottery").json()["entry"];
    EXPECT_EQ(entry["index"], index);
    EXPECT_EQ(entry["won"], won);
    json orders = entrants[who]->call("GET", "/api/v1/orders").json()["orders"];
    ASSERT_EQ(orders.size(), won ? 1u : 0u);
    if (won) {
      EXPECT_EQ(orders[0]["id"], entry["order_id"]);
      EXPECT_EQ(orders[0]["state"], "pending");
      winnerPhones.push_back(phones[who]);
    }
  }

  // An airdrop to the winners: minted for nothing, no payment.
  HttpResult airdropped =
      admin.call("POST", "/api/v1/airdrops",
                 {{"series_draft_id", series}, {"title", "中签纪念"}, {"phones", winnerPhones}});
  ASSERT_EQ(airdropped.status, 201) << airdropped.body;
  EXPECT_EQ(airdropped.json()["orders"].size(), 2u);
  EXPECT_EQ(airdropped.json()["drop"]["mode"], "airdrop");
  EXPECT_EQ(
      codeOf(admin.call("POST", "/api/v1/airdrops",
                        {{"series_draft_id", series}, {"title", "x"}, {"phones", "13600000000"}})),
      "recipients-invalid");
  EXPECT_EQ(
      codeOf(entrants[0]->call(
          "POST", "/api/v1/airdrops",
          {{"series_draft_id", series}, {"title", "x"}, {"phones", json::array({"13600000000"})}})),
      "not-operator");
  const std::int64_t airdropOrder = airdropped.json()["orders"][0];
  json delivered;
  for (int wait = 0; wait < 200; ++wait) {
    delivered = admin.call("GET", "/api/v1/orders/" + std::to_string(airdropOrder)).json();
    if (delivered["order"]["state"] == "delivered") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(delivered["order"]["state"], "delivered") << delivered.dump();
  EXPECT_EQ(delivered["order"]["amount_fen"], 0);
}

// A blind box through the real binary: drafted with its odds, reviewed, published with H(seed)
// on chain, airdropped, revealed by its issuer, and opened by its holders into exactly the items
// recomputed here from the public seed and sealing block.
TEST_F(PlatformApiTest, ABlindBoxIsPublishedWithItsOddsRevealedAndOpened) {
  Browser admin(node_->port());
  ASSERT_NO_FATAL_FAILURE(signInAsOperator(admin));
  std::string failure;
  const std::int64_t itemA = publishSeries(admin, node_->port(), 100, &failure);
  ASSERT_GT(itemA, 0) << failure;
  Browser issuer(node_->port());
  ASSERT_EQ(issuer
                .call("POST", "/api/v1/auth/login",
                      {{"phone", "13800138005"}, {"password", "museum password"}})
                .status,
            200);
  const json a = issuer.call("GET", "/api/v1/catalog/series/" + std::to_string(itemA)).json();
  const std::string media = a["series"]["media"]["sha256"];
  // Publishes a series of the issuer's through a review by the operator; returns its draft.
  auto publish = [&](const json& body) -> json {
    HttpResult drafted = issuer.call("POST", "/api/v1/catalog/series", body);
    EXPECT_EQ(drafted.status, 201) << drafted.body;
    const std::string path =
        "/api/v1/catalog/series/" + std::to_string(drafted.json()["series"]["id"].get<int>());
    EXPECT_EQ(issuer.call("POST", path + "/submit").status, 200);
    EXPECT_EQ(admin.call("POST", path + "/review", {{"approve", true}}).status, 200);
    HttpResult published = issuer.call("POST", path + "/publish");
    EXPECT_EQ(published.status, 200) << published.body;
    return published.json()["series"];
  };
  const json itemB = publish(
      {{"title", "飞天 · 隐藏款"}, {"description", ""}, {"media", media}, {"edition_cap", 10}});
  ASSERT_FALSE(HasFailure());

  json box = {{"title", "飞天盲盒"},
              {"description", "三个里有一个隐藏款"},
              {"media", media},
              {"edition_cap", 3},
              {"blind_box",
               {{"items",
                 {{{"series_draft_id", itemA}, {"count", 2}},
                  {{"series_draft_id", itemB["id"]}, {"count", 1}}}},
                {"reveal_deadline", nowMillis() + 3'600'000}}}};
  json bad = box;
  bad["blind_box"] = "many";
  EXPECT_EQ(codeOf(issuer.call("POST", "/api/v1/catalog/series", bad)), "wrong-type");
  bad = box;
  bad["edition_cap"] = 4;
  EXPECT_EQ(codeOf(issuer.call("POST", "/api/v1/catalog/series", bad)), "blind-box-size-mismatch");
  bad = box;
  bad["blind_box"]["items"][1]["series_draft_id"] = 999;
  EXPECT_EQ(codeOf(issuer.call("POST", "/api/v1/catalog/series", bad)), "blind-box-items");
  bad = box;
  bad["blind_box"]["reveal_deadline"] = 1;
  EXPECT_EQ(codeOf(issuer.call("POST", "/api/v1/catalog/series", bad)), "reveal-deadline-invalid");
  const json published = publish(box);
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(published["blind_box"]["items"].size(), 2u);
  EXPECT_NEAR(published["blind_box"]["items"][0]["odds"].get<double>(), 2.0 / 3, 1e-9);
  const std::string commitment = published["blind_box"]["seed_commitment"];

  // The chain holds the odds and H(seed); the seed stays secret until the reveal.
  HttpClient anyone(node_->port());
  const std::string onChain =
      "/api/v1/series/" + std::to_string(published["series_id"].get<int>()) + "/blind-box";
  json record = anyone.get(onChain).json();
  EXPECT_EQ(record["stage"], "committed");
  EXPECT_EQ(record["seed_commitment"], commitment);
  EXPECT_EQ(record["boxes"], 3);
  EXPECT_EQ(record["contents"][1]["title"], "飞天 · 隐藏款");
  EXPECT_TRUE(record["seed"].is_null());
  EXPECT_EQ(
      anyone.get("/api/v1/series/" + std::to_string(itemB["series_id"].get<int>()) + "/blind-box")
          .status,
      404);

  // Two verified collectors get a box each.
  std::vector<std::unique_ptr<Browser>> holders;
  std::vector<std::string> phones;
  for (int i = 0; i < 2; ++i) {
    auto browser = std::make_unique<Browser>(node_->port());
    phones.push_back("1350000000" + std::to_string(i));
    ASSERT_EQ(browser
                  ->call("POST", "/api/v1/auth/register",
                         {{"phone", phones.back()}, {"password", "box pass 1"}})
                  .status,
              201);
    const std::string number = identityNumber(700 + i);
    recordSecret(number);
    ASSERT_EQ(
        browser->call("POST", "/api/v1/me/identity", {{"name", "王五"}, {"id_number", number}})
            .status,
        200);
    holders.push_back(std::move(browser));
  }
  recordSecret("box pass 1");
  const std::string boxPath = "/api/v1/blind-boxes/" + std::to_string(published["id"].get<int>());
  HttpResult airdropped =
      admin.call("POST", "/api/v1/airdrops",
                 {{"series_draft_id", published["id"]}, {"title", "盲盒空投"}, {"phones", phones}});
  ASSERT_EQ(airdropped.status, 201) << airdropped.body;
  const std::string token1 = std::to_string(published["series_id"].get<int>()) + "#1";
  EXPECT_EQ(codeOf(holders[0]->call("POST", "/api/v1/blind-boxes/open", {{"token", "1-1"}})),
            "bad-token");
  HttpResult revealed;
  for (int wait = 0; wait < 200; ++wait) {  // once both boxes are minted
    revealed = issuer.call("POST", boxPath + "/reveal");
    if (codeOf(revealed) != "orders-in-flight") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(revealed.status, 200) << revealed.body;
  EXPECT_EQ(codeOf(issuer.call("POST", boxPath + "/reveal")), "already-revealed");
  EXPECT_EQ(codeOf(holders[0]->call("POST", boxPath + "/reveal")), "not-issuer");

  // Anyone recomputes each box's item from the public record.
  record = anyone.get(onChain).json();
  EXPECT_EQ(record["stage"], "revealed");
  const core::CryptoSuite& suite = core::cryptoSuite(core::SuiteId::kEd25519Sha256);
  auto seed = core::Hash256::fromHex(record["seed"].get<std::string>());
  auto sealing = core::BlockHash::fromHex(record["sealing_block_hash"].get<std::string>());
  ASSERT_TRUE(seed.ok() && sealing.ok()) << record.dump();
  EXPECT_EQ(chain::seedCommitment(suite, *seed).hex(), commitment);
  std::vector<chain::SeriesCount> contents;
  for (const json& item : record["contents"]) {
    contents.push_back(
        {chain::SeriesId(item["series"].get<std::uint64_t>()), item["count"].get<std::uint32_t>()});
  }
  const auto expected = chain::assignBlindBoxItems(
      suite,
      chain::blindBoxShuffleSeed(suite, *seed, *sealing,
                                 chain::SeriesId(published["series_id"].get<std::uint64_t>())),
      contents);
  // Who holds which box: the airdrop minted them in the order of the phone list.
  for (std::size_t serial = 1; serial <= 2; ++serial) {
    const std::string token =
        std::to_string(published["series_id"].get<int>()) + "#" + std::to_string(serial);
    HttpResult opened;
    for (const auto& holder : holders) {
      opened = holder->call("POST", "/api/v1/blind-boxes/open", {{"token", token}});
      if (opened.status != 403) break;  // not this holder's
    }
    ASSERT_EQ(opened.status, 200) << opened.body;
    EXPECT_EQ(opened.json()["opening"]["item_series"], expected[serial - 1].value());
  }
  EXPECT_EQ(codeOf(holders[0]->call("POST", "/api/v1/blind-boxes/open", {{"token", token1}})),
            "token-burned");
  EXPECT_EQ(codeOf(holders[0]->call("POST", "/api/v1/blind-boxes/refund", {{"token", token1}})),
            "token-burned");
  EXPECT_EQ(anyone.get(onChain).json()["opened"], 2);
}

// The whole sale through the real binary: a drop, an order, the sandbox provider's own page,
// its signed callback to the node, the mint, and the token on chain in the buyer's name.
TEST_F(PlatformApiTest, ABuyerOrdersPaysOnTheSandboxPageAndReceivesTheToken) {
  Browser admin(node_->port());
  ASSERT_NO_FATAL_FAILURE(signInAsOperator(admin));
  std::string failure;
  const std::int64_t series = publishSeries(admin, node_->port(), 100, &failure);
  ASSERT_GT(series, 0) << failure;
  json dropBody = {{"series_draft_id", series},
                   {"title", "飞天首发"},
                   {"price_fen", 1990},
                   {"stock", 2},
                   {"per_identity_limit", 1},
                   {"starts_at", nowMillis() - 1'000},
                   {"ends_at", nowMillis() + 3'600'000}};
  json bad = dropBody;
  bad["price_fen"] = "19.90";
  EXPECT_EQ(codeOf(admin.call("POST", "/api/v1/drops", bad)), "wrong-type");
  bad = dropBody;
  bad["stock"] = 101;
  EXPECT_EQ(codeOf(admin.call("POST", "/api/v1/drops", bad)), "stock-out-of-range");
  HttpResult created = admin.call("POST", "/api/v1/drops", dropBody);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string drop =
      "/api/v1/drops/" + std::to_string(created.json()["drop"]["id"].get<int>());
  // Public, without a session.
  HttpClient anyone(node_->port());
  HttpResult shown = anyone.get(drop);
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(shown.json()["drop"]["state"], "live");
  EXPECT_EQ(shown.json()["drop"]["available"], 2);
  EXPECT_EQ(shown.json()["drop"]["price"], "19.90");

  Browser alice(node_->port());
  ASSERT_EQ(alice
                .call("POST", "/api/v1/auth/register",
                      {{"phone", "13800138000"}, {"password", "correct horse"}})
                .status,
            201);
  EXPECT_EQ(codeOf(alice.call("POST", "/api/v1/drops", dropBody)), "not-operator");
  EXPECT_EQ(alice.call("POST", drop, dropBody).status, 405);
  EXPECT_EQ(codeOf(alice.call("POST", drop + "/orders", {}, {{"Idempotency-Key", "k1"}})),
            "identity-required");
  EXPECT_EQ(codeOf(alice.call("POST", drop + "/queue")), "identity-required");
  ASSERT_EQ(alice.call("POST", "/api/v1/me/identity", {{"name", "张三"}, {"id_number", kIdNumber}})
                .status,
            200);
  EXPECT_EQ(codeOf(alice.call("POST", drop + "/orders")), "idempotency-key");
  // Through the waiting room: the drop has started, so the place is the next one, let in at once.
  EXPECT_EQ(codeOf(alice.call("POST", drop + "/orders", {}, {{"Idempotency-Key", "k1"}})),
            "queue-required");
  EXPECT_EQ(codeOf(alice.call("GET", drop + "/queue")), "not-in-queue");
  HttpResult joined = alice.call("POST", drop + "/queue");
  ASSERT_EQ(joined.status, 200) << joined.body;
  EXPECT_EQ(joined.json()["place"]["position"], 1);
  EXPECT_EQ(joined.json()["place"]["admitted"], true);
  EXPECT_EQ(alice.call("GET", drop + "/queue").json()["place"]["position"], 1);
  HttpResult draw = anyone.get(drop + "/queue/draw");
  ASSERT_EQ(draw.status, 200) << draw.body;
  EXPECT_EQ(draw.json()["commitment"], shown.json()["drop"]["queue_commitment"]);
  EXPECT_TRUE(draw.json()["seed"].is_string()) << draw.body;  // revealed: the drop has started
  ASSERT_EQ(draw.json()["entrants"].size(), 1u);
  EXPECT_EQ(draw.json()["entrants"][0]["address"],
            alice.call("GET", "/api/v1/me").json()["user"]["address"]);
  EXPECT_EQ(codeOf(anyone.get(drop + "/queue/draw?limit=0")), "page-out-of-range");
  EXPECT_EQ(codeOf(anyone.get(drop + "/queue/draw?from=x")), "page-out-of-range");
  EXPECT_EQ(codeOf(anyone.get("/api/v1/drops/999/queue/draw")), "no-such-drop");
  HttpResult ordered = alice.call("POST", drop + "/orders", {}, {{"Idempotency-Key", "k1"}});
  ASSERT_EQ(ordered.status, 201) << ordered.body;
  EXPECT_EQ(ordered.json()["order"]["state"], "pending");
  const std::int64_t orderId = ordered.json()["order"]["id"];
  EXPECT_EQ(
      alice.call("POST", drop + "/orders", {}, {{"Idempotency-Key", "k1"}}).json()["order"]["id"],
      orderId);
  EXPECT_EQ(codeOf(alice.call("POST", drop + "/orders", {}, {{"Idempotency-Key", "k2"}})),
            "identity-limit");
  const std::string order = "/api/v1/orders/" + std::to_string(orderId);
  // Someone else's order does not exist for them; a request without the CSRF token is refused.
  Browser bob(node_->port());
  ASSERT_EQ(bob.call("POST", "/api/v1/auth/register",
                     {{"phone", "13800138001"}, {"password", "battery staple"}})
                .status,
            201);
  EXPECT_EQ(codeOf(bob.call("GET", order)), "no-such-order");
  EXPECT_EQ(codeOf(bob.call("POST", order + "/pay")), "no-such-order");
  EXPECT_EQ(codeOf(alice.call("POST", order + "/pay", {}, {}, /*withCsrf=*/false)),
            "csrf-token-invalid");

  HttpResult paying = alice.call("POST", order + "/pay");
  ASSERT_EQ(paying.status, 200) << paying.body;
  const std::string page = paying.json()["order"]["payment_url"];
  ASSERT_EQ(page.rfind("/sandbox/pay/sbx_", 0), 0u) << page;
  HttpResult pageShown = alice.raw("GET", page, "");
  ASSERT_EQ(pageShown.status, 200);
  EXPECT_NE(pageShown.body.find("19.90"), std::string::npos);
  EXPECT_EQ(pageShown.headers["content-type"], "text/html; charset=utf-8");
  // A callback nobody signed changes nothing.
  HttpResult forged =
      anyone.request("POST", "/api/v1/payments/sandbox/notify",
                     json{{"notice_id", "ntc_x"},
                          {"payment_id", page.substr(13)},
                          {"merchant_reference", "order-" + std::to_string(orderId)},
                          {"amount_fen", 1990},
                          {"currency", "CNY"},
                          {"event", "paid"}}
                         .dump());
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(codeOf(forged), "callback-signature");
  EXPECT_EQ(alice.call("GET", order).json()["order"]["state"], "pending");

  // Alice's order page listens for its changes: an event stream, her own order only.
  RawConnection events(node_->port());
  ASSERT_TRUE(events.send("GET " + order + "/events HTTP/1.1\r\nHost: x\r\nCookie: " +
                          alice.cookieHeader() + "\r\n\r\n"));
  ASSERT_TRUE(events.receiveUntil("\"state\":\"pending\"", std::chrono::seconds(5)));
  EXPECT_EQ(codeOf(bob.call("GET", order + "/events")), "no-such-order");

  HttpResult paid = alice.raw("POST", page, "action=pay", "application/x-www-form-urlencoded");
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_NE(paid.body.find("paid"), std::string::npos);
  EXPECT_EQ(codeOf(alice.raw("POST", page, "action=pay", "application/x-www-form-urlencoded")),
            "payment-closed");

  // The provider calls back, the order is paid, then minted.
  json delivered;
  for (int tries = 0; tries < 200; ++tries) {
    delivered = alice.call("GET", order).json()["order"];
    if (delivered["state"] == "delivered") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(delivered["state"], "delivered") << delivered.dump();
  EXPECT_EQ(delivered["serial"], 1);
  EXPECT_TRUE(events.receiveUntil("\"state\":\"delivered\"", std::chrono::seconds(5)))
      << "the order's event stream did not tell of the delivery";
  EXPECT_TRUE(delivered.contains("mint_tx"));
  std::vector<std::string> states;
  for (const json& event : delivered["history"]) states.push_back(event["state"]);
  EXPECT_EQ(states, (std::vector<std::string>{"pending", "paid", "minting", "delivered"}));
  HttpResult token =
      anyone.get("/api/v1/tokens/" + std::to_string(delivered["series_id"].get<int>()) + "/1");
  ASSERT_EQ(token.status, 200) << token.body;
  EXPECT_EQ(token.json()["owner"], alice.call("GET", "/api/v1/me").json()["user"]["address"])
      << token.body;
  HttpResult figures = admin.call("GET", drop + "/figures");
  ASSERT_EQ(figures.status, 200) << figures.body;
  EXPECT_EQ(figures.json()["figures"]["delivered"], 1);
  EXPECT_EQ(figures.json()["figures"]["available"], 1);
  EXPECT_EQ(codeOf(alice.call("GET", drop + "/figures")), "not-operator");

  // A second drop with a priority window (优先购) for holders of the series: Alice holds one
  // now and buys before the start; Bob does not and must wait for it.
  json priorityBody = dropBody;
  priorityBody["starts_at"] = nowMillis() + 600'000;
  priorityBody["priority"] = {{"starts_at", nowMillis() - 1'000},
                              {"holders_of_series", delivered["series_id"]}};
  bad = priorityBody;
  bad["priority"] = "soon";
  EXPECT_EQ(codeOf(admin.call("POST", "/api/v1/drops", bad)), "wrong-type");
  bad["priority"] = {{"starts_at", nowMillis() + 700'000}, {"holders_of_series", 1}};
  EXPECT_EQ(codeOf(admin.call("POST", "/api/v1/drops", bad)), "priority-window-invalid");
  bad["priority"] = {{"starts_at", nowMillis()}, {"whitelist", {"13800138001", 7}}};
  EXPECT_EQ(codeOf(admin.call("POST", "/api/v1/drops", bad)), "priority-window-invalid");
  HttpResult early = admin.call("POST", "/api/v1/drops", priorityBody);
  ASSERT_EQ(early.status, 201) << early.body;
  EXPECT_EQ(early.json()["drop"]["state"], "priority");
  EXPECT_EQ(early.json()["drop"]["priority"]["holders_of_series"], delivered["series_id"]);
  const std::string earlyDrop =
      "/api/v1/drops/" + std::to_string(early.json()["drop"]["id"].get<int>());
  const std::string bobsNumber = identityNumber(700);
  recordSecret(bobsNumber);
  ASSERT_EQ(
      bob.call("POST", "/api/v1/me/identity", {{"name", "王五"}, {"id_number", bobsNumber}}).status,
      200);
  EXPECT_EQ(codeOf(bob.call("POST", earlyDrop + "/orders", {}, {{"Idempotency-Key", "e"}})),
            "priority-only");
  EXPECT_EQ(alice.call("POST", earlyDrop + "/orders", {}, {{"Idempotency-Key", "e"}}).status, 201);
}

// Two storefront instances on one PostgreSQL: a session opened on one is good on the other, and
// an identity bound through one is refused through the other.
TEST(PlatformApiPostgresTest, InstancesShareAccountsThroughPostgres) {
  recordTheTestsSecrets();
  fs::path scratch = freshDirectory("platform-api-postgres");
  PostgresServer postgres(scratch / "postgres");
  std::string error;
  ASSERT_TRUE(postgres.start({"fsync=off"}, &error)) << error;
  ASSERT_EQ(
      postgres.runClient("psql", {"-q", "-d", "postgres", "-c", "CREATE DATABASE shared"}).first,
      0);
  const std::string database = "--database '" + postgres.connectionString("shared") + "' ";
  NodeProcess first(scratch / "first", database + kFastHashing);
  NodeProcess second(scratch / "second", database + kFastHashing);
  std::string output;
  ASSERT_TRUE(first.start(&output)) << output;
  // A second instance with a master key of its own is refused: nothing it sealed could be
  // opened by the first, and identity hashes would not be unique across the two.
  ASSERT_FALSE(second.start(&output));
  EXPECT_NE(second.output().find("master key"), std::string::npos) << second.output();
  fs::remove(scratch / "second" / "keys" / "platform.key");
  fs::copy_file(scratch / "first" / "keys" / "platform.key",
                scratch / "second" / "keys" / "platform.key");
  ASSERT_TRUE(second.start(&output)) << output;
  // One operator between them, printed by the instance that made it.
  EXPECT_NE(oneTimePassword(first.output()).empty(), oneTimePassword(second.output()).empty());

  Browser onFirst(first.port());
  ASSERT_EQ(onFirst
                .call("POST", "/api/v1/auth/register",
                      {{"phone", "13800138000"}, {"password", "correct horse"}})
                .status,
            201);
  Browser onSecond(second.port());
  onSecond.adopt(onFirst);
  EXPECT_EQ(onSecond.call("GET", "/api/v1/me").status, 200);
  EXPECT_EQ(
      onSecond.call("POST", "/api/v1/me/identity", {{"name", "张三"}, {"id_number", kIdNumber}})
          .status,
      200);
  Browser other(first.port());
  ASSERT_EQ(other
                .call("POST", "/api/v1/auth/register",
                      {{"phone", "13800138001"}, {"password", "battery staple"}})
                .status,
            201);
  EXPECT_EQ(codeOf(other.call("POST", "/api/v1/me/identity",
                              {{"name", "张三"}, {"id_number", kIdNumber}})),
            "identity-taken");
  EXPECT_EQ(first.stop(), 0);
  EXPECT_EQ(second.stop(), 0);
  postgres.stop();
  fs::remove_all(scratch);
}

}  // namespace
}  // namespace jiancang::testing
