#pragma once

// The reading side of a client: HTTP/1.x responses as our server writes them
// (status line, header lines, a body of Content-Length bytes, none without it).
// For the load generator and the tests, which talk to our gateway only; it is
// strict so that a malformed answer shows up as one.

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <utility>

namespace coupon::http {

struct ReceivedResponse
{
    QByteArray version; // "HTTP/1.1" or "HTTP/1.0"
    int status = 0;
    QList<std::pair<QByteArray, QByteArray>> headers; // names lower-cased, values trimmed, in order
    QByteArray body;

    QByteArray header(QByteArrayView lowerName) const; // first value or empty
    bool hasHeader(QByteArrayView lowerName) const;
    bool closesConnection() const; // "Connection: close"
};

// Parses one response after another from a caller's buffer. Like RequestParser:
// each parse() gets the bytes from where the previous call's consumed() left off
// plus whatever arrived since; the head is parsed once, the body waited for.
class ResponseParser
{
public:
    enum class Progress {
        NeedMore, // give the same bytes again once more arrived
        Complete, // response() holds a response of consumed() bytes
        Failed,   // not a response; nothing more will be parsed until reset()
    };

    Progress parse(QByteArrayView data);
    qsizetype consumed() const { return m_consumed; } // after Complete, else 0
    const ReceivedResponse &response() const { return m_response; }
    ReceivedResponse takeResponse() { return std::exchange(m_response, {}); }
    void reset();

private:
    bool parseHead(QByteArrayView head);

    ReceivedResponse m_response;
    qsizetype m_scan = 0;     // where the search for the empty line resumes
    qsizetype m_headEnd = -1; // the body starts here once the head is parsed
    qint64 m_length = 0;
    qsizetype m_consumed = 0;
    bool m_failed = false;
};

} // namespace coupon::http
