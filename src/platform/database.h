// platform::Database: where the platform keeps its own data (accounts, sessions, identities,
// issuers, orders...), behind one small interface with two implementations: SQLite in WAL mode,
// embedded, the default of `jiancang up`; and PostgreSQL through libpq, so that several
// storefront instances can share one database. Callers write one SQL text for both: `?`
// placeholders, and only what both dialects mean the same way (the PostgreSQL implementation
// numbers the placeholders itself).
//
// Every read and write happens inside `transaction()`, which commits when the work returns ok,
// rolls back otherwise, and runs the work again when the database reports a conflict with a
// concurrent transaction (SQLite busy, PostgreSQL serialization failure): work must therefore
// have no effect outside the database before it returns. Nothing here ever throws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <core/bytes.h>
#include <core/status.h>

namespace jiancang::platform {

// A value sent to or read from SQL: NULL, an integer, text (UTF-8) or bytes.
using SqlValue = std::variant<std::monostate, std::int64_t, std::string, core::Bytes>;

class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> values) : values_(std::move(values)) {}
  std::size_t size() const { return values_.size(); }
  bool isNull(std::size_t column) const;
  // The column as that type; a NULL reads as 0, "" or no bytes. Asserts on another type, which
  // is a bug in the SQL text, not in any input.
  std::int64_t integer(std::size_t column) const;
  const std::string& text(std::size_t column) const;
  const core::Bytes& bytes(std::size_t column) const;

 private:
  std::vector<SqlValue> values_;
};

// One connection, inside a transaction.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  // Runs one statement and returns its rows (none for a statement without RETURNING).
  virtual core::Result<std::vector<SqlRow>> query(std::string_view sql,
                                                  const std::vector<SqlValue>& parameters) = 0;
  // Runs one statement and returns how many rows it changed.
  virtual core::Result<std::int64_t> execute(std::string_view sql,
                                             const std::vector<SqlValue>& parameters) = 0;
  // Runs statements without parameters, separated by semicolons (migrations).
  virtual core::Status executeScript(std::string_view sql) = 0;
};

enum class SqlDialect : std::uint8_t { kSqlite, kPostgres };

// Status reasons a caller may match on:
//   "sql-unique-violation"  (kAlreadyExists) a UNIQUE or PRIMARY KEY constraint refused a row
//   "sql-conflict"          (kUnavailable) still conflicting after every retry
//   "sql-error"             (kInternal) anything else the database refused
class Database {
 public:
  virtual ~Database() = default;
  virtual SqlDialect dialect() const = 0;
  // Runs `work` in one transaction (see the top of this file). Returns the work's own status
  // when it failed, or the database's when the commit did.
  virtual core::Status transaction(const std::function<core::Status(SqlSession&)>& work) = 0;
  // Runs `work`, which only reads, in a read-only transaction: one consistent snapshot that on
  // SQLite neither waits for the writer nor holds up other readers (WAL), and on PostgreSQL is
  // declared READ ONLY. For the hot paths that only look (sessions, a sold-out drop).
  virtual core::Status read(const std::function<core::Status(SqlSession&)>& work) = 0;
};

struct SqliteOptions {
  std::string path;  // a file; ":memory:" is refused (each connection would get its own)
  unsigned connections = 4;
  unsigned busyTimeoutMillis = 5'000;
};
core::Result<std::unique_ptr<Database>> openSqlite(const SqliteOptions& options);

struct PostgresOptions {
  std::string connectionString;  // libpq: "host=127.0.0.1 port=5432 dbname=jiancang user=..."
  unsigned connections = 4;
};
core::Result<std::unique_ptr<Database>> openPostgres(const PostgresOptions& options);

// Brings the schema up to the newest version, one numbered migration per transaction, and
// records each in `schema_migrations`. Safe to call from several instances at once.
// A database newer than this binary is refused ("schema-too-new").
core::Status migrate(Database& database);
// The newest schema version this binary knows.
int schemaVersion();

}  // namespace jiancang::platform
