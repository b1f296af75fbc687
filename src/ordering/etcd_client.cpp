#include <ordering/etcd_client.h>
#include <ordering/peer_http.h>

#include <curl/curl.h>
#include <sodium.h>

#include <mutex>

#include <nlohmann/json.hpp>

namespace jiancang::ordering {
namespace {

using json = nlohmann::json;
using core::Status;

Status unavailable(std::string message) {
  return {core::ErrorCode::kUnavailable, "etcd-unavailable", std::move(message)};
}

void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string base64(core::ByteView bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string base64(const std::string& text) {
  return base64(core::ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

core::Bytes unbase64(const std::string& text) {
  core::Bytes out(text.size() * 3 / 4 + 3);
  std::size_t length = 0;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return {};
  }
  out.resize(length);
  return out;
}

// int64 fields arrive as JSON strings; absent ones are zero (proto3 leaves defaults out).
std::int64_t number(const json& object, const char* field) {
  auto found = object.find(field);
  if (found == object.end()) return 0;
  if (found->is_number_integer()) return found->get<std::int64_t>();
  if (found->is_string()) {
    try {
      return std::stoll(found->get<std::string>());
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

std::uint64_t unsignedNumber(const json& object, const char* field) {
  auto found = object.find(field);
  if (found == object.end() || !found->is_string()) return 0;
  try {
    return std::stoull(found->get<std::string>());
  } catch (const std::exception&) {
    return 0;
  }
}

EtcdKeyValue keyValueOf(const json& kv) {
  EtcdKeyValue out;
  core::Bytes key = unbase64(kv.value("key", std::string()));
  out.key.assign(key.begin(), key.end());
  out.value = unbase64(kv.value("value", std::string()));
  out.createRevision = number(kv, "create_revision");
  out.modRevision = number(kv, "mod_revision");
  out.version = number(kv, "version");
  out.lease = number(kv, "lease");
  return out;
}

std::int64_t headerRevision(const json& answer) {
  auto header = answer.find("header");
  return header == answer.end() ? 0 : number(*header, "revision");
}

// The gateway reports a failed call as {"error": ..., "code": grpc code, "message": ...}.
std::optional<Status> gatewayError(const json& answer) {
  if (!answer.is_object()) return unavailable("etcd answered something that is not JSON");
  auto error = answer.find("error");
  if (error == answer.end()) error = answer.find("message");
  if (error == answer.end() || !answer.contains("code")) return std::nullopt;
  std::string text = error->is_string() ? error->get<std::string>() : error->dump();
  if (text.find("compacted") != std::string::npos) {
    return Status(core::ErrorCode::kFailedPrecondition, "etcd-compacted", text);
  }
  if (text.find("requested lease not found") != std::string::npos) {
    return Status(core::ErrorCode::kNotFound, "etcd-lease-not-found", text);
  }
  return unavailable("etcd: " + text);
}

size_t appendTo(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace

std::string etcdPrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    auto last = static_cast<unsigned char>(prefix.back());
    if (last < 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // every key
}

struct EtcdClient::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

EtcdClient::EtcdClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout), handle_(std::make_unique<Handle>()) {
  initCurlOnce();
  for (std::string& endpoint : endpoints_) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  }
}

EtcdClient::~EtcdClient() = default;

core::Result<std::string> EtcdClient::call(const std::string& path, const std::string& body) {
  if (endpoints_.empty()) return unavailable("no etcd endpoint is configured");
  if (handle_->curl == nullptr) handle_->curl = curl_easy_init();
  CURL* curl = handle_->curl;
  std::string lastError;
  for (std::size_t attempt = 0; attempt < endpoints_.size(); ++attempt) {
    const std::string& endpoint = endpoints_[current_];
    std::string url = endpoint + path;
    std::string answer;
    curl_easy_reset(curl);
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendTo);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    CURLcode code = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (code == CURLE_OK && status < 500) return answer;
    lastError = endpoint + ": " +
                (code != CURLE_OK ? std::string(curl_easy_strerror(code))
                                  : "HTTP " + std::to_string(status) + " " + answer.substr(0, 200));
    current_ = (current_ + 1) % endpoints_.size();
  }
  return unavailable("no etcd endpoint answered (last: " + lastError + ")");
}

namespace {

// Parses an answer, turning a gateway error into a Status.
core::Result<json> parseAnswer(const core::Result<std::string>& answer) {
  if (!answer) return answer.status();
  json parsed = json::parse(*answer, nullptr, false);
  if (parsed.is_discarded()) return unavailable("etcd answered something that is not JSON");
  if (auto error = gatewayError(parsed)) return *error;
  return parsed;
}

}  // namespace

core::Result<EtcdRangeResult> EtcdClient::range(const std::string& key, const std::string& rangeEnd,
                                                std::int64_t limit, bool keysOnly) {
  json body{{"key", base64(key)}};
  if (!rangeEnd.empty()) body["range_end"] = base64(rangeEnd);
  if (limit > 0) body["limit"] = std::to_string(limit);
  if (keysOnly) body["keys_only"] = true;
  auto answer = parseAnswer(call("/v3/kv/range", body.dump()));
  if (!answer) return answer.status();
  EtcdRangeResult result;
  result.revision = headerRevision(*answer);
  result.more = answer->value("more", false);
  if (auto kvs = answer->find("kvs"); kvs != answer->end() && kvs->is_array()) {
    for (const json& kv : *kvs) result.kvs.push_back(keyValueOf(kv));
  }
  return result;
}

core::Result<std::int64_t> EtcdClient::put(const EtcdPut& put) {
  json body{{"key", base64(put.key)}, {"value", base64(put.value)}};
  if (put.lease != 0) body["lease"] = std::to_string(put.lease);
  auto answer = parseAnswer(call("/v3/kv/put", body.dump()));
  if (!answer) return answer.status();
  return headerRevision(*answer);
}

core::Result<std::int64_t> EtcdClient::deleteRange(const std::string& key,
                                                   const std::string& rangeEnd) {
  json body{{"key", base64(key)}, {"range_end", base64(rangeEnd)}};
  auto answer = parseAnswer(call("/v3/kv/deleterange", body.dump()));
  if (!answer) return answer.status();
  return headerRevision(*answer);
}

core::Result<EtcdTxnResult> EtcdClient::txn(const std::vector<EtcdCompare>& compares,
                                            const std::vector<EtcdPut>& puts) {
  json compareList = json::array();
  for (const EtcdCompare& compare : compares) {
    json entry{{"key", base64(compare.key)}, {"result", "EQUAL"}};
    switch (compare.target) {
      case EtcdCompare::Target::kModRevision:
        entry["target"] = "MOD";
        entry["mod_revision"] = std::to_string(compare.number);
        break;
      case EtcdCompare::Target::kCreateRevision:
        entry["target"] = "CREATE";
        entry["create_revision"] = std::to_string(compare.number);
        break;
      case EtcdCompare::Target::kVersion:
        entry["target"] = "VERSION";
        entry["version"] = std::to_string(compare.number);
        break;
      case EtcdCompare::Target::kValue:
        entry["target"] = "VALUE";
        entry["value"] = base64(compare.value);
        break;
    }
    compareList.push_back(std::move(entry));
  }
  json success = json::array();
  for (const EtcdPut& put : puts) {
    json request{{"key", base64(put.key)}, {"value", base64(put.value)}};
    if (put.lease != 0) request["lease"] = std::to_string(put.lease);
    success.push_back({{"request_put", std::move(request)}});
  }
  json body{{"compare", std::move(compareList)}, {"success", std::move(success)}};
  auto answer = parseAnswer(call("/v3/kv/txn", body.dump()));
  if (!answer) return answer.status();
  return EtcdTxnResult{answer->value("succeeded", false), headerRevision(*answer)};
}

core::Result<std::int64_t> EtcdClient::leaseGrant(std::chrono::seconds ttl) {
  json body{{"TTL", std::to_string(ttl.count())}};
  auto answer = parseAnswer(call("/v3/lease/grant", body.dump()));
  if (!answer) return answer.status();
  std::int64_t id = number(*answer, "ID");
  if (id == 0) return unavailable("etcd granted no lease: " + answer->dump());
  return id;
}

core::Result<std::int64_t> EtcdClient::leaseKeepAlive(std::int64_t lease) {
  json body{{"ID", std::to_string(lease)}};
  auto answer = parseAnswer(call("/v3/lease/keepalive", body.dump()));
  if (!answer) return answer.status();
  // A streamed call: the one answer comes wrapped in "result".
  const json& result = answer->contains("result") ? (*answer)["result"] : *answer;
  if (auto error = gatewayError(result)) return *error;
  return number(result, "TTL");
}

Status EtcdClient::leaseRevoke(std::int64_t lease) {
  json body{{"ID", std::to_string(lease)}};
  auto answer = parseAnswer(call("/v3/lease/revoke", body.dump()));
  return answer.status();
}

Status EtcdClient::compact(std::int64_t revision) {
  json body{{"revision", std::to_string(revision)}};
  auto answer = parseAnswer(call("/v3/kv/compaction", body.dump()));
  if (!answer && answer.status().reason() == "etcd-compacted") return {};  // already done
  return answer.status();
}

std::vector<EtcdMemberStatus> EtcdClient::status() {
  std::vector<EtcdMemberStatus> members;
  for (const std::string& endpoint : endpoints_) {
    EtcdMemberStatus member;
    member.endpoint = endpoint;
    EtcdClient single({endpoint}, std::min(timeout_, std::chrono::milliseconds(1000)));
    auto answer = parseAnswer(single.call("/v3/maintenance/status", "{}"));
    if (!answer) {
      member.error = answer.status().message();
    } else {
      member.reachable = true;
      member.version = answer->value("version", std::string());
      member.leaderId = unsignedNumber(*answer, "leader");
      member.raftTerm = unsignedNumber(*answer, "raftTerm");
      member.dbSize = number(*answer, "dbSize");
      if (auto header = answer->find("header"); header != answer->end()) {
        member.memberId = unsignedNumber(*header, "member_id");
      }
    }
    members.push_back(std::move(member));
  }
  return members;
}

namespace {

struct WatchState {
  std::string buffer;
  const std::function<bool(const EtcdWatchBatch&)>* onBatch = nullptr;
  const std::atomic<bool>* stop = nullptr;
  std::optional<Status> failure;
  bool created = false;
  bool finished = false;  // onBatch said stop
};

// Parses each complete line of the stream; false ends the transfer.
bool consumeLines(WatchState& state) {
  for (;;) {
    auto newline = state.buffer.find('\n');
    if (newline == std::string::npos) return true;
    std::string line = state.buffer.substr(0, newline);
    state.buffer.erase(0, newline + 1);
    if (line.empty()) continue;
    json message = json::parse(line, nullptr, false);
    if (message.is_discarded()) {
      state.failure = unavailable("etcd's watch stream sent a line that is not JSON");
      return false;
    }
    if (auto error = gatewayError(message)) {
      state.failure = *error;
      return false;
    }
    const json& result = message.contains("result") ? message["result"] : message;
    if (result.value("canceled", false)) {
      std::int64_t compactRevision = number(result, "compact_revision");
      if (compactRevision > 0) {
        state.failure = Status(core::ErrorCode::kFailedPrecondition, "etcd-compacted",
                               std::to_string(compactRevision));
      } else {
        state.failure = unavailable("etcd cancelled the watch: " +
                                    result.value("cancel_reason", std::string("no reason given")));
      }
      return false;
    }
    if (result.value("created", false)) state.created = true;
    EtcdWatchBatch batch;
    batch.revision = headerRevision(result);
    if (auto events = result.find("events"); events != result.end() && events->is_array()) {
      for (const json& event : *events) {
        EtcdWatchEvent out;
        out.deleted = event.value("type", std::string()) == "DELETE";
        if (auto kv = event.find("kv"); kv != event.end()) out.kv = keyValueOf(*kv);
        batch.events.push_back(std::move(out));
      }
    }
    if (!batch.events.empty() && !(*state.onBatch)(batch)) {
      state.finished = true;
      return false;
    }
  }
}

size_t watchWrite(char* data, size_t size, size_t count, void* userdata) {
  auto& state = *static_cast<WatchState*>(userdata);
  state.buffer.append(data, size * count);
  if (state.buffer.size() > (std::size_t{256} << 20)) {
    state.failure = unavailable("etcd's watch stream sent a line over 256 MiB");
    return 0;
  }
  return consumeLines(state) ? size * count : 0;
}

int watchProgress(void* userdata, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& state = *static_cast<WatchState*>(userdata);
  return state.stop->load() ? 1 : 0;
}

}  // namespace

Status EtcdClient::watch(const std::string& key, const std::string& rangeEnd,
                         std::int64_t startRevision,
                         const std::function<bool(const EtcdWatchBatch&)>& onBatch,
                         const std::atomic<bool>& stop) {
  if (endpoints_.empty()) return unavailable("no etcd endpoint is configured");
  json request{{"key", base64(key)}, {"start_revision", std::to_string(startRevision)}};
  if (!rangeEnd.empty()) request["range_end"] = base64(rangeEnd);
  std::string body = json{{"create_request", request}}.dump();
  const std::string& endpoint = endpoints_[current_];
  std::string url = endpoint + "/v3/watch";

  CURL* curl = curl_easy_init();
  WatchState state;
  state.onBatch = &onBatch;
  state.stop = &stop;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, watchWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, watchProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &state);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (state.finished || stop.load()) return {};
  if (state.failure) return *state.failure;
  // The stream ended or the connection failed: the next watch goes to the next endpoint.
  current_ = (current_ + 1) % endpoints_.size();
  return unavailable("etcd's watch stream at " + endpoint + " ended: " +
                     (code == CURLE_OK ? std::string("closed by etcd") : curl_easy_strerror(code)));
}

}  // namespace jiancang::ordering

namespace jiancang::ordering {

core::Result<PeerAnswer> peerRequest(const std::string& url, const std::string& body,
                                     const std::string& contentType,
                                     std::chrono::milliseconds timeout) {
  initCurlOnce();
  // One handle per thread, so its connections are kept alive between calls.
  thread_local std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(),
                                                                          curl_easy_cleanup);
  CURL* curl = handle.get();
  curl_easy_reset(curl);
  PeerAnswer answer;
  std::string header = "Content-Type: " + contentType;
  curl_slist* headers = curl_slist_append(nullptr, header.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendTo);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) return unavailable(url + ": " + curl_easy_strerror(code));
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

}  // namespace jiancang::ordering
