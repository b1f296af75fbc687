// Accounts: people, their roles, passwords, sessions, real-name identities and custodial keys.
//
// - Passwords: argon2id (libsodium's crypto_pwhash_str), never stored or logged in clear.
// - Sessions: a random token given to the client once (the API puts it in an HttpOnly cookie),
//   stored only as its hash; a new one at every login; a CSRF token per session, which every
//   state-changing request must echo. Changing the password ends every session of the account.
// - Throttling: consecutive failures lock an account for a while; failures from one address are
//   counted in a window across all accounts (credential stuffing). Both counts live in the
//   database, so several instances share them.
// - Real-name identity: checked (identity.h), then the verifier, then bound to this account
//   only: its keyed hash is unique across accounts. Name and number are sealed under the master
//   key; only the keyed hash may ever leave the database (to the chain, salted).
// - Custodial keys: every account gets a key pair of the chain's suite at registration, its
//   secret sealed under the master key; it is opened only to sign inside the owner's request or
//   to export it to the owner after they re-enter their password. No key material in any error.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <core/clock.h>
#include <core/crypto.h>
#include <core/ids.h>
#include <platform/database.h>
#include <platform/identity.h>
#include <platform/master_key.h>

namespace jiancang::platform {

// Ties the database to the master key: the first instance records a check value; an instance
// started with another key is refused ("master-key-mismatch"), since nothing it sealed could be
// opened by the others and identity hashes would no longer be unique across them.
core::Status bindMasterKey(Database& database, const MasterKey& masterKey);

enum Role : std::uint32_t {
  kRoleCollector = 1u << 0,
  kRoleIssuer = 1u << 1,
  kRoleReviewer = 1u << 2,
  kRoleOperator = 1u << 3,
  kRoleVerifier = 1u << 4,
  kRoleAuditor = 1u << 5,
};
constexpr std::uint32_t kAllRoles = (1u << 6) - 1;
// "collector", "issuer", ...; in bit order.
std::vector<std::string> roleNames(std::uint32_t roles);
std::optional<Role> parseRole(std::string_view name);

struct User {
  std::int64_t id = 0;
  std::string phone;
  std::uint32_t roles = 0;
  bool mustChangePassword = false;
  bool identityVerified = false;
  core::Hash256 identityHash;  // the identity's keyed hash once verified (what goes on chain)
  core::Address address;       // the custodial key's chain address
  core::Timestamp createdAt;
  bool hasRole(Role role) const { return (roles & role) != 0; }
};

// Given to the client once; only the token's hash is stored.
struct SessionTokens {
  std::string token;
  std::string csrfToken;
  core::Timestamp expiresAt;
};

struct AuthenticatedSession {
  User user;
  std::string csrfToken;
  core::Timestamp expiresAt;
};

struct AccountsOptions {
  // argon2id cost; libsodium's "interactive" level by default. Tests lower it.
  unsigned long long passwordOpsLimit = 2;
  std::size_t passwordMemoryLimit = std::size_t{64} << 20;
  core::Duration sessionLifetime = std::chrono::hours(24 * 7);
  int failuresBeforeLock = 5;
  core::Duration lockDuration = std::chrono::minutes(15);
  int failuresPerAddress = 30;  // in one window, across accounts
  core::Duration addressWindow = std::chrono::minutes(15);
  int minimumAge = 18;
  // How long an authenticated session is answered from memory before the database is asked
  // again (0: always asked). What this instance changes (logout, password, roles, identity) is
  // seen at once; a logout on another instance sharing the database, within this time.
  std::chrono::milliseconds sessionCacheTime{1'000};
};

// A mainland mobile number: 11 digits, 1 then 3 to 9.
bool validPhone(std::string_view phone);

class Accounts {
 public:
  Accounts(Database& database, const MasterKey& masterKey, const core::CryptoSuite& suite,
           IdentityVerifier& verifier, const core::Clock& clock, AccountsOptions options = {});

  // A collector account. Reasons: "phone-format", "password-too-short", "password-too-long",
  // "password-too-common", "phone-taken".
  core::Result<User> registerCollector(std::string_view phone, std::string_view password);
  // The same, logged in at once: the account and its first session, made together (one
  // password hash, not a hash and then a login's verification).
  core::Result<std::pair<User, SessionTokens>> signUp(std::string_view phone,
                                                      std::string_view password);

  // Reasons: "login-failed" (unknown phone or wrong password: the same answer for both),
  // "account-locked", "too-many-attempts" (kResourceExhausted, retry later).
  core::Result<std::pair<User, SessionTokens>> login(std::string_view phone,
                                                     std::string_view password,
                                                     std::string_view remoteAddress);
  // The session's account, or "session-invalid" (unknown, expired or ended).
  core::Result<AuthenticatedSession> authenticate(std::string_view token);
  // The session as authenticate() saw it within the cache time, from memory only: nothing when
  // it is not there (ask authenticate()). For answers that must not wait on the database.
  std::optional<AuthenticatedSession> cachedSession(std::string_view token);
  // Forgets every cached session: after any change to an account or a session, here or by
  // another module writing the users table (an issuer's new role).
  void forgetSessions();
  core::Status logout(std::string_view token);
  // Checks the current password, ends every session of the account and opens a new one.
  core::Result<SessionTokens> changePassword(std::int64_t userId, std::string_view current,
                                             std::string_view next);

  // Binds a real-name identity. Reasons: those of checkIdentityClaim, "identity-under-age",
  // "identity-already-verified" (this account), "identity-taken" (another account), and the
  // verifier's own.
  core::Result<User> verifyIdentity(std::int64_t userId, const IdentityClaim& claim);
  // The identity's keyed hash, for the chain; nothing if the account has none.
  std::optional<core::Hash256> identityHash(std::int64_t userId);

  // The account's key pair, after checking its password again ("password-wrong"): for export to
  // self-custody. Audited.
  core::Result<core::KeyPair> exportKey(std::int64_t userId, std::string_view password);
  // The key pair to sign with inside the owner's authenticated request.
  core::Result<core::KeyPair> signingKey(std::int64_t userId);

  // The first operator: created with a random one-time password (returned, to be printed once)
  // that must be changed at first login. Nothing if an operator exists already.
  core::Result<std::optional<std::string>> ensureOperator(std::string_view phone);
  // Roles are set by an operator only ("not-operator"); an operator cannot drop their own
  // operator role ("last-operator" guard).
  core::Result<User> setRoles(std::int64_t actorId, std::int64_t userId, std::uint32_t roles);
  core::Result<User> user(std::int64_t userId);
  // Accounts newest first, for the operators' console: those whose phone starts with
  // `phonePrefix` (all if empty) and whose id is below `beforeId` (0: from the newest).
  core::Result<std::vector<User>> users(std::string_view phonePrefix, std::int64_t beforeId,
                                        std::size_t limit);

 private:
  core::Result<User> createUser(std::string_view phone, std::string_view password,
                                std::uint32_t roles, bool mustChangePassword,
                                SessionTokens* firstSession);
  core::Result<SessionTokens> openSession(SqlSession& session, std::int64_t userId);
  core::Status checkPassword(std::string_view password) const;
  core::Result<std::string> storedPasswordHash(std::int64_t userId);
  std::string hashPassword(std::string_view password) const;
  core::Status audit(SqlSession& session, std::optional<std::int64_t> actor,
                     std::string_view action, std::string_view detail);

  Database& database_;
  const MasterKey& masterKey_;
  const core::CryptoSuite& suite_;
  IdentityVerifier& verifier_;
  const core::Clock& clock_;
  AccountsOptions options_;
  std::string dummyHash_;  // verified against when the phone is unknown: equal timing

  struct CachedSession {
    AuthenticatedSession session;
    std::chrono::steady_clock::time_point until;
  };
  using TokenHash = std::array<unsigned char, 32>;
  struct TokenHashHasher {
    // The hash is already uniform: its first bytes are the bucket.
    std::size_t operator()(const TokenHash& hash) const {
      std::size_t value = 0;
      std::memcpy(&value, hash.data(), sizeof value);
      return value;
    }
  };
  // The cache in shards, each under its own lock: every request of a crowd looks its session
  // up here, from each HTTP thread, and one lock for all made them wait for each other.
  struct SessionShard {
    std::mutex mutex;
    std::unordered_map<TokenHash, CachedSession, TokenHashHasher> sessions;
  };
  static constexpr std::size_t kSessionShards = 16;
  static TokenHash sessionKey(std::string_view token);
  SessionShard& shardOf(const TokenHash& key) { return sessionShards_[key[8] % kSessionShards]; }
  std::array<SessionShard, kSessionShards> sessionShards_;
  // Moved by every forgetSessions() before it empties the shards: a lookup that began before
  // it does not cache what it read.
  std::atomic<std::uint64_t> sessionsGeneration_{0};
};

}  // namespace jiancang::platform
