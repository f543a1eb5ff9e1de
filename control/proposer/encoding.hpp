// Text encodings the REST clients need: base64 (GitHub's contents API) and percent-encoding of
// URL parts. Pure functions, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aegis::control::proposer {

// Standard base64 with padding, no line breaks.
std::string base64_encode(std::string_view bytes);
// Decodes standard base64; whitespace (GitHub wraps lines at 60 characters) is skipped.
// Returns nullopt on any other character or a bad length.
std::optional<std::string> base64_decode(std::string_view text);

// Percent-encodes everything but RFC 3986 unreserved characters; with keep_slash, '/' stays too
// (for a file path inside a URL path).
std::string url_encode(std::string_view text, bool keep_slash = false);

}  // namespace aegis::control::proposer
