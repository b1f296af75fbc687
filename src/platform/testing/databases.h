// The platform's tests run on both databases: a SQLite file in a temporary directory, and a new
// database on one real PostgreSQL server that the test process starts (127.0.0.1, a free port,
// stopped by PID at exit). PostgreSQL is required: a machine without it fails, never skips.
#pragma once

#include <memory>
#include <string>

#include <platform/database.h>

namespace jiancang::platform::testing {

// "sqlite" or "postgres": a fresh, migrated, empty database of that kind. Fails the test
// (ADD_FAILURE) and returns null if it cannot be made.
std::unique_ptr<Database> freshDatabase(const std::string& kind);

}  // namespace jiancang::platform::testing
