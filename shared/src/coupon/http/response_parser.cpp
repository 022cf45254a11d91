#include "coupon/http/response_parser.h"

#include "coupon/http/syntax.h"

namespace coupon::http {

using namespace syntax;

namespace {

constexpr qint64 kMaxBody = qint64(1) << 40; // far beyond any answer; keeps the sums small

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

} // namespace

QByteArray ReceivedResponse::header(QByteArrayView lowerName) const
{
    for (const auto &[name, value] : headers) {
        if (name == lowerName)
            return value;
    }
    return {};
}

bool ReceivedResponse::hasHeader(QByteArrayView lowerName) const
{
    for (const auto &header : headers) {
        if (header.first == lowerName)
            return true;
    }
    return false;
}

bool ReceivedResponse::closesConnection() const
{
    return hasToken(header("connection"), "close");
}

ResponseParser::Progress ResponseParser::parse(QByteArrayView data)
{
    m_consumed = 0;
    if (m_failed)
        return Progress::Failed;
    if (m_headEnd < 0) {
        const qsizetype end = data.indexOf("\r\n\r\n", m_scan);
        if (end < 0) {
            m_scan = std::max<qsizetype>(0, data.size() - 3); // the empty line may be split
            return Progress::NeedMore;
        }
        if (!parseHead(data.first(end + 2))) {
            m_failed = true;
            return Progress::Failed;
        }
        m_headEnd = end + 4;
    }
    if (data.size() - m_headEnd < m_length)
        return Progress::NeedMore;
    m_response.body = data.sliced(m_headEnd, m_length).toByteArray();
    m_consumed = m_headEnd + m_length;
    m_scan = 0;
    m_headEnd = -1;
    m_length = 0;
    return Progress::Complete;
}

void ResponseParser::reset()
{
    m_response = {};
    m_scan = 0;
    m_headEnd = -1;
    m_length = 0;
    m_consumed = 0;
    m_failed = false;
}

// `head`: the status line and the header lines, each with its CRLF.
bool ResponseParser::parseHead(QByteArrayView head)
{
    m_response = {};
    m_length = 0;
    qsizetype lineEnd = head.indexOf("\r\n");
    // "HTTP/1.1 200 OK": the version, a space, three digits, a space and a reason
    // (which may be empty).
    const QByteArrayView statusLine = head.first(lineEnd);
    if (statusLine.size() < 13 || !statusLine.startsWith("HTTP/1.") || (statusLine[7] != '0' && statusLine[7] != '1')
        || statusLine[8] != ' ' || !isDigit(statusLine[9]) || !isDigit(statusLine[10]) || !isDigit(statusLine[11])
        || statusLine[12] != ' ')
        return false;
    m_response.version = statusLine.first(8).toByteArray();
    m_response.status = (statusLine[9] - '0') * 100 + (statusLine[10] - '0') * 10 + (statusLine[11] - '0');

    bool sawLength = false;
    qsizetype start = lineEnd + 2;
    while (start < head.size()) {
        lineEnd = head.indexOf("\r\n", start);
        const QByteArrayView line = head.sliced(start, lineEnd - start);
        start = lineEnd + 2;
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || !allTokens(line.first(colon)))
            return false;
        const QByteArrayView value = trimOws(line.sliced(colon + 1));
        if (!allFieldValueBytes(value))
            return false;
        QByteArray name = line.first(colon).toByteArray().toLower();
        if (name == "content-length") {
            if (sawLength || value.isEmpty() || !std::all_of(value.begin(), value.end(), isDigit))
                return false;
            sawLength = true;
            for (const char c : value)
                m_length = std::min(m_length * 10 + (c - '0'), kMaxBody);
        }
        m_response.headers.emplace_back(std::move(name), value.toByteArray());
    }
    return true;
}

} // namespace coupon::http
