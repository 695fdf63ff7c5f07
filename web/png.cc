#include "web/png.h"

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace regd::web {
namespace {

constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
constexpr uint8_t kBitDepth = 8;
constexpr uint8_t kColourTypeIndexed = 3;
constexpr uint8_t kFilterNone = 0;

void AppendBigEndian32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// Appends length, type, data and the CRC-32 of type + data.
void AppendChunk(std::string& out, std::string_view type, const uint8_t* data, size_t size) {
  AppendBigEndian32(out, static_cast<uint32_t>(size));
  size_t type_at = out.size();
  out.append(type);
  out.append(reinterpret_cast<const char*>(data), size);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data() + type_at),
              static_cast<uInt>(type.size() + size));
  AppendBigEndian32(out, static_cast<uint32_t>(crc));
}

}  // namespace

std::string EncodePng(int width, int height, const std::vector<uint8_t>& pixels,
                      const std::vector<std::array<uint8_t, 3>>& palette) {
  if (width < 1 || height < 1 || width > kPngMaxDimension || height > kPngMaxDimension) return {};
  const size_t w = static_cast<size_t>(width);
  const size_t h = static_cast<size_t>(height);
  if (pixels.size() != w * h) return {};
  if (palette.empty() || palette.size() > 256) return {};
  for (uint8_t p : pixels) {
    if (p >= palette.size()) return {};
  }

  // Raw image data: each scanline is a filter-type byte followed by its pixels.
  std::vector<uint8_t> raw(h * (w + 1));
  for (size_t y = 0; y < h; ++y) {
    uint8_t* row = &raw[y * (w + 1)];
    row[0] = kFilterNone;
    std::copy(pixels.begin() + y * w, pixels.begin() + (y + 1) * w, row + 1);
  }
  uLongf compressed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> compressed(compressed_size);
  if (compress2(compressed.data(), &compressed_size, raw.data(), static_cast<uLong>(raw.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK) {
    return {};
  }

  std::string out(kSignature);
  out.reserve(kSignature.size() + 3 * 12 + 13 + 3 * palette.size() + compressed_size + 12);

  uint8_t ihdr[13];
  for (int i = 0; i < 4; ++i) {
    ihdr[i] = static_cast<uint8_t>(w >> (24 - 8 * i));
    ihdr[4 + i] = static_cast<uint8_t>(h >> (24 - 8 * i));
  }
  ihdr[8] = kBitDepth;
  ihdr[9] = kColourTypeIndexed;
  ihdr[10] = 0;  // compression method: deflate
  ihdr[11] = 0;  // filter method: adaptive (per-scanline filter byte)
  ihdr[12] = 0;  // no interlace
  AppendChunk(out, "IHDR", ihdr, sizeof(ihdr));

  std::vector<uint8_t> plte;
  plte.reserve(3 * palette.size());
  for (const auto& rgb : palette) plte.insert(plte.end(), rgb.begin(), rgb.end());
  AppendChunk(out, "PLTE", plte.data(), plte.size());

  AppendChunk(out, "IDAT", compressed.data(), compressed_size);
  AppendChunk(out, "IEND", nullptr, 0);
  return out;
}

}  // namespace regd::web
