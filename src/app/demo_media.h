// The demo's works, made by jiancang itself (no third-party files): a still landscape (PNG), an
// animation (animated WebP) and a 3D model (glTF binary). Deterministic: the same bytes on
// every machine, so a demo's media hashes are the same everywhere.
#pragma once

#include <core/bytes.h>

namespace jiancang::app {

// 青绿山水: layered blue-green mountain ridges under a pale sky and a low sun, `size` square.
core::Bytes demoLandscapePng(int size);

// 流光: rings of light turning over a dark ground, `frames` frames of `size` square, looping.
core::Bytes demoAnimationWebp(int size, int frames);

// 青铜鼎: a bronze vessel turned on a lathe (a profile swept around its axis), with normals and
// a metallic bronze material, as one .glb.
core::Bytes demoVesselGlb();

// 盲盒: a closed box in vermilion and gold, tied with a ribbon, over a night-blue ground.
core::Bytes demoBoxPng(int size);

// A licence document for the demo issuer: a pale sheet with a red seal.
core::Bytes demoLicencePng();

}  // namespace jiancang::app
