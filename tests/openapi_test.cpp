// docs/openapi.json, docs/API.md and the binary agree: the same routes in both documents, and
// every documented route is one the real node answers (it may refuse the request, but never as
// an unknown route or a wrong method).
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/node_harness.h"

namespace jiancang::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string readAll(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "GET /api/v1/tokens/{}/{}": parameter names do not matter, only where they are.
std::string normalise(const std::string& method, const std::string& path) {
  static const std::regex parameter("\\{[^}]*\\}");
  std::string upper = method;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper + " " + std::regex_replace(path, parameter, "{}");
}

json spec() {
  json parsed =
      json::parse(readAll(fs::path(JIANCANG_SOURCE_DIR) / "docs" / "openapi.json"), nullptr, false);
  EXPECT_TRUE(parsed.is_object()) << "docs/openapi.json is not JSON";
  return parsed;
}

std::set<std::string> specRoutes(const json& document) {
  std::set<std::string> routes;
  for (const auto& [path, operations] : document["paths"].items()) {
    for (const auto& [method, operation] : operations.items())
      routes.insert(normalise(method, path));
  }
  return routes;
}

TEST(OpenApiTest, TheSpecAndApiMdListTheSameRoutes) {
  json document = spec();
  ASSERT_TRUE(document.is_object());
  ASSERT_TRUE(document["openapi"].get<std::string>().starts_with("3."));
  std::set<std::string> fromSpec = specRoutes(document);
  std::set<std::string> fromGuide;
  const std::string guide = readAll(fs::path(JIANCANG_SOURCE_DIR) / "docs" / "API.md");
  static const std::regex route("`(GET|POST|PUT|DELETE) (/[^` ?]*)");
  for (auto it = std::sregex_iterator(guide.begin(), guide.end(), route);
       it != std::sregex_iterator(); ++it) {
    fromGuide.insert(normalise((*it)[1], (*it)[2]));
  }
  ASSERT_GT(fromGuide.size(), 30u);
  for (const std::string& documented : fromGuide) {
    EXPECT_EQ(fromSpec.count(documented), 1u) << documented << " is in API.md, not in openapi.json";
  }
  for (const std::string& specified : fromSpec) {
    EXPECT_EQ(fromGuide.count(specified), 1u) << specified << " is in openapi.json, not in API.md";
  }
  // Every operation says what it answers, and every error answer names its codes.
  for (const auto& [path, operations] : document["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      EXPECT_TRUE(operation.contains("summary")) << method << " " << path;
      ASSERT_TRUE(operation.contains("responses")) << method << " " << path;
      for (const auto& [status, response] : operation["responses"].items()) {
        if (status[0] == '4' || status[0] == '5') {
          EXPECT_TRUE(response["description"].get<std::string>().starts_with("codes: "))
              << method << " " << path << " " << status;
        }
      }
    }
  }
}

TEST(OpenApiTest, TheNodeAnswersEveryDocumentedRoute) {
  json document = spec();
  ASSERT_TRUE(document.is_object());
  fs::path data = freshDirectory("openapi");
  NodeProcess node(data, "--password-ops 1 --password-memory-mib 1");
  std::string output;
  ASSERT_TRUE(node.start(&output)) << output;
  static const std::regex numbered("\\{(id|series|serial)\\}");
  static const std::regex hashed("\\{(hash|sha256)\\}");
  static const std::regex addressed("\\{address\\}");
  std::size_t checked = 0;
  for (const auto& [path, operations] : document["paths"].items()) {
    std::string target = std::regex_replace(path, numbered, "1");
    target = std::regex_replace(target, hashed, std::string(64, '0'));
    target = std::regex_replace(target, addressed, std::string(40, '0'));
    for (const auto& [method, operation] : operations.items()) {
      std::string verb = method;
      for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      RawConnection connection(node.port());
      ASSERT_TRUE(connection.send(verb + " " + target +
                                  " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n"));
      // Event streams stay open: what arrived in a moment is enough.
      std::string answer = connection.receive(std::chrono::milliseconds(1'500));
      EXPECT_TRUE(answer.starts_with("HTTP/1.1 ")) << verb << " " << target << ": no answer";
      EXPECT_EQ(answer.find("\"no-such-route\""), std::string::npos) << verb << " " << target;
      EXPECT_EQ(answer.find("\"method-not-allowed\""), std::string::npos) << verb << " " << target;
      ++checked;
    }
  }
  EXPECT_GT(checked, 40u);
  EXPECT_EQ(node.stop(), 0);
  fs::remove_all(data);
}

}  // namespace
}  // namespace jiancang::testing
