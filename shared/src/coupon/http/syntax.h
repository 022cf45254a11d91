#pragma once

// Byte classes and small field helpers of RFC 9110/9112, shared by the request
// parser, the response parser and the server's serializer. Internal to http/.

#include <QByteArrayView>

#include <algorithm>
#include <array>
#include <string_view>

namespace coupon::http::syntax {

constexpr std::array<bool, 256> makeTokenTable()
{
    std::array<bool, 256> table{};
    for (int c = '0'; c <= '9'; ++c)
        table[size_t(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c)
        table[size_t(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c)
        table[size_t(c)] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~"))
        table[size_t(uchar(c))] = true;
    return table;
}
inline constexpr std::array<bool, 256> kToken = makeTokenTable();

inline bool isToken(char c)
{
    return kToken[uchar(c)];
}

inline bool isVisible(char c)
{
    return uchar(c) > 0x20 && uchar(c) < 0x7f;
}

// field-value bytes: VCHAR, SP, HTAB and obs-text; no CTL (NUL, CR, LF, ...) and no DEL.
inline bool isFieldValueByte(char c)
{
    const uchar u = uchar(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
}

inline bool isOws(char c)
{
    return c == ' ' || c == '\t';
}

inline bool allTokens(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), isToken);
}

inline bool allFieldValueBytes(QByteArrayView text)
{
    return std::all_of(text.begin(), text.end(), isFieldValueByte);
}

inline QByteArrayView trimOws(QByteArrayView text)
{
    qsizetype begin = 0;
    qsizetype end = text.size();
    while (begin < end && isOws(text[begin]))
        ++begin;
    while (end > begin && isOws(text[end - 1]))
        --end;
    return text.sliced(begin, end - begin);
}

inline bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && a.compare(b, Qt::CaseInsensitive) == 0;
}

// Whether a comma-separated list (a Connection header) holds `token`, in any case.
inline bool hasToken(QByteArrayView list, QByteArrayView token)
{
    qsizetype start = 0;
    while (start <= list.size()) {
        qsizetype comma = list.indexOf(',', start);
        if (comma < 0)
            comma = list.size();
        if (equalsIgnoringCase(trimOws(list.sliced(start, comma - start)), token))
            return true;
        start = comma + 1;
    }
    return false;
}

} // namespace coupon::http::syntax
