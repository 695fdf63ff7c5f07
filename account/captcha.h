// Image captcha: a random answer and a distorted PNG picture of it.
//
// RandomCaptchaText() draws an answer of kCaptchaLength characters from
// kCaptchaAlphabet; RenderCaptchaPng() draws a text as a kCaptchaWidth x
// kCaptchaHeight palette PNG meant to be easy for a person and not trivial for
// a program: every glyph is randomly rotated, sheared, scaled and moved, the
// whole picture is bent by sine waves, and noise curves, arcs and speckles in
// the glyphs' own colours cross it. Each call draws a fresh random picture,
// so two renderings of the same text differ.
//
// The answer is never written into the image bytes (no text chunks, no
// metadata); keeping the answer and comparing it with the user's reply are
// the caller's job. The glyphs come from a stroke font built into captcha.cc.
//
// Thread-safety: both functions are safe to call concurrently from any
// thread. The only shared state is the font, which is immutable once built.
// Randomness comes from libsodium; sodium_init() is called on first use in
// case the caller has not.
#pragma once

#include <string>
#include <string_view>

namespace regd::account {

// Upper-case letters and digits without look-alikes: 0/O/Q/D-vs-0 keep only
// D, 1/I/L are gone, and of each confusable pair 2/Z, 5/S, 6/G, 8/B, U/V only
// the first is kept. 24 symbols, so a 4-character answer has 24^4 = 331,776
// values (about 18.3 bits).
inline constexpr std::string_view kCaptchaAlphabet = "ACDEFHJKMNPRTUWXY2346789";

// Length of the answers RandomCaptchaText() draws.
inline constexpr int kCaptchaLength = 4;

// Size of the pictures RenderCaptchaPng() draws, in pixels.
inline constexpr int kCaptchaWidth = 130;
inline constexpr int kCaptchaHeight = 48;

// RenderCaptchaPng() draws at most this many characters; the rest are ignored.
inline constexpr int kCaptchaMaxRenderedChars = 8;

// Returns kCaptchaLength characters, each drawn independently and uniformly
// from kCaptchaAlphabet with libsodium's randombytes_uniform. Returns an empty
// string if libsodium cannot be initialised.
std::string RandomCaptchaText();

// Returns the PNG bytes of a picture of `text`. Lower-case letters are drawn
// as upper-case; any other character outside kCaptchaAlphabet takes its place
// but is drawn blank. An empty text gives a picture of noise only. Returns an
// empty string if libsodium cannot be initialised.
std::string RenderCaptchaPng(std::string_view text);

}  // namespace regd::account
