// platform::Database on SQLite: WAL journal (readers never wait for the writer), FULL sync (a
// committed transaction survives a crash of the process or the machine), a pool of connections,
// writers queued in the process and committed in groups (one disk flush for many), `BEGIN
// IMMEDIATE` so that another process's writer queues at the start instead of failing at the
// commit.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

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

  // False once SQLite has ended the transaction by itself (it does on some errors).
  bool inTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

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

// Group commit: SQLite has one writer at a time and a FULL-synced commit costs a disk flush, so
// writers that arrive while one is writing queue up, and the first in the queue runs the work of
// everyone queued behind it in one transaction, each work inside its own savepoint: one flush
// for the group. A work that fails is rolled back to its savepoint and leaves the others alone,
// so each caller sees exactly what it would have seen alone, run one after the other. (LevelDB
// groups its writers the same way.) Nobody returns before the commit that holds their work.
class SqliteDatabase final : public Database {
 public:
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  Status transaction(const std::function<Status(SqlSession&)>& work) override {
    if (insideGroup_ == this) {
      return sqlError("a transaction was started inside another on the same thread");
    }
    return retryOnConflict([&] { return joinGroup(work); });
  }

  // Deferred: the snapshot starts at the first read and takes no write lock.
  Status read(const std::function<Status(SqlSession&)>& work) override {
    return retryOnConflict([&]() -> Status {
      auto connection = pool_.acquire();
      if (Status begun = connection->executeScript("BEGIN"); !begun.isOk()) return begun;
      Status status = work(*connection);
      if (status.isOk()) status = connection->executeScript("COMMIT");
      if (!status.isOk()) (void)connection->executeScript("ROLLBACK");
      return status;
    });
  }

  ConnectionPool<SqliteConnection> pool_;

 private:
  static constexpr std::size_t kMaxGroup = 64;

  struct Writer {
    const std::function<Status(SqlSession&)>* work;
    Status status;
    bool done = false;
    std::condition_variable wake;
  };

  Status joinGroup(const std::function<Status(SqlSession&)>& work) {
    Writer self{&work, {}, false, {}};
    std::unique_lock lock(writersMutex_);
    writers_.push_back(&self);
    self.wake.wait(lock, [&] { return self.done || writers_.front() == &self; });
    if (self.done) return self.status;
    // First in the queue: write for everyone queued so far.
    std::vector<Writer*> group(
        writers_.begin(),
        writers_.begin() + static_cast<std::ptrdiff_t>(std::min(writers_.size(), kMaxGroup)));
    lock.unlock();
    writeGroup(group);
    lock.lock();
    for (Writer* writer : group) {
      writers_.pop_front();
      writer->done = true;
      if (writer != &self) writer->wake.notify_one();
    }
    if (!writers_.empty()) writers_.front()->wake.notify_one();
    return self.status;
  }

  // One transaction for the group; sets each writer's status.
  void writeGroup(const std::vector<Writer*>& group) {
    auto connection = pool_.acquire();
    if (Status begun = connection->executeScript("BEGIN IMMEDIATE"); !begun.isOk()) {
      for (Writer* writer : group) writer->status = begun;
      return;
    }
    insideGroup_ = this;
    const bool alone = group.size() == 1;
    bool anyWritten = false;
    for (std::size_t i = 0; i < group.size(); ++i) {
      Writer& writer = *group[i];
      Status opened = alone ? Status() : connection->executeScript("SAVEPOINT work");
      writer.status = opened.isOk() ? (*writer.work)(*connection) : opened;
      Status closed;
      if (opened.isOk() && !alone && connection->inTransaction()) {
        closed = connection->executeScript(writer.status.isOk() ? "RELEASE work"
                                                                : "ROLLBACK TO work; RELEASE work");
      }
      if (connection->inTransaction() && closed.isOk()) {
        anyWritten = anyWritten || writer.status.isOk();
        continue;
      }
      // The transaction is gone (SQLite ends it by itself on some errors: a full disk, an I/O
      // error) or this work's part of it could not be taken back: nothing of the group is
      // written, and every work but a failed one is tried again.
      (void)connection->executeScript("ROLLBACK");
      insideGroup_ = nullptr;
      for (std::size_t j = 0; j < group.size(); ++j) {
        if (j != i || writer.status.isOk()) {
          group[j]->status = sqlConflict("the group's transaction ended early: try again");
        }
      }
      return;
    }
    insideGroup_ = nullptr;
    if (!anyWritten) {
      (void)connection->executeScript("ROLLBACK");
      return;
    }
    Status committed = connection->executeScript("COMMIT");
    if (committed.isOk()) return;
    (void)connection->executeScript("ROLLBACK");  // nothing of the group was written
    for (Writer* writer : group) {
      if (writer->status.isOk()) writer->status = committed;
    }
  }

  std::mutex writersMutex_;
  std::deque<Writer*> writers_;
  static thread_local const SqliteDatabase* insideGroup_;
};

thread_local const SqliteDatabase* SqliteDatabase::insideGroup_ = nullptr;

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
