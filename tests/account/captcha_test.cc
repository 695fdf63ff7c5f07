// Tests for web/png and web/captcha: the PNG bytes are parsed and inflated
// here with zlib alone, so they check the format, not just our own encoder.
#include "account/captcha.h"

#include <sodium.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "account/png.h"

namespace regd::account {
namespace {

using Palette = std::vector<std::array<uint8_t, 3>>;

struct DecodedPng {
  int width = 0;
  int height = 0;
  Palette palette;
  std::vector<uint8_t> pixels;      // palette indices, row by row
  std::vector<std::string> chunks;  // chunk types in file order
};

uint32_t ReadBigEndian32(std::string_view bytes, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3]));
}

// Parses an 8-bit indexed PNG, checking the signature, every chunk's CRC, the
// IHDR fields, the chunk order, every scanline's filter byte and every index.
DecodedPng DecodePng(std::string_view png) {
  DecodedPng out;
  REQUIRE(png.size() >= 8);
  REQUIRE(png.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8));
  std::string idat;
  size_t at = 8;
  while (at < png.size()) {
    REQUIRE(at + 12 <= png.size());
    const uint32_t length = ReadBigEndian32(png, at);
    REQUIRE(at + 12 + length <= png.size());
    const std::string_view type = png.substr(at + 4, 4);
    const std::string_view data = png.substr(at + 8, length);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(png.data() + at + 4), length + 4);
    CHECK(ReadBigEndian32(png, at + 8 + length) == static_cast<uint32_t>(crc));
    out.chunks.emplace_back(type);
    if (type == "IHDR") {
      REQUIRE(length == 13);
      out.width = static_cast<int>(ReadBigEndian32(data, 0));
      out.height = static_cast<int>(ReadBigEndian32(data, 4));
      CHECK(data[8] == 8);   // bit depth
      CHECK(data[9] == 3);   // colour type: indexed
      CHECK(data[10] == 0);  // compression
      CHECK(data[11] == 0);  // filter method
      CHECK(data[12] == 0);  // no interlace
    } else if (type == "PLTE") {
      REQUIRE(length % 3 == 0);
      for (size_t i = 0; i < length; i += 3) {
        out.palette.push_back({static_cast<uint8_t>(data[i]), static_cast<uint8_t>(data[i + 1]),
                               static_cast<uint8_t>(data[i + 2])});
      }
    } else if (type == "IDAT") {
      idat.append(data);
    } else if (type == "IEND") {
      CHECK(length == 0);
    }
    at += 12 + length;
  }
  REQUIRE(out.chunks.size() >= 4);
  CHECK(out.chunks.front() == "IHDR");
  CHECK(out.chunks[1] == "PLTE");
  CHECK(out.chunks.back() == "IEND");
  REQUIRE(out.width > 0);
  REQUIRE(out.height > 0);

  const size_t stride = static_cast<size_t>(out.width) + 1;
  std::vector<uint8_t> raw(stride * static_cast<size_t>(out.height) + 1);  // +1: catch excess
  uLongf raw_size = raw.size();
  REQUIRE(uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()),
                     idat.size()) == Z_OK);
  REQUIRE(raw_size == stride * static_cast<size_t>(out.height));
  for (int y = 0; y < out.height; ++y) {
    const uint8_t* row = &raw[y * stride];
    CHECK(row[0] == 0);  // filter type None
    out.pixels.insert(out.pixels.end(), row + 1, row + stride);
  }
  REQUIRE(std::all_of(out.pixels.begin(), out.pixels.end(),
                      [&out](uint8_t p) { return p < out.palette.size(); }));
  return out;
}

// Ink that belongs to glyphs, counted per quarter of the width: pixels that
// are dark (no channel above 140; the background and the light speckle tints
// are all lighter) together with their right, lower and lower-right
// neighbours. Glyph strokes are about 4 px wide; noise lines are 1-2 px wide
// and add such 2x2 blocks mostly where they cross.
std::array<int, 4> GlyphInkPerQuarter(const DecodedPng& png) {
  auto dark = [&png](int x, int y) {
    const auto& rgb = png.palette[png.pixels[y * png.width + x]];
    return *std::max_element(rgb.begin(), rgb.end()) <= 140;
  };
  std::array<int, 4> counts{};
  for (int y = 0; y + 1 < png.height; ++y) {
    for (int x = 0; x + 1 < png.width; ++x) {
      if (dark(x, y) && dark(x + 1, y) && dark(x, y + 1) && dark(x + 1, y + 1)) {
        ++counts[x * 4 / png.width];
      }
    }
  }
  return counts;
}

// Mean of GlyphInkPerQuarter over every quarter of `n` renderings of `text`.
double MeanGlyphInkPerQuarter(std::string_view text, int n) {
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    for (int count : GlyphInkPerQuarter(DecodePng(RenderCaptchaPng(text)))) sum += count;
  }
  return sum / (4.0 * n);
}

// Look-alikes: the first six may never appear; the rest are confusable pairs
// (5/S, 2/Z, 8/B, 6/G, U/V) of which at most one may.
constexpr std::string_view kLookAlikes = "0OQ1IL5S2Z8B6GUV";

}  // namespace

TEST_CASE("captcha alphabet has at least 24 distinct symbols and no look-alikes") {
  const std::set<char> symbols(kCaptchaAlphabet.begin(), kCaptchaAlphabet.end());
  CHECK(symbols.size() == kCaptchaAlphabet.size());
  CHECK(kCaptchaAlphabet.size() >= 24);
  for (char c : kCaptchaAlphabet) {
    CHECK(((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '9')));
  }
  // Of each look-alike pair at most one is in the alphabet; 0 O Q 1 I L are all gone.
  for (char c : std::string_view("0OQ1IL"))
    CHECK(kCaptchaAlphabet.find(c) == std::string_view::npos);
  for (size_t i = 6; i < kLookAlikes.size(); i += 2) {
    const bool first = kCaptchaAlphabet.find(kLookAlikes[i]) != std::string_view::npos;
    const bool second = kCaptchaAlphabet.find(kLookAlikes[i + 1]) != std::string_view::npos;
    CHECK_FALSE((first && second));
  }
}

TEST_CASE("captcha text is 4 characters from the alphabet") {
  REQUIRE(sodium_init() >= 0);
  for (int i = 0; i < 1000; ++i) {
    const std::string text = RandomCaptchaText();
    REQUIRE(text.size() == 4);
    REQUIRE(static_cast<int>(text.size()) == kCaptchaLength);
    for (char c : text) REQUIRE(kCaptchaAlphabet.find(c) != std::string_view::npos);
  }
}

TEST_CASE("captcha text never contains look-alike characters") {
  REQUIRE(sodium_init() >= 0);
  for (int i = 0; i < 20000; ++i) {
    const std::string text = RandomCaptchaText();
    for (char c : std::string_view("0OQ1IL5SZBGV")) REQUIRE(text.find(c) == std::string::npos);
  }
}

TEST_CASE("captcha text draws every symbol about equally often") {
  REQUIRE(sodium_init() >= 0);
  std::map<char, int> counts;
  constexpr int kDraws = 12000;  // 48,000 characters, 2,000 per symbol expected
  for (int i = 0; i < kDraws; ++i) {
    for (char c : RandomCaptchaText()) ++counts[c];
  }
  const double expected = 4.0 * kDraws / static_cast<double>(kCaptchaAlphabet.size());
  REQUIRE(counts.size() == kCaptchaAlphabet.size());
  for (const auto& [c, n] : counts) {
    INFO("symbol " << c);
    CHECK(n > expected * 0.85);  // about 7 standard deviations
    CHECK(n < expected * 1.15);
  }
}

TEST_CASE("png has valid signature, chunks and CRCs") {
  const std::vector<uint8_t> pixels = {0, 1, 1, 0, 2, 2};
  const Palette palette = {{{0, 0, 0}}, {{255, 255, 255}}, {{255, 0, 0}}};
  const DecodedPng png = DecodePng(EncodePng(3, 2, pixels, palette));
  CHECK(png.width == 3);
  CHECK(png.height == 2);
  CHECK(png.chunks == std::vector<std::string>{"IHDR", "PLTE", "IDAT", "IEND"});
}

TEST_CASE("png decodes to the requested pixels") {
  constexpr int kW = 7;
  constexpr int kH = 5;
  Palette palette;
  for (int i = 0; i < 11; ++i) {
    palette.push_back(
        {static_cast<uint8_t>(i * 20), static_cast<uint8_t>(255 - i), static_cast<uint8_t>(i * 7)});
  }
  std::vector<uint8_t> pixels(kW * kH);
  for (int i = 0; i < kW * kH; ++i) pixels[i] = static_cast<uint8_t>((i * 5 + i / kW) % 11);
  const DecodedPng png = DecodePng(EncodePng(kW, kH, pixels, palette));
  CHECK(png.width == kW);
  CHECK(png.height == kH);
  CHECK(png.palette == palette);
  CHECK(png.pixels == pixels);
}

TEST_CASE("png encoder returns empty for invalid input") {
  const Palette two = {{{0, 0, 0}}, {{1, 1, 1}}};
  const std::vector<uint8_t> four = {0, 1, 1, 0};
  CHECK_FALSE(EncodePng(2, 2, four, two).empty());
  CHECK(EncodePng(0, 2, {}, two).empty());
  CHECK(EncodePng(2, -1, four, two).empty());
  CHECK(
      EncodePng(kPngMaxDimension + 1, 1, std::vector<uint8_t>(kPngMaxDimension + 1), two).empty());
  CHECK(EncodePng(3, 2, four, two).empty());                        // too few pixels
  CHECK(EncodePng(2, 2, {0, 1, 2, 0}, two).empty());                // index past the palette
  CHECK(EncodePng(2, 2, four, {}).empty());                         // no palette
  CHECK(EncodePng(2, 2, four, Palette(257, {{0, 0, 0}})).empty());  // palette too long
  CHECK_FALSE(EncodePng(2, 2, {255, 0, 0, 0}, Palette(256, {{0, 0, 0}})).empty());
}

TEST_CASE("captcha image is a valid png of the documented size") {
  REQUIRE(sodium_init() >= 0);
  const DecodedPng png = DecodePng(RenderCaptchaPng(RandomCaptchaText()));
  CHECK(png.width == kCaptchaWidth);
  CHECK(png.height == kCaptchaHeight);
  CHECK(png.palette.size() >= 4);  // several colours
}

TEST_CASE("captcha image does not contain its answer as text") {
  REQUIRE(sodium_init() >= 0);
  for (int i = 0; i < 300; ++i) {
    const std::string text = RandomCaptchaText();
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string png = RenderCaptchaPng(text);
    REQUIRE(png.find(text) == std::string::npos);
    REQUIRE(png.find(lower) == std::string::npos);
    // Only the critical chunks: no tEXt, zTXt, iTXt or other metadata.
    for (const std::string& type : DecodePng(png).chunks) {
      REQUIRE((type == "IHDR" || type == "PLTE" || type == "IDAT" || type == "IEND"));
    }
  }
}

TEST_CASE("two renderings of the same text differ") {
  REQUIRE(sodium_init() >= 0);
  const std::string text = RandomCaptchaText();
  const std::string a = RenderCaptchaPng(text);
  const std::string b = RenderCaptchaPng(text);
  CHECK(a != b);
  const DecodedPng da = DecodePng(a);
  const DecodedPng db = DecodePng(b);
  int different = 0;
  for (size_t i = 0; i < da.pixels.size(); ++i) {
    different += da.palette[da.pixels[i]] != db.palette[db.pixels[i]];
  }
  CHECK(different > kCaptchaWidth * kCaptchaHeight / 10);
}

TEST_CASE("captcha image has ink in each quarter of its width") {
  REQUIRE(sodium_init() >= 0);
  // Measured over 40,000 quarters: with a glyph the fewest was about 30 and the
  // mean 165; with noise alone the mean is about 7.
  const double noise = MeanGlyphInkPerQuarter("    ", 100);
  CHECK(noise < 30);
  double sum = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string text = RandomCaptchaText();
    INFO("text " << text);
    const auto counts = GlyphInkPerQuarter(DecodePng(RenderCaptchaPng(text)));
    for (int q = 0; q < 4; ++q) {
      INFO("quarter " << q);
      CHECK(counts[q] >= 15);
      sum += counts[q];
    }
  }
  CHECK(sum / 400 > 4 * noise);
}

TEST_CASE("lower-case text is drawn and unknown characters are blank") {
  REQUIRE(sodium_init() >= 0);
  const double noise = MeanGlyphInkPerQuarter("    ", 100);
  CHECK(MeanGlyphInkPerQuarter("hkmw", 30) > 4 * noise);
  CHECK(MeanGlyphInkPerQuarter("HKMW", 30) > 4 * noise);
  CHECK(MeanGlyphInkPerQuarter("0O1l", 30) < 2 * noise + 10);
}

TEST_CASE("captcha renders any text length as a valid picture") {
  REQUIRE(sodium_init() >= 0);
  for (std::string_view text : {"", "A", "ACDEFHJK", "ACDEFHJKMNPRTUWXY2346789"}) {
    const DecodedPng png = DecodePng(RenderCaptchaPng(text));
    CHECK(png.width == kCaptchaWidth);
    CHECK(png.height == kCaptchaHeight);
  }
}

TEST_CASE("captcha rendering is safe from several threads at once") {
  REQUIRE(sodium_init() >= 0);
  std::vector<std::string> pngs(4 * 100);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pngs, t] {
      for (int i = 0; i < 100; ++i) pngs[t * 100 + i] = RenderCaptchaPng(RandomCaptchaText());
    });
  }
  for (auto& thread : threads) thread.join();
  for (const std::string& png : pngs) CHECK(DecodePng(png).width == kCaptchaWidth);
  CHECK(std::set<std::string>(pngs.begin(), pngs.end()).size() == pngs.size());
}

}  // namespace regd::account
