#include <platform/support.h>

namespace jiancang::platform {
namespace {

using core::ErrorCode;
using core::Status;

constexpr std::size_t kMaxTitleBytes = 100;
constexpr std::size_t kMaxBodyBytes = 10'000;
constexpr std::int64_t kMaxOpenTickets = 20;

Status checkLength(const std::string& text, std::size_t max, const char* reason, const char* what) {
  if (text.empty() || text.size() > max) {
    return core::invalidArgument(reason,
                                 std::string(what) + " is 1 to " + std::to_string(max) + " bytes");
  }
  return {};
}

Status noSuchTicket(std::int64_t id) {
  return core::notFound("no-such-ticket", "there is no ticket " + std::to_string(id));
}

Announcement readAnnouncement(const SqlRow& row) {
  return Announcement{row.integer(0), row.text(1),
                      row.text(2),    row.integer(3) != 0,
                      row.integer(4), core::Timestamp::fromUnixMillis(row.integer(5))};
}

Ticket readTicket(const SqlRow& row) {
  Ticket ticket;
  ticket.id = row.integer(0);
  ticket.userId = row.integer(1);
  ticket.subject = row.text(2);
  ticket.open = row.integer(3) != 0;
  ticket.createdAt = core::Timestamp::fromUnixMillis(row.integer(4));
  ticket.updatedAt = core::Timestamp::fromUnixMillis(row.integer(5));
  return ticket;
}

constexpr const char* kTicketColumns = "id, user_id, subject, open, created_at, updated_at";

Status loadMessages(SqlSession& session, Ticket* ticket) {
  auto rows = session.query(
      "SELECT author_id, from_staff, body, created_at FROM ticket_messages WHERE ticket_id = ? "
      "ORDER BY id",
      {ticket->id});
  if (!rows) return rows.status();
  for (const SqlRow& row : *rows) {
    ticket->messages.push_back({row.integer(0), row.integer(1) != 0, row.text(2),
                                core::Timestamp::fromUnixMillis(row.integer(3))});
  }
  return {};
}

}  // namespace

core::Result<Announcement> Support::announce(std::int64_t operatorId, const std::string& title,
                                             const std::string& body, bool pinned) {
  auto actor = accounts_.user(operatorId);
  if (!actor) return actor.status();
  if (!actor->hasRole(kRoleOperator)) {
    return Status(ErrorCode::kPermissionDenied, "not-operator",
                  "only operators post announcements");
  }
  if (Status status = checkLength(title, kMaxTitleBytes, "title-length", "a title");
      !status.isOk()) {
    return status;
  }
  if (Status status = checkLength(body, kMaxBodyBytes, "body-length", "the text"); !status.isOk()) {
    return status;
  }
  Announcement created;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query(
        "INSERT INTO announcements (title, body, pinned, published_by, published_at) VALUES (?, "
        "?, ?, ?, ?) RETURNING id, title, body, pinned, published_by, published_at",
        {title, body, std::int64_t{pinned ? 1 : 0}, operatorId, clock_.now().unixMillis()});
    if (!rows) return rows.status();
    created = readAnnouncement(rows->front());
    return {};
  });
  if (!status.isOk()) return status;
  return created;
}

Status Support::withdraw(std::int64_t operatorId, std::int64_t announcementId) {
  auto actor = accounts_.user(operatorId);
  if (!actor) return actor.status();
  if (!actor->hasRole(kRoleOperator)) {
    return {ErrorCode::kPermissionDenied, "not-operator", "only operators withdraw announcements"};
  }
  return database_.transaction([&](SqlSession& session) -> Status {
    auto removed = session.execute("DELETE FROM announcements WHERE id = ?", {announcementId});
    if (!removed) return removed.status();
    if (*removed == 0) {
      return core::notFound("no-such-announcement",
                            "there is no announcement " + std::to_string(announcementId));
    }
    return {};
  });
}

core::Result<std::vector<Announcement>> Support::announcements(std::size_t limit) {
  std::vector<Announcement> out;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query(
        "SELECT id, title, body, pinned, published_by, published_at FROM announcements ORDER BY "
        "pinned DESC, published_at DESC, id DESC LIMIT ?",
        {static_cast<std::int64_t>(limit)});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) out.push_back(readAnnouncement(row));
    return {};
  });
  if (!status.isOk()) return status;
  return out;
}

core::Result<Ticket> Support::openTicket(std::int64_t userId, const std::string& subject,
                                         const std::string& body) {
  if (Status status = checkLength(subject, kMaxTitleBytes, "subject-length", "a subject");
      !status.isOk()) {
    return status;
  }
  if (Status status = checkLength(body, kMaxBodyBytes, "body-length", "a message");
      !status.isOk()) {
    return status;
  }
  Ticket created;
  const std::int64_t now = clock_.now().unixMillis();
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto open =
        session.query("SELECT COUNT(*) FROM tickets WHERE user_id = ? AND open = 1", {userId});
    if (!open) return open.status();
    if (open->front().integer(0) >= kMaxOpenTickets) {
      return Status(ErrorCode::kResourceExhausted, "too-many-open-tickets",
                    "you have 20 open tickets; close some before opening more");
    }
    auto rows = session.query(std::string("INSERT INTO tickets (user_id, subject, open, "
                                          "created_at, updated_at) VALUES (?, ?, 1, ?, ?) "
                                          "RETURNING ") +
                                  kTicketColumns,
                              {userId, subject, now, now});
    if (!rows) return rows.status();
    created = readTicket(rows->front());
    auto message = session.execute(
        "INSERT INTO ticket_messages (ticket_id, author_id, from_staff, body, created_at) VALUES "
        "(?, ?, 0, ?, ?)",
        {created.id, userId, body, now});
    if (!message) return message.status();
    return loadMessages(session, &created);
  });
  if (!status.isOk()) return status;
  return created;
}

core::Result<Ticket> Support::visibleTicket(SqlSession& session, std::int64_t viewerId,
                                            std::int64_t ticketId, bool* viewerIsStaff) {
  auto viewer = session.query("SELECT roles FROM users WHERE id = ?", {viewerId});
  if (!viewer) return viewer.status();
  *viewerIsStaff = !viewer->empty() && (viewer->front().integer(0) & kRoleOperator) != 0;
  auto rows = session.query(std::string("SELECT ") + kTicketColumns + " FROM tickets WHERE id = ?",
                            {ticketId});
  if (!rows) return rows.status();
  if (rows->empty()) return noSuchTicket(ticketId);
  Ticket ticket = readTicket(rows->front());
  // Someone else's ticket: the same answer as a ticket that does not exist.
  if (ticket.userId != viewerId && !*viewerIsStaff) return noSuchTicket(ticketId);
  return ticket;
}

core::Result<Ticket> Support::reply(std::int64_t authorId, std::int64_t ticketId,
                                    const std::string& body) {
  if (Status status = checkLength(body, kMaxBodyBytes, "body-length", "a message");
      !status.isOk()) {
    return status;
  }
  Ticket result;
  const std::int64_t now = clock_.now().unixMillis();
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    bool staff = false;
    auto ticket = visibleTicket(session, authorId, ticketId, &staff);
    if (!ticket) return ticket.status();
    if (!ticket->open) {
      return core::failedPrecondition("ticket-closed",
                                      "this ticket is closed; open a new one to continue");
    }
    auto message = session.execute(
        "INSERT INTO ticket_messages (ticket_id, author_id, from_staff, body, created_at) VALUES "
        "(?, ?, ?, ?, ?)",
        {ticketId, authorId, std::int64_t{staff && ticket->userId != authorId ? 1 : 0}, body, now});
    if (!message) return message.status();
    auto touched =
        session.execute("UPDATE tickets SET updated_at = ? WHERE id = ?", {now, ticketId});
    if (!touched) return touched.status();
    result = *ticket;
    result.updatedAt = core::Timestamp::fromUnixMillis(now);
    return loadMessages(session, &result);
  });
  if (!status.isOk()) return status;
  return result;
}

core::Result<Ticket> Support::close(std::int64_t userId, std::int64_t ticketId) {
  Ticket result;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    bool staff = false;
    auto ticket = visibleTicket(session, userId, ticketId, &staff);
    if (!ticket) return ticket.status();
    auto closed = session.execute("UPDATE tickets SET open = 0, updated_at = ? WHERE id = ?",
                                  {clock_.now().unixMillis(), ticketId});
    if (!closed) return closed.status();
    result = *ticket;
    result.open = false;
    return loadMessages(session, &result);
  });
  if (!status.isOk()) return status;
  return result;
}

core::Result<Ticket> Support::ticket(std::int64_t viewerId, std::int64_t ticketId) {
  Ticket result;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    bool staff = false;
    auto ticket = visibleTicket(session, viewerId, ticketId, &staff);
    if (!ticket) return ticket.status();
    result = *ticket;
    return loadMessages(session, &result);
  });
  if (!status.isOk()) return status;
  return result;
}

core::Result<std::vector<Ticket>> Support::tickets(std::int64_t viewerId, bool all) {
  std::vector<Ticket> out;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    if (all) {
      auto viewer = session.query("SELECT roles FROM users WHERE id = ?", {viewerId});
      if (!viewer) return viewer.status();
      if (viewer->empty() || (viewer->front().integer(0) & kRoleOperator) == 0) {
        return Status(ErrorCode::kPermissionDenied, "not-operator",
                      "only operators see everyone's tickets");
      }
    }
    auto rows =
        all ? session.query(std::string("SELECT ") + kTicketColumns +
                                " FROM tickets ORDER BY open DESC, updated_at DESC LIMIT 500",
                            {})
            : session.query(std::string("SELECT ") + kTicketColumns +
                                " FROM tickets WHERE user_id = ? ORDER BY updated_at DESC",
                            {viewerId});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) out.push_back(readTicket(row));
    return {};
  });
  if (!status.isOk()) return status;
  return out;
}

}  // namespace jiancang::platform
