// Fuzz target for the HTTP request parser (coupon/http/request_parser.h).
//
// The first input byte picks the limits (bit 0: small ones, to reach their
// edges) and how the rest is cut into arrivals (bits 1-7: the longest chunk,
// 0 for all at once). The rest is fed the way a connection feeds it, and once
// more all at once; both ways must agree. Built with libFuzzer under
// -DCOUPON_FUZZ=ON (scripts/fuzz); otherwise with a main() that replays the
// files given (the seed corpus, as a unit test).

#include "coupon/http/request_parser.h"

#include "fuzz_check.h"

#include <QByteArray>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

using coupon::http::Limits;
using coupon::http::Request;
using coupon::http::RequestParser;

namespace {

struct Outcome
{
    QList<Request> requests;
    QList<bool> keepAlive;
    std::optional<int> errorStatus;
};

Outcome feed(const Limits &limits, QByteArrayView input, int longestChunk, uint32_t seed)
{
    Outcome outcome;
    RequestParser parser(limits);
    QByteArray buffer;
    qsizetype start = 0;
    qsizetype fed = 0;
    uint32_t state = seed | 1;
    while (fed < input.size() && !outcome.errorStatus) {
        qsizetype chunk = input.size() - fed;
        if (longestChunk > 0) {
            state ^= state << 13; // xorshift32: a cheap, repeatable cut
            state ^= state >> 17;
            state ^= state << 5;
            chunk = std::min<qsizetype>(chunk, 1 + state % uint32_t(longestChunk));
        }
        buffer.append(input.sliced(fed, chunk));
        fed += chunk;
        bool asked = false; // one "100 Continue" per arrival at most
        for (;;) {
            const QByteArrayView data = QByteArrayView(buffer).sliced(start);
            const RequestParser::Progress status = parser.parse(data);
            FUZZ_CHECK(parser.consumed() >= 0 && parser.consumed() <= data.size());
            start += parser.consumed();
            if (status == RequestParser::Progress::NeedMore)
                break;
            if (status == RequestParser::Progress::ContinueExpected) {
                FUZZ_CHECK(!asked);
                asked = true;
                continue;
            }
            if (status == RequestParser::Progress::Failed) {
                const int code = parser.error().status;
                FUZZ_CHECK(code == 400 || code == 411 || code == 413 || code == 414 || code == 431 || code == 505);
                FUZZ_CHECK(!parser.error().code.isEmpty() && !parser.error().message.isEmpty());
                outcome.errorStatus = code;
                // Nothing past an error, however many bytes follow.
                FUZZ_CHECK(parser.parse(QByteArrayView(buffer).sliced(start)) == RequestParser::Progress::Failed);
                FUZZ_CHECK(parser.consumed() == 0);
                break;
            }
            FUZZ_CHECK(parser.consumed() > 0);
            const Request &request = parser.request();
            FUZZ_CHECK(!request.method.isEmpty() && request.path.startsWith('/'));
            FUZZ_CHECK(request.body.size() <= limits.maxBodyBytes);
            for (const auto &[name, value] : request.headers)
                FUZZ_CHECK(!name.isEmpty() && name == name.toLower());
            outcome.keepAlive.append(parser.keepAlive());
            outcome.requests.append(parser.takeRequest());
        }
    }
    return outcome;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t mode = data[0];
    const QByteArrayView input(reinterpret_cast<const char *>(data) + 1, qsizetype(size) - 1);
    Limits limits; // as Server normalizes them
    if (mode & 1) {
        limits.maxRequestLineBytes = 16;
        limits.maxHeaderBytes = 40;
        limits.maxBodyBytes = 6;
    }
    const Outcome split = feed(limits, input, mode >> 1, uint32_t(size) * 2654435761u);
    const Outcome whole = feed(limits, input, 0, 0);

    // The cut must not matter, but for one thing: a request line that is both
    // malformed and over the limit is answered by whichever shows first. Bytes
    // arriving one by one reveal garbage (400) or the length (414) before the
    // line ends; a whole line is checked for its CRLF, then its length, then
    // its syntax.
    FUZZ_CHECK(split.requests.size() == whole.requests.size());
    FUZZ_CHECK(split.errorStatus.has_value() == whole.errorStatus.has_value());
    if (split.errorStatus && *split.errorStatus != *whole.errorStatus) {
        const auto lineFault = [](int status) { return status == 400 || status == 414; };
        FUZZ_CHECK(lineFault(*split.errorStatus) && lineFault(*whole.errorStatus));
    }
    for (qsizetype i = 0; i < split.requests.size(); ++i) {
        const Request &a = split.requests[i];
        const Request &b = whole.requests[i];
        FUZZ_CHECK(a.method == b.method && a.path == b.path && a.query == b.query);
        FUZZ_CHECK(a.headers == b.headers && a.body == b.body);
        FUZZ_CHECK(split.keepAlive[i] == whole.keepAlive[i]);
    }
    return 0;
}

#ifndef COUPON_LIBFUZZER
#include "replay_main.h"
#endif
