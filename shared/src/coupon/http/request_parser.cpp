#include "coupon/http/request_parser.h"

#include "coupon/http/syntax.h"

#include <algorithm>
#include <array>
#include <cstring>

using namespace Qt::StringLiterals;

namespace coupon::http {

using namespace syntax;

namespace {

constexpr qint64 kLengthCap = qint64(1) << 50; // Content-Length values saturate here

// "5" or a list of equal values "5, 5" (RFC 9110 section 8.6); false for anything else.
bool parseContentLength(QByteArrayView text, qint64 &length)
{
    qint64 result = -1;
    qsizetype i = 0;
    const qsizetype size = text.size();
    for (;;) {
        while (i < size && isOws(text[i]))
            ++i;
        const qsizetype digitsStart = i;
        qint64 value = 0;
        while (i < size && text[i] >= '0' && text[i] <= '9') {
            value = std::min(value * 10 + (text[i] - '0'), kLengthCap);
            ++i;
        }
        if (i == digitsStart || (result >= 0 && value != result))
            return false;
        result = value;
        while (i < size && isOws(text[i]))
            ++i;
        if (i == size)
            break;
        if (text[i] != ',')
            return false;
        ++i;
    }
    length = result;
    return true;
}

QByteArray internMethod(QByteArrayView method)
{
    // Literals share static data: no allocation for the usual methods.
    if (method == "GET")
        return QByteArrayLiteral("GET");
    if (method == "POST")
        return QByteArrayLiteral("POST");
    if (method == "PUT")
        return QByteArrayLiteral("PUT");
    if (method == "DELETE")
        return QByteArrayLiteral("DELETE");
    if (method == "PATCH")
        return QByteArrayLiteral("PATCH");
    if (method == "HEAD")
        return QByteArrayLiteral("HEAD");
    if (method == "OPTIONS")
        return QByteArrayLiteral("OPTIONS");
    return method.toByteArray();
}

// The lower-cased name; the usual ones share static data (no allocation per request).
QByteArray internHeaderName(QByteArrayView name)
{
    static const std::array<QByteArray, 12> kKnown = {
        QByteArrayLiteral("host"),
        QByteArrayLiteral("content-type"),
        QByteArrayLiteral("content-length"),
        QByteArrayLiteral("connection"),
        QByteArrayLiteral("user-agent"),
        QByteArrayLiteral("accept"),
        QByteArrayLiteral("accept-encoding"),
        QByteArrayLiteral("idempotency-key"),
        QByteArrayLiteral("expect"),
        QByteArrayLiteral("transfer-encoding"),
        QByteArrayLiteral("authorization"),
        QByteArrayLiteral("x-request-id"),
    };
    for (const QByteArray &known : kKnown) {
        if (equalsIgnoringCase(name, known))
            return known;
    }
    QByteArray lowerName(name.size(), Qt::Uninitialized);
    char *out = lowerName.data();
    for (const char c : name)
        *out++ = (c >= 'A' && c <= 'Z') ? char(c + ('a' - 'A')) : c;
    return lowerName;
}

} // namespace

RequestParser::Progress RequestParser::parse(QByteArrayView data)
{
    m_consumed = 0;
    if (m_phase == Phase::Failed)
        return Progress::Failed;

    if (m_phase == Phase::RequestLine) {
        if (m_scan == 0) {
            // RFC 9112 2.2: empty lines before a request line are ignored.
            qsizetype skip = 0;
            while (data.size() - skip >= 2 && data[skip] == '\r' && data[skip + 1] == '\n')
                skip += 2;
            m_consumed = skip;
            data = data.sliced(skip);
        }
        const qsizetype size = data.size();
        if (size == 0)
            return Progress::NeedMore;
        const char *bytes = data.data();
        const void *lf = std::memchr(bytes + m_scan, '\n', size_t(size - m_scan));
        if (!lf) {
            // Reject garbage now rather than after maxRequestLineBytes or the timeout.
            for (qsizetype i = m_scan; i < size; ++i) {
                const char c = bytes[i];
                if (c == '\r' ? i + 1 < size : (c != ' ' && !isVisible(c)))
                    return fail(400, u"bad_request"_s, u"malformed request line"_s);
            }
            const bool endsWithCr = bytes[size - 1] == '\r';
            if (size - (endsWithCr ? 1 : 0) > m_limits.maxRequestLineBytes)
                return fail(414, u"uri_too_long"_s, u"request line over %1 bytes"_s.arg(m_limits.maxRequestLineBytes));
            m_scan = endsWithCr ? size - 1 : size;
            return Progress::NeedMore;
        }
        const qsizetype end = static_cast<const char *>(lf) - bytes;
        if (end == 0 || bytes[end - 1] != '\r')
            return fail(400, u"bad_request"_s, u"lines must end with CRLF"_s);
        if (end - 1 > m_limits.maxRequestLineBytes)
            return fail(414, u"uri_too_long"_s, u"request line over %1 bytes"_s.arg(m_limits.maxRequestLineBytes));
        startRequest();
        if (!parseRequestLine(QByteArrayView(bytes, end - 1)))
            return Progress::Failed;
        m_phase = Phase::Headers;
        m_lineStart = m_scan = end + 1;
        m_request.headers.reserve(8);
    }

    if (m_phase == Phase::Headers) {
        const char *bytes = data.data();
        const qsizetype size = data.size();
        for (;;) {
            const void *lf = std::memchr(bytes + m_scan, '\n', size_t(size - m_scan));
            if (!lf) {
                if (size > m_limits.maxHeaderBytes)
                    return fail(431, u"header_too_large"_s,
                                u"request head over %1 bytes"_s.arg(m_limits.maxHeaderBytes));
                m_scan = size;
                return Progress::NeedMore;
            }
            const qsizetype end = static_cast<const char *>(lf) - bytes;
            if (end + 1 > m_limits.maxHeaderBytes)
                return fail(431, u"header_too_large"_s, u"request head over %1 bytes"_s.arg(m_limits.maxHeaderBytes));
            if (end == m_lineStart || bytes[end - 1] != '\r')
                return fail(400, u"bad_request"_s, u"lines must end with CRLF"_s);
            const QByteArrayView line(bytes + m_lineStart, end - 1 - m_lineStart);
            m_lineStart = m_scan = end + 1;
            if (line.isEmpty()) {
                m_headEnd = m_lineStart;
                if (!finishHead())
                    return Progress::Failed;
                m_phase = Phase::Body;
                if (m_expectContinue && !m_http10 && m_contentLength > size - m_headEnd)
                    return Progress::ContinueExpected;
                break;
            }
            if (!parseHeaderLine(line))
                return Progress::Failed;
        }
    }

    // Phase::Body
    if (data.size() - m_headEnd < m_contentLength)
        return Progress::NeedMore;
    if (m_contentLength > 0)
        m_request.body = QByteArray(data.data() + m_headEnd, m_contentLength);
    m_consumed += m_headEnd + m_contentLength;
    m_phase = Phase::RequestLine;
    m_scan = 0;
    m_lineStart = 0;
    m_headEnd = 0;
    return Progress::Complete;
}

Request RequestParser::takeRequest()
{
    Request request = std::move(m_request);
    // Cleared rather than replaced: a fresh Request would allocate a QHostAddress per request.
    m_request.method.clear();
    m_request.path.clear();
    m_request.query.clear();
    m_request.headers.clear();
    m_request.body.clear();
    return request;
}

void RequestParser::reset()
{
    m_phase = Phase::RequestLine;
    m_scan = 0;
    m_lineStart = 0;
    m_headEnd = 0;
    m_error = ParseError();
    m_request = Request();
    startRequest();
}

void RequestParser::startRequest()
{
    m_contentLength = -1;
    m_http10 = false;
    m_connectionClose = false;
    m_connectionKeepAlive = false;
    m_transferEncoding = false;
    m_badContentLength = false;
    m_expectContinue = false;
    m_keepAlive = true;
    m_sawHost = false;
    m_sawContentType = false;
    // Already empty when the last request was taken; cheap then.
    m_request.method.clear();
    m_request.path.clear();
    m_request.query.clear();
    m_request.headers.clear();
    m_request.body.clear();
}

RequestParser::Progress RequestParser::fail(int status, const QString &code, const QString &message)
{
    m_phase = Phase::Failed;
    m_error = ParseError{status, code, message};
    return Progress::Failed;
}

bool RequestParser::parseRequestLine(QByteArrayView line)
{
    const qsizetype methodEnd = line.indexOf(' ');
    const qsizetype targetEnd = methodEnd > 0 ? line.indexOf(' ', methodEnd + 1) : -1;
    if (methodEnd <= 0 || targetEnd <= methodEnd + 1) {
        fail(400, u"bad_request"_s, u"malformed request line"_s);
        return false;
    }
    const QByteArrayView method = line.first(methodEnd);
    const QByteArrayView target = line.sliced(methodEnd + 1, targetEnd - methodEnd - 1);
    const QByteArrayView version = line.sliced(targetEnd + 1);
    if (!allTokens(method)) {
        fail(400, u"bad_request"_s, u"malformed method"_s);
        return false;
    }
    if (target.front() != '/') {
        fail(400, u"bad_request"_s, u"the request target must start with '/'"_s);
        return false;
    }
    if (!std::all_of(target.begin(), target.end(), [](char c) { return isVisible(c) && c != '#'; })) {
        fail(400, u"bad_request"_s, u"invalid byte in the request target"_s);
        return false;
    }
    const auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
    if (version.size() != 8 || !version.startsWith("HTTP/") || !isDigit(version[5]) || version[6] != '.'
        || !isDigit(version[7])) {
        fail(400, u"bad_request"_s, u"malformed HTTP version"_s);
        return false;
    }
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
        fail(505, u"version_not_supported"_s, u"only HTTP/1.0 and HTTP/1.1 are supported"_s);
        return false;
    }
    m_http10 = version[7] == '0';
    m_request.method = internMethod(method);
    const qsizetype question = target.indexOf('?');
    if (question < 0) {
        m_request.path = target.toByteArray();
    } else {
        m_request.path = target.first(question).toByteArray();
        m_request.query = target.sliced(question + 1).toByteArray();
    }
    return true;
}

bool RequestParser::parseHeaderLine(QByteArrayView line)
{
    if (isOws(line.front())) {
        fail(400, u"bad_request"_s, u"obsolete line folding is not supported"_s);
        return false;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon < 0) {
        fail(400, u"bad_request"_s, u"header line without ':'"_s);
        return false;
    }
    const QByteArrayView name = line.first(colon);
    if (!name.isEmpty() && isOws(name.back())) {
        fail(400, u"bad_request"_s, u"whitespace before ':' in a header line"_s);
        return false;
    }
    if (!allTokens(name)) {
        fail(400, u"bad_request"_s, u"malformed header name"_s);
        return false;
    }
    const QByteArrayView value = trimOws(line.sliced(colon + 1));
    if (!allFieldValueBytes(value)) {
        fail(400, u"bad_request"_s, u"invalid byte in a header value"_s);
        return false;
    }

    QByteArray lowerName = internHeaderName(name);

    if (lowerName == "host" || lowerName == "content-type") {
        bool &seen = lowerName == "host" ? m_sawHost : m_sawContentType;
        if (seen) {
            fail(400, u"bad_request"_s,
                 lowerName == "host" ? u"more than one Host header"_s : u"more than one Content-Type header"_s);
            return false;
        }
        seen = true;
    }
    if (lowerName == "content-length") {
        qint64 length = -1;
        if (!parseContentLength(value, length) || (m_contentLength >= 0 && length != m_contentLength))
            m_badContentLength = true;
        else
            m_contentLength = length;
    } else if (lowerName == "transfer-encoding") {
        m_transferEncoding = true;
    } else if (lowerName == "connection") {
        m_connectionClose = m_connectionClose || hasToken(value, "close");
        m_connectionKeepAlive = m_connectionKeepAlive || hasToken(value, "keep-alive");
    } else if (lowerName == "expect") {
        m_expectContinue = equalsIgnoringCase(value, "100-continue");
    }
    m_request.headers.emplace_back(std::move(lowerName), value.toByteArray());
    return true;
}

bool RequestParser::finishHead()
{
    if (m_transferEncoding) {
        fail(411, u"length_required"_s,
             u"Transfer-Encoding is not supported (no chunked request bodies); send Content-Length"_s);
        return false;
    }
    if (m_badContentLength) {
        fail(400, u"bad_request"_s, u"invalid or conflicting Content-Length"_s);
        return false;
    }
    if (m_contentLength > m_limits.maxBodyBytes) {
        // Answered now, without reading the body.
        fail(413, u"body_too_large"_s, u"request body over %1 bytes"_s.arg(m_limits.maxBodyBytes));
        return false;
    }
    if (m_contentLength < 0) {
        const QByteArray &method = m_request.method;
        if (method == "POST" || method == "PUT" || method == "PATCH") {
            fail(411, u"length_required"_s, u"Content-Length is required"_s);
            return false;
        }
        m_contentLength = 0;
    }
    m_keepAlive = m_http10 ? (m_connectionKeepAlive && !m_connectionClose) : !m_connectionClose;
    return true;
}

} // namespace coupon::http
