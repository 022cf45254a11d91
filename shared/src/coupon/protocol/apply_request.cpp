#include "coupon/protocol/apply_request.h"

#include "coupon/base/validation.h"

using namespace Qt::StringLiterals;

namespace coupon {

namespace {

// A strict RFC 8259 scanner for one JSON value; it only records the raw text
// of the top-level member "userId". Depth is bounded so hostile nesting can't
// exhaust the stack.
class Scanner
{
public:
    explicit Scanner(QByteArrayView text)
        : m_text(text)
    { }

    bool document()
    {
        skipSpace();
        if (!object(0))
            return false;
        skipSpace();
        return m_pos == m_text.size() || fail("trailing characters");
    }

    QByteArrayView userIdToken() const { return m_userId; }
    int userIdCount() const { return m_userIdCount; }
    bool userIdIsNumber() const { return m_userIdIsNumber; }
    QString error() const { return m_error; }

private:
    static constexpr int kMaxDepth = 32;

    bool fail(const char *what)
    {
        if (m_error.isEmpty())
            m_error = u"invalid JSON at byte %1: %2"_s.arg(m_pos).arg(QLatin1String(what));
        return false;
    }
    bool more() const { return m_pos < m_text.size(); }
    char peek() const { return more() ? m_text[m_pos] : '\0'; }
    void skipSpace()
    {
        while (more() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
            ++m_pos;
    }
    bool expect(char c)
    {
        skipSpace();
        if (peek() != c)
            return fail("unexpected character");
        ++m_pos;
        return true;
    }

    bool string(QByteArrayView *raw = nullptr)
    {
        if (peek() != '"')
            return fail("expected a string");
        const qsizetype start = ++m_pos;
        while (more()) {
            const unsigned char c = static_cast<unsigned char>(m_text[m_pos]);
            if (c == '"') {
                if (raw)
                    *raw = m_text.sliced(start, m_pos - start);
                ++m_pos;
                return true;
            }
            if (c < 0x20)
                return fail("control character in a string");
            if (c == '\\') {
                ++m_pos;
                const char e = peek();
                if (e == 'u') {
                    for (int i = 1; i <= 4; ++i) {
                        const char h = m_pos + i < m_text.size() ? m_text[m_pos + i] : '\0';
                        if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                            return fail("bad \\u escape");
                    }
                    m_pos += 4;
                } else if (!(e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r'
                             || e == 't')) {
                    return fail("bad escape");
                }
            }
            ++m_pos;
        }
        return fail("unterminated string");
    }

    bool number()
    {
        const qsizetype start = m_pos;
        if (peek() == '-')
            ++m_pos;
        if (peek() == '0') {
            ++m_pos;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9')
                ++m_pos;
        } else {
            return fail("bad number");
        }
        if (peek() == '.') {
            ++m_pos;
            if (!(peek() >= '0' && peek() <= '9'))
                return fail("bad number");
            while (peek() >= '0' && peek() <= '9')
                ++m_pos;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++m_pos;
            if (peek() == '+' || peek() == '-')
                ++m_pos;
            if (!(peek() >= '0' && peek() <= '9'))
                return fail("bad number");
            while (peek() >= '0' && peek() <= '9')
                ++m_pos;
        }
        m_lastNumber = m_text.sliced(start, m_pos - start);
        return true;
    }

    bool literal(const char *word)
    {
        const QByteArrayView w(word);
        if (m_text.sliced(m_pos).startsWith(w)) {
            m_pos += w.size();
            return true;
        }
        return fail("unexpected token");
    }

    bool value(int depth, bool *isNumber = nullptr)
    {
        skipSpace();
        if (isNumber)
            *isNumber = false;
        switch (peek()) {
        case '{': return object(depth + 1);
        case '[': return array(depth + 1);
        case '"': return string();
        case 't': return literal("true");
        case 'f': return literal("false");
        case 'n': return literal("null");
        default:
            if (!number())
                return false;
            if (isNumber)
                *isNumber = true;
            return true;
        }
    }

    bool array(int depth)
    {
        if (depth > kMaxDepth)
            return fail("nested too deeply");
        ++m_pos; // '['
        skipSpace();
        if (peek() == ']') {
            ++m_pos;
            return true;
        }
        for (;;) {
            if (!value(depth))
                return false;
            skipSpace();
            if (peek() == ',') {
                ++m_pos;
                continue;
            }
            return expect(']');
        }
    }

    bool object(int depth)
    {
        if (depth > kMaxDepth)
            return fail("nested too deeply");
        skipSpace();
        if (peek() != '{')
            return fail(depth == 0 ? "the body must be a JSON object" : "expected an object");
        ++m_pos;
        skipSpace();
        if (peek() == '}') {
            ++m_pos;
            return true;
        }
        for (;;) {
            skipSpace();
            QByteArrayView key;
            if (!string(&key) || !expect(':'))
                return false;
            bool isNumber = false;
            if (!value(depth, &isNumber))
                return false;
            // Only the top level counts; "userId" spelled with escapes is another key.
            if (depth == 0 && key == "userId") {
                ++m_userIdCount;
                m_userIdIsNumber = isNumber;
                m_userId = isNumber ? m_lastNumber : QByteArrayView();
            }
            skipSpace();
            if (peek() == ',') {
                ++m_pos;
                continue;
            }
            return expect('}');
        }
    }

    QByteArrayView m_text;
    qsizetype m_pos = 0;
    QString m_error;
    QByteArrayView m_lastNumber;
    QByteArrayView m_userId;
    int m_userIdCount = 0;
    bool m_userIdIsNumber = false;
};

} // namespace

Result<qint64> parseApplyBody(QByteArrayView body)
{
    Scanner scanner(body);
    if (!scanner.document())
        return Error(Errc::BadJson, scanner.error());
    if (scanner.userIdCount() == 0)
        return Error(Errc::BadUserId, u"userId is missing"_s);
    if (scanner.userIdCount() > 1)
        return Error(Errc::BadUserId, u"userId appears more than once"_s);
    if (!scanner.userIdIsNumber())
        return Error(Errc::BadUserId, u"userId must be a JSON integer, not a string, boolean, null, array or object"_s);
    const std::optional<qint64> id = parseUserId(scanner.userIdToken());
    if (!id)
        return Error(Errc::BadUserId,
                     u"userId must be an integer in 1..9223372036854775807 (got %1)"_s.arg(QString::fromLatin1(
                         scanner.userIdToken().first(std::min<qsizetype>(scanner.userIdToken().size(), 40)))));
    return *id;
}

} // namespace coupon
