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

HttpResponse errorResponse(const HttpRequest& request, unsigned status, std::string_view code,
                           std::string_view message) {
  return jsonResponse(
      status,
      nlohmann::json{{"code", code}, {"message", message}, {"request_id", request.requestId}});
}

HttpResponse errorResponse(const HttpRequest& request, const core::Status& status) {
  return errorResponse(request, httpStatusOf(status.code()), status.reason(), status.message());
}

}  // namespace jiancang::api
