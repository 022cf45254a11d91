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
