#include <platform/accounts.h>

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <platform/testing/databases.h>

namespace jiancang::platform {
namespace {

using core::ErrorCode;

const core::Timestamp kNow = core::Timestamp::fromUnixMillis(1'795'435'200'000);  // 2026-11-23

// A valid identity number born on `birth` (YYYYMMDD) with sequence `sequence`: the check
// character by GB 11643's weights (the algorithm is pinned by the standard's own example in
// identity_test.cpp).
std::string identityNumber(const std::string& birth, int sequence) {
  char body[18];
  std::snprintf(body, sizeof body, "110105%s%03d", birth.c_str(), sequence % 1000);
  static const int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (body[i] - '0') * kWeights[i];
  return std::string(body) + "10X98765432"[sum % 11];
}

class AccountsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    database_ = testing::freshDatabase(GetParam());
    ASSERT_NE(database_, nullptr);
    accounts_ = std::make_unique<Accounts>(*database_, masterKey_,
                                           core::cryptoSuite(core::SuiteId::kEd25519Sha256),
                                           verifier_, clock_, testing::fastAccountsOptions());
  }

  std::int64_t countRows(const std::string& sql) { return testing::countRows(*database_, sql); }

  std::unique_ptr<Database> database_;
  MasterKey masterKey_ = MasterKey::fromBytes(std::vector<std::uint8_t>(32, 7));
  LocalIdentityVerifier verifier_;
  core::ManualClock clock_{kNow};
  std::unique_ptr<Accounts> accounts_;
};

TEST_P(AccountsTest, RegistersLogsInAndAuthenticates) {
  auto user = accounts_->registerCollector("13800138000", "correct horse");
  ASSERT_TRUE(user.ok()) << user.status().toString();
  EXPECT_TRUE(user->hasRole(kRoleCollector));
  EXPECT_FALSE(user->hasRole(kRoleOperator));
  EXPECT_FALSE(user->identityVerified);
  EXPECT_FALSE(user->address.isZero());

  auto login = accounts_->login("13800138000", "correct horse", "127.0.0.1");
  ASSERT_TRUE(login.ok()) << login.status().toString();
  const SessionTokens& tokens = login->second;
  EXPECT_EQ(tokens.token.size(), 64u);
  EXPECT_EQ(tokens.csrfToken.size(), 32u);
  auto session = accounts_->authenticate(tokens.token);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->user.id, user->id);
  EXPECT_EQ(session->csrfToken, tokens.csrfToken);

  // Each login is a new session; logging out ends only that one.
  auto second = accounts_->login("13800138000", "correct horse", "127.0.0.1");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->second.token, tokens.token);
  // A session seen is answered from memory for a second; a logout forgets it at once.
  ASSERT_TRUE(accounts_->cachedSession(tokens.token).has_value());
  EXPECT_EQ(accounts_->cachedSession(tokens.token)->user.id, user->id);
  EXPECT_FALSE(accounts_->cachedSession(second->second.token).has_value());  // not seen yet
  EXPECT_TRUE(accounts_->logout(tokens.token).isOk());
  EXPECT_FALSE(accounts_->cachedSession(tokens.token).has_value());
  EXPECT_EQ(accounts_->authenticate(tokens.token).status().reason(), "session-invalid");
  EXPECT_TRUE(accounts_->authenticate(second->second.token).ok());
  // A role set is seen at the session's next request.
  auto operatorPassword = accounts_->ensureOperator("13000000000");
  ASSERT_TRUE(operatorPassword.ok() && operatorPassword->has_value());
  auto operatorLogin = accounts_->login("13000000000", **operatorPassword, "127.0.0.1");
  ASSERT_TRUE(operatorLogin.ok());
  ASSERT_TRUE(accounts_->authenticate(second->second.token).ok());
  ASSERT_TRUE(
      accounts_->setRoles(operatorLogin->first.id, user->id, kRoleCollector | kRoleReviewer).ok());
  EXPECT_TRUE(accounts_->authenticate(second->second.token)->user.hasRole(kRoleReviewer));
  // Only hashes are stored (the collector's and the operator's).
  EXPECT_EQ(countRows("SELECT COUNT(*) FROM users WHERE password_hash LIKE '$argon2id$%'"), 2);
}

TEST_P(AccountsTest, SigningUpOpensTheFirstSession) {
  auto signedUp = accounts_->signUp("13800138000", "correct horse");
  ASSERT_TRUE(signedUp.ok()) << signedUp.status().toString();
  auto session = accounts_->authenticate(signedUp->second.token);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->user.id, signedUp->first.id);
  EXPECT_EQ(session->csrfToken, signedUp->second.csrfToken);
  EXPECT_EQ(accounts_->signUp("13800138000", "correct horse").status().reason(), "phone-taken");
  EXPECT_EQ(countRows("SELECT COUNT(*) FROM sessions"), 1);  // the refused one opened none
}

TEST_P(AccountsTest, SessionsExpire) {
  ASSERT_TRUE(accounts_->registerCollector("13800138000", "correct horse").ok());
  auto login = accounts_->login("13800138000", "correct horse", "127.0.0.1");
  ASSERT_TRUE(login.ok());
  clock_.set(kNow + std::chrono::hours(24 * 7) + std::chrono::seconds(1));
  EXPECT_EQ(accounts_->authenticate(login->second.token).status().reason(), "session-invalid");
  EXPECT_EQ(accounts_->authenticate("not a token").status().reason(), "session-invalid");
  EXPECT_EQ(accounts_->authenticate(std::string(64, 'a')).status().reason(), "session-invalid");
}

TEST_P(AccountsTest, RefusesBadRegistrations) {
  EXPECT_EQ(accounts_->registerCollector("1380013800", "correct horse").status().reason(),
            "phone-format");
  EXPECT_EQ(accounts_->registerCollector("12800138000", "correct horse").status().reason(),
            "phone-format");
  EXPECT_EQ(accounts_->registerCollector("1380013800a", "correct horse").status().reason(),
            "phone-format");
  EXPECT_EQ(accounts_->registerCollector("13800138000", "short").status().reason(),
            "password-too-short");
  EXPECT_EQ(accounts_->registerCollector("13800138000", std::string(129, 'p')).status().reason(),
            "password-too-long");
  EXPECT_EQ(accounts_->registerCollector("13800138000", "12345678").status().reason(),
            "password-too-common");
  EXPECT_EQ(accounts_->registerCollector("13800138000", "zzzzzzzzzz").status().reason(),
            "password-too-common");
  EXPECT_EQ(countRows("SELECT COUNT(*) FROM users"), 0);  // nothing stored

  ASSERT_TRUE(accounts_->registerCollector("13800138000", "correct horse").ok());
  auto again = accounts_->registerCollector("13800138000", "another one!");
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.status().reason(), "phone-taken");
  EXPECT_EQ(countRows("SELECT COUNT(*) FROM users"), 1);
}

TEST_P(AccountsTest, WrongPasswordsLockTheAccountForAWhile) {
  ASSERT_TRUE(accounts_->registerCollector("13800138000", "correct horse").ok());
  for (int i = 0; i < 5; ++i) {
    auto failed = accounts_->login("13800138000", "wrong horse", "10.0.0.1");
    EXPECT_EQ(failed.status().reason(), "login-failed");
  }
  // Locked now, even with the right password.
  auto locked = accounts_->login("13800138000", "correct horse", "10.0.0.2");
  EXPECT_EQ(locked.status().reason(), "account-locked");
  EXPECT_EQ(locked.status().code(), ErrorCode::kResourceExhausted);
  clock_.set(kNow + std::chrono::minutes(16));
  EXPECT_TRUE(accounts_->login("13800138000", "correct horse", "10.0.0.2").ok());
  // An unknown phone fails exactly like a wrong password.
  EXPECT_EQ(accounts_->login("13900139000", "correct horse", "10.0.0.3").status().reason(),
            "login-failed");
}

TEST_P(AccountsTest, OneAddressCannotTryManyAccounts) {
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(accounts_->login("139001390" + std::to_string(10 + i), "guess guess", "10.9.9.9")
                  .status()
                  .reason(),
              "login-failed");
  }
  ASSERT_TRUE(accounts_->registerCollector("13800138000", "correct horse").ok());
  EXPECT_EQ(accounts_->login("13800138000", "correct horse", "10.9.9.9").status().reason(),
            "too-many-attempts");
  EXPECT_TRUE(accounts_->login("13800138000", "correct horse", "10.9.9.8").ok());
  clock_.set(kNow + std::chrono::minutes(16));  // a new window
  EXPECT_TRUE(accounts_->login("13800138000", "correct horse", "10.9.9.9").ok());
}

TEST_P(AccountsTest, ChangingThePasswordEndsEverySession) {
  ASSERT_TRUE(accounts_->registerCollector("13800138000", "correct horse").ok());
  auto first = accounts_->login("13800138000", "correct horse", "127.0.0.1");
  auto second = accounts_->login("13800138000", "correct horse", "127.0.0.1");
  ASSERT_TRUE(first.ok() && second.ok());
  const std::int64_t id = first->first.id;
  EXPECT_EQ(accounts_->changePassword(id, "wrong horse", "battery staple").status().reason(),
            "password-wrong");
  auto changed = accounts_->changePassword(id, "correct horse", "battery staple");
  ASSERT_TRUE(changed.ok()) << changed.status().toString();
  EXPECT_FALSE(accounts_->authenticate(first->second.token).ok());
  EXPECT_FALSE(accounts_->authenticate(second->second.token).ok());
  EXPECT_TRUE(accounts_->authenticate(changed->token).ok());
  EXPECT_EQ(accounts_->login("13800138000", "correct horse", "127.0.0.1").status().reason(),
            "login-failed");
  EXPECT_TRUE(accounts_->login("13800138000", "battery staple", "127.0.0.1").ok());
}

TEST_P(AccountsTest, OneIdentityBindsOneAccount) {
  auto first = accounts_->registerCollector("13800138000", "correct horse");
  auto second = accounts_->registerCollector("13800138001", "correct horse");
  ASSERT_TRUE(first.ok() && second.ok());
  const std::string number = identityNumber("19900101", 123);
  auto verified = accounts_->verifyIdentity(first->id, {"李四", number});
  ASSERT_TRUE(verified.ok()) << verified.status().toString();
  EXPECT_TRUE(verified->identityVerified);
  EXPECT_TRUE(accounts_->identityHash(first->id).has_value());
  EXPECT_FALSE(accounts_->identityHash(second->id).has_value());

  auto taken = accounts_->verifyIdentity(second->id, {"李四", number});
  EXPECT_EQ(taken.status().reason(), "identity-taken");
  // The same number written with a lower-case x is the same identity.
  const std::string withX = identityNumber("19850505", 4);
  if (withX.back() == 'X') {
    ASSERT_TRUE(accounts_->verifyIdentity(second->id, {"王五", withX}).ok());
  }
  EXPECT_EQ(accounts_->verifyIdentity(first->id, {"李四", identityNumber("19900101", 124)})
                .status()
                .reason(),
            "identity-already-verified");
  // Nothing in clear in the database.
  EXPECT_EQ(countRows("SELECT COUNT(*) FROM users WHERE identity_sealed IS NOT NULL"),
            withX.back() == 'X' ? 2 : 1);
  bool clearText = false;
  ASSERT_TRUE(database_
                  ->transaction([&](SqlSession& session) -> core::Status {
                    auto rows = session.query("SELECT identity_sealed FROM users", {});
                    if (!rows) return rows.status();
                    for (const SqlRow& row : *rows) {
                      std::string bytes(row.bytes(0).begin(), row.bytes(0).end());
                      clearText = clearText || bytes.find(number) != std::string::npos ||
                                  bytes.find("李四") != std::string::npos;
                    }
                    return {};
                  })
                  .isOk());
  EXPECT_FALSE(clearText);
}

TEST_P(AccountsTest, MinorsAndBadIdentitiesAreRefused) {
  auto user = accounts_->registerCollector("13800138000", "correct horse");
  ASSERT_TRUE(user.ok());
  // 18 on 2026-11-24 (Beijing), one day too young.
  EXPECT_EQ(accounts_->verifyIdentity(user->id, {"李四", identityNumber("20081124", 1)})
                .status()
                .reason(),
            "identity-under-age");
  std::string badCheck = identityNumber("19900101", 1);
  badCheck.back() = badCheck.back() == '0' ? '1' : '0';
  EXPECT_EQ(accounts_->verifyIdentity(user->id, {"李四", badCheck}).status().reason(),
            "identity-check-digit");
  EXPECT_EQ(accounts_->verifyIdentity(user->id, {"李四", "110105199002300011"}).status().reason(),
            "identity-birth-date");
  EXPECT_EQ(countRows("SELECT COUNT(*) FROM users WHERE identity_hash IS NOT NULL"), 0);
  // Born on 2008-11-23: 18 today.
  EXPECT_TRUE(accounts_->verifyIdentity(user->id, {"李四", identityNumber("20081123", 1)}).ok());
}

TEST_P(AccountsTest, CustodialKeysAreSealedAndExportOnlyWithThePassword) {
  auto user = accounts_->registerCollector("13800138000", "correct horse");
  ASSERT_TRUE(user.ok());
  auto key = accounts_->signingKey(user->id);
  ASSERT_TRUE(key.ok()) << key.status().toString();
  EXPECT_EQ(core::addressOf(key->publicKey), user->address);
  EXPECT_EQ(accounts_->exportKey(user->id, "wrong horse").status().reason(), "password-wrong");
  auto exported = accounts_->exportKey(user->id, "correct horse");
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(exported->publicKey, key->publicKey);
  EXPECT_EQ(countRows("SELECT COUNT(*) FROM audit_log WHERE action = 'key-exported'"), 1);

  // The secret is nowhere in the database in clear.
  const std::string secret(key->secretKey.secretBytes().begin(),
                           key->secretKey.secretBytes().end());
  bool found = false;
  ASSERT_TRUE(database_
                  ->transaction([&](SqlSession& session) -> core::Status {
                    auto rows = session.query("SELECT key_sealed FROM users", {});
                    if (!rows) return rows.status();
                    std::string sealed(rows->front().bytes(0).begin(),
                                       rows->front().bytes(0).end());
                    found = sealed.find(secret) != std::string::npos;
                    return {};
                  })
                  .isOk());
  EXPECT_FALSE(found);

  // Under another master key the sealed key does not open.
  MasterKey other = MasterKey::fromBytes(std::vector<std::uint8_t>(32, 8));
  Accounts elsewhere(*database_, other, core::cryptoSuite(core::SuiteId::kEd25519Sha256), verifier_,
                     clock_);
  EXPECT_EQ(elsewhere.signingKey(user->id).status().reason(), "sealed-forged");
}

TEST_P(AccountsTest, FirstOperatorGetsAOneTimePassword) {
  auto created = accounts_->ensureOperator("13000000000");
  ASSERT_TRUE(created.ok()) << created.status().toString();
  ASSERT_TRUE(created->has_value());
  auto again = accounts_->ensureOperator("13000000001");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());  // one exists already

  auto login = accounts_->login("13000000000", **created, "127.0.0.1");
  ASSERT_TRUE(login.ok());
  EXPECT_TRUE(login->first.mustChangePassword);
  EXPECT_TRUE(login->first.hasRole(kRoleOperator));
  auto changed = accounts_->changePassword(login->first.id, **created, "operator secret");
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(accounts_->user(login->first.id)->mustChangePassword);

  // Roles: operators only, and not their own operator role.
  auto collector = accounts_->registerCollector("13800138000", "correct horse");
  ASSERT_TRUE(collector.ok());
  EXPECT_EQ(accounts_->setRoles(collector->id, collector->id, kAllRoles).status().reason(),
            "not-operator");
  EXPECT_EQ(accounts_->setRoles(login->first.id, login->first.id, kRoleCollector).status().reason(),
            "last-operator");
  auto issuer = accounts_->setRoles(login->first.id, collector->id, kRoleCollector | kRoleIssuer);
  ASSERT_TRUE(issuer.ok());
  EXPECT_TRUE(issuer->hasRole(kRoleIssuer));
  EXPECT_EQ(roleNames(issuer->roles), (std::vector<std::string>{"collector", "issuer"}));
  EXPECT_EQ(parseRole("reviewer"), kRoleReviewer);
  EXPECT_FALSE(parseRole("admin").has_value());
}

TEST_P(AccountsTest, TheDatabaseKeepsToItsMasterKey) {
  EXPECT_TRUE(bindMasterKey(*database_, masterKey_).isOk());
  EXPECT_TRUE(bindMasterKey(*database_, masterKey_).isOk());  // the same key again
  MasterKey other = MasterKey::fromBytes(std::vector<std::uint8_t>(32, 9));
  EXPECT_EQ(bindMasterKey(*database_, other).reason(), "master-key-mismatch");
}

INSTANTIATE_TEST_SUITE_P(Both, AccountsTest, ::testing::Values("sqlite", "postgres"));

TEST(MasterKeyTest, SealedValuesAreBoundToTheirContext) {
  MasterKey key = MasterKey::fromBytes(std::vector<std::uint8_t>(32, 1));
  core::Bytes sealed = key.seal(core::asBytes("secret"), "identity:1");
  auto opened = key.open(sealed, "identity:1");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(std::string(opened->begin(), opened->end()), "secret");
  EXPECT_EQ(key.open(sealed, "identity:2").status().reason(), "sealed-forged");
  sealed[30] ^= 1;
  EXPECT_EQ(key.open(sealed, "identity:1").status().reason(), "sealed-forged");
  EXPECT_EQ(key.open(core::Bytes(10), "identity:1").status().reason(), "sealed-too-short");
  EXPECT_EQ(key.identityHash("11010519491231002X"), key.identityHash("11010519491231002X"));
  EXPECT_NE(
      key.identityHash("11010519491231002X"),
      MasterKey::fromBytes(std::vector<std::uint8_t>(32, 2)).identityHash("11010519491231002X"));
}

TEST(MasterKeyTest, KeyFileIsCreatedPrivateAndRefusedWhenShared) {
  auto directory = std::filesystem::temp_directory_path() /
                   ("jiancang-master-key-" + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  auto file = directory / "platform.key";
  auto created = MasterKey::loadOrCreate(file);
  ASSERT_TRUE(created.ok()) << created.status().toString();
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto loaded = MasterKey::loadOrCreate(file);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->identityHash("x"), created->identityHash("x"));
  std::filesystem::permissions(file, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  EXPECT_EQ(MasterKey::loadOrCreate(file).status().reason(), "master-key-permissions");
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  { std::ofstream(file) << "not a key\n"; }
  EXPECT_EQ(MasterKey::loadOrCreate(file).status().reason(), "master-key-format");
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace jiancang::platform
