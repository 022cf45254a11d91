// The apply request's body (protocol/apply_request.h) with no server: what
// the gateway accepts as a user id and the stable code of every refusal.
// Over HTTP the same bodies are covered by tst_gateway.

#include "coupon/protocol/apply_request.h"

#include <QTest>

#include <limits>

using namespace Qt::StringLiterals;
using coupon::Errc;

class TestApplyRequest : public QObject
{
    Q_OBJECT

private slots:
    void accepted_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<qint64>("user");
        QTest::newRow("plain") << QByteArray(R"({"userId":42})") << qint64(42);
        QTest::newRow("spaces and other members")
            << QByteArray(" {\"name\":\"x\", \"userId\" : 7 ,\"n\":[1,{}]}\n") << qint64(7);
        QTest::newRow("largest") << QByteArray(R"({"userId":9223372036854775807})")
                                 << std::numeric_limits<qint64>::max();
        QTest::newRow("one") << QByteArray(R"({"userId":1})") << qint64(1);
        // A key is what it says once its escapes are read, as any JSON reader in front sees it.
        QTest::newRow("key spelled with an escape") << QByteArray(R"({"\u0075serId":5})") << qint64(5);
        QTest::newRow("key with an escaped solidus elsewhere") << QByteArray(R"({"a\/b":1,"userId":6})") << qint64(6);
        QTest::newRow("valid UTF-8 and a surrogate pair")
            << QByteArray("{\"n\":\"caf\xc3\xa9 \xf0\x9f\x8e\x9f\",\"e\":\"\\ud83c\\udf9f\",\"userId\":8}")
            << qint64(8);
    }
    void accepted()
    {
        QFETCH(QByteArray, body);
        QFETCH(qint64, user);
        const coupon::Result<qint64> parsed = coupon::parseApplyBody(body);
        QVERIFY2(parsed.ok(), qPrintable(parsed ? QString() : parsed.error().toString()));
        QCOMPARE(*parsed, user);
    }

    void refused_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("errc");
        const auto badJson = int(Errc::BadJson);
        const auto badUser = int(Errc::BadUserId);
        QTest::newRow("empty") << QByteArray() << badJson;
        QTest::newRow("not JSON") << QByteArray("userId=42") << badJson;
        QTest::newRow("trailing bytes") << QByteArray(R"({"userId":42}x)") << badJson;
        QTest::newRow("two values") << QByteArray(R"({"userId":42}{})") << badJson;
        QTest::newRow("unclosed") << QByteArray(R"({"userId":42)") << badJson;
        QTest::newRow("missing") << QByteArray(R"({"user":42})") << badUser;
        QTest::newRow("twice") << QByteArray(R"({"userId":1,"userId":2})") << badUser;
        QTest::newRow("string") << QByteArray(R"({"userId":"42"})") << badUser;
        QTest::newRow("null") << QByteArray(R"({"userId":null})") << badUser;
        QTest::newRow("fraction") << QByteArray(R"({"userId":1.0})") << badUser;
        QTest::newRow("exponent") << QByteArray(R"({"userId":1e3})") << badUser;
        QTest::newRow("zero") << QByteArray(R"({"userId":0})") << badUser;
        QTest::newRow("negative") << QByteArray(R"({"userId":-1})") << badUser;
        QTest::newRow("past 2^63-1") << QByteArray(R"({"userId":9223372036854775808})") << badUser;
        QTest::newRow("an array, not an object") << QByteArray(R"([42])") << badJson;
        // The same key twice, once escaped: Python, JS and Go read the last one.
        QTest::newRow("twice, once escaped") << QByteArray(R"({"userId":1,"\u0075serId":2})") << badUser;
        QTest::newRow("twice, fully escaped")
            << QByteArray(R"({"\u0075\u0073\u0065\u0072\u0049\u0064":1,"userId":2})") << badUser;
        // Not UTF-8: refused, whatever a reader in front would make of it.
        QTest::newRow("invalid byte") << QByteArray("{\"n\":\"\xff\",\"userId\":1}") << badJson;
        QTest::newRow("overlong /") << QByteArray("{\"n\":\"\xc0\xaf\",\"userId\":1}") << badJson;
        QTest::newRow("encoded surrogate") << QByteArray("{\"n\":\"\xed\xa0\x80\",\"userId\":1}") << badJson;
        QTest::newRow("past U+10FFFF") << QByteArray("{\"n\":\"\xf4\x90\x80\x80\",\"userId\":1}") << badJson;
        QTest::newRow("truncated sequence") << QByteArray("{\"n\":\"\xe2\x82\",\"userId\":1}") << badJson;
        QTest::newRow("lone high surrogate escape") << QByteArray(R"({"n":"\ud800","userId":1})") << badJson;
        QTest::newRow("lone low surrogate escape") << QByteArray(R"({"n":"\udc00","userId":1})") << badJson;
        QTest::newRow("invalid UTF-8 in a key") << QByteArray("{\"\xff\":1,\"userId\":1}") << badJson;
    }
    void refused()
    {
        QFETCH(QByteArray, body);
        QFETCH(int, errc);
        const coupon::Result<qint64> parsed = coupon::parseApplyBody(body);
        QVERIFY2(!parsed.ok(), qPrintable(u"accepted as %1"_s.arg(parsed ? *parsed : 0)));
        QVERIFY2(parsed.error().is(Errc(errc)), qPrintable(parsed.error().toString()));
        QVERIFY(!parsed.error().isRetriable());
        QVERIFY(!parsed.error().message.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestApplyRequest)
#include "tst_apply_request.moc"
