// platform::Database on SQLite: WAL journal (readers never wait for the writer), FULL sync (a
// committed transaction survives a crash of the process or the machine), a pool of connections,
// `BEGIN IMMEDIATE` so that two writers queue at the start instead of failing at the commit.
#include <map>
#include <string>

#include <sqlite3.h>

#include <platform/sql_internal.h>

namespace jiancang::platform {
namespace {

using core::Status;
using internal::ConnectionPool;
using internal::retryOnConflict;
using internal::sqlConflict;
using internal::sqlError;
using internal::sqlUniqueViolation;

class SqliteConnection final : public SqlSession {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  core::Result<std::vector<SqlRow>> query(std::string_view sql,
                                          const std::vector<SqlValue>& parameters) override {
    std::vector<SqlRow> rows;
    Status status = run(sql, parameters, &rows);
    if (!status.isOk()) return status;
    return rows;
  }

  core::Result<std::int64_t> execute(std::string_view sql,
                                     const std::vector<SqlValue>& parameters) override {
    Status status = run(sql, parameters, nullptr);
    if (!status.isOk()) return status;
    return static_cast<std::int64_t>(sqlite3_changes64(db_));
  }

  Status executeScript(std::string_view sql) override {
    char* message = nullptr;
    int code = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &message);
    std::string text = message != nullptr ? message : "";
    sqlite3_free(message);
    if (code != SQLITE_OK) return classify(code, text);
    return {};
  }

  Status classify(int code, const std::string& message) const {
    int extended = sqlite3_extended_errcode(db_);
    if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return sqlUniqueViolation(message);
    }
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
      return sqlConflict("SQLite: " + message);
    }
    return sqlError("SQLite: " + message);
  }

 private:
  sqlite3_stmt* prepare(std::string_view sql, Status* status) {
    std::string key(sql);
    if (auto found = statements_.find(key); found != statements_.end()) return found->second;
    sqlite3_stmt* statement = nullptr;
    int code = sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()),
                                  SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (code != SQLITE_OK) {
      *status = classify(code, sqlite3_errmsg(db_));
      return nullptr;
    }
    statements_.emplace(std::move(key), statement);
    return statement;
  }

  Status run(std::string_view sql, const std::vector<SqlValue>& parameters,
             std::vector<SqlRow>* rows) {
    Status status;
    sqlite3_stmt* statement = prepare(sql, &status);
    if (statement == nullptr) return status;
    if (sqlite3_bind_parameter_count(statement) != static_cast<int>(parameters.size())) {
      return sqlError("the statement takes " +
                      std::to_string(sqlite3_bind_parameter_count(statement)) +
                      " parameters, given " + std::to_string(parameters.size()));
    }
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const SqlValue& value = parameters[i];
      int code = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(value)) {
        code = sqlite3_bind_null(statement, index);
      } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
        code = sqlite3_bind_int64(statement, index, *number);
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        code = sqlite3_bind_text64(statement, index, text->data(), text->size(), SQLITE_TRANSIENT,
                                   SQLITE_UTF8);
      } else {
        const auto& bytes = std::get<core::Bytes>(value);
        // An empty blob is still a blob, not NULL.
        code = bytes.empty() ? sqlite3_bind_zeroblob(statement, index, 0)
                             : sqlite3_bind_blob64(statement, index, bytes.data(), bytes.size(),
                                                   SQLITE_TRANSIENT);
      }
      if (code != SQLITE_OK) {
        sqlite3_reset(statement);
        return classify(code, sqlite3_errmsg(db_));
      }
    }
    for (;;) {
      int code = sqlite3_step(statement);
      if (code == SQLITE_DONE) break;
      if (code != SQLITE_ROW) {
        Status failed = classify(code, sqlite3_errmsg(db_));
        sqlite3_reset(statement);
        sqlite3_clear_bindings(statement);
        return failed;
      }
      if (rows == nullptr) continue;
      const int columns = sqlite3_column_count(statement);
      std::vector<SqlValue> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(statement, c)) {
          case SQLITE_NULL:
            values.emplace_back(std::monostate{});
            break;
          case SQLITE_INTEGER:
          case SQLITE_FLOAT:
            values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(statement, c)));
            break;
          case SQLITE_TEXT: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, c));
            values.emplace_back(
                std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, c))));
            break;
          }
          default: {
            const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(statement, c));
            auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, c));
            values.emplace_back(data == nullptr ? core::Bytes() : core::Bytes(data, data + size));
          }
        }
      }
      rows->emplace_back(std::move(values));
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return {};
  }

  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
};

class SqliteDatabase final : public Database {
 public:
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  Status transaction(const std::function<Status(SqlSession&)>& work) override {
    return run("BEGIN IMMEDIATE", work);
  }

  // Deferred: the snapshot starts at the first read and takes no write lock.
  Status read(const std::function<Status(SqlSession&)>& work) override {
    return run("BEGIN", work);
  }

  // `work` between `begin` and COMMIT (ROLLBACK when either fails), again on a conflict.
  Status run(const char* begin, const std::function<Status(SqlSession&)>& work) {
    return retryOnConflict([&]() -> Status {
      auto connection = pool_.acquire();
      if (Status begun = connection->executeScript(begin); !begun.isOk()) return begun;
      Status status = work(*connection);
      if (status.isOk()) status = connection->executeScript("COMMIT");
      if (!status.isOk()) {
        // Nothing to do if the rollback fails too: the connection is then outside a
        // transaction already (SQLite rolls back by itself on some errors).
        (void)connection->executeScript("ROLLBACK");
      }
      return status;
    });
  }

  ConnectionPool<SqliteConnection> pool_;
};

}  // namespace

core::Result<std::unique_ptr<Database>> openSqlite(const SqliteOptions& options) {
  if (options.path.empty() || options.path == ":memory:") {
    return core::invalidArgument("sqlite-path", "SQLite needs a file path");
  }
  auto database = std::make_unique<SqliteDatabase>();
  for (unsigned i = 0; i < std::max(1u, options.connections); ++i) {
    sqlite3* db = nullptr;
    int code =
        sqlite3_open_v2(options.path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (code != SQLITE_OK) {
      std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
      sqlite3_close_v2(db);
      return Status(core::ErrorCode::kIoError, "sqlite-open",
                    "cannot open " + options.path + ": " + message);
    }
    auto connection = std::make_unique<SqliteConnection>(db);
    sqlite3_busy_timeout(db, static_cast<int>(options.busyTimeoutMillis));
    // WAL: readers do not wait for the writer. FULL: a commit is on disk when it returns.
    Status status = connection->executeScript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
    if (!status.isOk()) return status;
    database->pool_.add(std::move(connection));
  }
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace jiancang::platform
