// The HTTP request and response parsers without sockets, table-driven in the
// manner of llhttp's spec tests: each row is raw bytes and what must come of
// them. Every row is fed whole, one byte at a time and in a few fixed random
// splits, and must come out the same each way.

#include "coupon/http/request_parser.h"
#include "coupon/http/response_parser.h"

#include <QRandomGenerator>
#include <QTest>

#include <optional>

using namespace Qt::StringLiterals;
using coupon::http::Limits;
using coupon::http::ParseError;
using coupon::http::ReceivedResponse;
using coupon::http::Request;
using coupon::http::RequestParser;
using coupon::http::ResponseParser;

namespace {

using Headers = QList<std::pair<QByteArray, QByteArray>>;

struct ExpectedRequest
{
    QByteArray method;
    QByteArray path;
    QByteArray query;
    Headers headers;
    QByteArray body;
    bool keepAlive = true;
};

struct RequestCase
{
    QByteArray input;
    QList<ExpectedRequest> requests;
    int errorStatus = 0; // 0: no error; the input ends in a request still to come (or none)
    QString errorCode;
    QString errorMessage;   // compared when fed whole; a split may find the same fault earlier
    qsizetype leftover = 0; // bytes not consumed at the end (without an error)
    int continues = 0;      // "100 Continue" asked for, when fed whole
    Limits limits = Limits{};
};

// Small limits for the rows at their edges.
Limits smallLimits()
{
    Limits limits;
    limits.maxRequestLineBytes = 32;
    limits.maxHeaderBytes = 64;
    limits.maxBodyBytes = 8;
    return limits;
}

// What a connection makes of bytes arriving in chunks.
struct RequestTranscript
{
    QList<Request> requests;
    QList<bool> keepAlive;
    int continues = 0;
    std::optional<ParseError> error;
    qsizetype leftover = 0;
};

// Chunk sizes: whole, byte by byte, and random cuts from fixed seeds.
QList<QList<qsizetype>> splitsOf(qsizetype size)
{
    QList<QList<qsizetype>> splits;
    splits.append(QList<qsizetype>{size});
    QList<qsizetype> bytes(size, 1);
    splits.append(bytes);
    for (quint32 seed = 1; seed <= 4; ++seed) {
        QRandomGenerator random(seed);
        QList<qsizetype> cuts;
        qsizetype left = size;
        while (left > 0) {
            const qsizetype take = std::min<qsizetype>(left, 1 + random.bounded(7));
            cuts.append(take);
            left -= take;
        }
        splits.append(cuts);
    }
    return splits;
}

RequestTranscript runRequests(const Limits &limits, const QByteArray &input, const QList<qsizetype> &chunks)
{
    RequestTranscript transcript;
    RequestParser parser(limits);
    QByteArray buffer;
    qsizetype start = 0;
    qsizetype fed = 0;
    for (const qsizetype chunk : chunks) {
        buffer.append(input.sliced(fed, chunk));
        fed += chunk;
        for (;;) {
            const QByteArrayView data = QByteArrayView(buffer).sliced(start);
            const RequestParser::Progress status = parser.parse(data);
            if (parser.consumed() < 0 || parser.consumed() > data.size())
                qFatal("consumed %lld of %lld bytes", qlonglong(parser.consumed()), qlonglong(data.size()));
            start += parser.consumed();
            if (status == RequestParser::Progress::NeedMore)
                break;
            if (status == RequestParser::Progress::ContinueExpected) {
                ++transcript.continues;
                continue;
            }
            if (status == RequestParser::Progress::Failed) {
                transcript.error = parser.error();
                transcript.leftover = buffer.size() - start;
                return transcript;
            }
            transcript.keepAlive.append(parser.keepAlive());
            transcript.requests.append(parser.takeRequest());
        }
    }
    transcript.leftover = buffer.size() - start;
    return transcript;
}

QByteArray describe(const QList<qsizetype> &chunks)
{
    if (chunks.size() == 1)
        return "whole";
    QByteArray text = "chunks";
    for (const qsizetype chunk : chunks.first(std::min<qsizetype>(chunks.size(), 12)))
        text += ' ' + QByteArray::number(chunk);
    return chunks.size() > 12 ? QByteArray(text + " ...") : text;
}

ExpectedRequest get(const QByteArray &path, Headers headers = {}, bool keepAlive = true)
{
    return {"GET", path, {}, std::move(headers), {}, keepAlive};
}

RequestCase ok(QByteArray input, QList<ExpectedRequest> requests, qsizetype leftover = 0)
{
    RequestCase row;
    row.input = std::move(input);
    row.requests = std::move(requests);
    row.leftover = leftover;
    return row;
}

RequestCase error(QByteArray input, int status, const QString &code, const QString &message,
                  QList<ExpectedRequest> before = {})
{
    RequestCase row;
    row.input = std::move(input);
    row.requests = std::move(before);
    row.errorStatus = status;
    row.errorCode = code;
    row.errorMessage = message;
    return row;
}

RequestCase withLimits(RequestCase row, const Limits &limits)
{
    row.limits = limits;
    return row;
}

// For QVERIFY2: the temporary lives until the end of the check's full expression.
const char *text(const QByteArray &bytes)
{
    return bytes.constData();
}

template <size_t N>
QByteArray raw(const char (&text)[N])
{
    return QByteArray(text, N - 1);
}

struct ResponseCase
{
    QByteArray input;
    QList<ReceivedResponse> responses;
    bool failed = false;
    qsizetype leftover = 0;
};

struct ResponseTranscript
{
    QList<ReceivedResponse> responses;
    bool failed = false;
    qsizetype leftover = 0;
};

ResponseTranscript runResponses(const QByteArray &input, const QList<qsizetype> &chunks)
{
    ResponseTranscript transcript;
    ResponseParser parser;
    QByteArray buffer;
    qsizetype start = 0;
    qsizetype fed = 0;
    for (const qsizetype chunk : chunks) {
        buffer.append(input.sliced(fed, chunk));
        fed += chunk;
        for (;;) {
            const QByteArrayView data = QByteArrayView(buffer).sliced(start);
            const ResponseParser::Progress status = parser.parse(data);
            if (parser.consumed() < 0 || parser.consumed() > data.size())
                qFatal("consumed %lld of %lld bytes", qlonglong(parser.consumed()), qlonglong(data.size()));
            start += parser.consumed();
            if (status == ResponseParser::Progress::NeedMore)
                break;
            if (status == ResponseParser::Progress::Failed) {
                transcript.failed = true;
                transcript.leftover = buffer.size() - start;
                return transcript;
            }
            transcript.responses.append(parser.takeResponse());
        }
    }
    transcript.leftover = buffer.size() - start;
    return transcript;
}

ReceivedResponse answer(int status, Headers headers, QByteArray body = {}, QByteArray version = "HTTP/1.1")
{
    return ReceivedResponse{std::move(version), status, std::move(headers), std::move(body)};
}

} // namespace

Q_DECLARE_METATYPE(RequestCase)
Q_DECLARE_METATYPE(ResponseCase)

class TestHttpParser : public QObject
{
    Q_OBJECT

private slots:
    void request_data()
    {
        QTest::addColumn<RequestCase>("row");
        const QString bad = u"bad_request"_s;
        const auto row = [](const char *name, const RequestCase &c) { QTest::newRow(name) << c; };

        // Accepted requests and what the parser makes of them.
        row("simple GET", ok("GET / HTTP/1.1\r\nHost: x\r\n\r\n", {get("/", {{"host", "x"}})}));
        row("path and query", ok("GET /a/b?x=1&y=%20 HTTP/1.1\r\n\r\n", {{"GET", "/a/b", "x=1&y=%20", {}, {}, true}}));
        row("empty query", ok("GET /p? HTTP/1.1\r\n\r\n", {get("/p")}));
        row("percent-encoding kept", ok("GET /a%2Fb HTTP/1.1\r\n\r\n", {get("/a%2Fb")}));
        row("POST with a body, values trimmed",
            ok("POST /apply HTTP/1.1\r\nContent-Length: 11\r\nX-Test:   padded\t \r\n\r\n{\"user\":42}",
               {{"POST", "/apply", {}, {{"content-length", "11"}, {"x-test", "padded"}}, "{\"user\":42}", true}}));
        row("names lower-cased, order kept",
            ok("GET / HTTP/1.1\r\nContent-TYPE: a\r\nX-Custom-Name: B\r\nx-custom-name: c\r\n\r\n",
               {get("/", {{"content-type", "a"}, {"x-custom-name", "B"}, {"x-custom-name", "c"}})}));
        row("empty header value", ok("GET / HTTP/1.1\r\nX-Empty:\r\n\r\n", {get("/", {{"x-empty", ""}})}));
        row("obs-text in a value",
            ok("GET / HTTP/1.1\r\nX-A: caf\xc3\xa9\r\n\r\n", {get("/", {{"x-a", "caf\xc3\xa9"}})}));
        row("identical Content-Length twice",
            ok("PUT /x HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok",
               {{"PUT", "/x", {}, {{"content-length", "2"}, {"content-length", "2"}}, "ok", true}}));
        row("Content-Length list of equal values",
            ok("PATCH /x HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nok",
               {{"PATCH", "/x", {}, {{"content-length", "2, 2"}}, "ok", true}}));
        row("Content-Length 0 on POST",
            ok("POST /z HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
               {{"POST", "/z", {}, {{"content-length", "0"}}, {}, true}}));
        row("empty lines before the request", ok("\r\n\r\nGET /after HTTP/1.1\r\n\r\n", {get("/after")}));
        row("HEAD like any method", ok("HEAD /h HTTP/1.1\r\n\r\n", {{"HEAD", "/h", {}, {}, {}, true}}));
        row("extension method", ok("PURGE /cache HTTP/1.1\r\n\r\n", {{"PURGE", "/cache", {}, {}, {}, true}}));
        row("GET with a body",
            ok("GET /g HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
               {{"GET", "/g", {}, {{"content-length", "3"}}, "abc", true}}));
        row("DELETE without body", ok("DELETE /d HTTP/1.1\r\n\r\n", {{"DELETE", "/d", {}, {}, {}, true}}));
        row("HTTP/1.0 closes", ok("GET / HTTP/1.0\r\n\r\n", {get("/", {}, false)}));
        row("HTTP/1.0 keep-alive",
            ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", {get("/", {{"connection", "Keep-Alive"}}, true)}));
        row("HTTP/1.0 keep-alive, close",
            ok("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
               {get("/", {{"connection", "keep-alive, close"}}, false)}));
        row("HTTP/1.1 Connection: Close",
            ok("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", {get("/", {{"connection", "Close"}}, false)}));
        row("HTTP/1.1 close in a list",
            ok("GET / HTTP/1.1\r\nConnection: upgrade , close\r\n\r\n",
               {get("/", {{"connection", "upgrade , close"}}, false)}));
        row("pipelined, then half a request",
            ok("GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\n\r\nGET /4 HT",
               {get("/1"), {"POST", "/2", {}, {{"content-length", "2"}}, "hi", true}, get("/3")}, 9));
        row("pipelined, keep-alive per request",
            ok("GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
               {get("/a", {{"connection", "close"}}, false), get("/b")}));
        row("nothing yet", ok("", {}));
        row("a lone CR", ok("\r", {}, 1));
        row("half a request line", ok("GET /abc HTTP/1.", {}, 16));
        row("head without its empty line", ok("GET / HTTP/1.1\r\nHost: x\r\n", {}, 25));
        row("half a body", ok("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", {}, 42));

        // Expect: 100-continue is surfaced once the length is accepted and the body is not in.
        RequestCase expectWaiting = ok("POST /e HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", {}, 61);
        expectWaiting.continues = 1;
        row("Expect: 100-continue, body awaited", expectWaiting);
        row("Expect: 100-Continue, body already in",
            ok("POST /e HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\nhello",
               {{"POST", "/e", {}, {{"content-length", "5"}, {"expect", "100-Continue"}}, "hello", true}}));
        row("Expect on HTTP/1.0 is ignored",
            ok("POST /e HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", {}, 61));
        row("Expect with no body",
            ok("GET /e HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", {get("/e", {{"expect", "100-continue"}})}));

        // Errors, with the status, code and message the server answers.
        const QString crlf = u"lines must end with CRLF"_s;
        const QString line = u"malformed request line"_s;
        row("request line garbage", error("HELLO\r\n\r\n", 400, bad, line));
        row("NUL in the method", error(raw("GE\0T / HTTP/1.1\r\n\r\n"), 400, bad, u"malformed method"_s));
        row("non-token method", error("GE(T / HTTP/1.1\r\n\r\n", 400, bad, u"malformed method"_s));
        row("two spaces", error("GET  / HTTP/1.1\r\n\r\n", 400, bad, line));
        row("no version", error("GET /\r\n\r\n", 400, bad, line));
        row("space at the start", error(" GET / HTTP/1.1\r\n\r\n", 400, bad, line));
        row("lower-case version", error("GET / http/1.1\r\n\r\n", 400, bad, u"malformed HTTP version"_s));
        row("HTTP/1.10", error("GET / HTTP/1.10\r\n\r\n", 400, bad, u"malformed HTTP version"_s));
        row("target without slash",
            error("GET index.html HTTP/1.1\r\n\r\n", 400, bad, u"the request target must start with '/'"_s));
        row("absolute-form target",
            error("GET http://example.com/ HTTP/1.1\r\n\r\n", 400, bad, u"the request target must start with '/'"_s));
        row("fragment in the target",
            error("GET /a#b HTTP/1.1\r\n\r\n", 400, bad, u"invalid byte in the request target"_s));
        row("DEL in the target",
            error("GET /a\x7f HTTP/1.1\r\n\r\n", 400, bad, u"invalid byte in the request target"_s));
        row("NUL in the target",
            error(raw("GET /\0 HTTP/1.1\r\n\r\n"), 400, bad, u"invalid byte in the request target"_s));
        row("lone CR in the request line",
            error("GET /\r HTTP/1.1\r\n\r\n", 400, bad, u"invalid byte in the request target"_s));
        row("CR without LF before the request line",
            error("\rGET / HTTP/1.1\r\n\r\n", 400, bad, u"malformed method"_s));
        row("an empty line, then a CR without LF",
            error("\r\n\rGET / HTTP/1.1\r\n\r\n", 400, bad, u"malformed method"_s));
        row("bare LF after the request line", error("GET / HTTP/1.1\n\r\n", 400, bad, crlf));
        row("a bare LF first", error("\n", 400, bad, crlf));
        row("bare LF after a header", error("GET / HTTP/1.1\r\nX-A: b\n\r\n", 400, bad, crlf));
        row("bare LF ending the head", error("GET / HTTP/1.1\r\n\n", 400, bad, crlf));
        row("lone CR in a header value",
            error("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400, bad, u"invalid byte in a header value"_s));
        row("NUL in a header value",
            error(raw("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n"), 400, bad, u"invalid byte in a header value"_s));
        row("obs-fold",
            error("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 400, bad, u"obsolete line folding is not supported"_s));
        row("header line without colon",
            error("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, bad, u"header line without ':'"_s));
        row("whitespace before colon",
            error("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, bad, u"whitespace before ':' in a header line"_s));
        row("empty header name", error("GET / HTTP/1.1\r\n: x\r\n\r\n", 400, bad, u"malformed header name"_s));
        row("non-token header name", error("GET / HTTP/1.1\r\nX(A: b\r\n\r\n", 400, bad, u"malformed header name"_s));
        const QString version = u"only HTTP/1.0 and HTTP/1.1 are supported"_s;
        row("HTTP/2.0", error("GET / HTTP/2.0\r\n\r\n", 505, u"version_not_supported"_s, version));
        row("HTTP/1.2", error("GET / HTTP/1.2\r\n\r\n", 505, u"version_not_supported"_s, version));
        row("HTTP/0.9", error("GET / HTTP/0.9\r\n\r\n", 505, u"version_not_supported"_s, version));
        const QString te = u"Transfer-Encoding is not supported (no chunked request bodies); send Content-Length"_s;
        row("Transfer-Encoding chunked",
            error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411,
                  u"length_required"_s, te));
        row("Transfer-Encoding and Content-Length",
            error("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 411,
                  u"length_required"_s, te));
        const QString required = u"Content-Length is required"_s;
        row("POST without Content-Length",
            error("POST / HTTP/1.1\r\nHost: x\r\n\r\n", 411, u"length_required"_s, required));
        row("PUT without Content-Length", error("PUT / HTTP/1.1\r\n\r\n", 411, u"length_required"_s, required));
        row("PATCH without Content-Length", error("PATCH / HTTP/1.1\r\n\r\n", 411, u"length_required"_s, required));
        const QString length = u"invalid or conflicting Content-Length"_s;
        row("Content-Length abc", error("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, bad, length));
        row("Content-Length -1", error("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, bad, length));
        row("Content-Length +1", error("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n1", 400, bad, length));
        row("Content-Length empty", error("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400, bad, length));
        row("Content-Length 1.5", error("POST / HTTP/1.1\r\nContent-Length: 1.5\r\n\r\n", 400, bad, length));
        row("two different Content-Length",
            error("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, bad, length));
        // Which of two would a proxy in front have used? Neither, here.
        row("two Host headers",
            error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, bad, u"more than one Host header"_s));
        row("two Host headers, same value",
            error("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, bad, u"more than one Host header"_s));
        row("two Content-Type headers",
            error("POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\n"
                  "Content-Length: 2\r\n\r\n{}",
                  400, bad, u"more than one Content-Type header"_s));
        row("conflicting Content-Length list",
            error("POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\nab", 400, bad, length));
        row("absurd Content-Length",
            error("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413, u"body_too_large"_s,
                  u"request body over 4096 bytes"_s));
        row("an error after a good request",
            error("GET /ok HTTP/1.1\r\n\r\nBAD\r\n\r\nGET /never HTTP/1.1\r\n\r\n", 400, bad, line, {get("/ok")}));
        row("no request after an error", error("BAD\r\n\r\nGET /never HTTP/1.1\r\n\r\n", 400, bad, line));

        // Limits at their edge and one byte past it (request line 32, head 64, body 8).
        const Limits small = smallLimits();
        const QByteArray line32 = "GET /" + QByteArray(18, 'a') + " HTTP/1.1";
        row("request line at the limit", withLimits(ok(line32 + "\r\n\r\n", {get("/" + QByteArray(18, 'a'))}), small));
        row("request line past the limit",
            withLimits(error("GET /" + QByteArray(19, 'a') + " HTTP/1.1\r\n\r\n", 414, u"uri_too_long"_s,
                             u"request line over 32 bytes"_s),
                       small));
        row("request line past the limit, no LF yet",
            withLimits(error("GET /" + QByteArray(40, 'a'), 414, u"uri_too_long"_s, u"request line over 32 bytes"_s),
                       small));
        row("head at the limit",
            withLimits(ok("GET / HTTP/1.1\r\nX: " + QByteArray(41, 'v') + "\r\n\r\n",
                          {get("/", {{"x", QByteArray(41, 'v')}})}),
                       small));
        row("head past the limit",
            withLimits(error("GET / HTTP/1.1\r\nX: " + QByteArray(42, 'v') + "\r\n\r\n", 431, u"header_too_large"_s,
                             u"request head over 64 bytes"_s),
                       small));
        row("head past the limit, no LF yet",
            withLimits(error("GET / HTTP/1.1\r\nX: " + QByteArray(60, 'v'), 431, u"header_too_large"_s,
                             u"request head over 64 bytes"_s),
                       small));
        row("body at the limit",
            withLimits(ok("POST / HTTP/1.1\r\nContent-Length: 8\r\n\r\n12345678",
                          {{"POST", "/", {}, {{"content-length", "8"}}, "12345678", true}}),
                       small));
        row("body past the limit",
            withLimits(error("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789", 413, u"body_too_large"_s,
                             u"request body over 8 bytes"_s),
                       small));
    }

    void request()
    {
        QFETCH(RequestCase, row);
        for (const QList<qsizetype> &chunks : splitsOf(row.input.size())) {
            const QByteArray how = describe(chunks);
            const bool whole = chunks.size() == 1;
            const RequestTranscript got = runRequests(row.limits, row.input, chunks);
            QVERIFY2(got.requests.size() == row.requests.size(),
                     text(how + ": " + QByteArray::number(got.requests.size()) + " requests"));
            for (qsizetype i = 0; i < row.requests.size(); ++i) {
                const Request &request = got.requests[i];
                const ExpectedRequest &expected = row.requests[i];
                QVERIFY2(request.method == expected.method, text(how + ": method " + request.method));
                QVERIFY2(request.path == expected.path, text(how + ": path " + request.path));
                QVERIFY2(request.query == expected.query, text(how + ": query " + request.query));
                QVERIFY2(request.headers == expected.headers, text(how + ": headers"));
                QVERIFY2(request.body == expected.body, text(how + ": body " + request.body));
                QVERIFY2(got.keepAlive[i] == expected.keepAlive, text(how + ": keep-alive"));
            }
            if (row.errorStatus == 0) {
                QVERIFY2(!got.error,
                         text(how + ": failed with " + (got.error ? got.error->message.toUtf8() : QByteArray())));
                QVERIFY2(got.leftover == row.leftover,
                         text(how + ": " + QByteArray::number(got.leftover) + " left over"));
                if (whole)
                    QCOMPARE(got.continues, row.continues);
                else
                    QVERIFY2(got.continues <= 1, how.constData()); // one per request that asks, at most
            } else {
                QVERIFY2(got.error, text(how + ": did not fail"));
                QVERIFY2(got.error->status == row.errorStatus,
                         text(how + ": status " + QByteArray::number(got.error->status)));
                QVERIFY2(got.error->code == row.errorCode, text(how + ": code " + got.error->code.toUtf8()));
                if (whole)
                    QCOMPARE(got.error->message, row.errorMessage);
            }
        }
    }

    void failedStaysFailedUntilReset()
    {
        RequestParser parser{Limits{}};
        QCOMPARE(parser.parse("BAD\r\n"), RequestParser::Progress::Failed);
        QCOMPARE(parser.error().status, 400);
        QCOMPARE(parser.parse("GET / HTTP/1.1\r\n\r\n"), RequestParser::Progress::Failed);
        QCOMPARE(parser.consumed(), 0);
        parser.reset();
        QCOMPARE(parser.parse("GET / HTTP/1.1\r\n\r\n"), RequestParser::Progress::Complete);
        QCOMPARE(parser.consumed(), 18);
        QCOMPARE(parser.request().path, QByteArray("/"));
    }

    void takenRequestLeavesAnEmptyOne()
    {
        RequestParser parser{Limits{}};
        const QByteArray twice = "POST /a?q HTTP/1.1\r\nContent-Length: 1\r\n\r\nxGET /b HTTP/1.1\r\n\r\n";
        QCOMPARE(parser.parse(twice), RequestParser::Progress::Complete);
        const Request first = parser.takeRequest();
        QCOMPARE(first.body, QByteArray("x"));
        QVERIFY(parser.request().headers.isEmpty());
        QVERIFY(parser.request().body.isEmpty());
        QCOMPARE(parser.parse(QByteArrayView(twice).sliced(parser.consumed())), RequestParser::Progress::Complete);
        QCOMPARE(parser.request().method, QByteArray("GET"));
        QCOMPARE(parser.request().query, QByteArray());
        QVERIFY(parser.request().headers.isEmpty());
    }

    void response_data()
    {
        QTest::addColumn<ResponseCase>("row");
        const auto row = [](const char *name, QByteArray input, QList<ReceivedResponse> responses,
                            qsizetype leftover = 0) {
            QTest::newRow(name) << ResponseCase{std::move(input), std::move(responses), false, leftover};
        };
        const auto failed = [](const char *name, QByteArray input) {
            QTest::newRow(name) << ResponseCase{std::move(input), {}, true, 0};
        };
        row("JSON answer",
            "HTTP/1.1 202 Accepted\r\nDate: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            "Connection: keep-alive\r\n\r\n{}",
            {answer(202,
                    {{"date", "x"},
                     {"content-type", "application/json"},
                     {"content-length", "2"},
                     {"connection", "keep-alive"}},
                    "{}")});
        row("no Content-Length, no body", "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
            {answer(204, {{"connection", "close"}})});
        row("interim 100, then the answer",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            {answer(100, {}), answer(200, {{"content-length", "5"}}, "hello")});
        row("names lower-cased, values trimmed", "HTTP/1.0 404 Not Found\r\nX-A:  b \t\r\nContent-Length:1\r\n\r\nz",
            {answer(404, {{"x-a", "b"}, {"content-length", "1"}}, "z", "HTTP/1.0")});
        row("empty reason", "HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n", {answer(599, {{"content-length", "0"}})});
        row("pipelined, then half of one",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 2",
            {answer(200, {{"content-length", "1"}}, "a"), answer(201, {{"content-length", "0"}})}, 10);
        row("half a body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", {}, 42);
        failed("not HTTP", "HELLO WORLD\r\n\r\n");
        failed("HTTP/2", "HTTP/2.0 200 OK\r\n\r\n");
        failed("two-digit status", "HTTP/1.1 20 OK\r\n\r\n");
        failed("header without colon", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n");
        failed("bad Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n");
        failed("two Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx");
        failed("bare LF in a header", "HTTP/1.1 200 OK\r\nX-A: a\nb\r\n\r\n");
    }

    void response()
    {
        QFETCH(ResponseCase, row);
        for (const QList<qsizetype> &chunks : splitsOf(row.input.size())) {
            const QByteArray how = describe(chunks);
            const ResponseTranscript got = runResponses(row.input, chunks);
            QVERIFY2(got.failed == row.failed, how.constData());
            QVERIFY2(got.responses.size() == row.responses.size(), how.constData());
            for (qsizetype i = 0; i < row.responses.size(); ++i) {
                const ReceivedResponse &response = got.responses[i];
                const ReceivedResponse &expected = row.responses[i];
                QVERIFY2(response.version == expected.version, text(how + ": " + response.version));
                QVERIFY2(response.status == expected.status, text(how + ": " + QByteArray::number(response.status)));
                QVERIFY2(response.headers == expected.headers, text(how + ": headers"));
                QVERIFY2(response.body == expected.body, text(how + ": body " + response.body));
            }
            if (!row.failed)
                QVERIFY2(got.leftover == row.leftover,
                         text(how + ": " + QByteArray::number(got.leftover) + " left over"));
        }
    }

    void responseHeaderLookups()
    {
        const ReceivedResponse closing = answer(200, {{"connection", "keep-alive, Close"}, {"x", "1"}, {"x", "2"}});
        QVERIFY(closing.closesConnection());
        QCOMPARE(closing.header("x"), QByteArray("1"));
        QVERIFY(closing.hasHeader("x"));
        QVERIFY(!closing.hasHeader("y"));
        QVERIFY(!answer(200, {{"connection", "keep-alive"}}).closesConnection());
    }
};

QTEST_APPLESS_MAIN(TestHttpParser)
#include "tst_http_parser.moc"
