// The platform's tests run on both databases: a SQLite file in a temporary directory, and a new
// database on one real PostgreSQL server that the test process starts (127.0.0.1, a free port,
// stopped by PID at exit). PostgreSQL is required: a machine without it fails, never skips.
#pragma once

#include <memory>
#include <string>

#include <platform/accounts.h>
#include <platform/database.h>

namespace jiancang::platform::testing {

// "sqlite" or "postgres": a fresh, migrated, empty database of that kind. Fails the test
// (ADD_FAILURE) and returns null if it cannot be made.
std::unique_ptr<Database> freshDatabase(const std::string& kind);

// Accounts options with argon2id at its lowest cost: tests check behaviour, not the hash.
AccountsOptions fastAccountsOptions();

// The single integer a query such as "SELECT COUNT(*) FROM ..." answers; -1 (and a test
// failure) if it fails.
std::int64_t countRows(Database& database, const std::string& sql);

}  // namespace jiancang::platform::testing
