#include <api/json_answers.h>

namespace jiancang::api {

unsigned httpStatusOf(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::kOk:
      return 200;
    case core::ErrorCode::kInvalidArgument:
      return 400;
    case core::ErrorCode::kUnauthenticated:
      return 401;
    case core::ErrorCode::kPermissionDenied:
      return 403;
    case core::ErrorCode::kNotFound:
      return 404;
    case core::ErrorCode::kAlreadyExists:
    case core::ErrorCode::kFailedPrecondition:
      return 409;
    case core::ErrorCode::kResourceExhausted:
      return 429;
    case core::ErrorCode::kUnavailable:
      return 503;
    case core::ErrorCode::kCorruption:
    case core::ErrorCode::kIoError:
    case core::ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

HttpResponse jsonResponse(unsigned status, const nlohmann::json& body) {
  // Invalid UTF-8 that reached a message is replaced, never a reason to fail the answer.
  return HttpResponse{status,
                      "application/json",
                      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                      {}};
}

namespace {

// Printable ASCII with nothing to escape: the text is its own JSON string.
bool plainJsonText(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

}  // namespace

HttpResponse errorResponse(const HttpRequest& request, unsigned status, std::string_view code,
                           std::string_view message) {
  // Most refusals (a sold-out drop's crowd among them) need no escaping: written directly, the
  // same bytes nlohmann would give (keys in its order), without building a document per answer.
  if (plainJsonText(code) && plainJsonText(message) && plainJsonText(request.requestId)) {
    std::string body;
    body.reserve(48 + code.size() + message.size() + request.requestId.size());
    body.append(R"({"code":")").append(code).append(R"(","message":")").append(message);
    body.append(R"(","request_id":")").append(request.requestId).append(R"("})");
    return HttpResponse{status, "application/json", std::move(body), {}};
  }
  return jsonResponse(
      status,
      nlohmann::json{{"code", code}, {"message", message}, {"request_id", request.requestId}});
}

HttpResponse errorResponse(const HttpRequest& request, const core::Status& status) {
  return errorResponse(request, httpStatusOf(status.code()), status.reason(), status.message());
}

}  // namespace jiancang::api
