#include <platform/testing/databases.h>

#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <gtest/gtest.h>
#include <sodium.h>

#include "support/postgres_server.h"

namespace jiancang::platform::testing {
namespace {

namespace fs = std::filesystem;

fs::path scratch() {
  static const fs::path directory = [] {
    fs::path path =
        fs::temp_directory_path() / ("jiancang-platform-test-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
    return path;
  }();
  return directory;
}

// One server for the whole process, started on first use and stopped at exit.
jiancang::testing::PostgresServer* server() {
  static std::once_flag once;
  static std::unique_ptr<jiancang::testing::PostgresServer> instance;
  static std::string failure;
  std::call_once(once, [] {
    auto candidate = std::make_unique<jiancang::testing::PostgresServer>(scratch() / "postgres");
    if (candidate->start({"fsync=off", "max_connections=200"}, &failure)) {
      instance = std::move(candidate);
      std::atexit([] {
        instance->stop();
        fs::remove_all(scratch());
      });
    }
  });
  if (!instance) ADD_FAILURE() << "cannot start PostgreSQL for the tests: " << failure;
  return instance.get();
}

std::atomic<int> counter{0};

}  // namespace

std::unique_ptr<Database> freshDatabase(const std::string& kind) {
  const std::string name = "t" + std::to_string(++counter);
  core::Result<std::unique_ptr<Database>> opened =
      core::Status(core::ErrorCode::kInternal, "unknown-kind", "unknown database kind " + kind);
  if (kind == "sqlite") {
    opened = openSqlite(SqliteOptions{(scratch() / (name + ".db")).string()});
  } else if (kind == "postgres") {
    auto* postgres = server();
    if (postgres == nullptr) return nullptr;
    auto created =
        postgres->runClient("psql", {"-q", "-d", "postgres", "-c", "CREATE DATABASE " + name});
    if (created.first != 0) {
      ADD_FAILURE() << "CREATE DATABASE failed: " << created.second;
      return nullptr;
    }
    opened = openPostgres(PostgresOptions{postgres->connectionString(name)});
  }
  if (!opened) {
    ADD_FAILURE() << opened.status().toString();
    return nullptr;
  }
  if (core::Status status = migrate(**opened); !status.isOk()) {
    ADD_FAILURE() << status.toString();
    return nullptr;
  }
  return std::move(opened).value();
}

AccountsOptions fastAccountsOptions() {
  AccountsOptions options;
  options.passwordOpsLimit = crypto_pwhash_OPSLIMIT_MIN;
  options.passwordMemoryLimit = crypto_pwhash_MEMLIMIT_MIN;
  return options;
}

std::int64_t countRows(Database& database, const std::string& sql) {
  std::int64_t count = -1;
  core::Status status = database.transaction([&](SqlSession& session) -> core::Status {
    auto rows = session.query(sql, {});
    if (!rows) return rows.status();
    count = rows->front().integer(0);
    return {};
  });
  EXPECT_TRUE(status.isOk()) << status.toString();
  return count;
}

}  // namespace jiancang::platform::testing
