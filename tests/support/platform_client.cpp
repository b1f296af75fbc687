#include "platform_client.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <regex>

#include <stb_image_write.h>

namespace jiancang::testing {
namespace {

using nlohmann::json;

void appendTo(void* context, void* data, int size) {
  auto* out = static_cast<std::string*>(context);
  out->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

}  // namespace

HttpResult Browser::call(const std::string& method, const std::string& target, const json& body,
                         Headers extra, bool withCsrf) {
  Headers headers = std::move(extra);
  if (!cookie_.empty()) headers.emplace_back("Cookie", "jc_session=" + cookie_);
  if (withCsrf && !csrf_.empty()) headers.emplace_back("X-CSRF-Token", csrf_);
  HttpResult result =
      http_.request(method, target, body.is_null() ? "" : body.dump(), "application/json", headers);
  remember(result);
  return result;
}

HttpResult Browser::raw(const std::string& method, const std::string& target,
                        const std::string& body, const std::string& contentType) {
  Headers headers;
  if (!cookie_.empty()) headers.emplace_back("Cookie", "jc_session=" + cookie_);
  if (!csrf_.empty()) headers.emplace_back("X-CSRF-Token", csrf_);
  return http_.request(method, target, body, contentType, headers);
}

void Browser::remember(const HttpResult& result) {
  if (auto set = result.headers.find("set-cookie"); set != result.headers.end()) {
    std::smatch match;
    static const std::regex session("jc_session=([^;]*)");
    if (std::regex_search(set->second, match, session)) cookie_ = match[1];
  }
  auto parsed = json::parse(result.body, nullptr, false);
  if (parsed.is_object() && parsed.contains("csrf_token")) {
    csrf_ = parsed["csrf_token"].get<std::string>();
  }
}

std::string codeOf(const HttpResult& result) {
  auto parsed = json::parse(result.body, nullptr, false);
  return parsed.is_object() && parsed.contains("code") ? parsed["code"].get<std::string>() : "";
}

std::string oneTimePassword(const std::string& nodeOutput) {
  std::smatch match;
  static const std::regex line("one-time password ([0-9a-f]+)");
  return std::regex_search(nodeOutput, match, line) ? match[1].str() : std::string();
}

bool signInAsOperator(Browser& admin, const std::string& nodeOutput, std::string* failure) {
  const std::string password = oneTimePassword(nodeOutput);
  if (password.empty()) {
    *failure = "no one-time password in the node's output:\n" + nodeOutput;
    return false;
  }
  HttpResult login =
      admin.call("POST", "/api/v1/auth/login", {{"phone", "13000000000"}, {"password", password}});
  if (login.status != 200) {
    *failure = "operator login: " + login.body;
    return false;
  }
  HttpResult changed =
      admin.call("POST", "/api/v1/me/password",
                 {{"current_password", password}, {"new_password", "operator secret"}});
  if (changed.status != 200) {
    *failure = "operator password change: " + changed.body;
    return false;
  }
  return true;
}

std::int64_t publishSeries(Browser& admin, unsigned short port, int editionCap,
                           std::string* failure) {
  auto fail = [&](const std::string& step, const HttpResult& result) -> std::int64_t {
    *failure = step + ": " + std::to_string(result.status) + " " + result.body;
    return 0;
  };
  HttpResult document =
      admin.raw("POST", "/api/v1/media", "%PDF-1.7\nauthorisation\n", "application/pdf");
  if (document.status != 201) return fail("authorisation upload", document);
  Browser issuer(port);
  HttpResult registered = issuer.call("POST", "/api/v1/auth/register",
                                      {{"phone", "13800138005"}, {"password", "museum password"}});
  if (registered.status != 201) return fail("issuer registration", registered);
  HttpResult onboarded = admin.call("POST", "/api/v1/catalog/issuers",
                                    {{"user_id", registered.json()["user"]["id"]},
                                     {"display_name", "敦煌研究院"},
                                     {"documents", {document.json()["media"]["sha256"]}}});
  if (onboarded.status != 201) return fail("onboarding", onboarded);
  HttpResult work = issuer.raw("POST", "/api/v1/media", noisePng(64, 64), "image/png");
  if (work.status != 201) return fail("work upload", work);
  HttpResult drafted = issuer.call("POST", "/api/v1/catalog/series",
                                   {{"title", "敦煌飞天"},
                                    {"description", "莫高窟第 320 窟"},
                                    {"edition_cap", editionCap},
                                    {"royalty_basis_points", 500},
                                    {"media", work.json()["media"]["sha256"]}});
  if (drafted.status != 201) return fail("draft", drafted);
  const std::int64_t id = drafted.json()["series"]["id"];
  const std::string path = "/api/v1/catalog/series/" + std::to_string(id);
  if (HttpResult submitted = issuer.call("POST", path + "/submit"); submitted.status != 200) {
    return fail("submission", submitted);
  }
  if (HttpResult reviewed = admin.call("POST", path + "/review", {{"approve", true}});
      reviewed.status != 200) {
    return fail("review", reviewed);
  }
  if (HttpResult published = issuer.call("POST", path + "/publish"); published.status != 200) {
    return fail("publication", published);
  }
  return id;
}

std::string identityNumber(int n) {
  // A thousand people per birthday, from 1990-01-01 on (28 days a month, then back a year).
  const int person = std::abs(n);
  char birth[16];
  std::snprintf(birth, sizeof birth, "%04d%02d%02d", 1990 - person / 336'000 % 100,
                1 + (person / 28'000) % 12, 1 + (person / 1'000) % 28);
  std::string body = "110105" + std::string(birth) + std::to_string(1000 + person % 1000).substr(1);
  static constexpr std::array<int, 17> kWeights = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                                   3, 7, 9,  10, 5, 8, 4, 2};
  int sum = 0;
  for (std::size_t i = 0; i < kWeights.size(); ++i) sum += (body[i] - '0') * kWeights[i];
  return body + "10X98765432"[sum % 11];
}

std::string noisePng(int width, int height) {
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width) *
                                   static_cast<std::size_t>(height) * 3);
  std::uint32_t state = 12345;
  for (auto& byte : pixels) {
    state = state * 1'103'515'245u + 12'345u;
    byte = static_cast<std::uint8_t>(state >> 24);
  }
  std::string out;
  stbi_write_png_to_func(appendTo, &out, width, height, 3, pixels.data(), width * 3);
  return out;
}

}  // namespace jiancang::testing
