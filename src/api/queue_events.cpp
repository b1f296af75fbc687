#include <api/queue_events.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace jiancang::api {

using nlohmann::json;

json queuePlaceJson(const platform::QueuePlace& place) {
  json out{{"drop_id", place.dropId},
           {"position", place.position == 0 ? json(nullptr) : json(place.position)},
           {"drawn", place.drawn},
           {"joined_at", place.joinedAt.unixMillis()},
           {"admitted_through", place.admittedThrough},
           {"admitted", place.admitted}};
  out["admitted_at"] = place.admittedAt ? json(place.admittedAt->unixMillis()) : json(nullptr);
  return out;
}

namespace {

std::string placeEvent(const platform::QueuePlace& place) {
  return "event: place\ndata: " + json{{"place", queuePlaceJson(place)}}.dump() + "\n\n";
}

bool ended(const platform::QueueProgress& progress) { return progress.asOf >= progress.endsAt; }

std::string stateOf(const platform::QueueProgress& progress) {
  if (ended(progress)) return "ended";
  if (progress.asOf < progress.startsAt) return "waiting";
  return progress.available > 0 ? "live" : "sold-out";
}

std::string progressEvent(const platform::QueueProgress& progress) {
  const json body{{"progress",
                   {{"drop_id", progress.dropId},
                    {"state", stateOf(progress)},
                    {"entrants", progress.entrants},
                    {"admitted_through", progress.admittedThrough},
                    {"available", progress.available}}}};
  return "event: progress\ndata: " + body.dump() + "\n\n";
}

bool sameEvent(const std::shared_ptr<const std::string>& sent,
               const std::shared_ptr<const std::string>& current) {
  return sent == current || (sent && current && *sent == *current);
}

}  // namespace

class QueueEvents::Impl {
 public:
  Impl(platform::WaitingRoom& waitingRoom, std::chrono::milliseconds round)
      : waitingRoom_(waitingRoom), round_(round), thread_([this] { run(); }) {}
  ~Impl() { stop(); }

  void watch(std::int64_t userId, const platform::QueuePlace& place,
             std::shared_ptr<EventStream> stream) {
    if (!stream->send(placeEvent(place))) return;
    Watcher watcher{userId, std::move(stream), place, nullptr};
    if (auto progress = waitingRoom_.progress(place.dropId)) {
      watcher.sentProgress = std::make_shared<const std::string>(progressEvent(*progress));
      watcher.stream->send(*watcher.sentProgress);
      if (ended(*progress)) return watcher.stream->close();
    }
    std::lock_guard lock(mutex_);
    arriving_.push_back(std::move(watcher));
    ++watching_;
  }

  std::size_t watchers() const { return watching_.load(); }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    // Let go of the streams now, while the HTTP server that owns their connections still
    // exists: destroyed later, after it, they would touch its freed memory.
    drops_.clear();
    std::lock_guard lock(mutex_);
    arriving_.clear();
  }

 private:
  struct Watcher {
    std::int64_t userId = 0;
    std::shared_ptr<EventStream> stream;
    platform::QueuePlace place;                       // as last sent
    std::shared_ptr<const std::string> sentProgress;  // the progress event last sent
  };
  struct WatchedDrop {
    std::vector<Watcher> watchers;
    std::shared_ptr<const std::string> progress;  // the newest progress event, shared
  };

  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, round_, [this] { return stopping_; });
      if (stopping_) return;
      for (Watcher& watcher : arriving_) {
        drops_[watcher.place.dropId].watchers.push_back(std::move(watcher));
      }
      arriving_.clear();
      lock.unlock();
      std::size_t count = 0;
      for (auto it = drops_.begin(); it != drops_.end();) {
        try {
          tell(it->first, it->second);
        } catch (const std::exception&) {  // out of memory formatting: the next round tries again
        }
        count += it->second.watchers.size();
        it = it->second.watchers.empty() ? drops_.erase(it) : std::next(it);
      }
      lock.lock();
      watching_ = count + arriving_.size();
    }
  }

  // One round for one drop: one read of its progress; the places of the watchers the draw or
  // the admission changed, in a few reads; then whatever each watcher has not been sent yet.
  void tell(std::int64_t dropId, WatchedDrop& drop) {
    std::erase_if(drop.watchers, [](const Watcher& watcher) { return watcher.stream->closed(); });
    if (drop.watchers.empty()) return;
    auto progress = waitingRoom_.progress(dropId);
    if (!progress) {
      // Gone from the database (nothing else can make it fail for good): stop telling. A busy
      // or unreachable database is tried again next round.
      if (progress.status().code() == core::ErrorCode::kNotFound ||
          progress.status().code() == core::ErrorCode::kFailedPrecondition) {
        for (Watcher& watcher : drop.watchers) watcher.stream->close();
        drop.watchers.clear();
      }
      return;
    }
    std::vector<std::int64_t> changed;
    for (const Watcher& watcher : drop.watchers) {
      const platform::QueuePlace& place = watcher.place;
      const bool drawnNow = place.position == 0 && progress->drawn;
      const bool letInNow =
          place.position > 0 && !place.admitted && place.position <= progress->admittedThrough;
      if (drawnNow || letInNow) changed.push_back(watcher.userId);
    }
    if (!changed.empty()) {
      if (auto places = waitingRoom_.places(dropId, changed)) {
        for (Watcher& watcher : drop.watchers) {
          auto found = places->find(watcher.userId);
          if (found == places->end()) continue;
          const platform::QueuePlace& now = found->second;
          if (now.position == watcher.place.position && now.admitted == watcher.place.admitted) {
            continue;
          }
          watcher.place = now;
          watcher.stream->send(placeEvent(now));
        }
      }
    }
    std::string event = progressEvent(*progress);
    if (!drop.progress || *drop.progress != event) {
      drop.progress = std::make_shared<const std::string>(std::move(event));
    }
    for (Watcher& watcher : drop.watchers) {
      if (!sameEvent(watcher.sentProgress, drop.progress)) watcher.stream->send(*drop.progress);
      watcher.sentProgress = drop.progress;
    }
    if (ended(*progress)) {
      for (Watcher& watcher : drop.watchers) watcher.stream->close();
      drop.watchers.clear();
    }
  }

  platform::WaitingRoom& waitingRoom_;
  const std::chrono::milliseconds round_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<Watcher> arriving_;              // guarded by mutex_; moved into drops_ each round
  std::map<std::int64_t, WatchedDrop> drops_;  // the thread's own
  std::atomic<std::size_t> watching_{0};
  std::thread thread_;  // last: starts once everything it uses exists
};

QueueEvents::QueueEvents(platform::WaitingRoom& waitingRoom, std::chrono::milliseconds round)
    : impl_(std::make_unique<Impl>(waitingRoom, round)) {}
QueueEvents::~QueueEvents() = default;

void QueueEvents::watch(std::int64_t userId, const platform::QueuePlace& place,
                        std::shared_ptr<EventStream> stream) {
  impl_->watch(userId, place, std::move(stream));
}
std::size_t QueueEvents::watchers() const { return impl_->watchers(); }
void QueueEvents::stop() { impl_->stop(); }

}  // namespace jiancang::api
