#include "coupon/protocol/apply_request.h"

#include "coupon/base/validation.h"

#include <cstring>

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

    // The four hex digits at `at` as a code unit, or -1.
    int hex4(qsizetype at) const
    {
        int unit = 0;
        for (int i = 0; i < 4; ++i) {
            const char h = at + i < m_text.size() ? m_text[at + i] : '\0';
            const int digit = (h >= '0' && h <= '9') ? h - '0'
                : (h >= 'a' && h <= 'f')             ? h - 'a' + 10
                : (h >= 'A' && h <= 'F')             ? h - 'A' + 10
                                                     : -1;
            if (digit < 0)
                return -1;
            unit = unit * 16 + digit;
        }
        return unit;
    }

    // The length of the valid UTF-8 sequence at m_pos (RFC 3629: no
    // overlong forms, no surrogates, nothing past U+10FFFF), or 0.
    int utf8Sequence() const
    {
        auto at = [&](qsizetype i) { return m_pos + i < m_text.size() ? uchar(m_text[m_pos + i]) : 0; };
        auto tail = [&](qsizetype i, uchar lo = 0x80, uchar hi = 0xBF) { return at(i) >= lo && at(i) <= hi; };
        const uchar c = at(0);
        if (c >= 0xC2 && c <= 0xDF)
            return tail(1) ? 2 : 0;
        if (c == 0xE0)
            return tail(1, 0xA0) && tail(2) ? 3 : 0;
        if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
            return tail(1) && tail(2) ? 3 : 0;
        if (c == 0xED)
            return tail(1, 0x80, 0x9F) && tail(2) ? 3 : 0;
        if (c == 0xF0)
            return tail(1, 0x90) && tail(2) && tail(3) ? 4 : 0;
        if (c >= 0xF1 && c <= 0xF3)
            return tail(1) && tail(2) && tail(3) ? 4 : 0;
        if (c == 0xF4)
            return tail(1, 0x80, 0x8F) && tail(2) && tail(3) ? 4 : 0;
        return 0;
    }

    // A string; its raw text in `raw`, and, when asked for, what it says in
    // `decoded` (escapes resolved, as UTF-8) if it has escapes at all
    // (`escaped`): a plain string is its raw text, with no copy. Text that is
    // not valid UTF-8, and \u escapes that are not whole characters (a lone
    // surrogate), are refused: a reader in front of us would see something else.
    bool string(QByteArrayView *raw = nullptr, QByteArray *decoded = nullptr, bool *escaped = nullptr)
    {
        if (peek() != '"')
            return fail("expected a string");
        const qsizetype start = ++m_pos;
        bool sawEscape = false;
        // Once there is an escape, everything is decoded from where it stood.
        auto out = [&](QByteArrayView bytes) {
            if (decoded && sawEscape)
                decoded->append(bytes);
        };
        while (more()) {
            const unsigned char c = static_cast<unsigned char>(m_text[m_pos]);
            if (c == '"') {
                if (raw)
                    *raw = m_text.sliced(start, m_pos - start);
                if (escaped)
                    *escaped = sawEscape;
                ++m_pos;
                return true;
            }
            if (c < 0x20)
                return fail("control character in a string");
            if (c >= 0x80) {
                const int n = utf8Sequence();
                if (n == 0)
                    return fail("invalid UTF-8 in a string");
                out(m_text.sliced(m_pos, n));
                m_pos += n;
                continue;
            }
            if (c != '\\') {
                out(m_text.sliced(m_pos, 1));
                ++m_pos;
                continue;
            }
            if (decoded && !sawEscape)
                *decoded = m_text.sliced(start, m_pos - start).toByteArray();
            sawEscape = true;
            ++m_pos;
            const char e = peek();
            if (e == 'u') {
                int unit = hex4(m_pos + 1);
                if (unit < 0)
                    return fail("bad \\u escape");
                m_pos += 5;
                char32_t codePoint = char32_t(unit);
                if (unit >= 0xDC00 && unit <= 0xDFFF)
                    return fail("lone surrogate in a \\u escape");
                if (unit >= 0xD800 && unit <= 0xDBFF) {
                    const int low = peek() == '\\' && m_pos + 1 < m_text.size() && m_text[m_pos + 1] == 'u'
                        ? hex4(m_pos + 2)
                        : -1;
                    if (low < 0xDC00 || low > 0xDFFF)
                        return fail("lone surrogate in a \\u escape");
                    m_pos += 6;
                    codePoint = 0x10000 + ((char32_t(unit) - 0xD800) << 10) + (char32_t(low) - 0xDC00);
                }
                out(QString::fromUcs4(&codePoint, 1).toUtf8());
                continue;
            }
            static constexpr char kEscapes[] = "\"\\/bfnrt";
            static constexpr char kMeanings[] = "\"\\/\b\f\n\r\t";
            const char *found = e ? std::strchr(kEscapes, e) : nullptr;
            if (!found)
                return fail("bad escape");
            out(QByteArrayView(&kMeanings[found - kEscapes], 1));
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
            QByteArray decodedKey; // only a top-level key with escapes is decoded
            bool escaped = false;
            if (!string(&key, depth == 0 ? &decodedKey : nullptr, &escaped) || !expect(':'))
                return false;
            bool isNumber = false;
            if (!value(depth, &isNumber))
                return false;
            // Only the top level counts, and a key is what it says once its
            // escapes are read: "\\u0075serId" is userId, as every other JSON
            // reader in front of us would see it.
            if (depth == 0 && (escaped ? QByteArrayView(decodedKey) : key) == "userId") {
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

Result<std::optional<qint64>> parseApplyBodyUser(QByteArrayView body)
{
    Scanner scanner(body);
    if (!scanner.document())
        return Error(Errc::BadJson, scanner.error());
    if (scanner.userIdCount() == 0)
        return std::optional<qint64>();
    if (scanner.userIdCount() > 1)
        return Error(Errc::BadUserId, u"userId appears more than once"_s);
    if (!scanner.userIdIsNumber())
        return Error(Errc::BadUserId, u"userId must be a JSON integer, not a string, boolean, null, array or object"_s);
    const std::optional<qint64> id = parseUserId(scanner.userIdToken());
    if (!id)
        return Error(Errc::BadUserId,
                     u"userId must be an integer in 1..9223372036854775807 (got %1)"_s.arg(QString::fromLatin1(
                         scanner.userIdToken().first(std::min<qsizetype>(scanner.userIdToken().size(), 40)))));
    return id;
}

Result<qint64> parseApplyBody(QByteArrayView body)
{
    Result<std::optional<qint64>> user = parseApplyBodyUser(body);
    if (!user)
        return user.error();
    if (!*user)
        return Error(Errc::BadUserId, u"userId is missing"_s);
    return **user;
}

} // namespace coupon
