// Strict input at the real gateway (issue 11, "Strict input"): what a
// client sends is read the way every reader in front of us would read it, or
// refused. Each of these was accepted before.

#include "coupon/service/campaigns.h"
#include "testsupport.h"

#include <QDeadlineTimer>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

#include <librdkafka/rdkafka_mock.h>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

QString codeOf(const test::HttpResult &r)
{
    return QJsonDocument::fromJson(r.body).object().value(u"code"_s).toString();
}

// Everything the server sends on one connection until `until` appears (or
// the deadline), for requests whose answers the response parser can't frame
// (a HEAD answer carries a Content-Length and no content).
QByteArray exchange(quint16 port, const QByteArray &raw, const QByteArray &until, int timeoutMs = 10000)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(timeoutMs))
        return {};
    socket.write(raw);
    QByteArray received;
    const QDeadlineTimer deadline(timeoutMs);
    while (!received.contains(until) && !deadline.hasExpired()) {
        if (socket.bytesAvailable() > 0 || socket.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime()))))
            received += socket.readAll();
        else if (socket.state() != QAbstractSocket::ConnectedState)
            break;
    }
    return received;
}

} // namespace

class TestStrictInput : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();
    std::unique_ptr<CampaignOps> m_ops;
    std::unique_ptr<test::GatewayProcess> m_gateway;
    QString m_campaign;

    test::HttpResult post(const QByteArray &body)
    {
        return test::http(m_gateway->port(), "POST", "/api/v1/campaigns/" + m_campaign.toLatin1() + "/applications",
                          body);
    }

private slots:
    void initTestCase()
    {
        m_ops = std::make_unique<CampaignOps>(m_settings, u"tst_strict_input"_s);
        QVERIFY(m_ops->connect().ok());
        m_campaign = test::openCampaign(*m_ops, u"strict"_s, 100);
        // The body's userId is what these tests read: it decides the user
        // where gateway.auth = none, so that is how this gateway runs.
        m_gateway = std::make_unique<test::GatewayProcess>(QStringList{u"--set"_s, u"gateway.auth=none"_s});
        const QString started = m_gateway->start();
        QVERIFY2(started.isEmpty(), qPrintable(started));
        QVERIFY(
            test::waitFor([&] { return test::http(m_gateway->adminPort(), "GET", "/readyz").status == 200; }, 30000));
    }

    void cleanupTestCase()
    {
        if (m_ops && !m_campaign.isEmpty())
            (void)m_ops->close(m_campaign);
    }

    // A validator in front (Python, JS, Go: the last duplicate wins) would
    // see user 2; we would have applied for user 1.
    void aKeyIsReadAfterItsEscapes()
    {
        const test::HttpResult twice = post(R"({"userId":1,"\u0075serId":2})");
        QCOMPARE(twice.status, 400);
        QCOMPARE(codeOf(twice), u"bad_user_id"_s);
        const test::HttpResult escaped = post(R"({"\u0075serId":3})");
        QCOMPARE(escaped.status, 202);
        QCOMPARE(QJsonDocument::fromJson(escaped.body).object().value(u"userId"_s).toInteger(), 3);
    }

    void invalidUtf8IsRefused()
    {
        for (const QByteArray &body :
             {QByteArray("{\"n\":\"\xff\",\"userId\":4}"), QByteArray("{\"n\":\"\xc0\xaf\",\"userId\":4}"),
              QByteArray(R"({"n":"\ud800","userId":4})")}) {
            const test::HttpResult r = post(body);
            QCOMPARE(r.status, 400);
            QCOMPARE(codeOf(r), u"bad_json"_s);
        }
        // Nothing was reserved for user 4.
        QCOMPARE(post(R"({"userId":4})").status, 202);
    }

    // HEAD is answered like GET, without the content: the next answer on the
    // connection starts right after the HEAD answer's headers.
    void headHasNoBody()
    {
        const QByteArray raw = exchange(m_gateway->port(),
                                        "HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                                        "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
                                        "\"alive\"");
        const qsizetype headEnd = raw.indexOf("\r\n\r\n");
        QVERIFY2(headEnd > 0, raw.constData());
        QVERIFY2(raw.startsWith("HTTP/1.1 200"), raw.constData());
        QVERIFY2(raw.left(headEnd).toLower().contains("content-length: "), raw.constData());
        QVERIFY2(raw.mid(headEnd + 4).startsWith("HTTP/1.1 200"), raw.constData());
    }

    void duplicateHostOrContentTypeIsRefused()
    {
        const test::HttpResult host = test::httpRaw(m_gateway->port(),
                                                    "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
        QCOMPARE(host.status, 400);
        const QByteArray body = R"({"userId":5})";
        const test::HttpResult type = test::httpRaw(
            m_gateway->port(),
            "POST /api/v1/campaigns/" + m_campaign.toLatin1()
                + "/applications HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\n"
                  "Content-Length: "
                + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QCOMPARE(type.status, 400);
        QCOMPARE(post(body).status, 202); // user 5 was not reserved by the refused one
    }

    // A dependency down: the public answers say which, in words of our own,
    // and name no address, port or topic (those go to the gateway's log).
    void publicAnswersNameNoInternals()
    {
        test::RedisServer redis;
        QVERIFY2(redis.start().isEmpty(), "redis-server did not start");
        CampaignOps ops(redis.pointed(m_settings), u"tst_strict_input_internals"_s);
        QVERIFY(ops.connect().ok());
        const QString campaign = test::openCampaign(ops, u"internals"_s, 10);
        test::MockKafka kafka(m_settings.kafka.topic);
        QVERIFY2(kafka.error().isEmpty(), qPrintable(kafka.error()));
        test::GatewayProcess gateway(redis.serviceArgs() + kafka.serviceArgs());
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        QVERIFY(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 200; }, 30000));
        const QByteArray path = "/api/v1/campaigns/" + campaign.toLatin1();
        const QList<QByteArray> internals{"127.0.0.1",
                                          QByteArray::number(redis.port()),
                                          kafka.bootstraps().toLatin1(),
                                          m_settings.kafka.topic.toLatin1(),
                                          "Connection refused",
                                          "errno"};
        auto check = [&](const char *what, const test::HttpResult &r) {
            QVERIFY2(r.status == 503,
                     qPrintable(u"%1: %2 %3"_s.arg(QLatin1String(what)).arg(r.status).arg(QString::fromUtf8(r.body))));
            for (const QByteArray &internal : internals)
                QVERIFY2(!r.body.contains(internal),
                         qPrintable(u"%1 names %2: %3"_s.arg(QLatin1String(what), QString::fromLatin1(internal),
                                                             QString::fromUtf8(r.body))));
        };

        // Redis hangs: the first apply waits out the command timeout, later
        // ones meet a reconnect that times out; every error text names the
        // address, and none of it may reach the client.
        redis.freeze();
        check("apply", test::apply(gateway.port(), path + "/applications", 1));
        QVERIFY(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 503; }, 10000));
        check("apply, reconnecting", test::apply(gateway.port(), path + "/applications", 3));
        // Readiness with its detail is on the admin listener only.
        QCOMPARE(test::http(gateway.port(), "GET", "/readyz").status, 404);
        check("campaign", test::http(gateway.port(), "GET", path));
        check("user", test::http(gateway.port(), "GET", path + "/users/1", {}, test::asUser(1)));
        QVERIFY2(gateway.output().contains(u"127.0.0.1"_s), "the detail did not reach the log");
        redis.thaw();
        QVERIFY(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 200; }, 30000));

        rd_kafka_mock_broker_set_down(kafka.cluster(), 1);
        QVERIFY(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 503; }, 20000));
        check("apply, Kafka down", test::apply(gateway.port(), path + "/applications", 2));
        QCOMPARE(gateway.terminate(), 0);
        (void)ops.close(campaign);
    }
};

QTEST_GUILESS_MAIN(TestStrictInput)
#include "tst_strict_input.moc"
