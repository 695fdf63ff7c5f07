// EncodePng: a minimal PNG encoder for palette images (the captcha's output).
//
// The output is a complete PNG file: signature, IHDR (8-bit indexed colour,
// no interlace), PLTE, one IDAT holding every scanline with filter type 0
// ("None") as one zlib stream, and IEND. Every chunk carries its CRC-32. The
// zlib stream favours speed over size (level 1, window no larger than the
// data): the pictures it is for are small and noisy. No ancillary chunks are
// written (no tEXt, no time, no gamma), so the bytes hold nothing but the
// pixels and the palette.
//
// Thread-safety: a pure function; safe to call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace regd::account {

// The largest width or height EncodePng accepts.
inline constexpr int kPngMaxDimension = 1 << 14;

// Encodes a width x height image whose pixel (x, y) is the palette index
// pixels[y * width + x]; palette[i] is {red, green, blue}.
//
// Returns the PNG bytes, or an empty string if the input is not a valid image:
// width or height < 1 or > kPngMaxDimension, pixels.size() != width * height,
// the palette is empty or has more than 256 entries, a pixel indexes past the
// palette, or zlib fails.
std::string EncodePng(int width, int height, const std::vector<uint8_t>& pixels,
                      const std::vector<std::array<uint8_t, 3>>& palette);

}  // namespace regd::account
