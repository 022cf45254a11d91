#pragma once

// The request side of the HTTP/1.1 wire, without a socket: the rules listed at
// the top of server.h, applied to bytes as they arrive. Kept apart from the
// connection so that every rule can be tested (and fuzzed) byte by byte.

#include "coupon/http/server.h"

#include <QByteArrayView>
#include <QString>

namespace coupon::http {

// What the server answers itself, then closes: status, stable code, message.
struct ParseError
{
    int status = 0;
    QString code;
    QString message;
};

// Parses one request after another from a caller's buffer, in place.
//
// The caller keeps the bytes: each parse() gets them from where the previous
// call's consumed() left off, with whatever arrived since appended. The parser
// only remembers offsets into them, so nothing is copied until a request is
// complete (then only its body), and a search resumes where it stopped.
class RequestParser
{
public:
    enum class Progress {
        NeedMore,         // give the same bytes again once more arrived
        ContinueExpected, // the head is accepted and the client awaits "100 Continue"
                          // before it sends the body: answer it, then parse() again
        Complete,         // request() holds a request of consumed() bytes
        Failed,           // error() says what to answer; nothing more will be parsed
    };

    // Limits::maxRequestLineBytes, maxHeaderBytes and maxBodyBytes apply.
    explicit RequestParser(const Limits &limits)
        : m_limits(limits)
    { }

    Progress parse(QByteArrayView data);

    // Bytes at the front of the last parse()'s data that are done with and that
    // the caller drops before the next call: the whole request when Complete,
    // else the empty lines skipped before a request line (RFC 9112 section 2.2).
    qsizetype consumed() const { return m_consumed; }

    // After Complete: the request (peer left for the caller to set). Taking it
    // clears the parser's copy but keeps its allocations for the next one.
    Request &request() { return m_request; }
    Request takeRequest();

    // From the end of the head until the next request line: whether the
    // connection stays open after the answer (HTTP/1.1 unless "Connection:
    // close"; HTTP/1.0 only with "Connection: keep-alive").
    bool keepAlive() const { return m_keepAlive; }

    // After Failed.
    const ParseError &error() const { return m_error; }

    // Forgets a request in progress and a failure: the next parse() starts afresh.
    void reset();

private:
    enum class Phase { RequestLine, Headers, Body, Failed };

    Progress fail(int status, const QString &code, const QString &message);
    bool parseRequestLine(QByteArrayView line);
    bool parseHeaderLine(QByteArrayView line);
    // After the empty line: false when the head is refused (then Failed).
    bool finishHead();
    void startRequest();

    Limits m_limits;
    Request m_request;
    ParseError m_error;
    Phase m_phase = Phase::RequestLine;
    qsizetype m_consumed = 0;
    // Offsets from the start of the request (after skipped empty lines).
    qsizetype m_scan = 0;      // where the search for the next LF resumes
    qsizetype m_lineStart = 0; // the header line being read
    qsizetype m_headEnd = 0;   // the body
    qint64 m_contentLength = -1;
    // What the head said; set while its lines are read, cleared at the next request line.
    bool m_http10 = false;
    bool m_connectionClose = false;
    bool m_connectionKeepAlive = false;
    bool m_transferEncoding = false;
    bool m_badContentLength = false;
    bool m_expectContinue = false;
    bool m_keepAlive = true;
    bool m_sawHost = false;        // a second Host is refused (RFC 9112 3.2)
    bool m_sawContentType = false; // so is a second Content-Type: which one would a proxy in front have read?
};

} // namespace coupon::http
