#include <platform/accounts.h>

#include <algorithm>
#include <array>
#include <limits>

#include <sodium.h>

namespace jiancang::platform {
namespace {

using core::ErrorCode;
using core::Status;

constexpr std::array<std::string_view, 6> kRoleNames = {"collector", "issuer",   "reviewer",
                                                        "operator",  "verifier", "auditor"};

// Among the most used passwords everywhere, and the ones people type on a phone keypad.
constexpr std::array<std::string_view, 16> kCommonPasswords = {
    "12345678",   "123456789", "1234567890", "password", "password1", "qwerty123",
    "11111111",   "88888888",  "66666666",   "abc12345", "a1234567",  "iloveyou",
    "qwertyuiop", "1qaz2wsx",  "woaini1314", "aa123456"};

std::string randomHex(std::size_t bytes) {
  std::vector<std::uint8_t> buffer(bytes);
  randombytes_buf(buffer.data(), buffer.size());
  std::string hex = core::toHex(buffer);
  sodium_memzero(buffer.data(), buffer.size());
  return hex;
}

core::Bytes tokenHash(std::string_view token) {
  core::Bytes hash(crypto_generichash_BYTES);
  crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return hash;
}

constexpr const char* kUserColumns =
    "id, phone, roles, must_change_password, identity_hash, address, created_at";

User readUser(const SqlRow& row) {
  User user;
  user.id = row.integer(0);
  user.phone = row.text(1);
  user.roles = static_cast<std::uint32_t>(row.integer(2));
  user.mustChangePassword = row.integer(3) != 0;
  user.identityVerified = !row.isNull(4);
  if (user.identityVerified) {
    if (auto hash = core::Hash256::fromView(row.bytes(4))) user.identityHash = *hash;
  }
  if (auto address = core::Address::fromView(row.bytes(5))) user.address = *address;
  user.createdAt = core::Timestamp::fromUnixMillis(row.integer(6));
  return user;
}

Status notFoundUser(std::int64_t id) {
  return core::notFound("no-such-user", "there is no user " + std::to_string(id));
}

std::string keyContext(const core::Address& address) { return "custodial-key:" + address.hex(); }
std::string identityContext(std::int64_t userId) { return "identity:" + std::to_string(userId); }

}  // namespace

bool validPhone(std::string_view phone) {
  // Mainland mobile numbers: 11 digits, 1 then 3-9.
  if (phone.size() != 11 || phone[0] != '1' || phone[1] < '3' || phone[1] > '9') return false;
  for (char c : phone) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Status bindMasterKey(Database& database, const MasterKey& masterKey) {
  const core::Hash256 check = masterKey.identityHash("jiancang master key check v1");
  const core::Bytes value(check.view().begin(), check.view().end());
  return database.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query("SELECT value FROM settings WHERE name = 'master_key_check'", {});
    if (!rows) return rows.status();
    if (rows->empty()) {
      return session
          .execute("INSERT INTO settings (name, value) VALUES ('master_key_check', ?)", {value})
          .status();
    }
    if (rows->front().bytes(0) != value) {
      return Status(ErrorCode::kFailedPrecondition, "master-key-mismatch",
                    "this database belongs to another master key: every instance sharing it "
                    "must use the same keys/platform.key (copy it from the first instance)");
    }
    return {};
  });
}

std::vector<std::string> roleNames(std::uint32_t roles) {
  std::vector<std::string> names;
  for (std::size_t bit = 0; bit < kRoleNames.size(); ++bit) {
    if ((roles & (1u << bit)) != 0) names.emplace_back(kRoleNames[bit]);
  }
  return names;
}

std::optional<Role> parseRole(std::string_view name) {
  for (std::size_t bit = 0; bit < kRoleNames.size(); ++bit) {
    if (kRoleNames[bit] == name) return static_cast<Role>(1u << bit);
  }
  return std::nullopt;
}

Accounts::Accounts(Database& database, const MasterKey& masterKey, const core::CryptoSuite& suite,
                   IdentityVerifier& verifier, const core::Clock& clock, AccountsOptions options)
    : database_(database),
      masterKey_(masterKey),
      suite_(suite),
      verifier_(verifier),
      clock_(clock),
      options_(options) {
  dummyHash_ = hashPassword(randomHex(16));
}

Status Accounts::checkPassword(std::string_view password) const {
  if (password.size() < 8) {
    return core::invalidArgument("password-too-short", "a password needs at least 8 characters");
  }
  if (password.size() > 128) {
    return core::invalidArgument("password-too-long", "a password may have at most 128 characters");
  }
  bool allSame = true;
  for (char c : password) allSame = allSame && c == password[0];
  bool common = allSame;
  for (std::string_view known : kCommonPasswords) common = common || password == known;
  if (common) {
    return core::invalidArgument(
        "password-too-common",
        "this password is among the first any attacker tries: choose another");
  }
  return {};
}

std::string Accounts::hashPassword(std::string_view password) const {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), options_.passwordOpsLimit,
                            options_.passwordMemoryLimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return {};  // out of memory: an empty hash never verifies
  }
  return out.data();
}

namespace {
bool passwordMatches(const std::string& stored, std::string_view password) {
  return !stored.empty() &&
         crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0;
}
}  // namespace

Status Accounts::audit(SqlSession& session, std::optional<std::int64_t> actor,
                       std::string_view action, std::string_view detail) {
  // The audit trail is part of the transaction: an action without its record never commits.
  return session
      .execute("INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
               {clock_.now().unixMillis(), actor ? SqlValue(*actor) : SqlValue(),
                std::string(action), std::string(detail)})
      .status();
}

core::Result<User> Accounts::createUser(std::string_view phone, std::string_view password,
                                        std::uint32_t roles, bool mustChangePassword,
                                        SessionTokens* firstSession) {
  if (!validPhone(phone)) {
    return core::invalidArgument("phone-format", "a phone number is 11 digits starting with 1");
  }
  if (Status status = checkPassword(password); !status.isOk()) return status;
  const std::string hash = hashPassword(password);
  if (hash.empty()) {
    return Status(ErrorCode::kResourceExhausted, "password-hash-memory",
                  "the server is out of memory; try again shortly");
  }
  core::KeyPair key = suite_.generateKeyPair();
  const core::Address address = core::addressOf(key.publicKey);
  const core::Bytes sealedKey = masterKey_.seal(key.secretKey.secretBytes(), keyContext(address));
  User user;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query(
        std::string("INSERT INTO users (phone, password_hash, roles, must_change_password, "
                    "created_at, address, key_sealed) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ") +
            kUserColumns,
        {std::string(phone), hash, std::int64_t{roles}, std::int64_t{mustChangePassword ? 1 : 0},
         clock_.now().unixMillis(), core::Bytes(address.view().begin(), address.view().end()),
         sealedKey});
    if (!rows) return rows.status();
    user = readUser(rows->front());
    if (Status audited =
            audit(session, user.id, "account-created", "roles " + std::to_string(roles));
        !audited.isOk())
      return audited;
    if (firstSession == nullptr) return {};
    auto opened = openSession(session, user.id);
    if (!opened) return opened.status();
    *firstSession = std::move(opened).value();
    return {};
  });
  if (status.reason() == "sql-unique-violation") {
    return Status(ErrorCode::kAlreadyExists, "phone-taken",
                  "this phone number already has an account: log in instead");
  }
  if (!status.isOk()) return status;
  return user;
}

core::Result<User> Accounts::registerCollector(std::string_view phone, std::string_view password) {
  return createUser(phone, password, kRoleCollector, false, nullptr);
}

core::Result<std::pair<User, SessionTokens>> Accounts::signUp(std::string_view phone,
                                                              std::string_view password) {
  SessionTokens tokens;
  auto user = createUser(phone, password, kRoleCollector, false, &tokens);
  if (!user) return user.status();
  return std::make_pair(std::move(user).value(), std::move(tokens));
}

core::Result<SessionTokens> Accounts::openSession(SqlSession& session, std::int64_t userId) {
  SessionTokens tokens{randomHex(32), randomHex(16), clock_.now() + options_.sessionLifetime};
  auto inserted = session.execute(
      "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, "
      "?, ?, ?, ?)",
      {tokenHash(tokens.token), userId, tokens.csrfToken, clock_.now().unixMillis(),
       tokens.expiresAt.unixMillis()});
  if (!inserted) return inserted.status();
  return tokens;
}

core::Result<std::pair<User, SessionTokens>> Accounts::login(std::string_view phone,
                                                             std::string_view password,
                                                             std::string_view remoteAddress) {
  const std::int64_t now = clock_.now().unixMillis();
  const std::string addressSubject = "address:" + std::string(remoteAddress);
  // 1. Where things stand: the address's recent failures and the account.
  std::optional<User> found;
  std::string storedHash;
  std::int64_t lockedUntil = 0;
  std::int64_t addressFailures = 0;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto counted =
        session.query("SELECT failures FROM login_failures WHERE subject = ? AND window_start > ?",
                      {addressSubject, now - options_.addressWindow.count()});
    if (!counted) return counted.status();
    if (!counted->empty()) addressFailures = counted->front().integer(0);
    auto rows = session.query(std::string("SELECT ") + kUserColumns +
                                  ", password_hash, locked_until FROM users WHERE phone = ?",
                              {std::string(phone)});
    if (!rows) return rows.status();
    if (!rows->empty()) {
      found = readUser(rows->front());
      storedHash = rows->front().text(7);
      lockedUntil = rows->front().integer(8);
    }
    return {};
  });
  if (!status.isOk()) return status;
  if (addressFailures >= options_.failuresPerAddress) {
    return Status(ErrorCode::kResourceExhausted, "too-many-attempts",
                  "too many failed logins from this address; try again in " +
                      std::to_string(options_.addressWindow.count() / 60'000) + " minutes");
  }
  if (found && lockedUntil > now) {
    return Status(ErrorCode::kResourceExhausted, "account-locked",
                  "this account is locked after repeated wrong passwords; try again in " +
                      std::to_string((lockedUntil - now) / 60'000 + 1) + " minutes");
  }
  // 2. The slow part, outside any transaction. An unknown phone costs the same time.
  const bool matches = passwordMatches(found ? storedHash : dummyHash_, password) && found;

  // 3. Record the outcome.
  SessionTokens tokens;
  status = database_.transaction([&](SqlSession& session) -> Status {
    if (!matches) {
      auto window = session.execute(
          "UPDATE login_failures SET failures = failures + 1 WHERE subject = ? AND window_start > "
          "?",
          {addressSubject, now - options_.addressWindow.count()});
      if (!window) return window.status();
      if (*window == 0) {
        auto reset =
            session.execute("DELETE FROM login_failures WHERE subject = ?", {addressSubject});
        if (!reset) return reset.status();
        auto opened = session.execute(
            "INSERT INTO login_failures (subject, window_start, failures) VALUES (?, ?, 1)",
            {addressSubject, now});
        if (!opened) return opened.status();
      }
      if (found) {
        auto counted = session.query(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING "
            "failed_logins",
            {found->id});
        if (!counted) return counted.status();
        if (!counted->empty() && counted->front().integer(0) >= options_.failuresBeforeLock) {
          auto locked =
              session.execute("UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?",
                              {now + options_.lockDuration.count(), found->id});
          if (!locked) return locked.status();
          if (Status audited =
                  audit(session, found->id, "account-locked", "after repeated wrong passwords");
              !audited.isOk())
            return audited;
        }
      }
      return {};
    }
    auto cleared = session.execute(
        "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?", {found->id});
    if (!cleared) return cleared.status();
    auto opened = openSession(session, found->id);
    if (!opened) return opened.status();
    tokens = std::move(opened).value();
    if (Status audited = audit(session, found->id, "login", "from " + std::string(remoteAddress));
        !audited.isOk())
      return audited;
    return {};
  });
  if (!status.isOk()) return status;
  if (!matches) {
    return Status(ErrorCode::kUnauthenticated, "login-failed",
                  "the phone number or the password is wrong");
  }
  return std::make_pair(*found, std::move(tokens));
}

core::Result<AuthenticatedSession> Accounts::authenticate(std::string_view token) {
  if (token.size() != 64) {
    return Status(ErrorCode::kUnauthenticated, "session-invalid", "log in first");
  }
  if (auto cached = cachedSession(token)) return *std::move(cached);
  const core::Bytes hash = tokenHash(token);
  const std::uint64_t generation = sessionsGeneration_.load();
  std::optional<AuthenticatedSession> result;
  Status status = database_.read([&](SqlSession& session) -> Status {
    auto rows = session.query(
        "SELECT u.id, u.phone, u.roles, u.must_change_password, u.identity_hash, u.address, "
        "u.created_at, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = "
        "s.user_id WHERE s.token_hash = ? AND s.expires_at > ?",
        {hash, clock_.now().unixMillis()});
    if (!rows) return rows.status();
    if (rows->empty()) return {};
    result = AuthenticatedSession{readUser(rows->front()), rows->front().text(7),
                                  core::Timestamp::fromUnixMillis(rows->front().integer(8))};
    return {};
  });
  if (!status.isOk()) return status;
  if (!result) {
    return Status(ErrorCode::kUnauthenticated, "session-invalid",
                  "the session has ended or expired: log in again");
  }
  if (options_.sessionCacheTime.count() > 0) {
    constexpr std::size_t kMaxCachedPerShard = 200'000 / kSessionShards;
    TokenHash key;
    std::copy(hash.begin(), hash.end(), key.begin());
    SessionShard& shard = shardOf(key);
    std::lock_guard lock(shard.mutex);
    if (generation == sessionsGeneration_.load()) {
      if (shard.sessions.size() >= kMaxCachedPerShard) shard.sessions.clear();
      shard.sessions[key] =
          CachedSession{*result, std::chrono::steady_clock::now() + options_.sessionCacheTime};
    }
  }
  return *result;
}

Accounts::TokenHash Accounts::sessionKey(std::string_view token) {
  static_assert(std::tuple_size_v<TokenHash> == crypto_generichash_BYTES);
  TokenHash key;
  crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return key;
}

std::optional<AuthenticatedSession> Accounts::cachedSession(std::string_view token) {
  if (options_.sessionCacheTime.count() == 0 || token.size() != 64) return std::nullopt;
  const TokenHash key = sessionKey(token);
  SessionShard& shard = shardOf(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.sessions.find(key);
  if (found == shard.sessions.end()) return std::nullopt;
  if (found->second.until < std::chrono::steady_clock::now() ||
      !(clock_.now() < found->second.session.expiresAt)) {
    shard.sessions.erase(found);
    return std::nullopt;
  }
  return found->second.session;
}

void Accounts::forgetSessions() {
  ++sessionsGeneration_;  // first: a lookup that checks it after this caches nothing
  for (SessionShard& shard : sessionShards_) {
    std::lock_guard lock(shard.mutex);
    shard.sessions.clear();
  }
}

Status Accounts::logout(std::string_view token) {
  Status status = database_.transaction([&](SqlSession& session) {
    return session.execute("DELETE FROM sessions WHERE token_hash = ?", {tokenHash(token)})
        .status();
  });
  forgetSessions();
  return status;
}

core::Result<std::string> Accounts::storedPasswordHash(std::int64_t userId) {
  std::string stored;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query("SELECT password_hash FROM users WHERE id = ?", {userId});
    if (!rows) return rows.status();
    if (rows->empty()) return notFoundUser(userId);
    stored = rows->front().text(0);
    return {};
  });
  if (!status.isOk()) return status;
  return stored;
}

core::Result<SessionTokens> Accounts::changePassword(std::int64_t userId, std::string_view current,
                                                     std::string_view next) {
  if (Status status = checkPassword(next); !status.isOk()) return status;
  if (current == next) {
    return core::invalidArgument("password-unchanged", "the new password must differ from the old");
  }
  auto stored = storedPasswordHash(userId);
  if (!stored) return stored.status();
  if (!passwordMatches(*stored, current)) {
    return Status(ErrorCode::kUnauthenticated, "password-wrong", "the current password is wrong");
  }
  const std::string hash = hashPassword(next);
  SessionTokens tokens;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto changed = session.execute(
        "UPDATE users SET password_hash = ?, must_change_password = 0 WHERE id = ? AND "
        "password_hash = ?",
        {hash, userId, *stored});
    if (!changed) return changed.status();
    if (*changed == 0) {  // changed meanwhile by another request: start again
      return Status(ErrorCode::kFailedPrecondition, "password-changed-meanwhile",
                    "the password was changed by another request; log in again");
    }
    auto ended = session.execute("DELETE FROM sessions WHERE user_id = ?", {userId});
    if (!ended) return ended.status();
    auto opened = openSession(session, userId);
    if (!opened) return opened.status();
    tokens = std::move(opened).value();
    if (Status audited = audit(session, userId, "password-changed", "every other session ended");
        !audited.isOk())
      return audited;
    return {};
  });
  forgetSessions();
  if (!status.isOk()) return status;
  return tokens;
}

core::Result<User> Accounts::verifyIdentity(std::int64_t userId, const IdentityClaim& claim) {
  auto checked = checkIdentityClaim(claim);
  if (!checked) return checked.status();
  if (ageOn(*checked, clock_.now()) < options_.minimumAge) {
    return Status(ErrorCode::kFailedPrecondition, "identity-under-age",
                  "buyers must be " + std::to_string(options_.minimumAge) + " or older");
  }
  if (Status verified = verifier_.verify(*checked); !verified.isOk()) return verified;
  const core::Hash256 hash = masterKey_.identityHash(checked->idNumber);
  const std::string plain = checked->name + '\n' + checked->idNumber;
  const core::Bytes sealed = masterKey_.seal(core::asBytes(plain), identityContext(userId));
  char birth[16];
  std::snprintf(birth, sizeof birth, "%04d%02d%02d", checked->birthYear, checked->birthMonth,
                checked->birthDay);
  User user;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query(
        std::string("UPDATE users SET identity_hash = ?, identity_sealed = ?, birth_date = ?, "
                    "verified_at = ? WHERE id = ? AND identity_hash IS NULL RETURNING ") +
            kUserColumns,
        {core::Bytes(hash.view().begin(), hash.view().end()), sealed,
         std::int64_t{std::atoll(birth)}, clock_.now().unixMillis(), userId});
    if (!rows) return rows.status();
    if (rows->empty()) {
      auto exists = session.query("SELECT id FROM users WHERE id = ?", {userId});
      if (!exists) return exists.status();
      if (exists->empty()) return notFoundUser(userId);
      return Status(ErrorCode::kFailedPrecondition, "identity-already-verified",
                    "this account's real name is verified already");
    }
    user = readUser(rows->front());
    if (Status audited = audit(session, userId, "identity-verified", ""); !audited.isOk())
      return audited;
    return {};
  });
  forgetSessions();
  if (status.reason() == "sql-unique-violation") {
    return Status(ErrorCode::kAlreadyExists, "identity-taken",
                  "this identity is bound to another account: one identity, one account");
  }
  if (!status.isOk()) return status;
  return user;
}

std::optional<core::Hash256> Accounts::identityHash(std::int64_t userId) {
  std::optional<core::Hash256> hash;
  Status status = database_.read([&](SqlSession& session) -> Status {
    auto rows = session.query("SELECT identity_hash FROM users WHERE id = ?", {userId});
    if (!rows) return rows.status();
    if (!rows->empty() && !rows->front().isNull(0)) {
      if (auto fixed = core::Hash256::fromView(rows->front().bytes(0))) hash = *fixed;
    }
    return {};
  });
  if (!status.isOk()) return std::nullopt;
  return hash;
}

core::Result<core::KeyPair> Accounts::signingKey(std::int64_t userId) {
  core::Bytes sealed;
  core::Address address;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query("SELECT key_sealed, address FROM users WHERE id = ?", {userId});
    if (!rows) return rows.status();
    if (rows->empty()) return notFoundUser(userId);
    sealed = rows->front().bytes(0);
    if (auto fixed = core::Address::fromView(rows->front().bytes(1))) address = *fixed;
    return {};
  });
  if (!status.isOk()) return status;
  auto secret = masterKey_.open(sealed, keyContext(address));
  if (!secret) return secret.status();
  auto pair = suite_.keyPairFromSecret(*secret);
  sodium_memzero(secret->data(), secret->size());
  if (!pair) return pair.status();
  if (core::addressOf(pair->publicKey) != address) {
    return Status(ErrorCode::kCorruption, "custodial-key-mismatch",
                  "the stored key does not match the account's address");
  }
  return pair;
}

core::Result<core::KeyPair> Accounts::exportKey(std::int64_t userId, std::string_view password) {
  auto stored = storedPasswordHash(userId);
  if (!stored) return stored.status();
  if (!passwordMatches(*stored, password)) {
    return Status(ErrorCode::kUnauthenticated, "password-wrong",
                  "enter your current password to export your key");
  }
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    if (Status audited = audit(session, userId, "key-exported", ""); !audited.isOk())
      return audited;
    return {};
  });
  if (!status.isOk()) return status;
  return signingKey(userId);
}

core::Result<std::optional<std::string>> Accounts::ensureOperator(std::string_view phone) {
  bool exists = false;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query("SELECT COUNT(*) FROM users WHERE (roles & ?) <> 0",
                              {std::int64_t{kRoleOperator}});
    if (!rows) return rows.status();
    exists = rows->front().integer(0) > 0;
    return {};
  });
  if (!status.isOk()) return status;
  if (exists) return std::optional<std::string>();
  std::string password = randomHex(8);
  auto created =
      createUser(phone, password, kRoleOperator | kRoleReviewer | kRoleAuditor, true, nullptr);
  if (!created && created.status().reason() == "phone-taken") {
    // Another instance sharing the database made it a moment ago; or the phone is a collector's.
    auto user = database_.transaction([&](SqlSession& session) -> Status {
      auto rows = session.query("SELECT COUNT(*) FROM users WHERE phone = ? AND (roles & ?) <> 0",
                                {std::string(phone), std::int64_t{kRoleOperator}});
      if (!rows) return rows.status();
      if (rows->front().integer(0) == 0) return created.status();
      return {};
    });
    if (!user.isOk()) return user;
    return std::optional<std::string>();
  }
  if (!created) return created.status();
  return std::optional<std::string>(std::move(password));
}

core::Result<User> Accounts::setRoles(std::int64_t actorId, std::int64_t userId,
                                      std::uint32_t roles) {
  if ((roles & ~kAllRoles) != 0) return core::invalidArgument("unknown-role", "unknown role bits");
  User user;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto actor = session.query("SELECT roles FROM users WHERE id = ?", {actorId});
    if (!actor) return actor.status();
    if (actor->empty() || (actor->front().integer(0) & kRoleOperator) == 0) {
      return Status(ErrorCode::kPermissionDenied, "not-operator", "only an operator sets roles");
    }
    if (actorId == userId && (roles & kRoleOperator) == 0) {
      return Status(ErrorCode::kFailedPrecondition, "last-operator",
                    "an operator cannot remove their own operator role");
    }
    auto rows = session.query(
        std::string("UPDATE users SET roles = ? WHERE id = ? RETURNING ") + kUserColumns,
        {std::int64_t{roles}, userId});
    if (!rows) return rows.status();
    if (rows->empty()) return notFoundUser(userId);
    user = readUser(rows->front());
    if (Status audited =
            audit(session, actorId, "roles-set",
                  "user " + std::to_string(userId) + " roles " + std::to_string(roles));
        !audited.isOk())
      return audited;
    return {};
  });
  forgetSessions();
  if (!status.isOk()) return status;
  return user;
}

core::Result<User> Accounts::user(std::int64_t userId) {
  std::optional<User> found;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows =
        session.query(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = ?", {userId});
    if (!rows) return rows.status();
    if (!rows->empty()) found = readUser(rows->front());
    return {};
  });
  if (!status.isOk()) return status;
  if (!found) return notFoundUser(userId);
  return *found;
}

core::Result<std::vector<User>> Accounts::users(std::string_view phonePrefix, std::int64_t beforeId,
                                                std::size_t limit) {
  std::vector<User> found;
  // Phones are digits only (checked at registration), so the prefix needs no LIKE escaping;
  // anything else matches nobody.
  bool digits = std::all_of(phonePrefix.begin(), phonePrefix.end(),
                            [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) return found;
  Status status = database_.read([&](SqlSession& session) -> Status {
    auto rows = session.query(std::string("SELECT ") + kUserColumns +
                                  " FROM users WHERE phone LIKE ? AND id < ? ORDER BY id DESC "
                                  "LIMIT ?",
                              {std::string(phonePrefix) + "%",
                               beforeId > 0 ? beforeId : std::numeric_limits<std::int64_t>::max(),
                               static_cast<std::int64_t>(limit)});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) found.push_back(readUser(row));
    return {};
  });
  if (!status.isOk()) return status;
  return found;
}

}  // namespace jiancang::platform
