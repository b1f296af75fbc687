// How every JSON route of the API answers: a body with its status, or an error as
// {code, message, request_id} where code is the Status's stable reason and the HTTP status
// follows from its category.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include <api/http_server.h>
#include <core/status.h>

namespace jiancang::api {

unsigned httpStatusOf(core::ErrorCode code);
HttpResponse jsonResponse(unsigned status, const nlohmann::json& body);
HttpResponse errorResponse(const HttpRequest& request, unsigned status, std::string_view code,
                           std::string_view message);
HttpResponse errorResponse(const HttpRequest& request, const core::Status& status);

}  // namespace jiancang::api
