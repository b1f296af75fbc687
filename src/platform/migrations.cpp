// The platform's schema, as numbered migrations. A migration is never edited once released:
// a change is a new migration at the end. Two spellings differ between the dialects and are
// written as placeholders: {id} (an auto-numbered primary key) and {bytes} (a byte string).
#include <array>
#include <string>

#include <platform/database.h>

namespace jiancang::platform {
namespace {

using core::Status;

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

constexpr std::array kMigrations{
    Migration{1, "accounts, sessions, login throttling, real-name identities, custodial keys",
              R"sql(
CREATE TABLE users (
  id {id},
  phone TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  roles BIGINT NOT NULL,
  must_change_password BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  failed_logins BIGINT NOT NULL DEFAULT 0,
  locked_until BIGINT NOT NULL DEFAULT 0,
  identity_hash {bytes} UNIQUE,
  identity_sealed {bytes},
  birth_date BIGINT,
  verified_at BIGINT,
  address {bytes} UNIQUE,
  key_sealed {bytes}
);
CREATE TABLE sessions (
  token_hash {bytes} PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users (id),
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE TABLE login_failures (
  subject TEXT PRIMARY KEY,
  window_start BIGINT NOT NULL,
  failures BIGINT NOT NULL
);
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value {bytes} NOT NULL
);
CREATE TABLE audit_log (
  id {id},
  at BIGINT NOT NULL,
  actor BIGINT,
  action TEXT NOT NULL,
  detail TEXT NOT NULL
);
)sql"},
    Migration{2, "media, content-addressed",
              R"sql(
CREATE TABLE media (
  sha256 {bytes} PRIMARY KEY,
  mime TEXT NOT NULL,
  kind BIGINT NOT NULL,
  size BIGINT NOT NULL,
  width BIGINT NOT NULL,
  height BIGINT NOT NULL,
  thumbnail {bytes},
  uploaded_by BIGINT NOT NULL REFERENCES users (id),
  uploaded_at BIGINT NOT NULL
);
)sql"},
    Migration{3, "issuers and series drafts with their review",
              R"sql(
CREATE TABLE issuers (
  id {id},
  user_id BIGINT NOT NULL UNIQUE REFERENCES users (id),
  display_name TEXT NOT NULL,
  address {bytes} NOT NULL,
  licence_hash {bytes} NOT NULL,
  documents TEXT NOT NULL,
  registration_tx {bytes} NOT NULL,
  registration_height BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE series_drafts (
  id {id},
  issuer_id BIGINT NOT NULL REFERENCES issuers (id),
  drafted_by BIGINT NOT NULL REFERENCES users (id),
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  media {bytes} NOT NULL REFERENCES media (sha256),
  media_type TEXT NOT NULL,
  edition_cap BIGINT NOT NULL,
  royalty_bp BIGINT NOT NULL,
  transferable BIGINT NOT NULL,
  hold_first_ms BIGINT NOT NULL,
  hold_between_ms BIGINT NOT NULL,
  tradable BIGINT NOT NULL,
  price_ceiling_fen BIGINT NOT NULL,
  rights TEXT NOT NULL,
  state BIGINT NOT NULL,
  reviewer_id BIGINT REFERENCES users (id),
  review_reason TEXT NOT NULL DEFAULT '',
  metadata TEXT NOT NULL DEFAULT '',
  series_id BIGINT NOT NULL DEFAULT 0,
  publication_tx {bytes},
  publication_height BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX series_drafts_by_state ON series_drafts (state);
CREATE INDEX series_drafts_by_issuer ON series_drafts (issuer_id);
)sql"},
    Migration{4, "announcements and support tickets",
              R"sql(
CREATE TABLE announcements (
  id {id},
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  pinned BIGINT NOT NULL,
  published_by BIGINT NOT NULL REFERENCES users (id),
  published_at BIGINT NOT NULL
);
CREATE TABLE tickets (
  id {id},
  user_id BIGINT NOT NULL REFERENCES users (id),
  subject TEXT NOT NULL,
  open BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX tickets_by_user ON tickets (user_id);
CREATE TABLE ticket_messages (
  id {id},
  ticket_id BIGINT NOT NULL REFERENCES tickets (id),
  author_id BIGINT NOT NULL REFERENCES users (id),
  from_staff BIGINT NOT NULL,
  body TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX ticket_messages_by_ticket ON ticket_messages (ticket_id);
)sql"},
    Migration{5, "drops, orders and their history, payments, mint batches; the sandbox provider",
              R"sql(
CREATE TABLE drops (
  id {id},
  series_draft_id BIGINT NOT NULL REFERENCES series_drafts (id),
  series_id BIGINT NOT NULL,
  issuer_user_id BIGINT NOT NULL REFERENCES users (id),
  title TEXT NOT NULL,
  price_fen BIGINT NOT NULL,
  stock BIGINT NOT NULL,
  reserved BIGINT NOT NULL DEFAULT 0,
  per_identity_limit BIGINT NOT NULL,
  starts_at BIGINT NOT NULL,
  ends_at BIGINT NOT NULL,
  payment_window_ms BIGINT NOT NULL,
  created_by BIGINT NOT NULL REFERENCES users (id),
  created_at BIGINT NOT NULL
);
CREATE INDEX drops_by_series ON drops (series_id);
CREATE TABLE mint_batches (
  id {id},
  signer {bytes} NOT NULL,
  nonce BIGINT NOT NULL,
  series_id BIGINT NOT NULL,
  tx_hash {bytes} NOT NULL UNIQUE,
  signed_tx {bytes} NOT NULL,
  state TEXT NOT NULL,
  height BIGINT,
  first_serial BIGINT,
  reason TEXT,
  created_at BIGINT NOT NULL,
  UNIQUE (signer, nonce)
);
CREATE INDEX mint_batches_by_state ON mint_batches (state);
CREATE TABLE orders (
  id {id},
  drop_id BIGINT NOT NULL REFERENCES drops (id),
  user_id BIGINT NOT NULL REFERENCES users (id),
  identity_hash {bytes} NOT NULL,
  idempotency_key TEXT NOT NULL,
  amount_fen BIGINT NOT NULL,
  state TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  payment_id TEXT UNIQUE,
  payment_url TEXT,
  mint_attempts BIGINT NOT NULL DEFAULT 0,
  mint_batch_id BIGINT REFERENCES mint_batches (id),
  mint_index BIGINT,
  serial BIGINT,
  UNIQUE (user_id, idempotency_key)
);
CREATE INDEX orders_by_drop_identity ON orders (drop_id, identity_hash);
CREATE INDEX orders_by_state ON orders (state, expires_at);
CREATE INDEX orders_by_user ON orders (user_id);
CREATE INDEX orders_by_batch ON orders (mint_batch_id);
CREATE TABLE order_events (
  id {id},
  order_id BIGINT NOT NULL REFERENCES orders (id),
  at BIGINT NOT NULL,
  state TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (order_id);
CREATE TABLE payment_notices (
  notice_id TEXT PRIMARY KEY,
  payment_id TEXT NOT NULL,
  event TEXT NOT NULL,
  received_at BIGINT NOT NULL
);
CREATE TABLE sandbox_payments (
  id TEXT PRIMARY KEY,
  merchant_reference TEXT NOT NULL,
  amount_fen BIGINT NOT NULL,
  description TEXT NOT NULL,
  notify_url TEXT NOT NULL,
  return_url TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE sandbox_callbacks (
  id {id},
  payment_id TEXT NOT NULL REFERENCES sandbox_payments (id),
  notify_url TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  delivered_at BIGINT
);
CREATE INDEX sandbox_callbacks_due ON sandbox_callbacks (delivered_at, next_attempt_at);
)sql"},
    Migration{6, "waiting rooms: a committed queue seed per drop, its admission rate, entrants",
              R"sql(
ALTER TABLE drops ADD COLUMN admit_per_second BIGINT NOT NULL DEFAULT 500;
ALTER TABLE drops ADD COLUMN queue_seed {bytes};
ALTER TABLE drops ADD COLUMN queue_commitment {bytes};
ALTER TABLE drops ADD COLUMN queue_drawn_at BIGINT;
CREATE TABLE queue_entries (
  drop_id BIGINT NOT NULL REFERENCES drops (id),
  user_id BIGINT NOT NULL REFERENCES users (id),
  address {bytes} NOT NULL,
  joined_at BIGINT NOT NULL,
  position BIGINT,
  drawn BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (drop_id, user_id),
  UNIQUE (drop_id, position)
);
)sql"},
    Migration{7, "priority windows: holders of a series or a whitelist buy before the start",
              R"sql(
ALTER TABLE drops ADD COLUMN priority_starts_at BIGINT;
ALTER TABLE drops ADD COLUMN priority_series_id BIGINT NOT NULL DEFAULT 0;
CREATE TABLE drop_whitelist (
  drop_id BIGINT NOT NULL REFERENCES drops (id),
  phone TEXT NOT NULL,
  PRIMARY KEY (drop_id, phone)
);
)sql"},
    Migration{8, "lottery drops: entries, the committed seed, the on-chain commit and draw",
              R"sql(
ALTER TABLE drops ADD COLUMN mode TEXT NOT NULL DEFAULT 'first-come';
ALTER TABLE drops ADD COLUMN lottery_seed {bytes};
ALTER TABLE drops ADD COLUMN lottery_commitment {bytes};
ALTER TABLE drops ADD COLUMN lottery_state TEXT;
ALTER TABLE drops ADD COLUMN lottery_root {bytes};
ALTER TABLE drops ADD COLUMN lottery_entrants BIGINT;
ALTER TABLE drops ADD COLUMN lottery_winners BIGINT;
ALTER TABLE drops ADD COLUMN lottery_id BIGINT;
ALTER TABLE drops ADD COLUMN lottery_commit_tx {bytes};
ALTER TABLE drops ADD COLUMN lottery_draw_tx {bytes};
ALTER TABLE drops ADD COLUMN lottery_reason TEXT;
ALTER TABLE drops ADD COLUMN lottery_tx_hash {bytes};
ALTER TABLE drops ADD COLUMN lottery_signed_tx {bytes};
CREATE INDEX drops_by_lottery_state ON drops (mode, lottery_state);
CREATE TABLE lottery_entries (
  drop_id BIGINT NOT NULL REFERENCES drops (id),
  user_id BIGINT NOT NULL REFERENCES users (id),
  identity_hash {bytes} NOT NULL,
  address {bytes} NOT NULL,
  entered_at BIGINT NOT NULL,
  entry_index BIGINT,
  won BIGINT NOT NULL DEFAULT 0,
  order_id BIGINT REFERENCES orders (id),
  PRIMARY KEY (drop_id, user_id),
  UNIQUE (drop_id, identity_hash),
  UNIQUE (drop_id, entry_index)
);
)sql"},
    Migration{9, "blind boxes: a series draft's contents, reveal deadline and secret seed",
              R"sql(
ALTER TABLE series_drafts ADD COLUMN blind_box TEXT NOT NULL DEFAULT '';
ALTER TABLE series_drafts ADD COLUMN reveal_deadline BIGINT NOT NULL DEFAULT 0;
ALTER TABLE series_drafts ADD COLUMN box_seed {bytes};
ALTER TABLE series_drafts ADD COLUMN box_commitment {bytes};
)sql"},
};

std::string spell(std::string sql, SqlDialect dialect) {
  auto replaceAll = [&](std::string_view from, std::string_view to) {
    for (std::size_t at = sql.find(from); at != std::string::npos;
         at = sql.find(from, at + to.size())) {
      sql.replace(at, from.size(), to);
    }
  };
  const bool sqlite = dialect == SqlDialect::kSqlite;
  replaceAll("{id}", sqlite ? "INTEGER PRIMARY KEY"
                            : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
  replaceAll("{bytes}", sqlite ? "BLOB" : "BYTEA");
  return sql;
}

core::Result<std::int64_t> appliedVersion(Database& database) {
  std::int64_t version = 0;
  Status status = database.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {});
    if (!rows) return rows.status();
    version = rows->front().integer(0);
    return {};
  });
  if (!status.isOk()) return status;
  return version;
}

}  // namespace

int schemaVersion() { return kMigrations.back().version; }

Status migrate(Database& database) {
  Status created = database.transaction([](SqlSession& session) {
    return session.executeScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
        "description TEXT NOT NULL)");
  });
  // Two instances creating it at once: one of them loses on PostgreSQL's catalog; it exists now.
  if (!created.isOk() && created.reason() != "sql-unique-violation") return created;

  auto current = appliedVersion(database);
  if (!current) return current.status();
  if (*current > schemaVersion()) {
    return Status(core::ErrorCode::kFailedPrecondition, "schema-too-new",
                  "the database is at schema version " + std::to_string(*current) +
                      ", newer than this jiancang (" + std::to_string(schemaVersion()) +
                      "): run the newer version");
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= *current) continue;
    Status status = database.transaction([&](SqlSession& session) -> Status {
      // Claim the version first: an instance migrating at the same time fails on this row and
      // rolls back, so each migration runs once.
      auto claimed =
          session.execute("INSERT INTO schema_migrations (version, description) VALUES (?, ?)",
                          {std::int64_t{migration.version}, std::string(migration.description)});
      if (!claimed) return claimed.status();
      return session.executeScript(spell(migration.sql, database.dialect()));
    });
    if (status.reason() == "sql-unique-violation") continue;  // another instance applied it
    if (!status.isOk()) {
      return Status(status.code(), "schema-migration-failed",
                    "schema migration " + std::to_string(migration.version) + " (" +
                        migration.description + ") failed: " + status.message());
    }
  }
  return {};
}

}  // namespace jiancang::platform
