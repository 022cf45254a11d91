// The gateway's Gatekeeper without a server: which address a request is
// counted under, and the buckets' arithmetic.

#include "gateway/gatekeeper.h"

#include <QTest>

using namespace Qt::StringLiterals;
using namespace coupon;
using coupon::gateway::Gatekeeper;

namespace {

http::Request from(const char *peer, QList<QByteArray> forwardedFor = {})
{
    http::Request r;
    r.method = "POST";
    r.peer = QHostAddress(QString::fromLatin1(peer));
    for (const QByteArray &line : forwardedFor)
        r.headers.append({"x-forwarded-for", line});
    return r;
}

GatewaySettings addressLimited(int rate, int burst, QStringList trusted = {})
{
    GatewaySettings s;
    s.auth.enabled = false;
    s.addressRate = rate;
    s.addressBurst = burst;
    s.trustedProxies = std::move(trusted);
    return s;
}

} // namespace

class TestGatekeeper : public QObject
{
    Q_OBJECT

private slots:
    void forwardedForIsReadRightToLeftFromTrustedProxies_data()
    {
        QTest::addColumn<QByteArray>("peer");
        QTest::addColumn<QList<QByteArray>>("lines");
        QTest::addColumn<QString>("client");
        QTest::newRow("untrusted peer") << QByteArray("203.0.113.9") << QList<QByteArray>{"10.0.0.1"}
                                        << u"203.0.113.9"_s;
        QTest::newRow("one hop") << QByteArray("10.1.1.1") << QList<QByteArray>{"198.51.100.7"} << u"198.51.100.7"_s;
        QTest::newRow("spoofed left part")
            << QByteArray("10.1.1.1") << QList<QByteArray>{"6.6.6.6, 198.51.100.7"} << u"198.51.100.7"_s;
        QTest::newRow("two proxies") << QByteArray("10.1.1.1") << QList<QByteArray>{"198.51.100.7, 10.2.2.2"}
                                     << u"198.51.100.7"_s;
        QTest::newRow("two header lines")
            << QByteArray("10.1.1.1") << QList<QByteArray>{"6.6.6.6", "198.51.100.7"} << u"198.51.100.7"_s;
        QTest::newRow("hop with a port") << QByteArray("10.1.1.1") << QList<QByteArray>{"198.51.100.7:5678"}
                                         << u"198.51.100.7"_s;
        QTest::newRow("v6 hop with a port")
            << QByteArray("10.1.1.1") << QList<QByteArray>{"[2001:db8::7]:443"} << u"2001:db8::7"_s;
        QTest::newRow("garbage stops at the proxy")
            << QByteArray("10.1.1.1") << QList<QByteArray>{"unknown"} << u"10.1.1.1"_s;
        QTest::newRow("no header") << QByteArray("10.1.1.1") << QList<QByteArray>{} << u"10.1.1.1"_s;
    }
    void forwardedForIsReadRightToLeftFromTrustedProxies()
    {
        QFETCH(QByteArray, peer);
        QFETCH(QList<QByteArray>, lines);
        QFETCH(QString, client);
        const GatewaySettings settings = addressLimited(0, 1, {u"10.0.0.0/8"_s});
        const Gatekeeper gatekeeper(settings);
        QCOMPARE(gatekeeper.clientAddress(from(peer.constData(), lines)), QHostAddress(client));
    }

    // An IPv6 subscriber holds a /64: every address in it is one client.
    void ipv6ClientsAreCountedByTheirSlash64()
    {
        const GatewaySettings settings = addressLimited(1, 2);
        Gatekeeper gatekeeper(settings);
        QVERIFY(!gatekeeper.admit(from("2001:db8:1:2::1"), 0, 0).refusal);
        QVERIFY(!gatekeeper.admit(from("2001:db8:1:2::2"), 0, 0).refusal);
        const Gatekeeper::Verdict third = gatekeeper.admit(from("2001:db8:1:2:ffff::3"), 0, 0);
        QVERIFY(third.refusal);
        QCOMPARE(third.refusal->status, 429);
        QVERIFY(!gatekeeper.admit(from("2001:db8:1:3::1"), 0, 0).refusal); // the next /64
        QVERIFY(!gatekeeper.admit(from("192.0.2.1"), 0, 0).refusal);
        QVERIFY(!gatekeeper.admit(from("192.0.2.2"), 0, 0).refusal); // IPv4: each address its own
    }

    void bucketsRefillAtTheirRate()
    {
        const GatewaySettings settings = addressLimited(2, 3);
        Gatekeeper gatekeeper(settings);
        for (int i = 0; i < 3; ++i)
            QVERIFY(!gatekeeper.admit(from("192.0.2.1"), 1000, 0).refusal);
        const Gatekeeper::Verdict over = gatekeeper.admit(from("192.0.2.1"), 1000, 0);
        QVERIFY(over.refusal);
        QCOMPARE(over.refusal->status, 429);
        QCOMPARE(over.reason, gateway::Refusal::RateAddress);
        QVERIFY(!over.refusal->headers.isEmpty());
        QVERIFY(gatekeeper.admit(from("192.0.2.1"), 1400, 0).refusal);  // 0.8 of a token
        QVERIFY(!gatekeeper.admit(from("192.0.2.1"), 1500, 0).refusal); // 1 token after 500 ms at 2/s
        // A bucket that filled up again is forgotten by the next sweep.
        QCOMPARE(gatekeeper.trackedAddresses(), 1);
        QVERIFY(!gatekeeper.admit(from("192.0.2.9"), 10000, 0).refusal);
        QCOMPARE(gatekeeper.trackedAddresses(), 1);
    }
};

QTEST_GUILESS_MAIN(TestGatekeeper)
#include "tst_gatekeeper.moc"
