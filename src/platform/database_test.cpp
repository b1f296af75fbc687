#include <platform/database.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include <platform/testing/databases.h>

namespace jiancang::platform {
namespace {

using core::Bytes;
using testing::freshDatabase;

class DatabaseTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    database_ = freshDatabase(GetParam());
    ASSERT_NE(database_, nullptr);
    ASSERT_TRUE(database_
                    ->transaction([](SqlSession& session) {
                      return session.executeScript(
                          "CREATE TABLE things (id BIGINT PRIMARY KEY, name TEXT UNIQUE, "
                          "data " +
                          std::string(GetParam() == "sqlite" ? "BLOB" : "BYTEA") +
                          ", amount BIGINT)");
                    })
                    .isOk());
  }
  static void expectOk(const core::Status& status) {
    EXPECT_TRUE(status.isOk()) << status.toString();
  }
  std::unique_ptr<Database> database_;
};

TEST_P(DatabaseTest, RoundTripsEveryValueType) {
  const Bytes data = {0x00, 0xff, 0x27, 0x00, 0x3f};  // NULs and a quote: binary-safe
  core::Status status = database_->transaction([&](SqlSession& session) -> core::Status {
    auto inserted = session.execute(
        "INSERT INTO things (id, name, data, amount) VALUES (?, ?, ?, ?)",
        {std::int64_t{1}, std::string("名字 'quoted' ?"), data, std::int64_t{-9'000'000'000'000}});
    if (!inserted) return inserted.status();
    EXPECT_EQ(*inserted, 1);
    auto empty = session.execute("INSERT INTO things (id, name, data, amount) VALUES (?, ?, ?, ?)",
                                 {std::int64_t{2}, SqlValue{}, Bytes{}, SqlValue{}});
    return empty.status();
  });
  ASSERT_TRUE(status.isOk()) << status.toString();

  expectOk(database_->transaction([&](SqlSession& session) -> core::Status {
    auto rows = session.query("SELECT id, name, data, amount FROM things ORDER BY id", {});
    EXPECT_TRUE(rows.ok()) << rows.status().toString();
    if (!rows) return rows.status();
    EXPECT_EQ(rows->size(), 2u);
    const SqlRow& first = rows->at(0);
    EXPECT_EQ(first.integer(0), 1);
    EXPECT_EQ(first.text(1), "名字 'quoted' ?");
    EXPECT_EQ(first.bytes(2), data);
    EXPECT_EQ(first.integer(3), -9'000'000'000'000);
    const SqlRow& second = rows->at(1);
    EXPECT_TRUE(second.isNull(1));
    EXPECT_FALSE(second.isNull(2));  // an empty byte string is not NULL
    EXPECT_TRUE(second.bytes(2).empty());
    EXPECT_TRUE(second.isNull(3));
    return {};
  }));
}

TEST_P(DatabaseTest, FailedWorkRollsBackEverything) {
  core::Status status = database_->transaction([&](SqlSession& session) -> core::Status {
    (void)session.execute("INSERT INTO things (id, name) VALUES (?, ?)",
                          {std::int64_t{1}, std::string("a")});
    return core::invalidArgument("test-refusal", "the work changed its mind");
  });
  EXPECT_EQ(status.reason(), "test-refusal");
  expectOk(database_->transaction([&](SqlSession& session) -> core::Status {
    auto rows = session.query("SELECT COUNT(*) FROM things", {});
    EXPECT_TRUE(rows.ok());
    EXPECT_EQ(rows->front().integer(0), 0);
    return {};
  }));
}

TEST_P(DatabaseTest, UniqueViolationHasItsOwnReason) {
  auto insert = [&](std::int64_t id) {
    return database_->transaction([&](SqlSession& session) {
      return session
          .execute("INSERT INTO things (id, name) VALUES (?, ?)", {id, std::string("same")})
          .status();
    });
  };
  ASSERT_TRUE(insert(1).isOk());
  core::Status second = insert(2);
  EXPECT_EQ(second.code(), core::ErrorCode::kAlreadyExists);
  EXPECT_EQ(second.reason(), "sql-unique-violation");
}

TEST_P(DatabaseTest, BadSqlIsAnErrorNotACrash) {
  core::Status status = database_->transaction(
      [&](SqlSession& session) { return session.query("SELEKT nothing", {}).status(); });
  EXPECT_EQ(status.reason(), "sql-error");
  status = database_->transaction([&](SqlSession& session) {
    return session.execute("INSERT INTO things (id) VALUES (?)", {}).status();
  });
  EXPECT_FALSE(status.isOk());
  // The connection is usable afterwards.
  EXPECT_TRUE(database_
                  ->transaction([&](SqlSession& session) {
                    return session.query("SELECT COUNT(*) FROM things", {}).status();
                  })
                  .isOk());
}

// Read-modify-write from several threads at once: no update is lost (SQLite serialises
// writers; PostgreSQL's serializable transactions conflict and are retried).
TEST_P(DatabaseTest, ConcurrentIncrementsAreNotLost) {
  ASSERT_TRUE(
      database_
          ->transaction([&](SqlSession& session) {
            return session.execute("INSERT INTO things (id, amount) VALUES (1, 0)", {}).status();
          })
          .isOk());
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        core::Status status = database_->transaction([&](SqlSession& session) -> core::Status {
          auto rows = session.query("SELECT amount FROM things WHERE id = 1", {});
          if (!rows) return rows.status();
          return session
              .execute("UPDATE things SET amount = ? WHERE id = 1", {rows->front().integer(0) + 1})
              .status();
        });
        if (!status.isOk()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  expectOk(database_->transaction([&](SqlSession& session) -> core::Status {
    auto rows = session.query("SELECT amount FROM things WHERE id = 1", {});
    EXPECT_EQ(rows->front().integer(0), kThreads * kEach);
    return {};
  }));
}

// Many writers at once, as in a flash sale: on SQLite they are committed in groups. Each
// caller must still see only its own outcome: a work that fails (by returning an error after
// writing, or by a unique violation) leaves nothing, and the works beside it keep everything.
TEST_P(DatabaseTest, WritersAtOnceEachGetTheirOwnOutcome) {
  constexpr int kThreads = 12;
  constexpr int kEach = 30;
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::int64_t id = std::int64_t{t} * 1'000 + i;
        const int kind = (t + i) % 3;  // 0 keeps its row, 1 gives up after writing, 2 collides
        core::Status status = database_->transaction([&](SqlSession& session) -> core::Status {
          auto inserted = session.execute("INSERT INTO things (id, name) VALUES (?, ?)",
                                          {id, "row " + std::to_string(id)});
          if (!inserted) return inserted.status();
          if (kind == 1) return core::failedPrecondition("given-up", "wrote, then gave up");
          if (kind == 2) {
            // A second row with the name of the first: the UNIQUE constraint refuses it.
            return session
                .execute("INSERT INTO things (id, name) VALUES (?, ?)",
                         {id + 500, "row " + std::to_string(id)})
                .status();
          }
          return {};
        });
        const bool asExpected = kind == 0   ? status.isOk()
                                : kind == 1 ? status.reason() == "given-up"
                                            : status.reason() == "sql-unique-violation";
        if (!asExpected) ++unexpected;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(unexpected.load(), 0);
  expectOk(database_->read([&](SqlSession& session) -> core::Status {
    auto rows = session.query("SELECT id FROM things ORDER BY id", {});
    if (!rows) return rows.status();
    std::vector<std::int64_t> kept;
    for (const SqlRow& row : *rows) kept.push_back(row.integer(0));
    std::vector<std::int64_t> expected;
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kEach; ++i) {
        if ((t + i) % 3 == 0) expected.push_back(std::int64_t{t} * 1'000 + i);
      }
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(kept, expected);
    return {};
  }));
}

TEST_P(DatabaseTest, MigrationIsIdempotentAndRecorded) {
  ASSERT_TRUE(migrate(*database_).isOk());  // a second time: nothing to do
  expectOk(database_->transaction([&](SqlSession& session) -> core::Status {
    auto rows = session.query("SELECT MAX(version), COUNT(*) FROM schema_migrations", {});
    EXPECT_EQ(rows->front().integer(0), schemaVersion());
    EXPECT_EQ(rows->front().integer(1), schemaVersion());
    return {};
  }));
}

TEST_P(DatabaseTest, RefusesASchemaNewerThanItself) {
  ASSERT_TRUE(database_
                  ->transaction([&](SqlSession& session) {
                    return session
                        .execute(
                            "INSERT INTO schema_migrations (version, description) VALUES (?, ?)",
                            {std::int64_t{schemaVersion() + 1}, std::string("from the future")})
                        .status();
                  })
                  .isOk());
  core::Status status = migrate(*database_);
  EXPECT_EQ(status.reason(), "schema-too-new");
}

INSTANTIATE_TEST_SUITE_P(Both, DatabaseTest, ::testing::Values("sqlite", "postgres"));

// A transaction begun inside another's work would wait for itself: it is refused at once.
TEST(SqliteTest, RefusesATransactionInsideAnother) {
  auto database = freshDatabase("sqlite");
  ASSERT_NE(database, nullptr);
  core::Status inner;
  core::Status outer = database->transaction([&](SqlSession&) -> core::Status {
    inner = database->transaction([](SqlSession&) -> core::Status { return {}; });
    return {};
  });
  EXPECT_TRUE(outer.isOk()) << outer.toString();
  EXPECT_EQ(inner.reason(), "sql-error");
  EXPECT_NE(inner.message().find("inside another"), std::string::npos) << inner.message();
}

TEST(SqliteTest, RefusesMemoryDatabases) {
  auto opened = openSqlite(SqliteOptions{":memory:"});
  EXPECT_EQ(opened.status().reason(), "sqlite-path");
}

TEST(PostgresTest, UnreachableServerIsAClearError) {
  auto opened = openPostgres(PostgresOptions{"host=127.0.0.1 port=1 dbname=x connect_timeout=2"});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "postgres-connect");
  EXPECT_NE(opened.status().message().find("cannot connect"), std::string::npos);
}

}  // namespace
}  // namespace jiancang::platform
