#include "tests/testing/nats_monitor.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace recstore::testing::nats_monitor {
namespace {

int Millis(absl::Time deadline) {
  return static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(deadline - absl::Now()), 0, 1 << 30));
}

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}
  bool Parse(Json* out) {
    if (!Value(out, 0)) return false;
    Space();
    return pos_ == s_.size();
  }

 private:
  void Space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    Space();
    if (pos_ >= s_.size() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool Value(Json* v, int depth) {
    Space();
    if (depth > 64 || pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '{' || c == '[') {
      ++pos_;
      v->kind = c == '{' ? Json::kObject : Json::kArray;
      const char close = c == '{' ? '}' : ']';
      if (Eat(close)) return true;
      do {
        Json child;
        std::string key;
        if (v->kind == Json::kObject && (!String(&key) || !Eat(':'))) return false;
        if (!Value(&child, depth + 1)) return false;
        if (v->kind == Json::kObject) {
          v->members.emplace_back(std::move(key), std::move(child));
        } else {
          v->items.push_back(std::move(child));
        }
      } while (Eat(','));
      return Eat(close);
    }
    if (c == '"') {
      v->kind = Json::kString;
      return String(&v->text);
    }
    const size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                s_[pos_] == '-' || s_[pos_] == '+' || s_[pos_] == '.')) {
      ++pos_;
    }
    v->text = std::string(s_.substr(start, pos_ - start));
    if (v->text == "true" || v->text == "false") {
      v->kind = Json::kBool;
    } else if (v->text == "null") {
      v->kind = Json::kNull;
    } else {
      v->kind = Json::kNumber;
      return !v->text.empty() &&
             (v->text[0] == '-' || std::isdigit(static_cast<unsigned char>(v->text[0])));
    }
    return true;
  }
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return false;
      const char e = s_[pos_++];
      static constexpr std::string_view kFrom = "\"\\/bfnrt", kTo = "\"\\/\b\f\n\r\t";
      if (const size_t k = kFrom.find(e); k != std::string_view::npos) {
        out->push_back(kTo[k]);
      } else if (e == 'u' && pos_ + 4 <= s_.size()) {
        unsigned code = 0;
        for (int k = 0; k < 4; ++k) {
          const char h = s_[pos_++];
          if (!std::isxdigit(static_cast<unsigned char>(h))) return false;
          code = code * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        if (code < 0x80) {  // UTF-8; surrogates are kept as they come (names are ASCII)
          out->push_back(static_cast<char>(code));
        } else if (code < 0x800) {
          out->push_back(static_cast<char>(0xC0 | (code >> 6)));
          out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else {
          out->push_back(static_cast<char>(0xE0 | (code >> 12)));
          out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
        }
      } else {
        return false;
      }
    }
    return false;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

bool ParseJson(std::string_view text, Json* out) { return JsonParser(text).Parse(out); }

absl::StatusOr<std::string> LoopbackHttpGet(int port, const std::string& path,
                                            absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string where = absl::StrCat("GET ", path);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(static_cast<uint16_t>(port))};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Waits for `events` on the socket until the deadline.
  auto wait = [&](short events) {
    pollfd p = {.fd = fd, .events = events};
    int n;
    while ((n = ::poll(&p, 1, Millis(deadline))) < 0 && errno == EINTR) {
    }
    return n > 0;
  };
  std::string error;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int so_error = errno;
    socklen_t len = sizeof(so_error);
    if (so_error == EINPROGRESS) {
      so_error = ETIMEDOUT;
      if (wait(POLLOUT)) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    }
    if (so_error != 0) error = absl::StrCat("connect: ", std::strerror(so_error));
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  for (size_t sent = 0; error.empty() && sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      error = absl::StrCat("send: ", std::strerror(errno));
    } else if (!wait(POLLOUT)) {
      error = "timed out sending";
    }
  }
  std::string response;
  while (error.empty()) {
    char buffer[16384];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) break;  // HTTP/1.0: the server closes after the response
    if (n > 0) {
      response.append(buffer, static_cast<size_t>(n));
    } else if (errno != EAGAIN && errno != EINTR) {
      error = absl::StrCat("recv: ", std::strerror(errno));
    } else if (!wait(POLLIN)) {
      error = "timed out reading";
    }
  }
  ::close(fd);
  if (!error.empty()) return absl::UnavailableError(absl::StrCat(where, ": ", error));
  const size_t head_end = response.find("\r\n\r\n");
  const std::string status_line = response.substr(0, response.find("\r\n"));
  if (head_end == std::string::npos) {
    return absl::InternalError(absl::StrCat(where, ": no HTTP response: ", status_line));
  }
  std::string body = response.substr(head_end + 4);
  // "HTTP/1.0 200 OK": the code is the second word.
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.substr(8, 4) != " 200") {
    return absl::InternalError(absl::StrCat(where, ": ", status_line, ": ", body));
  }
  return body;
}

}  // namespace recstore::testing::nats_monitor
