// How a captcha picture is drawn.
//
// Font. Each glyph is a set of polylines (straight segments, and elliptic
// arcs cut into pieces of at most 20 degrees) in a 10 x 14 box with y
// pointing down. The table is built once, on first use, and never changes.
//
// Drawing, in three passes over kCaptchaWidth x kCaptchaHeight buffers:
//  1. Source layer. Every glyph gets a random affine map (scale, x/y
//     stretch, shear, rotation, position jittered around its slot) which is
//     applied to its polyline points; noise curves (sine waves across the
//     whole width) and noise arcs are added in the same space. Each segment is
//     rasterised as a capsule of half-width hw: a pixel whose centre lies at
//     distance d from the segment gets coverage clamp(hw + 0.5 - d, 0, 1) and
//     the segment's ink, if that beats the coverage it already has. This is
//     anti-aliasing by distance, and it visits only each segment's bounding
//     box. Glyph strokes are about 4 px wide, noise lines 1-2 px.
//  2. Warp. Output pixel (x, y) samples the source layer at
//     (x + dx(y), y + dy(x)), where dx and dy are sums of sine waves with
//     random amplitude, period and phase; coverage is interpolated
//     bilinearly and the ink taken from the strongest of the four neighbours.
//     Coverage is quantised to kInkLevels levels, each a palette entry that
//     blends the ink with the background.
//  3. Speckles. Random pixels are set to dark ink or to light tints.
//
// The palette is random per picture: one light background, kInks dark inks
// of spread-out hues (shared by glyphs and noise, so colour does not separate
// them), kInkLevels blends of each, and kTints light tints.
//
// Randomness: RandomSource reads libsodium's randombytes_buf in blocks, so a
// picture costs a handful of calls into libsodium rather than hundreds.
#include "account/captcha.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "account/png.h"

namespace regd::account {
namespace {

constexpr float kPi = 3.14159265358979f;
constexpr int kWidth = kCaptchaWidth;
constexpr int kHeight = kCaptchaHeight;

// Palette layout: index 0 is the background, then kInkLevels blends of each
// of kInks inks (InkIndex), then kTints light tints.
constexpr int kInks = 4;
constexpr int kInkLevels = 4;  // level kInkLevels is the pure ink
constexpr int kTints = 2;
constexpr int kFirstTint = 1 + kInks * kInkLevels;
constexpr int kPaletteSize = kFirstTint + kTints;

// Glyph box; glyph points lie in [0, kGlyphWidth] x [0, kGlyphHeight].
constexpr float kGlyphWidth = 10.0f;
constexpr float kGlyphHeight = 14.0f;

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// Uniform random numbers for one picture, read from a block that
// randombytes_buf refills. Not shared between threads: one per call.
class RandomSource {
 public:
  uint32_t Next32() {
    if (pos_ + 4 > kBlock) {
      randombytes_buf(block_, kBlock);
      pos_ = 0;
    }
    uint32_t v;
    std::memcpy(&v, block_ + pos_, 4);
    pos_ += 4;
    return v;
  }
  // Uniform in [lo, hi).
  float Uniform(float lo, float hi) {
    return lo + (hi - lo) * static_cast<float>(Next32() >> 8) * (1.0f / 16777216.0f);
  }
  // Uniform in [0, n) for n > 0 (bias below 2^-32 * n; irrelevant for drawing).
  int Below(int n) {
    return static_cast<int>((static_cast<uint64_t>(Next32()) * static_cast<uint64_t>(n)) >> 32);
  }

 private:
  static constexpr size_t kBlock = 1024;
  uint8_t block_[kBlock];
  size_t pos_ = kBlock;
};

// ---------------------------------------------------------------------------
// Font

struct Point {
  float x;
  float y;
};
using Polyline = std::vector<Point>;
using Glyph = std::vector<Polyline>;

// Builds a glyph pen-stroke by pen-stroke.
class GlyphBuilder {
 public:
  // Starts a new polyline at (x, y).
  GlyphBuilder& MoveTo(float x, float y) {
    Flush();
    current_.push_back({x, y});
    return *this;
  }
  GlyphBuilder& LineTo(float x, float y) {
    current_.push_back({x, y});
    return *this;
  }
  // Continues the current polyline (or starts one) along the ellipse centred
  // at (cx, cy) with radii (rx, ry), from angle a0 to a1 in degrees. Angle 0
  // points to +x and 90 to +y (down), so a1 > a0 runs clockwise on screen.
  GlyphBuilder& Arc(float cx, float cy, float rx, float ry, float a0, float a1) {
    const int steps = std::max(2, static_cast<int>(std::ceil(std::fabs(a1 - a0) / 20.0f)));
    for (int i = 0; i <= steps; ++i) {
      const float t =
          (a0 + (a1 - a0) * static_cast<float>(i) / static_cast<float>(steps)) * kPi / 180.0f;
      current_.push_back({cx + rx * std::cos(t), cy + ry * std::sin(t)});
    }
    return *this;
  }
  Glyph Build() {
    Flush();
    return std::move(glyph_);
  }

 private:
  void Flush() {
    if (!current_.empty()) glyph_.push_back(std::move(current_));
    current_.clear();
  }
  Glyph glyph_;
  Polyline current_;
};

using Font = std::array<Glyph, 128>;

Font BuildFont() {
  Font f;
  using B = GlyphBuilder;
  f['A'] = B().MoveTo(0, 14).LineTo(5, 0).LineTo(10, 14).MoveTo(1.8f, 9).LineTo(8.2f, 9).Build();
  f['C'] = B().Arc(5, 7, 5, 7, 40, 320).Build();
  f['D'] =
      B().MoveTo(0, 0).LineTo(0, 14).LineTo(4, 14).Arc(4, 7, 6, 7, 90, -90).LineTo(0, 0).Build();
  f['E'] =
      B().MoveTo(10, 0).LineTo(0, 0).LineTo(0, 14).LineTo(10, 14).MoveTo(0, 7).LineTo(7, 7).Build();
  f['F'] = B().MoveTo(10, 0).LineTo(0, 0).LineTo(0, 14).MoveTo(0, 7).LineTo(7, 7).Build();
  f['H'] = B().MoveTo(0, 0)
               .LineTo(0, 14)
               .MoveTo(10, 0)
               .LineTo(10, 14)
               .MoveTo(0, 7)
               .LineTo(10, 7)
               .Build();
  f['J'] = B().MoveTo(3, 0)
               .LineTo(10, 0)
               .MoveTo(8, 0)
               .LineTo(8, 10)
               .Arc(4.25f, 10, 3.75f, 4, 0, 165)
               .Build();
  f['K'] = B().MoveTo(0, 0)
               .LineTo(0, 14)
               .MoveTo(10, 0)
               .LineTo(0, 9.5f)
               .MoveTo(3.5f, 6.5f)
               .LineTo(10, 14)
               .Build();
  f['M'] = B().MoveTo(0, 14).LineTo(0, 0).LineTo(5, 9).LineTo(10, 0).LineTo(10, 14).Build();
  f['N'] = B().MoveTo(0, 14).LineTo(0, 0).LineTo(10, 14).LineTo(10, 0).Build();
  f['P'] = B().MoveTo(0, 14)
               .LineTo(0, 0)
               .LineTo(6, 0)
               .Arc(6, 3.75f, 4, 3.75f, -90, 90)
               .LineTo(0, 7.5f)
               .Build();
  f['R'] = B().MoveTo(0, 14)
               .LineTo(0, 0)
               .LineTo(6, 0)
               .Arc(6, 3.75f, 4, 3.75f, -90, 90)
               .LineTo(0, 7.5f)
               .MoveTo(5, 7.5f)
               .LineTo(10, 14)
               .Build();
  f['T'] = B().MoveTo(0, 0).LineTo(10, 0).MoveTo(5, 0).LineTo(5, 14).Build();
  f['U'] = B().MoveTo(0, 0).LineTo(0, 9).Arc(5, 9, 5, 5, 180, 0).LineTo(10, 0).Build();
  f['W'] = B().MoveTo(0, 0).LineTo(2.5f, 14).LineTo(5, 4).LineTo(7.5f, 14).LineTo(10, 0).Build();
  f['X'] = B().MoveTo(0, 0).LineTo(10, 14).MoveTo(10, 0).LineTo(0, 14).Build();
  f['Y'] = B().MoveTo(0, 0).LineTo(5, 7).LineTo(10, 0).MoveTo(5, 7).LineTo(5, 14).Build();
  f['2'] = B().Arc(5, 4, 4.8f, 4, 165, 400).LineTo(0, 14).LineTo(10, 14).Build();
  f['3'] = B().Arc(5, 3.6f, 4.5f, 3.6f, 200, 450)
               .Arc(5, 10.6f, 5, 3.4f, 270, 520)
               .MoveTo(3, 7.2f)
               .LineTo(5, 7.2f)
               .Build();
  f['4'] = B().MoveTo(7.5f, 14).LineTo(7.5f, 0).LineTo(0, 10).LineTo(10, 10).Build();
  f['6'] = B().Arc(5, 9.5f, 5, 4.5f, 180, 540).Arc(6.5f, 9.5f, 6.5f, 9.5f, 180, 280).Build();
  f['7'] = B().MoveTo(0, 0).LineTo(10, 0).LineTo(3.5f, 14).Build();
  f['8'] = B().Arc(5, 3.6f, 4.2f, 3.6f, 90, 450).Arc(5, 10.6f, 5, 3.4f, 270, 630).Build();
  f['9'] = B().Arc(5, 4.5f, 5, 4.5f, 0, 360).Arc(3.5f, 4.5f, 6.5f, 9.5f, 0, 100).Build();
  return f;
}

// The glyph for c; blank for characters the font does not have.
const Glyph& GlyphFor(char c) {
  static const Font font = BuildFont();
  const auto i = static_cast<unsigned char>(c);
  return i < font.size() ? font[i] : font[0];
}

// ---------------------------------------------------------------------------
// Source layer

// Anti-aliased coverage in [0, 1] and ink index per pixel, before the warp.
// The layer extends kPad pixels past every edge of the picture so that the
// warp can sample it without bounds checks; pixel (x, y) of the picture is
// element (y + kPad) * kStride + x + kPad.
constexpr int kPad = 8;  // > largest warp displacement (about 5) + 1
constexpr int kStride = kWidth + 2 * kPad;
constexpr int kRows = kHeight + 2 * kPad;

struct Layer {
  std::vector<float> coverage = std::vector<float>(kStride * kRows, 0.0f);
  std::vector<uint8_t> ink = std::vector<uint8_t>(kStride * kRows, 0);
};

// Rasterises the capsule of half-width hw around segment ab (see the top);
// a and b are in picture coordinates.
void DrawSegment(Layer& layer, Point a, Point b, float hw, uint8_t ink) {
  const float reach = hw + 1.0f;
  const int x0 = std::max(-kPad, static_cast<int>(std::floor(std::min(a.x, b.x) - reach)));
  const int x1 =
      std::min(kWidth + kPad - 1, static_cast<int>(std::ceil(std::max(a.x, b.x) + reach)));
  const int y0 = std::max(-kPad, static_cast<int>(std::floor(std::min(a.y, b.y) - reach)));
  const int y1 =
      std::min(kHeight + kPad - 1, static_cast<int>(std::ceil(std::max(a.y, b.y) + reach)));
  const float ux = b.x - a.x;
  const float uy = b.y - a.y;
  const float len2 = ux * ux + uy * uy;
  const float inv_len2 = len2 > 1e-6f ? 1.0f / len2 : 0.0f;
  for (int y = y0; y <= y1; ++y) {
    const float py = static_cast<float>(y) + 0.5f - a.y;
    float* coverage = &layer.coverage[(y + kPad) * kStride + kPad];
    uint8_t* inks = &layer.ink[(y + kPad) * kStride + kPad];
    for (int x = x0; x <= x1; ++x) {
      const float px = static_cast<float>(x) + 0.5f - a.x;
      const float t = std::clamp((px * ux + py * uy) * inv_len2, 0.0f, 1.0f);
      const float dx = px - t * ux;
      const float dy = py - t * uy;
      const float d2 = dx * dx + dy * dy;
      if (d2 >= (hw + 0.5f) * (hw + 0.5f)) continue;
      const float cov = std::min(1.0f, hw + 0.5f - std::sqrt(d2));
      if (cov > coverage[x]) {
        coverage[x] = cov;
        inks[x] = ink;
      }
    }
  }
}

void DrawPolyline(Layer& layer, const Polyline& line, float hw, uint8_t ink) {
  for (size_t i = 1; i < line.size(); ++i) DrawSegment(layer, line[i - 1], line[i], hw, ink);
}

// Draws text[i] centred in the i-th of text.size() equal slots across the
// width, each with its own random affine map.
void DrawText(Layer& layer, std::string_view text, RandomSource& rng) {
  if (text.empty()) return;
  constexpr float kMargin = 4.0f;
  const float slot = (kWidth - 2 * kMargin) / static_cast<float>(text.size());
  // Pixels per glyph unit: glyphs are 24-28 px tall, narrower if slots are.
  const float scale = std::min(rng.Uniform(24.0f, 28.0f) / kGlyphHeight, slot / kGlyphWidth);
  const float hw = rng.Uniform(1.8f, 2.3f) * std::min(1.0f, scale / 1.7f);
  const float shift = rng.Uniform(-2.0f, 2.0f);  // the whole line moves together
  for (size_t i = 0; i < text.size(); ++i) {
    const Glyph& glyph = GlyphFor(text[i]);
    const float sx = scale * rng.Uniform(0.8f, 1.1f);
    const float sy = scale * rng.Uniform(0.9f, 1.05f);
    const float shear = rng.Uniform(-0.22f, 0.22f);
    const float angle = rng.Uniform(-0.3f, 0.3f);  // about +-17 degrees
    const float cos_a = std::cos(angle);
    const float sin_a = std::sin(angle);
    const float cx =
        kMargin + slot * (static_cast<float>(i) + 0.5f) + shift + rng.Uniform(-2.5f, 2.5f);
    const float cy = kHeight / 2.0f + rng.Uniform(-2.5f, 2.5f);
    const uint8_t ink = static_cast<uint8_t>(rng.Below(kInks));
    for (const Polyline& stroke : glyph) {
      Polyline mapped;
      mapped.reserve(stroke.size());
      for (Point p : stroke) {
        float x = (p.x - kGlyphWidth / 2) * sx;
        const float y = (p.y - kGlyphHeight / 2) * sy;
        x += shear * y;
        mapped.push_back({cx + cos_a * x - sin_a * y, cy + sin_a * x + cos_a * y});
      }
      DrawPolyline(layer, mapped, hw * rng.Uniform(0.9f, 1.1f), ink);
    }
  }
}

// Thin curves across the whole width and arcs over the glyphs.
void DrawNoise(Layer& layer, RandomSource& rng) {
  constexpr int kCurveSteps = 24;
  const int curves = 2 + rng.Below(2);
  for (int c = 0; c < curves; ++c) {
    const float y0 = rng.Uniform(kHeight * 0.25f, kHeight * 0.75f);
    const float amplitude = rng.Uniform(3.0f, 9.0f);
    const float period = rng.Uniform(45.0f, 110.0f);
    const float phase = rng.Uniform(0.0f, 2 * kPi);
    const float slope = rng.Uniform(-0.15f, 0.15f);
    Polyline line;
    for (int i = 0; i <= kCurveSteps; ++i) {
      const float x = -4.0f + (kWidth + 8.0f) * static_cast<float>(i) / kCurveSteps;
      line.push_back({x, y0 + amplitude * std::sin(2 * kPi * x / period + phase) +
                             slope * (x - kWidth / 2.0f)});
    }
    DrawPolyline(layer, line, rng.Uniform(0.5f, 0.85f), static_cast<uint8_t>(rng.Below(kInks)));
  }
  const int arcs = 1 + rng.Below(2);
  for (int a = 0; a < arcs; ++a) {
    const float start = rng.Uniform(0.0f, 360.0f);
    const Polyline line =
        GlyphBuilder()
            .Arc(rng.Uniform(15.0f, kWidth - 15.0f), rng.Uniform(5.0f, kHeight - 5.0f),
                 rng.Uniform(12.0f, 35.0f), rng.Uniform(8.0f, 22.0f), start,
                 start + rng.Uniform(100.0f, 220.0f))
            .Build()
            .front();
    DrawPolyline(layer, line, rng.Uniform(0.5f, 0.85f), static_cast<uint8_t>(rng.Below(kInks)));
  }
}

// ---------------------------------------------------------------------------
// Warp, speckles, palette

uint8_t InkIndex(int ink, int level) {
  return static_cast<uint8_t>(1 + ink * kInkLevels + level - 1);
}

// Returns the picture's palette indices: the layer bent by random sine waves,
// its coverage quantised to ink levels (see the top).
std::vector<uint8_t> Warp(const Layer& layer, RandomSource& rng) {
  std::array<float, kHeight> dx;
  std::array<float, kWidth> dy;
  {
    const float amplitude = rng.Uniform(1.5f, 3.0f);
    const float period = rng.Uniform(28.0f, 60.0f);
    const float phase = rng.Uniform(0.0f, 2 * kPi);
    for (int y = 0; y < kHeight; ++y)
      dx[y] = amplitude * std::sin(2 * kPi * static_cast<float>(y) / period + phase);
  }
  {
    const float a1 = rng.Uniform(2.0f, 3.5f);
    const float p1 = rng.Uniform(60.0f, 120.0f);
    const float f1 = rng.Uniform(0.0f, 2 * kPi);
    const float a2 = rng.Uniform(0.6f, 1.4f);
    const float p2 = rng.Uniform(18.0f, 35.0f);
    const float f2 = rng.Uniform(0.0f, 2 * kPi);
    for (int x = 0; x < kWidth; ++x) {
      const float fx = static_cast<float>(x);
      dy[x] = a1 * std::sin(2 * kPi * fx / p1 + f1) + a2 * std::sin(2 * kPi * fx / p2 + f2);
    }
  }
  std::vector<uint8_t> pixels(kWidth * kHeight, 0);
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      // Clamping keeps the four samples inside the padded layer, and makes
      // u + kPad and v + kPad positive so that truncation is floor.
      const float u = std::clamp(static_cast<float>(x) + dx[y], 1.0f - kPad, kWidth + kPad - 2.0f);
      const float v = std::clamp(static_cast<float>(y) + dy[x], 1.0f - kPad, kHeight + kPad - 2.0f);
      const int col = static_cast<int>(u + kPad);  // layer column of floor(u)
      const int row = static_cast<int>(v + kPad);
      const int i = row * kStride + col;
      const float c[4] = {layer.coverage[i], layer.coverage[i + 1], layer.coverage[i + kStride],
                          layer.coverage[i + kStride + 1]};
      if (c[0] + c[1] + c[2] + c[3] == 0.0f) continue;  // most of the picture
      const uint8_t k[4] = {layer.ink[i], layer.ink[i + 1], layer.ink[i + kStride],
                            layer.ink[i + kStride + 1]};
      const float fx = u + kPad - static_cast<float>(col);
      const float fy = v + kPad - static_cast<float>(row);
      const float cov =
          (c[0] * (1 - fx) + c[1] * fx) * (1 - fy) + (c[2] * (1 - fx) + c[3] * fx) * fy;
      const int level = static_cast<int>(cov * kInkLevels + 0.5f);
      if (level == 0) continue;
      const int strongest = static_cast<int>(std::max_element(c, c + 4) - c);
      pixels[y * kWidth + x] = InkIndex(k[strongest], std::min(level, kInkLevels));
    }
  }
  return pixels;
}

// Sets random single pixels (some doubled sideways) to dark inks, and others
// to light tints, over glyphs and background alike.
void Speckle(std::vector<uint8_t>& pixels, RandomSource& rng) {
  const int dark = 70 + rng.Below(40);
  for (int i = 0; i < dark; ++i) {
    const int x = rng.Below(kWidth);
    const int y = rng.Below(kHeight);
    const uint8_t colour = InkIndex(rng.Below(kInks), kInkLevels - rng.Below(2));
    pixels[y * kWidth + x] = colour;
    if (rng.Below(3) == 0 && x + 1 < kWidth) pixels[y * kWidth + x + 1] = colour;
  }
  const int light = 120 + rng.Below(60);
  for (int i = 0; i < light; ++i) {
    pixels[rng.Below(kWidth * kHeight)] = static_cast<uint8_t>(kFirstTint + rng.Below(kTints));
  }
}

// Converts hue (any real; only its fraction counts), saturation and value in
// [0, 1] to RGB.
std::array<uint8_t, 3> Hsv(float h, float s, float v) {
  h = (h - std::floor(h)) * 6.0f;
  const int sector = static_cast<int>(h) % 6;
  const float f = h - std::floor(h);
  const float p = v * (1 - s);
  const float q = v * (1 - s * f);
  const float t = v * (1 - s * (1 - f));
  const float rgb[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
  auto byte = [](float c) {
    return static_cast<uint8_t>(std::clamp(c, 0.0f, 1.0f) * 255.0f + 0.5f);
  };
  return {byte(rgb[sector][0]), byte(rgb[sector][1]), byte(rgb[sector][2])};
}

// Returns kPaletteSize colours laid out as described at kInks. Ink hues are
// spread around the colour wheel so that neighbouring glyphs usually differ.
std::vector<std::array<uint8_t, 3>> RandomPalette(RandomSource& rng) {
  std::vector<std::array<uint8_t, 3>> palette(kPaletteSize);
  const auto background =
      Hsv(rng.Uniform(0, 1), rng.Uniform(0.0f, 0.12f), rng.Uniform(0.93f, 1.0f));
  palette[0] = background;
  const float hue0 = rng.Uniform(0, 1);
  for (int k = 0; k < kInks; ++k) {
    const float hue = hue0 + static_cast<float>(k) / kInks + rng.Uniform(-0.06f, 0.06f);
    const auto ink = Hsv(hue, rng.Uniform(0.55f, 1.0f), rng.Uniform(0.2f, 0.45f));
    for (int level = 1; level <= kInkLevels; ++level) {
      auto& entry = palette[InkIndex(k, level)];
      const float w = static_cast<float>(level) / kInkLevels;
      for (int c = 0; c < 3; ++c) {
        entry[c] = static_cast<uint8_t>(background[c] + (ink[c] - background[c]) * w + 0.5f);
      }
    }
  }
  for (int t = 0; t < kTints; ++t) {
    palette[kFirstTint + t] =
        Hsv(rng.Uniform(0, 1), rng.Uniform(0.2f, 0.4f), rng.Uniform(0.75f, 0.9f));
  }
  return palette;
}

}  // namespace

std::string RandomCaptchaText() {
  if (!SodiumReady()) return {};
  std::string text(kCaptchaLength, ' ');
  for (char& c : text) {
    c = kCaptchaAlphabet[randombytes_uniform(static_cast<uint32_t>(kCaptchaAlphabet.size()))];
  }
  return text;
}

std::string RenderCaptchaPng(std::string_view text) {
  if (!SodiumReady()) return {};
  std::string upper(text.substr(0, kCaptchaMaxRenderedChars));
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (kCaptchaAlphabet.find(c) == std::string_view::npos) c = ' ';
  }
  RandomSource rng;
  const auto palette = RandomPalette(rng);
  Layer layer;
  DrawText(layer, upper, rng);
  DrawNoise(layer, rng);
  std::vector<uint8_t> pixels = Warp(layer, rng);
  Speckle(pixels, rng);
  return EncodePng(kWidth, kHeight, pixels, palette);
}

}  // namespace regd::account
