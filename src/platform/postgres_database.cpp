// platform::Database on PostgreSQL through libpq: SERIALIZABLE transactions (so the rules the
// platform checks in SQL hold across instances without explicit locks), retried on
// serialization failures; results in binary format, so integers and bytes need no parsing of
// text forms; `?` placeholders numbered `$1, $2...` here.
#include <cstring>
#include <string>

#include <libpq-fe.h>

#include <platform/sql_internal.h>

namespace jiancang::platform {
namespace {

using core::Status;
using internal::ConnectionPool;
using internal::retryOnConflict;
using internal::sqlConflict;
using internal::sqlError;
using internal::sqlUniqueViolation;

// Type OIDs of the result columns read (pg_type.h).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

// `?` → `$n`, outside quoted strings and identifiers.
std::string numberPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 1;
  char quote = 0;
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(next++);
    } else {
      out += c;
    }
  }
  return out;
}

std::int64_t readBigEndian(const char* data, int length) {
  std::uint64_t value = 0;
  for (int i = 0; i < length; ++i) value = (value << 8) | static_cast<unsigned char>(data[i]);
  // Sign-extend the shorter integer types.
  if (length < 8 && length > 0 && (static_cast<unsigned char>(data[0]) & 0x80) != 0) {
    value |= ~std::uint64_t{0} << (8 * length);
  }
  return static_cast<std::int64_t>(value);
}

class PostgresConnection final : public SqlSession {
 public:
  explicit PostgresConnection(PGconn* connection) : connection_(connection) {}
  ~PostgresConnection() override { PQfinish(connection_); }
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  core::Result<std::vector<SqlRow>> query(std::string_view sql,
                                          const std::vector<SqlValue>& parameters) override {
    std::vector<SqlRow> rows;
    auto changed = run(sql, parameters, &rows);
    if (!changed) return changed.status();
    return rows;
  }

  core::Result<std::int64_t> execute(std::string_view sql,
                                     const std::vector<SqlValue>& parameters) override {
    return run(sql, parameters, nullptr);
  }

  Status executeScript(std::string_view sql) override {
    PGresult* result = PQexec(connection_, std::string(sql).c_str());
    Status status = check(result);
    PQclear(result);
    return status;
  }

  // A broken connection (the server restarted) is reopened before the next transaction.
  void reconnectIfBroken() {
    if (PQstatus(connection_) != CONNECTION_OK) PQreset(connection_);
  }

 private:
  Status check(PGresult* result) const {
    ExecStatusType state = PQresultStatus(result);
    if (state == PGRES_COMMAND_OK || state == PGRES_TUPLES_OK) return {};
    const char* sqlState = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    std::string code = sqlState != nullptr ? sqlState : "";
    std::string message = "PostgreSQL: " + std::string(PQerrorMessage(connection_));
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    if (code == "23505") return sqlUniqueViolation(message);
    if (code == "40001" || code == "40P01") return sqlConflict(message);
    if (PQstatus(connection_) != CONNECTION_OK || code.starts_with("08")) {
      return {core::ErrorCode::kUnavailable, "sql-unavailable", message};
    }
    return sqlError(message);
  }

  core::Result<std::int64_t> run(std::string_view sql, const std::vector<SqlValue>& parameters,
                                 std::vector<SqlRow>* rows) {
    std::string text = numberPlaceholders(sql);
    std::vector<std::string> numbers(parameters.size());
    std::vector<const char*> values(parameters.size(), nullptr);
    std::vector<int> lengths(parameters.size(), 0);
    std::vector<int> formats(parameters.size(), 0);
    std::vector<Oid> types(parameters.size(), 0);  // 0: the server infers from the context
    static const char kEmpty = 0;
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      const SqlValue& value = parameters[i];
      if (const auto* number = std::get_if<std::int64_t>(&value)) {
        numbers[i] = std::to_string(*number);
        values[i] = numbers[i].c_str();
      } else if (const auto* string = std::get_if<std::string>(&value)) {
        if (string->find('\0') != std::string::npos) {
          return core::invalidArgument("sql-text-nul", "text sent to SQL contains a NUL byte");
        }
        values[i] = string->c_str();
      } else if (const auto* bytes = std::get_if<core::Bytes>(&value)) {
        values[i] = bytes->empty() ? &kEmpty : reinterpret_cast<const char*>(bytes->data());
        lengths[i] = static_cast<int>(bytes->size());
        formats[i] = 1;
        types[i] = kByteaOid;
      }
    }
    PGresult* result =
        PQexecParams(connection_, text.c_str(), static_cast<int>(parameters.size()), types.data(),
                     values.data(), lengths.data(), formats.data(), /*resultFormat=*/1);
    Status status = check(result);
    if (!status.isOk()) {
      PQclear(result);
      return status;
    }
    std::int64_t changed = 0;
    if (const char* tuples = PQcmdTuples(result); tuples != nullptr && *tuples != 0) {
      changed = std::strtoll(tuples, nullptr, 10);
    }
    if (rows != nullptr) {
      const int rowCount = PQntuples(result);
      const int columns = PQnfields(result);
      for (int r = 0; r < rowCount; ++r) {
        std::vector<SqlValue> row;
        row.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) {
          if (PQgetisnull(result, r, c) != 0) {
            row.emplace_back(std::monostate{});
            continue;
          }
          const char* data = PQgetvalue(result, r, c);
          const int length = PQgetlength(result, r, c);
          switch (PQftype(result, c)) {
            case kInt8Oid:
            case kInt4Oid:
            case kInt2Oid:
            case kBoolOid:
              row.emplace_back(readBigEndian(data, length));
              break;
            case kByteaOid:
              row.emplace_back(core::Bytes(reinterpret_cast<const std::uint8_t*>(data),
                                           reinterpret_cast<const std::uint8_t*>(data) + length));
              break;
            default:  // text, varchar: the binary form is the text itself
              row.emplace_back(std::string(data, static_cast<std::size_t>(length)));
          }
        }
        rows->emplace_back(std::move(row));
      }
    }
    PQclear(result);
    return changed;
  }

  PGconn* connection_;
};

class PostgresDatabase final : public Database {
 public:
  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

  Status transaction(const std::function<Status(SqlSession&)>& work) override {
    return run("BEGIN ISOLATION LEVEL SERIALIZABLE", work);
  }

  Status read(const std::function<Status(SqlSession&)>& work) override {
    return run("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY", work);
  }

  // `work` between `begin` and COMMIT (ROLLBACK when either fails), again on a conflict.
  Status run(const char* begin, const std::function<Status(SqlSession&)>& work) {
    return retryOnConflict([&]() -> Status {
      auto connection = pool_.acquire();
      connection->reconnectIfBroken();
      if (Status begun = connection->executeScript(begin); !begun.isOk()) return begun;
      Status status = work(*connection);
      if (status.isOk()) status = connection->executeScript("COMMIT");
      if (!status.isOk()) (void)connection->executeScript("ROLLBACK");
      return status;
    });
  }

  ConnectionPool<PostgresConnection> pool_;
};

}  // namespace

core::Result<std::unique_ptr<Database>> openPostgres(const PostgresOptions& options) {
  auto database = std::make_unique<PostgresDatabase>();
  for (unsigned i = 0; i < std::max(1u, options.connections); ++i) {
    PGconn* connection = PQconnectdb(options.connectionString.c_str());
    if (connection == nullptr || PQstatus(connection) != CONNECTION_OK) {
      std::string message = connection != nullptr ? PQerrorMessage(connection) : "out of memory";
      PQfinish(connection);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return Status(core::ErrorCode::kUnavailable, "postgres-connect",
                    "cannot connect to PostgreSQL: " + message);
    }
    auto wrapped = std::make_unique<PostgresConnection>(connection);
    // Quiet NOTICEs (CREATE ... IF NOT EXISTS) and keep times in UTC.
    if (Status status =
            wrapped->executeScript("SET client_min_messages = warning; SET TIME ZONE 'UTC';");
        !status.isOk()) {
      return status;
    }
    database->pool_.add(std::move(wrapped));
  }
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace jiancang::platform
