// Server-sent events for the waiting room (GET /api/v1/drops/{id}/queue/events): a collector
// waiting for a drop learns its place, the draw and the moment it is let in without polling.
//
//   event: place     the collector's place, as GET /drops/{id}/queue answers it: when the stream
//                    opens, when the draw gives it a position, when it is let in
//   event: progress  {"drop_id", "state", "entrants", "admitted_through", "available"}: when
//                    the stream opens and whenever it changes (at most once a round); state is
//                    "waiting", "live", "sold-out" or "ended"; the stream closes after "ended"
//
// Made for a crowd of thousands on one drop: a single thread reads each watched drop once a
// round, and at the draw and at admission the places of many watchers in a few batched reads
// rather than one each; the progress event is formatted once per change and shared by every
// watcher of the drop. A watcher costs its connection and about a hundred bytes here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include <api/http_server.h>
#include <platform/waiting_room.h>

namespace jiancang::api {

// A place as the API shows it, in GET /drops/{id}/queue and in the "place" event.
nlohmann::json queuePlaceJson(const platform::QueuePlace& place);

class QueueEvents {
 public:
  explicit QueueEvents(platform::WaitingRoom& waitingRoom,
                       std::chrono::milliseconds round = std::chrono::seconds(1));
  ~QueueEvents();
  QueueEvents(const QueueEvents&) = delete;
  QueueEvents& operator=(const QueueEvents&) = delete;

  // Sends `place` and the drop's progress now, then keeps `stream` told until the drop ends or
  // the client goes. Thread-safe.
  void watch(std::int64_t userId, const platform::QueuePlace& place,
             std::shared_ptr<EventStream> stream);
  // Streams being kept told (closed ones leave within a round).
  std::size_t watchers() const;
  // Ends the thread; open streams are left to the HTTP server's own shutdown.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jiancang::api
