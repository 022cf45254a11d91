// The gateway's router and metrics without a server: which handler a method
// and path reach, the 404 and 405 answers and the route label /metrics counts
// them under. Responders here have no connection, so their answers go nowhere;
// the metrics page says what was answered. Over HTTP: tst_gateway.

#include "gateway/metrics.h"
#include "gateway/router.h"

#include <QTest>

using namespace coupon;
using gateway::PathParts;
using gateway::Route;

namespace {

http::Request request(const QByteArray &method, const QByteArray &path)
{
    http::Request r;
    r.method = method;
    r.path = path;
    return r;
}

} // namespace

class TestGatewayRoutes : public QObject
{
    Q_OBJECT

    gateway::Metrics m_metrics;
    gateway::Router m_router{m_metrics};
    QList<QByteArray> m_reached; // "<route>:<segment 3>" per handler call

    qint64 count(const char *route, int code) const
    {
        const QByteArray line = "coupon_gateway_requests_total{route=\"" + QByteArray(route) + "\",code=\""
            + QByteArray::number(code) + "\"} ";
        const QByteArray text = m_metrics.text({});
        const qsizetype at = text.indexOf(line);
        if (at < 0)
            return 0;
        const qsizetype from = at + line.size();
        return text.mid(from, text.indexOf('\n', from) - from).toLongLong();
    }

private slots:
    void initTestCase()
    {
        auto handler = [this](const char *name) {
            return [this, name](const PathParts &parts, http::Request, http::Responder, qint64) {
                m_reached.append(QByteArray(name) + ':' + (parts.size() > 3 ? parts[3].toByteArray() : QByteArray()));
            };
        };
        m_router.add(Route::Health, "GET", {"healthz"}, handler("health"));
        m_router.add(Route::Apply, "POST", {"api", "v1", "campaigns", "*", "applications"}, handler("apply"));
        m_router.add(Route::Campaign, "GET", {"api", "v1", "campaigns", "*"}, handler("campaign"));
    }

    void splitPath_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QList<QByteArray>>("parts");
        QTest::addColumn<int>("count");
        QTest::newRow("root") << QByteArray("/") << QList<QByteArray>{""} << 1;
        QTest::newRow("one") << QByteArray("/healthz") << QList<QByteArray>{"healthz"} << 1;
        QTest::newRow("trailing slash") << QByteArray("/healthz/") << QList<QByteArray>{"healthz", ""} << 2;
        QTest::newRow("empty segment") << QByteArray("/a//b") << QList<QByteArray>{"a", "", "b"} << 3;
        QTest::newRow("more than kept") << QByteArray("/1/2/3/4/5/6/7/8")
                                        << QList<QByteArray>{"1", "2", "3", "4", "5", "6"} << 8;
    }

    void splitPath()
    {
        QFETCH(QByteArray, path);
        QFETCH(QList<QByteArray>, parts);
        QFETCH(int, count);
        const PathParts split = gateway::splitPath(path);
        QCOMPARE(split.size(), count);
        for (qsizetype i = 0; i < parts.size(); ++i)
            QCOMPARE(split[i].toByteArray(), parts[i]);
    }

    void methodAndPathReachTheirHandler()
    {
        m_reached.clear();
        m_router.route(request("GET", "/healthz"), {});
        m_router.route(request("POST", "/api/v1/campaigns/spring/applications"), {});
        m_router.route(request("GET", "/api/v1/campaigns/autumn"), {});
        m_router.route(request("POST", "/api/v1/campaigns//applications"), {}); // "*" takes an empty one too
        QCOMPARE(m_reached, (QList<QByteArray>{"health:", "apply:spring", "campaign:autumn", "apply:"}));
    }

    // A known path with another method: 405 under the path's route.
    void otherMethodIs405UnderTheRoute()
    {
        m_reached.clear();
        const qint64 before = count("apply", 405);
        m_router.route(request("GET", "/api/v1/campaigns/spring/applications"), {});
        m_router.route(request("post", "/api/v1/campaigns/spring/applications"), {}); // methods are case-sensitive
        QVERIFY(m_reached.isEmpty());
        QCOMPARE(count("apply", 405), before + 2);
        QCOMPARE(count("health", 405), 0);
        m_router.route(request("DELETE", "/healthz"), {});
        QCOMPARE(count("health", 405), 1);
    }

    // No such path: 404 under route "other", never under a real endpoint.
    void unknownPathIs404UnderOther()
    {
        m_reached.clear();
        for (const QByteArray path : {"/", "/healthz/", "/api/v2/nothing", "/api/v1/campaigns/spring/users",
                                      "/api/v1/campaigns/spring/applications/1/2/3"})
            m_router.route(request("GET", path), {});
        QVERIFY(m_reached.isEmpty());
        QCOMPARE(count("other", 404), 5);
        QCOMPARE(count("health", 404), 0);
        QCOMPARE(count("apply", 404), 0);
        QCOMPARE(count("campaign", 404), 0);
    }
};

QTEST_GUILESS_MAIN(TestGatewayRoutes)
#include "tst_gateway_routes.moc"
