#include <api/web_assets.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace jiancang::api {
namespace {

struct PackFile {
  std::string path;
  std::string type;
  std::string body;
  std::string gzipped;  // stands in for gzip: only its presence matters to the server
};

// A pack as web/scripts/pack.mjs writes it (docs/FORMATS.md, "Web pack").
std::string makePack(const std::vector<PackFile>& files, nlohmann::json* indexOverride = nullptr) {
  nlohmann::json list = nlohmann::json::array();
  std::string data;
  for (const PackFile& file : files) {
    nlohmann::json entry = {
        {"path", file.path},           {"type", file.type},
        {"etag", "etag-" + file.path}, {"immutable", file.path.starts_with("/assets/")},
        {"offset", data.size()},       {"size", file.body.size()}};
    data += file.body;
    if (!file.gzipped.empty()) {
      entry["gzip_offset"] = data.size();
      entry["gzip_size"] = file.gzipped.size();
      data += file.gzipped;
    }
    list.push_back(entry);
  }
  std::string index =
      indexOverride != nullptr ? indexOverride->dump() : nlohmann::json{{"files", list}}.dump();
  std::string pack = "JCWEBPK1";
  for (int i = 0; i < 4; ++i) pack.push_back(static_cast<char>((index.size() >> (8 * i)) & 0xff));
  return pack + index + data;
}

HttpRequest get(std::string path, std::map<std::string, std::string> headers = {}) {
  HttpRequest request;
  request.method = "GET";
  request.target = path;
  request.path = std::move(path);
  request.headers = std::move(headers);
  request.requestId = "test";
  return request;
}

std::string header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

WebAssets sample() {
  auto assets = WebAssets::fromPack(makePack({
      {"/index.html", "text/html; charset=utf-8", "<storefront>", "gz-storefront"},
      {"/console/index.html", "text/html; charset=utf-8", "<console>", ""},
      {"/explorer/index.html", "text/html; charset=utf-8", "<explorer>", ""},
      {"/assets/app-1a2b.js", "text/javascript; charset=utf-8", "code()", "gz-code"},
  }));
  EXPECT_TRUE(assets.ok()) << assets.status().toString();
  return std::move(assets).value();
}

TEST(WebAssetsTest, ServesFilesWithTheirTypeCachingAndGzip) {
  WebAssets assets = sample();
  HttpResponse script =
      assets.answer(get("/assets/app-1a2b.js", {{"accept-encoding", "gzip, br"}}));
  EXPECT_EQ(script.status, 200u);
  EXPECT_EQ(script.contentType, "text/javascript; charset=utf-8");
  EXPECT_EQ(script.body, "gz-code");
  EXPECT_EQ(header(script, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(script, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(header(script, "Content-Security-Policy"), "");  // pages only

  HttpResponse plain = assets.answer(get("/assets/app-1a2b.js"));
  EXPECT_EQ(plain.body, "code()");
  EXPECT_EQ(header(plain, "Content-Encoding"), "");

  HttpResponse page = assets.answer(get("/"));
  EXPECT_EQ(page.body, "<storefront>");
  EXPECT_EQ(header(page, "Cache-Control"), "no-cache");
  EXPECT_NE(header(page, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(header(page, "X-Frame-Options"), "DENY");

  HttpResponse unchanged = assets.answer(get("/", {{"if-none-match", header(page, "ETag")}}));
  EXPECT_EQ(unchanged.status, 304u);
  EXPECT_TRUE(unchanged.body.empty());
}

TEST(WebAssetsTest, AppRoutesGetTheirAppsPageAndMissingFilesA404) {
  WebAssets assets = sample();
  EXPECT_EQ(assets.answer(get("/drops/12")).body, "<storefront>");
  EXPECT_EQ(assets.answer(get("/console")).body, "<console>");
  EXPECT_EQ(assets.answer(get("/console/series/3")).body, "<console>");
  EXPECT_EQ(assets.answer(get("/explorer/blocks/9")).body, "<explorer>");
  EXPECT_EQ(assets.answer(get("/consoles")).body, "<storefront>");  // not the console's

  HttpResponse missing = assets.answer(get("/assets/gone-9f9f.js"));
  EXPECT_EQ(missing.status, 404u);
  EXPECT_NE(missing.body.find("no-such-file"), std::string::npos);

  HttpRequest post = get("/");
  post.method = "POST";
  HttpResponse refused = assets.answer(post);
  EXPECT_EQ(refused.status, 405u);
  EXPECT_EQ(header(refused, "Allow"), "GET");
}

TEST(WebAssetsTest, TheApiKeepsItsPaths) {
  EXPECT_FALSE(WebAssets::handles("/api/v1/chain"));
  EXPECT_FALSE(WebAssets::handles("/api"));
  EXPECT_FALSE(WebAssets::handles("/media/00ff"));
  EXPECT_FALSE(WebAssets::handles("/sandbox/pay/1"));
  EXPECT_FALSE(WebAssets::handles("/healthz"));
  EXPECT_FALSE(WebAssets::handles("/metrics"));
  EXPECT_TRUE(WebAssets::handles("/"));
  EXPECT_TRUE(WebAssets::handles("/apis"));
  EXPECT_TRUE(WebAssets::handles("/console/"));
}

TEST(WebAssetsTest, ABuildWithoutTheFrontEndSaysSo) {
  auto assets = WebAssets::fromPack("");
  ASSERT_TRUE(assets.ok());
  HttpResponse answer = assets->answer(get("/"));
  EXPECT_EQ(answer.status, 404u);
  EXPECT_NE(answer.body.find("web-not-built"), std::string::npos);
}

TEST(WebAssetsTest, AMalformedPackIsRefusedWithItsReason) {
  std::string good = makePack({{"/index.html", "text/html", "<p>", ""}});
  auto reason = [](std::string_view pack) { return WebAssets::fromPack(pack).status().reason(); };
  EXPECT_EQ(reason("JCWEBPK0" + good.substr(8)), "web-pack-invalid");  // magic
  EXPECT_EQ(reason(good.substr(0, 10)), "web-pack-invalid");           // cut in the length
  EXPECT_EQ(reason(good.substr(0, 20)), "web-pack-invalid");           // cut in the index
  auto index = [](const char* text) { return nlohmann::json::parse(text); };
  nlohmann::json notAList = index(R"({"files": 3})");
  EXPECT_EQ(reason(makePack({}, &notAList)), "web-pack-invalid");
  nlohmann::json outside = index(
      R"({"files": [{"path": "/x", "type": "text/plain", "etag": "e", "offset": 0, "size": 99}]})");
  EXPECT_EQ(reason(makePack({}, &outside)), "web-pack-invalid");
  nlohmann::json wrongType = index(
      R"({"files": [{"path": 7, "type": "text/plain", "etag": "e", "offset": 0, "size": 0}]})");
  EXPECT_EQ(reason(makePack({}, &wrongType)), "web-pack-invalid");
  nlohmann::json noEtag = index(R"({"files": [{"path": "/x", "type": "text/plain"}]})");
  EXPECT_EQ(reason(makePack({}, &noEtag)), "web-pack-invalid");
  nlohmann::json noSize =
      index(R"({"files": [{"path": "/x", "type": "text/plain", "etag": "e", "offset": 0}]})");
  EXPECT_EQ(reason(makePack({}, &noSize)), "web-pack-invalid");
}

}  // namespace
}  // namespace jiancang::api
