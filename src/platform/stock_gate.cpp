#include <platform/stock_gate.h>

#include <mutex>
#include <vector>

#include <hiredis/hiredis.h>

namespace jiancang::platform {
namespace {

using core::ErrorCode;
using core::Status;

// -2: the drop's count is not loaded; -1: sold out; else the copies left after taking one.
constexpr const char* kTakeScript =
    "local n = redis.call('GET', KEYS[1]) "
    "if not n then return -2 end "
    "if tonumber(n) <= 0 then return -1 end "
    "return redis.call('DECR', KEYS[1])";
// Only a loaded count is given back to: an unknown one is loaded from the database when needed.
constexpr const char* kGiveBackScript =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end "
    "return -2";
constexpr const char* kLoadSeconds = "10";

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

Status unreachable(const std::string& why) {
  return {ErrorCode::kUnavailable, "stock-redis-unreachable", "the stock Redis: " + why};
}

class RedisStockGate final : public StockGate {
 public:
  RedisStockGate(std::string host, int port) : host_(std::move(host)), port_(port) {}

  Status ping() {
    auto context = acquire();
    if (!context) return context.status();
    auto reply = command(**context, {"PING"});
    if (!reply) return reply.status();
    release(std::move(*context));
    return {};
  }

  core::Result<bool> take(std::int64_t dropId, const AvailableLoader& load) override {
    auto context = acquire();
    if (!context) return context.status();
    const std::string key = keyOf(dropId);
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto reply = command(**context, {"EVAL", kTakeScript, "1", key});
      if (!reply) return reply.status();
      if ((*reply)->type != REDIS_REPLY_INTEGER) return unreachable("unexpected answer");
      const long long left = (*reply)->integer;
      if (left >= 0 || left == -1) {
        release(std::move(*context));
        return left >= 0;
      }
      // Not loaded (first use, or expired): the database's count, set unless another instance
      // set it first.
      auto available = load();
      if (!available) return available.status();
      auto set =
          command(**context, {"SET", key, std::to_string(*available), "NX", "EX", kLoadSeconds});
      if (!set) return set.status();
    }
    release(std::move(*context));
    return unreachable("the count would not load");
  }

  void giveBack(std::int64_t dropId, std::int64_t count) override {
    if (count <= 0) return;
    auto context = acquire();
    if (!context) return;  // unreachable: the key expires and is reloaded from the database
    auto reply =
        command(**context, {"EVAL", kGiveBackScript, "1", keyOf(dropId), std::to_string(count)});
    if (reply) release(std::move(*context));
  }

 private:
  static std::string keyOf(std::int64_t dropId) {
    return "jiancang:drop:" + std::to_string(dropId) + ":available";
  }

  // A connection of the pool, or a new one.
  core::Result<Context> acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        Context context = std::move(idle_.back());
        idle_.pop_back();
        return context;
      }
    }
    const timeval timeout{1, 0};
    Context context(redisConnectWithTimeout(host_.c_str(), port_, timeout));
    if (!context) return unreachable("out of memory");
    if (context->err != 0) return unreachable(context->errstr);
    redisSetTimeout(context.get(), timeout);
    return context;
  }

  void release(Context context) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(context));
  }

  // The reply, or a failure (the connection is then dropped, never reused).
  static core::Result<Reply> command(redisContext& context, const std::vector<std::string>& words) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const std::string& word : words) {
      argv.push_back(word.data());
      lengths.push_back(word.size());
    }
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(&context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
    if (!reply) return unreachable(context.errstr);
    if (reply->type == REDIS_REPLY_ERROR) return unreachable(std::string(reply->str, reply->len));
    return reply;
  }

  std::string host_;
  int port_;
  std::mutex mutex_;
  std::vector<Context> idle_;
};

}  // namespace

core::Result<std::unique_ptr<StockGate>> connectRedisStockGate(const std::string& address) {
  const auto colon = address.rfind(':');
  int port = 0;
  if (colon != std::string::npos && colon > 0) {
    try {
      std::size_t used = 0;
      port = std::stoi(address.substr(colon + 1), &used);
      if (used != address.size() - colon - 1) port = 0;
    } catch (const std::exception&) {
      port = 0;
    }
  }
  if (port <= 0 || port > 65535) {
    return core::invalidArgument("stock-redis-address", "--stock-redis takes HOST:PORT");
  }
  auto gate = std::make_unique<RedisStockGate>(address.substr(0, colon), port);
  if (Status reached = gate->ping(); !reached.isOk()) return reached;
  return std::unique_ptr<StockGate>(std::move(gate));
}

}  // namespace jiancang::platform
