#include <api/web_assets.h>

#include <array>

#include <nlohmann/json.hpp>

#include <api/json_answers.h>

namespace jiancang::api {
namespace {

constexpr std::string_view kPackMagic = "JCWEBPK1";
constexpr std::size_t kIndexLengthBytes = 4;

// The routes the API owns; everything else under "/" is the front-end's.
constexpr std::array<std::string_view, 3> kApiPrefixes = {"/api/", "/media/", "/sandbox/"};
constexpr std::array<std::string_view, 4> kApiPaths = {"/api", "/healthz", "/readyz", "/metrics"};

// The single-page apps, longest prefix first; "/" (the storefront) takes what is left.
constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kAppPages = {
    {{"/console", "/console/index.html"}, {"/explorer", "/explorer/index.html"}}};
constexpr std::string_view kStorefrontPage = "/index.html";

// Pages may run only the node's own scripts and talk only to the node. Inline styles are
// allowed because the UI kit positions popups with style attributes; data: fonts because it
// inlines its icon font.
constexpr std::string_view kPagePolicy =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

bool hasExtension(std::string_view path) {
  std::size_t slash = path.rfind('/');
  std::string_view last = path.substr(slash == std::string_view::npos ? 0 : slash + 1);
  return last.find('.') != std::string_view::npos;
}

bool acceptsGzip(const HttpRequest& request) {
  auto it = request.headers.find("accept-encoding");
  return it != request.headers.end() && it->second.find("gzip") != std::string::npos;
}

core::Status badPack(std::string message) {
  return core::invalidArgument("web-pack-invalid", std::move(message));
}

}  // namespace

core::Result<WebAssets> WebAssets::fromPack(std::string_view pack) {
  WebAssets assets;
  if (pack.empty()) return assets;
  if (!pack.starts_with(kPackMagic) || pack.size() < kPackMagic.size() + kIndexLengthBytes) {
    return badPack("the web pack does not start with " + std::string(kPackMagic));
  }
  std::size_t indexLength = 0;
  for (std::size_t i = 0; i < kIndexLengthBytes; ++i) {
    indexLength |= std::size_t{static_cast<unsigned char>(pack[kPackMagic.size() + i])} << (8 * i);
  }
  std::size_t indexStart = kPackMagic.size() + kIndexLengthBytes;
  if (indexLength > pack.size() - indexStart) return badPack("the web pack's index is cut short");
  std::string_view data = pack.substr(indexStart + indexLength);
  nlohmann::json index = nlohmann::json::parse(pack.substr(indexStart, indexLength), nullptr,
                                               /*allow_exceptions=*/false);
  if (!index.is_object() || !index.contains("files") || !index["files"].is_array()) {
    return badPack("the web pack's index is not {\"files\": [...]}");
  }
  auto slice = [&data](const nlohmann::json& entry, const char* offsetKey, const char* sizeKey,
                       std::string* out) {
    if (!entry.contains(offsetKey)) return true;
    auto offset = entry.at(offsetKey).get<std::size_t>();
    auto size = entry.at(sizeKey).get<std::size_t>();
    if (offset > data.size() || size > data.size() - offset) return false;
    out->assign(data.substr(offset, size));
    return true;
  };
  try {
    for (const auto& entry : index["files"]) {
      File file;
      file.type = entry.at("type").get<std::string>();
      file.etag = "\"" + entry.at("etag").get<std::string>() + "\"";
      file.immutable = entry.value("immutable", false);
      if (!slice(entry, "offset", "size", &file.body) ||
          !slice(entry, "gzip_offset", "gzip_size", &file.gzipped)) {
        return badPack("a file of the web pack lies outside it");
      }
      assets.files_.emplace(entry.at("path").get<std::string>(), std::move(file));
    }
  } catch (const nlohmann::json::exception& error) {
    return badPack(std::string("the web pack's index is malformed: ") + error.what());
  }
  return assets;
}

bool WebAssets::handles(std::string_view path) {
  for (std::string_view prefix : kApiPrefixes) {
    if (path.starts_with(prefix)) return false;
  }
  for (std::string_view exact : kApiPaths) {
    if (path == exact) return false;
  }
  return true;
}

const WebAssets::File* WebAssets::find(std::string_view path) const {
  auto it = files_.find(std::string(path));
  return it == files_.end() ? nullptr : &it->second;
}

HttpResponse WebAssets::answer(const HttpRequest& request) const {
  if (request.method != "GET") {
    HttpResponse refused =
        errorResponse(request, 405, "method-not-allowed", "the web pages are only read: use GET");
    refused.headers.emplace_back("Allow", "GET");
    return refused;
  }
  if (files_.empty()) {
    return errorResponse(request, 404, "web-not-built",
                         "this binary was built without its web front-end (JIANCANG_WEB=OFF); "
                         "the API is under /api/v1");
  }
  const std::string& path = request.path;
  if (const File* file = find(path)) return fileResponse(request, *file);
  if (path.ends_with('/')) {
    if (const File* file = find(path + "index.html")) return fileResponse(request, *file);
  }
  // A missing script or image is a 404; a page path is an app route its router resolves.
  if (hasExtension(path)) {
    return errorResponse(request, 404, "no-such-file", "no file " + path + " in the web front-end");
  }
  std::string_view page = kStorefrontPage;
  for (const auto& [prefix, appPage] : kAppPages) {
    if (path == prefix || path.starts_with(std::string(prefix) + "/")) page = appPage;
  }
  const File* file = find(page);
  if (file == nullptr) {
    return errorResponse(request, 404, "no-such-file",
                         "the web front-end has no " + std::string(page));
  }
  return fileResponse(request, *file);
}

HttpResponse WebAssets::fileResponse(const HttpRequest& request, const File& file) const {
  HttpResponse response;
  response.contentType = file.type;
  response.headers.emplace_back("ETag", file.etag);
  response.headers.emplace_back(
      "Cache-Control", file.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  response.headers.emplace_back("Vary", "Accept-Encoding");
  if (file.type.starts_with("text/html")) {
    response.headers.emplace_back("Content-Security-Policy", std::string(kPagePolicy));
    response.headers.emplace_back("Referrer-Policy", "same-origin");
    response.headers.emplace_back("X-Frame-Options", "DENY");
  }
  auto match = request.headers.find("if-none-match");
  if (match != request.headers.end() && match->second == file.etag) {
    response.status = 304;
    response.contentType.clear();
    return response;
  }
  if (!file.gzipped.empty() && acceptsGzip(request)) {
    response.headers.emplace_back("Content-Encoding", "gzip");
    response.body = file.gzipped;
  } else {
    response.body = file.body;
  }
  return response;
}

}  // namespace jiancang::api
