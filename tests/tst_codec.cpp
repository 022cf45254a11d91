#include "coupon/base/validation.h"
#include "coupon/protocol/codec.h"

#include <QList>
#include <QTest>

#include <array>
#include <limits>
#include <optional>
#include <vector>

using namespace Qt::StringLiterals;
using coupon::CouponMessage;
using coupon::codec::Decoded;
using coupon::codec::DecodeError;
using coupon::codec::RawHeader;

namespace {

constexpr qint64 kMaxId = std::numeric_limits<qint64>::max();
constexpr qint64 kMinLong = std::numeric_limits<qint64>::min();

// A record as a test table holds it: owning bytes, turned into the views
// codec::decode takes right before the call.
struct Header
{
    QByteArray name;
    std::optional<QByteArray> value; // nullopt: a header with a null value
};

struct Record
{
    std::optional<QByteArray> key;
    std::optional<QByteArray> value;
    QList<Header> headers;
};

Header hdr(const char *name, const QByteArray &value)
{
    return {QByteArray(name), value};
}
Header nullHdr(const char *name)
{
    return {QByteArray(name), std::nullopt};
}

Record record(std::optional<QByteArray> key, std::optional<QByteArray> value, QList<Header> headers = {})
{
    return {std::move(key), std::move(value), std::move(headers)};
}

// The value bytes written out by hand, independent of encodeValue().
QByteArray be64(quint64 v)
{
    QByteArray bytes;
    for (int shift = 56; shift >= 0; shift -= 8)
        bytes.append(char((v >> shift) & 0xff));
    return bytes;
}

std::optional<QByteArrayView> view(const std::optional<QByteArray> &bytes)
{
    if (!bytes)
        return std::nullopt;
    return QByteArrayView(*bytes);
}

std::vector<RawHeader> rawHeaders(const QList<Header> &headers)
{
    std::vector<RawHeader> raw;
    raw.reserve(size_t(headers.size()));
    for (const Header &h : headers)
        raw.push_back(RawHeader{QByteArrayView(h.name), view(h.value)});
    return raw;
}

Decoded decodeRecord(const Record &r, const QString &defaultCampaign)
{
    const std::vector<RawHeader> raw = rawHeaders(r.headers);
    return coupon::codec::decode(view(r.key), view(r.value), raw, defaultCampaign);
}

QString describe(const Decoded &d)
{
    if (d.error && d.message)
        return u"both an error (%1) and a message"_s.arg(coupon::codec::toString(*d.error));
    if (d.error)
        return u"error %1"_s.arg(coupon::codec::toString(*d.error));
    if (!d.message)
        return u"neither message nor error"_s;
    const CouponMessage &m = *d.message;
    return u"message user=%1 campaign=%2 ticket=%3 request-id=%4 applied-at=%5"_s.arg(m.userId)
        .arg(m.campaign)
        .arg(m.ticket)
        .arg(QString::fromLatin1(m.requestId.toHex()))
        .arg(m.appliedAtMs);
}

QString repeated(QChar c, qsizetype n)
{
    return QString(n, c);
}

// `first` followed by `count` copies of `rest`.
QString idOf(QChar first, QChar rest, qsizetype count)
{
    QString id(1, first);
    id.append(repeated(rest, count));
    return id;
}

QString show(const std::optional<qint64> &n)
{
    return n ? QString::number(*n) : u"(none)"_s;
}

} // namespace

Q_DECLARE_METATYPE(Record)
Q_DECLARE_METATYPE(DecodeError)
Q_DECLARE_METATYPE(std::optional<qint64>)

class TestCodec : public QObject
{
    Q_OBJECT

private slots:
    // ---- validation: campaign ids ------------------------------------------

    void campaignId_data()
    {
        QTest::addColumn<QString>("id");
        QTest::addColumn<bool>("valid");

        QTest::newRow("one letter") << u"a"_s << true;
        QTest::newRow("one digit") << u"0"_s << true;
        QTest::newRow("z") << u"z"_s << true;
        QTest::newRow("9") << u"9"_s << true;
        QTest::newRow("word") << u"default"_s << true;
        QTest::newRow("mixed") << u"summer-2024_drop"_s << true;
        QTest::newRow("digit first") << u"2024-summer"_s << true;
        QTest::newRow("trailing dash") << u"a-"_s << true;
        QTest::newRow("trailing underscore") << u"a_"_s << true;
        QTest::newRow("dashes and underscores") << u"a-_-_"_s << true;
        QTest::newRow("length 64") << idOf(u'a', u'b', 63) << true;
        QTest::newRow("length 64 dashes") << idOf(u'0', u'-', 63) << true;
        QTest::newRow("length 63") << repeated(u'x', 63) << true;

        QTest::newRow("length 65") << idOf(u'a', u'b', 64) << false;
        QTest::newRow("length 100") << repeated(u'a', 100) << false;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("empty non-null") << u""_s << false;
        QTest::newRow("uppercase") << u"A"_s << false;
        QTest::newRow("uppercase inside") << u"summerDrop"_s << false;
        QTest::newRow("uppercase last") << u"abcZ"_s << false;
        QTest::newRow("leading dash") << u"-abc"_s << false;
        QTest::newRow("leading underscore") << u"_abc"_s << false;
        QTest::newRow("only dash") << u"-"_s << false;
        QTest::newRow("only underscore") << u"_"_s << false;
        QTest::newRow("leading space") << u" abc"_s << false;
        QTest::newRow("trailing space") << u"abc "_s << false;
        QTest::newRow("inner space") << u"a b"_s << false;
        QTest::newRow("tab") << u"a\tb"_s << false;
        QTest::newRow("newline") << u"abc\n"_s << false;
        QTest::newRow("nul inside") << u"ab\0c"_s << false;
        QTest::newRow("dot") << u"a.b"_s << false;
        QTest::newRow("dot dot") << u".."_s << false;
        QTest::newRow("slash") << u"a/b"_s << false;
        QTest::newRow("backslash") << u"a\\b"_s << false;
        QTest::newRow("colon") << u"a:b"_s << false;
        QTest::newRow("braces (redis hash tag)") << u"a{b}"_s << false;
        QTest::newRow("star") << u"a*"_s << false;
        QTest::newRow("quote") << u"a'b"_s << false;
        QTest::newRow("semicolon") << u"a;b"_s << false;
        QTest::newRow("plus") << u"a+b"_s << false;
        QTest::newRow("backtick (before a)") << u"a`"_s << false;
        QTest::newRow("open brace (after z)") << u"z{"_s << false;
        QTest::newRow("slash (before 0)") << u"0/"_s << false;
        QTest::newRow("colon (after 9)") << u"9:"_s << false;
        QTest::newRow("at (before A)") << u"a@"_s << false;
        QTest::newRow("e acute") << u"caf\u00e9"_s << false;
        QTest::newRow("cyrillic a") << u"\u0430bc"_s << false;
        QTest::newRow("fullwidth a") << u"\uff41bc"_s << false;
        // Code units whose low byte is an allowed ASCII character: catch a
        // check that truncates UTF-16 to 8 bits.
        QTest::newRow("U+0161 (low byte 'a')") << u"x\u0161"_s << false;
        QTest::newRow("U+0131 (low byte '1')") << u"x\u0131"_s << false;
        QTest::newRow("U+012D (low byte '-')") << u"x\u012d"_s << false;
        QTest::newRow("emoji") << u"a\U0001F600"_s << false;
    }

    void campaignId()
    {
        QFETCH(QString, id);
        QFETCH(bool, valid);

        QCOMPARE(coupon::isValidCampaignId(QStringView(id)), valid);
        const QByteArray utf8 = id.toUtf8();
        QCOMPARE(coupon::isValidCampaignId(QByteArrayView(utf8)), valid);
    }

    // Bytes that are no text at all reach the QByteArrayView overload from
    // Kafka headers.
    void campaignIdBytes_data()
    {
        QTest::addColumn<QByteArray>("id");
        QTest::addColumn<bool>("valid");

        QTest::newRow("plain") << "abc"_ba << true;
        QTest::newRow("length 64") << QByteArray(64, 'q') << true;
        QTest::newRow("length 65") << QByteArray(65, 'q') << false;
        QTest::newRow("latin-1 e acute") << "caf\xe9"_ba << false;
        QTest::newRow("0xe1 (0x61 + 0x80)") << "x\xe1"_ba << false;
        QTest::newRow("0xad (0x2d + 0x80)") << "x\xad"_ba << false;
        QTest::newRow("0xff") << "\xff"_ba << false;
        QTest::newRow("0x80") << "a\x80"_ba << false;
        QTest::newRow("nul inside") << "ab\0c"_ba << false;
        QTest::newRow("nul only") << "\0"_ba << false;
        QTest::newRow("utf-8 e acute") << "caf\xc3\xa9"_ba << false;
    }

    void campaignIdBytes()
    {
        QFETCH(QByteArray, id);
        QFETCH(bool, valid);

        QCOMPARE(coupon::isValidCampaignId(QByteArrayView(id)), valid);
    }

    // ---- validation: user ids ----------------------------------------------

    void parseUserId_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<std::optional<qint64>>("expected");

        const std::optional<qint64> none;
        QTest::newRow("1") << u"1"_s << std::optional<qint64>(1);
        QTest::newRow("9") << u"9"_s << std::optional<qint64>(9);
        QTest::newRow("10") << u"10"_s << std::optional<qint64>(10);
        QTest::newRow("100") << u"100"_s << std::optional<qint64>(100);
        QTest::newRow("255") << u"255"_s << std::optional<qint64>(255);
        QTest::newRow("2^31") << u"2147483648"_s << std::optional<qint64>(2147483648LL);
        QTest::newRow("2^32") << u"4294967296"_s << std::optional<qint64>(4294967296LL);
        QTest::newRow("18 digits") << u"999999999999999999"_s << std::optional<qint64>(999999999999999999LL);
        QTest::newRow("10^18") << u"1000000000000000000"_s << std::optional<qint64>(1000000000000000000LL);
        QTest::newRow("2^63-2") << u"9223372036854775806"_s << std::optional<qint64>(kMaxId - 1);
        QTest::newRow("2^63-1") << u"9223372036854775807"_s << std::optional<qint64>(kMaxId);

        QTest::newRow("empty") << QString() << none;
        QTest::newRow("empty non-null") << u""_s << none;
        QTest::newRow("0") << u"0"_s << none;
        QTest::newRow("00") << u"00"_s << none;
        QTest::newRow("-0") << u"-0"_s << none;
        QTest::newRow("-1") << u"-1"_s << none;
        QTest::newRow("+1") << u"+1"_s << none;
        QTest::newRow("min long") << u"-9223372036854775808"_s << none;
        QTest::newRow("leading zero") << u"01"_s << none;
        QTest::newRow("leading zeros") << u"0007"_s << none;
        QTest::newRow("leading zero on max") << u"09223372036854775807"_s << none;
        QTest::newRow("leading space") << u" 1"_s << none;
        QTest::newRow("trailing space") << u"1 "_s << none;
        QTest::newRow("inner space") << u"1 000"_s << none;
        QTest::newRow("trailing newline") << u"1\n"_s << none;
        QTest::newRow("leading tab") << u"\t1"_s << none;
        QTest::newRow("trailing nul") << u"1\0"_s << none;
        QTest::newRow("2^63") << u"9223372036854775808"_s << none;
        QTest::newRow("2^63+1") << u"9223372036854775809"_s << none;
        QTest::newRow("19 nines") << u"9999999999999999999"_s << none;
        QTest::newRow("20 digits 10^19") << u"10000000000000000000"_s << none;
        QTest::newRow("20 digits") << u"12345678901234567890"_s << none;
        QTest::newRow("2^64-1") << u"18446744073709551615"_s << none;
        QTest::newRow("2^64 (wraps to 0)") << u"18446744073709551616"_s << none;
        QTest::newRow("2^64+1 (wraps to 1)") << u"18446744073709551617"_s << none;
        QTest::newRow("30 digits") << u"123456789012345678901234567890"_s << none;
        QTest::newRow("float") << u"1.0"_s << none;
        QTest::newRow("float dot") << u"1."_s << none;
        QTest::newRow("exponent") << u"1e3"_s << none;
        QTest::newRow("exponent upper") << u"1E3"_s << none;
        QTest::newRow("hex 0x") << u"0x10"_s << none;
        QTest::newRow("hex 0x1") << u"0x1"_s << none;
        QTest::newRow("hex digits") << u"ff"_s << none;
        QTest::newRow("hex digit after") << u"1a"_s << none;
        QTest::newRow("letter before") << u"a1"_s << none;
        QTest::newRow("grouping comma") << u"1,000"_s << none;
        QTest::newRow("grouping underscore") << u"1_000"_s << none;
        QTest::newRow("fullwidth 1") << u"\uff11"_s << none;
        QTest::newRow("arabic-indic 1") << u"\u0661"_s << none;
        // Code units whose low byte is an ASCII digit.
        QTest::newRow("U+0131 (low byte '1')") << u"\u0131"_s << none;
        QTest::newRow("1 then U+0130 (low byte '0')") << u"1\u0130"_s << none;
    }

    void parseUserId()
    {
        QFETCH(QString, text);
        QFETCH(std::optional<qint64>, expected);

        QCOMPARE(show(coupon::parseUserId(QStringView(text))), show(expected));
        const QByteArray utf8 = text.toUtf8();
        QCOMPARE(show(coupon::parseUserId(QByteArrayView(utf8))), show(expected));
    }

    void parseUserIdBytes_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<std::optional<qint64>>("expected");

        QTest::newRow("plain") << "42"_ba << std::optional<qint64>(42);
        QTest::newRow("nul inside") << "1\0002"_ba << std::optional<qint64>();
        QTest::newRow("0xb1 (0x31 + 0x80)") << "\xb1"_ba << std::optional<qint64>();
        QTest::newRow("digit then 0xb0") << "1\xb0"_ba << std::optional<qint64>();
        QTest::newRow("0xff") << "\xff"_ba << std::optional<qint64>();
        QTest::newRow("8 raw bytes of a long") << be64(1) << std::optional<qint64>();
    }

    void parseUserIdBytes()
    {
        QFETCH(QByteArray, text);
        QFETCH(std::optional<qint64>, expected);

        QCOMPARE(show(coupon::parseUserId(QByteArrayView(text))), show(expected));
    }

    // ---- codec: encoding ---------------------------------------------------

    void encodeValue_data()
    {
        QTest::addColumn<qint64>("id");
        QTest::addColumn<QByteArray>("expected");

        QTest::newRow("1") << qint64(1) << QByteArray::fromHex("0000000000000001");
        QTest::newRow("255") << qint64(255) << QByteArray::fromHex("00000000000000ff");
        QTest::newRow("256") << qint64(256) << QByteArray::fromHex("0000000000000100");
        QTest::newRow("65535") << qint64(65535) << QByteArray::fromHex("000000000000ffff");
        QTest::newRow("2^31-1") << qint64(2147483647) << QByteArray::fromHex("000000007fffffff");
        QTest::newRow("2^31") << qint64(2147483648LL) << QByteArray::fromHex("0000000080000000");
        QTest::newRow("2^32") << qint64(4294967296LL) << QByteArray::fromHex("0000000100000000");
        QTest::newRow("byte order") << qint64(0x0102030405060708LL) << QByteArray::fromHex("0102030405060708");
        QTest::newRow("2^56") << qint64(1LL << 56) << QByteArray::fromHex("0100000000000000");
        QTest::newRow("2^63-1") << kMaxId << QByteArray::fromHex("7fffffffffffffff");
        // Not user ids, but the encoding is LongSerializer's for every long.
        QTest::newRow("0") << qint64(0) << QByteArray::fromHex("0000000000000000");
        QTest::newRow("-1") << qint64(-1) << QByteArray::fromHex("ffffffffffffffff");
        QTest::newRow("-256") << qint64(-256) << QByteArray::fromHex("ffffffffffffff00");
        QTest::newRow("min long") << kMinLong << QByteArray::fromHex("8000000000000000");
    }

    void encodeValue()
    {
        QFETCH(qint64, id);
        QFETCH(QByteArray, expected);

        QCOMPARE(expected.size(), 8); // the table itself
        const QByteArray bytes = coupon::codec::encodeValue(id);
        QCOMPARE(bytes.size(), 8);
        QCOMPARE(bytes.toHex(), expected.toHex());
        QCOMPARE(bytes, be64(quint64(id)));
    }

    void encodeKey_data()
    {
        QTest::addColumn<qint64>("id");
        QTest::addColumn<QByteArray>("expected");

        QTest::newRow("1") << qint64(1) << "1"_ba;
        QTest::newRow("10") << qint64(10) << "10"_ba;
        QTest::newRow("255") << qint64(255) << "255"_ba;
        QTest::newRow("1000 (no grouping)") << qint64(1000) << "1000"_ba;
        QTest::newRow("10^6 (no exponent)") << qint64(1000000) << "1000000"_ba;
        QTest::newRow("2^31") << qint64(2147483648LL) << "2147483648"_ba;
        QTest::newRow("2^63-1") << kMaxId << "9223372036854775807"_ba;
    }

    void encodeKey()
    {
        QFETCH(qint64, id);
        QFETCH(QByteArray, expected);

        const QByteArray key = coupon::codec::encodeKey(id);
        QCOMPARE(key, expected);
        // What we write, we read back.
        QCOMPARE(show(coupon::parseUserId(QByteArrayView(key))), QString::number(id));
    }

    void encodeNumber_data()
    {
        QTest::addColumn<qint64>("number");
        QTest::addColumn<QByteArray>("expected");

        QTest::newRow("0") << qint64(0) << "0"_ba;
        QTest::newRow("7") << qint64(7) << "7"_ba;
        QTest::newRow("ms epoch") << qint64(1700000000123LL) << "1700000000123"_ba;
        QTest::newRow("2^63-1") << kMaxId << "9223372036854775807"_ba;
    }

    void encodeNumber()
    {
        QFETCH(qint64, number);
        QFETCH(QByteArray, expected);

        QCOMPARE(coupon::codec::encodeNumber(number), expected);
    }

    // ---- codec: decoding ---------------------------------------------------

    void roundTrip_data()
    {
        QTest::addColumn<qint64>("userId");
        QTest::addColumn<QString>("campaign"); // empty: no campaign header
        QTest::addColumn<qint64>("ticket");    // 0: no ticket header
        QTest::addColumn<QByteArray>("requestId");
        QTest::addColumn<qint64>("appliedAt"); // 0: no applied-at header

        QTest::newRow("all headers") << qint64(42) << u"summer-2024"_s << qint64(17) << "req-0001"_ba
                                     << qint64(1700000000123LL);
        QTest::newRow("user 1") << qint64(1) << u"a"_s << qint64(1) << "r"_ba << qint64(1);
        QTest::newRow("max user") << kMaxId << u"drop_1"_s << qint64(100) << "x"_ba << qint64(1735689600000LL);
        QTest::newRow("2^31 user") << qint64(2147483648LL) << u"c"_s << qint64(2) << "abc"_ba << qint64(1);
        QTest::newRow("255 user") << qint64(255) << u"c"_s << qint64(3) << "abc"_ba << qint64(5);
        QTest::newRow("64-char campaign") << qint64(9) << idOf(u'z', u'9', 63) << qint64(5) << "q"_ba << qint64(6);
        QTest::newRow("max ticket and time") << qint64(5) << u"c"_s << kMaxId << "r"_ba << kMaxId;
        QTest::newRow("uuid request id") << qint64(7) << u"c"_s << qint64(1)
                                         << "3f1c2a9e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"_ba << qint64(2);
        QTest::newRow("binary request id") << qint64(7) << u"c"_s << qint64(1) << "\x00\xff\x80\n"_ba << qint64(2);
        QTest::newRow("64-byte request id") << qint64(8) << u"c"_s << qint64(1) << QByteArray(64, 'r') << qint64(2);
        QTest::newRow("default campaign, bare") << qint64(3) << QString() << qint64(0) << QByteArray() << qint64(0);
        QTest::newRow("default campaign, headers") << qint64(3) << QString() << qint64(9) << "rid"_ba << qint64(44);
    }

    void roundTrip()
    {
        QFETCH(qint64, userId);
        QFETCH(QString, campaign);
        QFETCH(qint64, ticket);
        QFETCH(QByteArray, requestId);
        QFETCH(qint64, appliedAt);

        namespace codec = coupon::codec;
        const QByteArray key = codec::encodeKey(userId);
        const QByteArray value = codec::encodeValue(userId);
        const QByteArray campaignBytes = campaign.toLatin1();
        const QByteArray ticketBytes = codec::encodeNumber(ticket);
        const QByteArray appliedBytes = codec::encodeNumber(appliedAt);

        std::vector<RawHeader> headers;
        if (!campaign.isEmpty())
            headers.push_back({QByteArrayView(codec::kHeaderCampaign), QByteArrayView(campaignBytes)});
        if (ticket != 0)
            headers.push_back({QByteArrayView(codec::kHeaderTicket), QByteArrayView(ticketBytes)});
        if (!requestId.isEmpty())
            headers.push_back({QByteArrayView(codec::kHeaderRequestId), QByteArrayView(requestId)});
        if (appliedAt != 0)
            headers.push_back({QByteArrayView(codec::kHeaderAppliedAt), QByteArrayView(appliedBytes)});

        const QString fallback = u"the-default"_s;
        const Decoded d = codec::decode(QByteArrayView(key), QByteArrayView(value), headers, fallback);
        QVERIFY2(d.message && !d.error, qPrintable(describe(d)));
        QCOMPARE(d.message->userId, userId);
        QCOMPARE(d.message->campaign, campaign.isEmpty() ? fallback : campaign);
        QCOMPARE(d.message->ticket, ticket);
        QCOMPARE(d.message->requestId, requestId);
        QCOMPARE(d.message->appliedAtMs, appliedAt);

        // The key is optional (the tutorial's producer sends none).
        const Decoded noKey = codec::decode(std::nullopt, QByteArrayView(value), headers, fallback);
        QVERIFY2(noKey.message && !noKey.error, qPrintable(describe(noKey)));
        QCOMPARE(noKey.message->userId, userId);
        QCOMPARE(noKey.message->campaign, d.message->campaign);
        QCOMPARE(noKey.message->ticket, ticket);
        QCOMPARE(noKey.message->requestId, requestId);
        QCOMPARE(noKey.message->appliedAtMs, appliedAt);
    }

    void decodeErrors_data()
    {
        QTest::addColumn<Record>("rec");
        QTest::addColumn<DecodeError>("expected");

        namespace codec = coupon::codec;
        const QByteArray one = be64(1);
        const auto campaign = [](const QByteArray &v) { return hdr(codec::kHeaderCampaign, v); };
        const auto ticket = [](const QByteArray &v) { return hdr(codec::kHeaderTicket, v); };
        const auto applied = [](const QByteArray &v) { return hdr(codec::kHeaderAppliedAt, v); };

        // value size
        QTest::newRow("value missing") << record("1"_ba, std::nullopt) << DecodeError::ValueSize;
        QTest::newRow("value missing, no key") << record(std::nullopt, std::nullopt) << DecodeError::ValueSize;
        QTest::newRow("value 0 bytes") << record(std::nullopt, QByteArray()) << DecodeError::ValueSize;
        QTest::newRow("value 1 byte") << record(std::nullopt, "\x01"_ba) << DecodeError::ValueSize;
        QTest::newRow("value 4 bytes (an int)")
            << record(std::nullopt, QByteArray::fromHex("00000001")) << DecodeError::ValueSize;
        QTest::newRow("value 7 bytes") << record(std::nullopt, QByteArray::fromHex("00000000000001"))
                                       << DecodeError::ValueSize;
        QTest::newRow("value 9 bytes") << record(std::nullopt, QByteArray::fromHex("000000000000000001"))
                                       << DecodeError::ValueSize;
        QTest::newRow("value 9 bytes, valid prefix")
            << record(std::nullopt, QByteArray(one + '\0')) << DecodeError::ValueSize;
        QTest::newRow("value 16 bytes") << record(std::nullopt, QByteArray(one + one)) << DecodeError::ValueSize;
        QTest::newRow("value as text (StringSerializer)") << record("1"_ba, "1"_ba) << DecodeError::ValueSize;

        // user id range
        QTest::newRow("value 0") << record(std::nullopt, be64(0)) << DecodeError::UserIdRange;
        QTest::newRow("value -1") << record(std::nullopt, be64(quint64(-1))) << DecodeError::UserIdRange;
        QTest::newRow("value min long") << record(std::nullopt, QByteArray::fromHex("8000000000000000"))
                                        << DecodeError::UserIdRange;
        QTest::newRow("value min long + 1")
            << record(std::nullopt, QByteArray::fromHex("8000000000000001")) << DecodeError::UserIdRange;
        QTest::newRow("value -2^31") << record(std::nullopt, QByteArray::fromHex("ffffffff80000000"))
                                     << DecodeError::UserIdRange;
        QTest::newRow("value 0, good headers")
            << record(std::nullopt, be64(0), {campaign("c"_ba), ticket("1"_ba)}) << DecodeError::UserIdRange;

        // key mismatch
        QTest::newRow("key other id") << record("2"_ba, one) << DecodeError::KeyMismatch;
        QTest::newRow("key 10 for 1") << record("10"_ba, one) << DecodeError::KeyMismatch;
        QTest::newRow("key 1 for 10") << record("1"_ba, be64(10)) << DecodeError::KeyMismatch;
        QTest::newRow("key leading zero") << record("01"_ba, one) << DecodeError::KeyMismatch;
        QTest::newRow("key leading zeros on 255") << record("000255"_ba, be64(255)) << DecodeError::KeyMismatch;
        QTest::newRow("key plus sign") << record("+1"_ba, one) << DecodeError::KeyMismatch;
        QTest::newRow("key negative") << record("-1"_ba, one) << DecodeError::KeyMismatch;
        QTest::newRow("key leading space") << record(" 1"_ba, one) << DecodeError::KeyMismatch;
        QTest::newRow("key trailing newline") << record("1\n"_ba, one) << DecodeError::KeyMismatch;
        QTest::newRow("key float") << record("1.0"_ba, one) << DecodeError::KeyMismatch;
        QTest::newRow("key text") << record("user"_ba, one) << DecodeError::KeyMismatch;
        QTest::newRow("key binary long (LongSerializer key)") << record(one, one) << DecodeError::KeyMismatch;
        QTest::newRow("key 2^31-1 for 2^31")
            << record("2147483647"_ba, be64(2147483648ULL)) << DecodeError::KeyMismatch;
        QTest::newRow("key 2^63 for 2^63-1")
            << record("9223372036854775808"_ba, be64(quint64(kMaxId))) << DecodeError::KeyMismatch;
        QTest::newRow("key 2^64+1 for 1 (wrap)") << record("18446744073709551617"_ba, one) << DecodeError::KeyMismatch;

        // campaign
        QTest::newRow("campaign empty") << record("1"_ba, one, {campaign(""_ba)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign null value")
            << record("1"_ba, one, {nullHdr(codec::kHeaderCampaign)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign uppercase") << record("1"_ba, one, {campaign("Summer"_ba)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign leading dash") << record("1"_ba, one, {campaign("-x"_ba)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign leading underscore")
            << record("1"_ba, one, {campaign("_x"_ba)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign space") << record("1"_ba, one, {campaign("a b"_ba)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign dot") << record("1"_ba, one, {campaign("a.b"_ba)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign slash") << record("1"_ba, one, {campaign("a/b"_ba)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign sql quote")
            << record("1"_ba, one, {campaign("a';drop"_ba)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign utf-8") << record("1"_ba, one, {campaign("caf\xc3\xa9"_ba)})
                                        << DecodeError::BadCampaign;
        QTest::newRow("campaign latin-1") << record("1"_ba, one, {campaign("caf\xe9"_ba)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign 65 chars")
            << record("1"_ba, one, {campaign(QByteArray(65, 'a'))}) << DecodeError::BadCampaign;
        QTest::newRow("campaign bad, no key")
            << record(std::nullopt, one, {campaign("BAD"_ba)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign good then bad (last wins)")
            << record("1"_ba, one, {campaign("good"_ba), campaign("BAD"_ba)}) << DecodeError::BadCampaign;
        QTest::newRow("campaign good then null (last wins)")
            << record("1"_ba, one, {campaign("good"_ba), nullHdr(codec::kHeaderCampaign)}) << DecodeError::BadCampaign;

        // ticket / applied-at
        const QList<std::pair<const char *, QByteArray>> badNumbers = {
            {"empty", ""_ba},
            {"text", "abc"_ba},
            {"negative", "-1"_ba},
            {"plus", "+1"_ba},
            {"leading zero", "01"_ba},
            {"double zero", "00"_ba},
            {"leading space", " 5"_ba},
            {"trailing space", "5 "_ba},
            {"float", "1.0"_ba},
            {"exponent", "1e3"_ba},
            {"hex", "0x10"_ba},
            {"2^63", "9223372036854775808"_ba},
            {"20 digits", "12345678901234567890"_ba},
            {"binary long", be64(5)},
        };
        for (const auto &[what, text] : badNumbers) {
            QTest::addRow("ticket %s", what)
                << record("1"_ba, one, {campaign("c"_ba), ticket(text)}) << DecodeError::BadHeader;
            QTest::addRow("applied-at %s", what)
                << record("1"_ba, one, {campaign("c"_ba), applied(text)}) << DecodeError::BadHeader;
        }
        QTest::newRow("ticket bad, default campaign")
            << record(std::nullopt, one, {ticket("x"_ba)}) << DecodeError::BadHeader;
        QTest::newRow("ticket good then bad (last wins)")
            << record("1"_ba, one, {ticket("5"_ba), ticket("x"_ba)}) << DecodeError::BadHeader;
        QTest::newRow("applied-at good then bad (last wins)")
            << record("1"_ba, one, {applied("5"_ba), applied("-5"_ba)}) << DecodeError::BadHeader;
        QTest::newRow("bad applied-at after good ticket")
            << record("1"_ba, one, {ticket("5"_ba), applied("soon"_ba)}) << DecodeError::BadHeader;
    }

    void decodeErrors()
    {
        QFETCH(Record, rec);
        QFETCH(DecodeError, expected);

        const Decoded d = decodeRecord(rec, u"default"_s);
        QVERIFY2(d.error.has_value(),
                 qPrintable(u"expected error %1, got %2"_s.arg(coupon::codec::toString(expected), describe(d))));
        QVERIFY2(*d.error == expected,
                 qPrintable(u"expected error %1, got %2"_s.arg(coupon::codec::toString(expected), describe(d))));
        QVERIFY2(!d.message.has_value(), qPrintable(describe(d)));
    }

    void decodeAccepts_data()
    {
        QTest::addColumn<Record>("rec");
        QTest::addColumn<QString>("defaultCampaign");
        QTest::addColumn<qint64>("userId");
        QTest::addColumn<QString>("campaign");
        QTest::addColumn<qint64>("ticket");
        QTest::addColumn<QByteArray>("requestId");
        QTest::addColumn<qint64>("appliedAt");

        namespace codec = coupon::codec;
        const QByteArray one = be64(1);
        const auto campaign = [](const QByteArray &v) { return hdr(codec::kHeaderCampaign, v); };
        const auto ticket = [](const QByteArray &v) { return hdr(codec::kHeaderTicket, v); };
        const auto requestId = [](const QByteArray &v) { return hdr(codec::kHeaderRequestId, v); };
        const auto applied = [](const QByteArray &v) { return hdr(codec::kHeaderAppliedAt, v); };
        const QString dflt = u"default"_s;

        QTest::newRow("tutorial message: value only")
            << record(std::nullopt, be64(77)) << dflt << qint64(77) << dflt << qint64(0) << QByteArray() << qint64(0);
        QTest::newRow("no campaign takes the argument")
            << record(std::nullopt, be64(77)) << u"tutorial-drop"_s << qint64(77) << u"tutorial-drop"_s << qint64(0)
            << QByteArray() << qint64(0);
        QTest::newRow("no campaign, other headers")
            << record("5"_ba, be64(5), {ticket("3"_ba), applied("99"_ba)}) << u"d2"_s << qint64(5) << u"d2"_s
            << qint64(3) << QByteArray() << qint64(99);
        QTest::newRow("campaign header beats the default")
            << record(std::nullopt, one, {campaign("mine"_ba)}) << dflt << qint64(1) << u"mine"_s << qint64(0)
            << QByteArray() << qint64(0);
        QTest::newRow("key matches") << record("1"_ba, one) << dflt << qint64(1) << dflt << qint64(0) << QByteArray()
                                     << qint64(0);
        QTest::newRow("key matches max") << record("9223372036854775807"_ba, be64(quint64(kMaxId))) << dflt << kMaxId
                                         << dflt << qint64(0) << QByteArray() << qint64(0);
        QTest::newRow("value with high bytes")
            << record("72623859790382856"_ba, QByteArray::fromHex("0102030405060708")) << dflt
            << qint64(0x0102030405060708LL) << dflt << qint64(0) << QByteArray() << qint64(0);
        QTest::newRow("ticket and applied-at 0") << record("1"_ba, one, {ticket("0"_ba), applied("0"_ba)}) << dflt
                                                 << qint64(1) << dflt << qint64(0) << QByteArray() << qint64(0);
        QTest::newRow("unknown headers ignored")
            << record("1"_ba, one, {hdr("x-trace", "??"_ba), nullHdr("x-null"), campaign("c"_ba)}) << dflt << qint64(1)
            << u"c"_s << qint64(0) << QByteArray() << qint64(0);
        QTest::newRow("header order free")
            << record("1"_ba, one, {applied("8"_ba), requestId("r"_ba), ticket("6"_ba), campaign("c"_ba)}) << dflt
            << qint64(1) << u"c"_s << qint64(6) << "r"_ba << qint64(8);

        // Repeats: the last one of a name wins.
        QTest::newRow("campaign repeated") << record("1"_ba, one, {campaign("first"_ba), campaign("second"_ba)}) << dflt
                                           << qint64(1) << u"second"_s << qint64(0) << QByteArray() << qint64(0);
        QTest::newRow("campaign bad then good")
            << record("1"_ba, one, {campaign("BAD"_ba), campaign("good"_ba)}) << dflt << qint64(1) << u"good"_s
            << qint64(0) << QByteArray() << qint64(0);
        QTest::newRow("campaign null then good")
            << record("1"_ba, one, {nullHdr(codec::kHeaderCampaign), campaign("good"_ba)}) << dflt << qint64(1)
            << u"good"_s << qint64(0) << QByteArray() << qint64(0);
        QTest::newRow("ticket repeated") << record("1"_ba, one, {ticket("1"_ba), ticket("2"_ba), ticket("3"_ba)})
                                         << dflt << qint64(1) << dflt << qint64(3) << QByteArray() << qint64(0);
        QTest::newRow("ticket bad then good") << record("1"_ba, one, {ticket("x"_ba), ticket("4"_ba)}) << dflt
                                              << qint64(1) << dflt << qint64(4) << QByteArray() << qint64(0);
        QTest::newRow("applied-at repeated") << record("1"_ba, one, {applied("100"_ba), applied("200"_ba)}) << dflt
                                             << qint64(1) << dflt << qint64(0) << QByteArray() << qint64(200);
        QTest::newRow("request-id repeated") << record("1"_ba, one, {requestId("aaa"_ba), requestId("bbb"_ba)}) << dflt
                                             << qint64(1) << dflt << qint64(0) << "bbb"_ba << qint64(0);
        QTest::newRow("everything repeated, interleaved")
            << record("1"_ba, one,
                      {campaign("c1"_ba), ticket("1"_ba), requestId("r1"_ba), applied("11"_ba), campaign("c2"_ba),
                       ticket("2"_ba), requestId("r2"_ba), applied("22"_ba)})
            << dflt << qint64(1) << u"c2"_s << qint64(2) << "r2"_ba << qint64(22);

        // request-id is cut to 64 bytes.
        QByteArray longId;
        for (int i = 0; i < 100; ++i)
            longId.append(char('a' + i % 26));
        QTest::newRow("request-id 63 bytes") << record("1"_ba, one, {requestId(longId.left(63))}) << dflt << qint64(1)
                                             << dflt << qint64(0) << longId.left(63) << qint64(0);
        QTest::newRow("request-id 64 bytes") << record("1"_ba, one, {requestId(longId.left(64))}) << dflt << qint64(1)
                                             << dflt << qint64(0) << longId.left(64) << qint64(0);
        QTest::newRow("request-id 65 bytes") << record("1"_ba, one, {requestId(longId.left(65))}) << dflt << qint64(1)
                                             << dflt << qint64(0) << longId.left(64) << qint64(0);
        QTest::newRow("request-id 100 bytes") << record("1"_ba, one, {requestId(longId)}) << dflt << qint64(1) << dflt
                                              << qint64(0) << longId.left(64) << qint64(0);
        QTest::newRow("request-id 10000 bytes") << record("1"_ba, one, {requestId(QByteArray(10000, 'z'))}) << dflt
                                                << qint64(1) << dflt << qint64(0) << QByteArray(64, 'z') << qint64(0);
        QTest::newRow("request-id binary") << record("1"_ba, one, {requestId("\x00\x01\xfe\xff"_ba)}) << dflt
                                           << qint64(1) << dflt << qint64(0) << "\x00\x01\xfe\xff"_ba << qint64(0);
        QTest::newRow("request-id empty") << record("1"_ba, one, {requestId(""_ba)}) << dflt << qint64(1) << dflt
                                          << qint64(0) << QByteArray() << qint64(0);
    }

    void decodeAccepts()
    {
        QFETCH(Record, rec);
        QFETCH(QString, defaultCampaign);
        QFETCH(qint64, userId);
        QFETCH(QString, campaign);
        QFETCH(qint64, ticket);
        QFETCH(QByteArray, requestId);
        QFETCH(qint64, appliedAt);

        const Decoded d = decodeRecord(rec, defaultCampaign);
        QVERIFY2(d.message && !d.error, qPrintable(describe(d)));
        QCOMPARE(d.message->userId, userId);
        QCOMPARE(d.message->campaign, campaign);
        QCOMPARE(d.message->ticket, ticket);
        QCOMPARE(d.message->requestId.size(), requestId.size());
        QCOMPARE(d.message->requestId, requestId);
        QCOMPARE(d.message->appliedAtMs, appliedAt);
    }

    // decode() takes any range of RawHeader.
    void decodeTakesAnyHeaderRange()
    {
        namespace codec = coupon::codec;
        const QByteArray value = codec::encodeValue(12);
        const QString dflt = u"default"_s;
        const auto check = [&](const Decoded &d, const QString &campaign, qint64 ticket) -> QString {
            if (!d.message || d.error)
                return u"not decoded: "_s + describe(d);
            if (d.message->userId != 12 || d.message->campaign != campaign || d.message->ticket != ticket)
                return u"wrong message: "_s + describe(d);
            return QString();
        };

        const std::vector<RawHeader> emptyVector;
        QString problem = check(codec::decode(std::nullopt, QByteArrayView(value), emptyVector, dflt), dflt, 0);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));

        const QList<RawHeader> list{{"campaign", QByteArrayView("from-list")}, {"ticket", QByteArrayView("2")}};
        problem = check(codec::decode(std::nullopt, QByteArrayView(value), list, dflt), u"from-list"_s, 2);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));

        const std::array<RawHeader, 2> array{RawHeader{"ticket", QByteArrayView("3")},
                                             RawHeader{"campaign", QByteArrayView("from-array")}};
        problem = check(codec::decode(std::nullopt, QByteArrayView(value), array, dflt), u"from-array"_s, 3);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));

        const RawHeader cArray[] = {{"campaign", QByteArrayView("from-c-array")}};
        problem = check(codec::decode(std::nullopt, QByteArrayView(value), cArray, dflt), u"from-c-array"_s, 0);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void toStringNames_data()
    {
        QTest::addColumn<DecodeError>("error");
        QTest::addColumn<QString>("expected");

        QTest::newRow("value size") << DecodeError::ValueSize << u"value_size"_s;
        QTest::newRow("user id range") << DecodeError::UserIdRange << u"user_id_range"_s;
        QTest::newRow("key mismatch") << DecodeError::KeyMismatch << u"key_mismatch"_s;
        QTest::newRow("bad campaign") << DecodeError::BadCampaign << u"bad_campaign"_s;
        QTest::newRow("bad header") << DecodeError::BadHeader << u"bad_header"_s;
    }

    void toStringNames()
    {
        QFETCH(DecodeError, error);
        QFETCH(QString, expected);

        QCOMPARE(coupon::codec::toString(error), expected);
    }

    void headerNames()
    {
        // The names on the wire (docs/DESIGN.md) are shared with other
        // consumers; a rename is a format change.
        QCOMPARE(QByteArray(coupon::codec::kHeaderCampaign), "campaign"_ba);
        QCOMPARE(QByteArray(coupon::codec::kHeaderTicket), "ticket"_ba);
        QCOMPARE(QByteArray(coupon::codec::kHeaderRequestId), "request-id"_ba);
        QCOMPARE(QByteArray(coupon::codec::kHeaderAppliedAt), "applied-at"_ba);
    }
};

QTEST_GUILESS_MAIN(TestCodec)
#include "tst_codec.moc"
