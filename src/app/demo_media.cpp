#include <app/demo_media.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <numbers>
#include <vector>

#include <stb_image_write.h>
#include <webp/encode.h>
#include <webp/mux.h>
#include <nlohmann/json.hpp>

namespace jiancang::app {
namespace {

struct Rgb {
  double r, g, b;
};

Rgb mix(Rgb a, Rgb b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

std::uint8_t channel(double value) {
  return static_cast<std::uint8_t>(std::clamp(value, 0.0, 255.0));
}

void appendTo(void* context, void* data, int size) {
  auto* out = static_cast<core::Bytes*>(context);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

core::Bytes encodePng(int width, int height, const std::vector<std::uint8_t>& rgb) {
  core::Bytes out;
  stbi_write_png_to_func(appendTo, &out, width, height, 3, rgb.data(), width * 3);
  return out;
}

// The height of ridge `layer` at x in [0, 1]: a few sines, different for every layer.
double ridge(int layer, double x) {
  double phase = layer * 1.7;
  return 0.5 + 0.12 * std::sin(x * 6.0 + phase) + 0.07 * std::sin(x * 13.0 + phase * 2.3) +
         0.03 * std::sin(x * 29.0 + phase * 0.7) + 0.09 * layer;
}

void appendU32(core::Bytes& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void appendFloat(core::Bytes& out, float value) {
  appendU32(out, std::bit_cast<std::uint32_t>(value));
}

}  // namespace

core::Bytes demoLandscapePng(int size) {
  const Rgb skyTop{226, 232, 222};
  const Rgb skyLow{246, 236, 214};
  const Rgb sun{214, 96, 64};
  const std::array<Rgb, 4> far{{{150, 186, 178}, {96, 150, 140}, {52, 116, 112}, {24, 78, 84}}};
  const Rgb mist{236, 238, 230};
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(size) * size * 3);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      double u = static_cast<double>(x) / size;
      double v = static_cast<double>(y) / size;  // 0 at the top
      Rgb colour = mix(skyTop, skyLow, v * 1.4);
      double dx = u - 0.72;
      double dy = v - 0.24;
      if (dx * dx + dy * dy < 0.0036) colour = sun;
      // Nearer ridges are lower on the sheet, darker, and cover the farther ones.
      for (int layer = 0; layer < static_cast<int>(far.size()); ++layer) {
        double top = ridge(layer, u) - 0.1;
        if (v > top) {
          double depth = (v - top) * 3.0;
          colour = mix(far[static_cast<std::size_t>(layer)],
                       mix(far[static_cast<std::size_t>(layer)], mist, 0.55), depth);
        }
      }
      std::size_t at = (static_cast<std::size_t>(y) * size + x) * 3;
      pixels[at] = channel(colour.r);
      pixels[at + 1] = channel(colour.g);
      pixels[at + 2] = channel(colour.b);
    }
  }
  return encodePng(size, size, pixels);
}

core::Bytes demoBoxPng(int size) {
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(size) * size * 3);
  const double half = size / 2.0;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const double u = (x - half) / half;  // -1 .. 1
      const double v = (y - half) / half;
      // Night-blue ground with a soft glow behind the box.
      const double glow = std::max(0.0, 1 - std::sqrt(u * u + v * v));
      Rgb colour{18 + 60 * glow, 24 + 40 * glow, 48 + 50 * glow};
      const bool body = std::abs(u) < 0.5 && v > -0.2 && v < 0.62;
      const bool lid = std::abs(u) < 0.58 && v > -0.36 && v <= -0.2;
      const bool ribbon =
          (body || lid) && (std::abs(u) < 0.07 || (lid && std::abs(v + 0.28) < 0.03));
      // The bow: two loops above the lid.
      const double left = std::hypot(u + 0.16, (v + 0.46) * 1.6);
      const double right = std::hypot(u - 0.16, (v + 0.46) * 1.6);
      const bool bow = (left < 0.16 && left > 0.08) || (right < 0.16 && right > 0.08);
      if (body) colour = {196 - 30 * (v + 0.2), 42, 36};
      if (lid) colour = {220, 58, 44};
      if (ribbon || bow) colour = {232, 190, 92};
      std::size_t at = (static_cast<std::size_t>(y) * size + x) * 3;
      pixels[at] = channel(colour.r);
      pixels[at + 1] = channel(colour.g);
      pixels[at + 2] = channel(colour.b);
    }
  }
  return encodePng(size, size, pixels);
}

core::Bytes demoLicencePng() {
  const int width = 420;
  const int height = 594;  // A-series proportions
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      bool rule = y > 80 && y < 460 && (y - 80) % 28 < 2 && x > 48 && x < width - 48;
      bool seal = x > 280 && x < 360 && y > 480 && y < 560;
      bool sealInner =
          x > 290 && x < 350 && y > 490 && y < 550 && ((x - 290) / 10 + (y - 490) / 10) % 2 == 0;
      Rgb colour{250, 246, 236};
      if (rule) colour = {200, 190, 170};
      if (seal) colour = sealInner ? Rgb{250, 246, 236} : Rgb{178, 34, 34};
      std::size_t at = (static_cast<std::size_t>(y) * width + x) * 3;
      pixels[at] = channel(colour.r);
      pixels[at + 1] = channel(colour.g);
      pixels[at + 2] = channel(colour.b);
    }
  }
  return encodePng(width, height, pixels);
}

core::Bytes demoAnimationWebp(int size, int frames) {
  WebPAnimEncoderOptions options;
  if (WebPAnimEncoderOptionsInit(&options) == 0) return {};
  options.anim_params.loop_count = 0;
  WebPAnimEncoder* encoder = WebPAnimEncoderNew(size, size, &options);
  if (encoder == nullptr) return {};
  WebPConfig config;
  WebPConfigInit(&config);
  config.quality = 80;
  std::vector<std::uint8_t> rgba(static_cast<std::size_t>(size) * size * 4);
  const int frameMillis = 80;
  bool ok = true;
  for (int frame = 0; frame < frames && ok; ++frame) {
    double turn = 2 * std::numbers::pi * frame / frames;
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        double cx = (x - size / 2.0) / (size / 2.0);
        double cy = (y - size / 2.0) / (size / 2.0);
        double radius = std::sqrt(cx * cx + cy * cy);
        double angle = std::atan2(cy, cx);
        // Three rings whose brightness travels around them, a third of a turn apart.
        double light = 0;
        for (int ring = 0; ring < 3; ++ring) {
          double band = std::exp(-std::pow((radius - 0.3 - 0.22 * ring) * 14, 2));
          double sweep = 0.5 + 0.5 * std::cos(angle - turn * (ring % 2 == 0 ? 1 : -1) - ring * 2.1);
          light += band * std::pow(sweep, 3);
        }
        Rgb colour = mix(Rgb{16, 18, 28}, Rgb{212, 168, 87}, light);
        colour = mix(colour, Rgb{255, 240, 200}, light - 0.8);
        std::size_t at = (static_cast<std::size_t>(y) * size + x) * 4;
        rgba[at] = channel(colour.r);
        rgba[at + 1] = channel(colour.g);
        rgba[at + 2] = channel(colour.b);
        rgba[at + 3] = 255;
      }
    }
    WebPPicture picture;
    if (WebPPictureInit(&picture) == 0) {
      ok = false;
      break;
    }
    picture.width = size;
    picture.height = size;
    picture.use_argb = 1;
    ok = WebPPictureImportRGBA(&picture, rgba.data(), size * 4) != 0 &&
         WebPAnimEncoderAdd(encoder, &picture, frame * frameMillis, &config) != 0;
    WebPPictureFree(&picture);
  }
  core::Bytes out;
  WebPData assembled;
  WebPDataInit(&assembled);
  if (ok && WebPAnimEncoderAdd(encoder, nullptr, frames * frameMillis, nullptr) != 0 &&
      WebPAnimEncoderAssemble(encoder, &assembled) != 0) {
    out.assign(assembled.bytes, assembled.bytes + assembled.size);
  }
  WebPDataClear(&assembled);
  WebPAnimEncoderDelete(encoder);
  return out;
}

core::Bytes demoVesselGlb() {
  // The vessel's profile from the foot up and over the lip: (radius, height).
  const std::vector<std::array<float, 2>> profile = {
      {0.00F, 0.00F}, {0.42F, 0.00F}, {0.46F, 0.06F}, {0.38F, 0.14F}, {0.44F, 0.20F},
      {0.66F, 0.32F}, {0.78F, 0.52F}, {0.76F, 0.74F}, {0.86F, 0.84F}, {0.90F, 0.90F},
      {0.84F, 0.92F}, {0.70F, 0.86F}, {0.64F, 0.60F}, {0.00F, 0.56F}};
  const int segments = 48;
  const std::size_t rows = profile.size();
  // Each profile point's outward normal in the (radius, height) plane, from its neighbours.
  std::vector<std::array<float, 2>> normals2d(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    const auto& before = profile[i == 0 ? 0 : i - 1];
    const auto& after = profile[i + 1 == rows ? i : i + 1];
    float dr = after[0] - before[0];
    float dy = after[1] - before[1];
    float length = std::max(1e-6F, std::hypot(dr, dy));
    normals2d[i] = {dy / length, -dr / length};
  }
  core::Bytes positions;
  core::Bytes normals;
  std::array<float, 3> low{1e9F, 1e9F, 1e9F};
  std::array<float, 3> high{-1e9F, -1e9F, -1e9F};
  for (std::size_t i = 0; i < rows; ++i) {
    for (int s = 0; s <= segments; ++s) {
      double angle = 2 * std::numbers::pi * s / segments;
      auto c = static_cast<float>(std::cos(angle));
      auto sn = static_cast<float>(std::sin(angle));
      std::array<float, 3> p{profile[i][0] * c, profile[i][1] - 0.45F, profile[i][0] * sn};
      for (int k = 0; k < 3; ++k) {
        low[static_cast<std::size_t>(k)] =
            std::min(low[static_cast<std::size_t>(k)], p[static_cast<std::size_t>(k)]);
        high[static_cast<std::size_t>(k)] =
            std::max(high[static_cast<std::size_t>(k)], p[static_cast<std::size_t>(k)]);
        appendFloat(positions, p[static_cast<std::size_t>(k)]);
      }
      appendFloat(normals, normals2d[i][0] * c);
      appendFloat(normals, normals2d[i][1]);
      appendFloat(normals, normals2d[i][0] * sn);
    }
  }
  core::Bytes indices;
  std::uint32_t count = 0;
  const auto stride = static_cast<std::uint32_t>(segments + 1);
  for (std::uint32_t i = 0; i + 1 < rows; ++i) {
    for (std::uint32_t s = 0; s < static_cast<std::uint32_t>(segments); ++s) {
      std::uint32_t a = i * stride + s;
      std::uint32_t b = a + stride;
      for (std::uint32_t index : {a, b, a + 1, a + 1, b, b + 1}) appendU32(indices, index);
      count += 6;
    }
  }
  const auto vertexCount = static_cast<std::uint32_t>(rows * stride);
  core::Bytes binary = positions;
  binary.insert(binary.end(), normals.begin(), normals.end());
  binary.insert(binary.end(), indices.begin(), indices.end());
  nlohmann::json gltf = {
      {"asset", {{"version", "2.0"}, {"generator", "jiancang demo"}}},
      {"scene", 0},
      {"scenes", {{{"nodes", {0}}}}},
      {"nodes", {{{"mesh", 0}, {"name", "ding"}}}},
      {"meshes",
       {{{"name", "ding"},
         {"primitives",
          {{{"attributes", {{"POSITION", 0}, {"NORMAL", 1}}}, {"indices", 2}, {"material", 0}}}}}}},
      {"materials",
       {{{"name", "bronze"},
         {"doubleSided", true},
         {"pbrMetallicRoughness",
          {{"baseColorFactor", {0.55, 0.42, 0.24, 1.0}},
           {"metallicFactor", 0.85},
           {"roughnessFactor", 0.38}}}}}},
      {"buffers", {{{"byteLength", binary.size()}}}},
      {"bufferViews",
       {{{"buffer", 0}, {"byteOffset", 0}, {"byteLength", positions.size()}, {"target", 34962}},
        {{"buffer", 0},
         {"byteOffset", positions.size()},
         {"byteLength", normals.size()},
         {"target", 34962}},
        {{"buffer", 0},
         {"byteOffset", positions.size() + normals.size()},
         {"byteLength", indices.size()},
         {"target", 34963}}}},
      {"accessors",
       {{{"bufferView", 0},
         {"componentType", 5126},
         {"count", vertexCount},
         {"type", "VEC3"},
         {"min", low},
         {"max", high}},
        {{"bufferView", 1}, {"componentType", 5126}, {"count", vertexCount}, {"type", "VEC3"}},
        {{"bufferView", 2}, {"componentType", 5125}, {"count", count}, {"type", "SCALAR"}}}}};
  std::string text = gltf.dump();
  while (text.size() % 4 != 0) text.push_back(' ');
  while (binary.size() % 4 != 0) binary.push_back(0);
  core::Bytes out;
  out.insert(out.end(), {'g', 'l', 'T', 'F'});
  appendU32(out, 2);
  appendU32(out, static_cast<std::uint32_t>(12 + 8 + text.size() + 8 + binary.size()));
  appendU32(out, static_cast<std::uint32_t>(text.size()));
  out.insert(out.end(), {'J', 'S', 'O', 'N'});
  out.insert(out.end(), text.begin(), text.end());
  appendU32(out, static_cast<std::uint32_t>(binary.size()));
  out.insert(out.end(), {'B', 'I', 'N', '\0'});
  out.insert(out.end(), binary.begin(), binary.end());
  return out;
}

}  // namespace jiancang::app
