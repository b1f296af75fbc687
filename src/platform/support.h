// Announcements (公告) that operators publish to everyone, and support tickets (客服): a user
// opens one, the user and the platform's staff (operators) write to it, either side closes it.
// A ticket is seen by its opener and by operators only; anyone else is told it does not exist.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <core/clock.h>
#include <platform/accounts.h>
#include <platform/database.h>

namespace jiancang::platform {

struct Announcement {
  std::int64_t id = 0;
  std::string title;
  std::string body;
  bool pinned = false;
  std::int64_t publishedBy = 0;
  core::Timestamp publishedAt;
};

struct TicketMessage {
  std::int64_t authorId = 0;
  bool fromStaff = false;
  std::string body;
  core::Timestamp at;
};

struct Ticket {
  std::int64_t id = 0;
  std::int64_t userId = 0;
  std::string subject;
  bool open = true;
  core::Timestamp createdAt;
  core::Timestamp updatedAt;
  std::vector<TicketMessage> messages;  // oldest first; empty in lists
};

class Support {
 public:
  Support(Database& database, Accounts& accounts, const core::Clock& clock)
      : database_(database), accounts_(accounts), clock_(clock) {}

  // Reasons: "not-operator", "title-length" (1 to 100 bytes), "body-length" (1 to 10,000).
  core::Result<Announcement> announce(std::int64_t operatorId, const std::string& title,
                                      const std::string& body, bool pinned);
  core::Status withdraw(std::int64_t operatorId, std::int64_t announcementId);
  // Pinned first, then newest first; at most `limit`.
  core::Result<std::vector<Announcement>> announcements(std::size_t limit);

  // Reasons: "subject-length" (1 to 100 bytes), "body-length" (1 to 10,000), "ticket-closed",
  // "no-such-ticket", "too-many-open-tickets" (20 open per user).
  core::Result<Ticket> openTicket(std::int64_t userId, const std::string& subject,
                                  const std::string& body);
  core::Result<Ticket> reply(std::int64_t authorId, std::int64_t ticketId, const std::string& body);
  core::Result<Ticket> close(std::int64_t userId, std::int64_t ticketId);
  core::Result<Ticket> ticket(std::int64_t viewerId, std::int64_t ticketId);
  // The viewer's own tickets; for operators with `all`, everyone's (open ones first).
  core::Result<std::vector<Ticket>> tickets(std::int64_t viewerId, bool all);

 private:
  core::Result<Ticket> visibleTicket(SqlSession& session, std::int64_t viewerId,
                                     std::int64_t ticketId, bool* viewerIsStaff);

  Database& database_;
  Accounts& accounts_;
  const core::Clock& clock_;
};

}  // namespace jiancang::platform
