// errorResponse() writes plain refusals itself: the bytes must be the ones the JSON library
// gives, and anything that needs escaping must still be escaped (or replaced, if not UTF-8).
#include <api/json_answers.h>

#include <gtest/gtest.h>

namespace jiancang::api {
namespace {

std::string libraryBody(std::string_view code, std::string_view message, const std::string& id) {
  return nlohmann::json{{"code", code}, {"message", message}, {"request_id", id}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(JsonAnswersTest, ErrorBodiesAreTheLibrarysBytesWithOrWithoutEscaping) {
  HttpRequest request;
  request.requestId = "5f3a9c1e-0000000000000042";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sold-out", "this drop is sold out"},
      {"", ""},
      {"quote", "a \"quoted\" word and a back\\slash"},
      {"control", "line one\nline two\ttab\x01"},
      {"utf-8", "已售罄 — sold out"},
      {"not-utf-8", std::string("bad \xff\xfe byte")},
      {"del", std::string("delete \x7f char")},
  };
  for (const auto& [code, message] : cases) {
    HttpResponse response = errorResponse(request, 409, code, message);
    EXPECT_EQ(response.status, 409u);
    EXPECT_EQ(response.contentType, "application/json");
    EXPECT_EQ(response.body, libraryBody(code, message, request.requestId)) << code;
    auto parsed = nlohmann::json::parse(response.body, nullptr, false);
    ASSERT_TRUE(parsed.is_object()) << response.body;
    EXPECT_EQ(parsed["code"], code);
    EXPECT_EQ(parsed["request_id"], request.requestId);
  }
}

TEST(JsonAnswersTest, AClientsRequestIdWithAQuoteIsEscaped) {
  HttpRequest request;
  request.requestId = "id\"with\"quotes";
  HttpResponse response = errorResponse(request, 400, "bad", "bad request");
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << response.body;
  EXPECT_EQ(parsed["request_id"], request.requestId);
}

}  // namespace
}  // namespace jiancang::api
