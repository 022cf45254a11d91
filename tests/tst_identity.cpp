// Who is applying (issue "verified identity, fair limits, bounded state"):
// the real coupon-gateway with gateway.auth = jwt on the real stack. Each
// finding of the attack run is a test here: applying for someone else,
// reading someone else's coupon, one client's unbounded rate, Idempotency-
// Key records that filled Redis with 409s and were shared across users.

#include "coupon/auth/jwt.h"
#include "coupon/redis/redis.h"
#include "coupon/service/campaigns.h"
#include "testsupport.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/types.h>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

QString codeOf(const test::HttpResult &r)
{
    return QJsonDocument::fromJson(r.body).object().value(u"code"_s).toString();
}

QByteArray applyPath(const QString &campaign)
{
    return "/api/v1/campaigns/" + campaign.toLatin1() + "/applications";
}

QList<std::pair<QByteArray, QByteArray>> withToken(const QByteArray &token)
{
    return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
}

QByteArray b64(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

void writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
}

// A JWKS with one HS256 secret: 32 bytes made of `seed`.
QByteArray secretJwks(char seed)
{
    return R"({"keys":[{"kty":"oct","k":")" + b64(QByteArray(32, seed)) + R"("}]})";
}

} // namespace

class TestIdentity : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();
    std::unique_ptr<CampaignOps> m_ops;
    std::unique_ptr<test::GatewayProcess> m_gateway;
    quint16 m_port = 0;

    QString openCampaign(const QString &prefix, qint64 limit) { return test::openCampaign(*m_ops, prefix, limit); }

    // Redis keys matching `pattern` (SCAN: KEYS is not the admin role's).
    qint64 keysMatching(const QByteArray &pattern)
    {
        qint64 found = 0;
        QByteArray cursor = "0";
        do {
            Result<RedisReplyHandle> page = m_ops->redis().command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
            if (!page || page->get()->elements != 2)
                return -1;
            cursor = replyString(page->get()->element[0]);
            found += qint64(page->get()->element[1]->elements);
        } while (cursor != "0");
        return found;
    }

    // A gateway whose clients get 2 requests and then 1 a second, and which
    // believes X-Forwarded-For from `trusted`.
    static QStringList addressLimited(const QString &trusted)
    {
        return {u"--set"_s, u"gateway.limit.address.rate=1"_s,      u"--set"_s, u"gateway.limit.address.burst=2"_s,
                u"--set"_s, u"gateway.trusted.proxies="_s + trusted};
    }

private slots:
    void initTestCase()
    {
        QVERIFY2(m_settings.gateway.auth.enabled && !m_settings.signingKeyPath.isEmpty(),
                 "the test stack's admin.ini names no JWT keys (scripts/stack makes them)");
        m_ops = std::make_unique<CampaignOps>(m_settings, u"tst_identity"_s);
        const Status connected = m_ops->connect();
        QVERIFY2(connected.ok(), qPrintable(connected.ok() ? QString() : connected.error().message));
        // Users apply at most 1 a second after a burst of 3 here.
        // ES256 tokens are checked on two threads off the event loop here
        // (the tests' other gateways check them on it: fewer than 4 cores).
        m_gateway = std::make_unique<test::GatewayProcess>(QStringList{u"--set"_s, u"gateway.limit.user.rate=1"_s,
                                                                       u"--set"_s, u"gateway.limit.user.burst=3"_s,
                                                                       u"--set"_s, u"gateway.auth.threads=2"_s});
        const QString started = m_gateway->start();
        QVERIFY2(started.isEmpty(), qPrintable(started));
        m_port = m_gateway->port();
        QVERIFY(
            test::waitFor([&] { return test::http(m_gateway->adminPort(), "GET", "/readyz").status == 200; }, 30000));
    }

    void cleanupTestCase()
    {
        if (m_gateway)
            QCOMPARE(m_gateway->terminate(15000), 0);
    }

    // The attack: one client posted other users' ids and took every coupon.
    void applyNeedsAToken()
    {
        const QString campaign = openCampaign(u"id-notoken"_s, 10);
        const test::HttpResult none = test::http(m_port, "POST", applyPath(campaign), R"({"userId":1})");
        QCOMPARE(none.status, 401);
        QCOMPARE(codeOf(none), u"unauthorized"_s);
        QCOMPARE(none.header("www-authenticate"), QByteArray("Bearer"));
        const test::HttpResult basic = test::http(
            m_port, "POST", applyPath(campaign), R"({"userId":1})",
            {{"Content-Type", "application/json"}, {"Authorization", "Basic YTpi"}});
        QCOMPARE(basic.status, 401);
        QCOMPARE(m_ops->status(campaign)->redisCount, 0);
    }

    void badTokensAreRefused_data()
    {
        QTest::addColumn<QByteArray>("token");
        const QByteArray good = test::tokenFor(7);
        const qsizetype dot = good.lastIndexOf('.');
        QTest::newRow("garbage") << QByteArray("not-a-token");
        QTest::newRow("expired") << test::tokenFor(7, -120);
        QByteArray flipped = good;
        flipped[dot + 5] = flipped[dot + 5] == 'A' ? 'B' : 'A';
        QTest::newRow("signature flipped") << flipped;
        // The same claims for another user, with the original signature.
        const QList<QByteArray> parts = good.split('.');
        QJsonObject claims
            = QJsonDocument::fromJson(QByteArray::fromBase64(parts[1], QByteArray::Base64UrlEncoding)).object();
        claims[u"sub"_s] = u"8"_s;
        QTest::newRow("claims swapped") << parts[0] + '.' + b64(QJsonDocument(claims).toJson(QJsonDocument::Compact))
                + '.' + parts[2];
        QTest::newRow("alg none") << b64(R"({"alg":"none"})") + '.' + parts[1] + '.';
        QTemporaryDir dir;
        writeFile(dir.filePath(u"other.jwks"_s), secretJwks('x'));
        const auto other = auth::Signer::fromFile(dir.filePath(u"other.jwks"_s));
        QTest::newRow("someone else's key")
            << other->mint({.user = 7, .nowS = QDateTime::currentSecsSinceEpoch(), .ttlS = 300});
    }
    void badTokensAreRefused()
    {
        QFETCH(QByteArray, token);
        static const QString campaign = openCampaign(u"id-badtoken"_s, 10);
        const test::HttpResult r = test::http(m_port, "POST", applyPath(campaign), "{}", withToken(token));
        QCOMPARE(r.status, 401);
        QCOMPARE(codeOf(r), u"invalid_token"_s);
        QCOMPARE(r.header("www-authenticate"), QByteArray(R"(Bearer error="invalid_token")"));
        QCOMPARE(m_ops->status(campaign)->redisCount, 0);
    }

    void theTokenNamesTheUser()
    {
        const QString campaign = openCampaign(u"id-user"_s, 10);
        // A body naming another user is refused; one naming nobody applies as the token's user.
        const test::HttpResult other = test::http(m_port, "POST", applyPath(campaign), R"({"userId":12})",
                                                  test::asUser(11));
        QCOMPARE(other.status, 403);
        QCOMPARE(codeOf(other), u"user_mismatch"_s);
        QCOMPARE(m_ops->status(campaign)->redisCount, 0);
        const test::HttpResult bare = test::http(m_port, "POST", applyPath(campaign), "{}", test::asUser(11));
        QCOMPARE(bare.status, 202);
        QCOMPARE(QJsonDocument::fromJson(bare.body).object().value(u"userId"_s).toInteger(), 11);
        QCOMPARE(test::apply(m_port, applyPath(campaign), 11).status, 409);
    }

    // Any user's coupon status was public.
    void usersReadOnlyTheirOwnStatus()
    {
        const QString campaign = openCampaign(u"id-status"_s, 10);
        const QByteArray path = "/api/v1/campaigns/" + campaign.toLatin1() + "/users/21";
        QCOMPARE(test::http(m_port, "GET", path).status, 401);
        const test::HttpResult other = test::http(m_port, "GET", path, {}, test::asUser(22));
        QCOMPARE(other.status, 403);
        QCOMPARE(codeOf(other), u"forbidden"_s);
        QCOMPARE(test::http(m_port, "GET", path, {}, test::asUser(21)).status, 200);
    }

    // One client applied as fast as it could and never saw a 429.
    void aUserHasARate()
    {
        const QString campaign = openCampaign(u"id-rate"_s, 10);
        QCOMPARE(test::apply(m_port, applyPath(campaign), 31).status, 202);
        QCOMPARE(test::apply(m_port, applyPath(campaign), 31).status, 409);
        QCOMPARE(test::apply(m_port, applyPath(campaign), 31).status, 409);
        const test::HttpResult limited = test::apply(m_port, applyPath(campaign), 31);
        QCOMPARE(limited.status, 429);
        QCOMPARE(codeOf(limited), u"rate_limited"_s);
        QVERIFY(limited.header("retry-after").toInt() >= 1);
        // Another user is not held back by it.
        QCOMPARE(test::apply(m_port, applyPath(campaign), 32).status, 202);
        // And the user gets a token back within about a second.
        QVERIFY(test::waitFor([&] { return test::apply(m_port, applyPath(campaign), 31).status == 409; }, 5000));
        const QByteArray metrics = test::http(m_gateway->adminPort(), "GET", "/metrics").body;
        QVERIFY2(metrics.contains("coupon_gateway_refused_total{reason=\"rate_limited_user\"} "), metrics.constData());
        QVERIFY(!metrics.contains("coupon_gateway_refused_total{reason=\"rate_limited_user\"} 0\n"));
    }

    // Per client address, X-Forwarded-For believed only from a trusted proxy.
    void anAddressHasARate()
    {
        test::GatewayProcess gateway(addressLimited(u"127.0.0.2"_s));
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        QVERIFY(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 200; }, 30000));
        const QString campaign = openCampaign(u"id-address"_s, 100);
        auto fromPeer = [&](qint64 user, const QByteArray &forwardedFor) {
            QList<std::pair<QByteArray, QByteArray>> headers;
            if (!forwardedFor.isEmpty())
                headers.append({"X-Forwarded-For", forwardedFor});
            return test::apply(gateway.port(), applyPath(campaign), user, headers).status;
        };
        // From 127.0.0.1 (not trusted): its X-Forwarded-For is ignored, so
        // changing it does not buy a new bucket.
        QCOMPARE(fromPeer(41, "10.0.0.1"), 202);
        QCOMPARE(fromPeer(42, "10.0.0.2"), 202);
        QCOMPARE(fromPeer(43, "10.0.0.3"), 429);
        QCOMPARE(gateway.terminate(15000), 0);
    }

    void trustedProxyForwardsClients()
    {
        test::GatewayProcess gateway(addressLimited(u"127.0.0.0/8"_s));
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        QVERIFY(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 200; }, 30000));
        const QString campaign = openCampaign(u"id-proxy"_s, 100);
        auto via = [&](qint64 user, const QByteArray &forwardedFor) {
            return test::apply(gateway.port(), applyPath(campaign), user, {{"X-Forwarded-For", forwardedFor}}).status;
        };
        // The right-most untrusted hop is the client; a client's own
        // (spoofable) entries to its left are not.
        QCOMPARE(via(51, "10.0.0.1"), 202);
        QCOMPARE(via(52, "6.6.6.6, 10.0.0.1"), 202);
        QCOMPARE(via(53, "7.7.7.7, 10.0.0.1"), 429);
        QCOMPARE(via(54, "10.0.0.2"), 202);            // another client behind the proxy
        QCOMPARE(via(55, "10.0.0.2, 127.0.0.9"), 202); // a second trusted hop is skipped
        QCOMPARE(via(56, "10.0.0.2"), 429);
        QCOMPARE(gateway.terminate(15000), 0);
    }

    // Every 409 was stored for 24 h: 20,000 keys in 4 s filled Redis.
    void onlyStateChangingAnswersAreKept()
    {
        const QString campaign = openCampaign(u"id-idem"_s, 1);
        const QByteArray pattern = "coupon:{" + campaign.toLatin1() + "}:idem*";
        QCOMPARE(test::apply(m_port, applyPath(campaign), 61, {{"Idempotency-Key", "k-first"}}).status, 202);
        QCOMPARE(keysMatching(pattern), 2); // the record and the user's index
        for (int i = 0; i < 20; ++i) {
            // A duplicate (user 61) and a sold out (others): answers that change nothing.
            const qint64 user = i % 2 ? 61 : 100 + i;
            QVERIFY(test::waitFor(
                [&] {
                    const int status = test::apply(m_port, applyPath(campaign), user,
                                                   {{"Idempotency-Key", "k-" + QByteArray::number(i)}})
                                           .status;
                    return status == 409 || status == 410;
                },
                10000));
        }
        // The release of a claim follows its answer (fire and forget): wait for
        // the last one to land, then nothing but the 202's record and index stay.
        QVERIFY2(test::waitFor([&] { return keysMatching(pattern) == 2; }, 5000),
                 qPrintable(QString::number(keysMatching(pattern))));
    }

    // A user's live records are capped per campaign.
    void aUserHasAnIdempotencyQuota()
    {
        test::GatewayProcess gateway(QStringList{u"--set"_s, u"gateway.idempotency.quota=1"_s});
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        QVERIFY(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 200; }, 30000));
        const QString campaign = openCampaign(u"id-quota"_s, 10);
        QCOMPARE(test::apply(gateway.port(), applyPath(campaign), 71, {{"Idempotency-Key", "a"}}).status, 202);
        QCOMPARE(test::apply(gateway.port(), applyPath(campaign), 71, {{"Idempotency-Key", "a"}}).status, 202);
        const test::HttpResult over = test::apply(gateway.port(), applyPath(campaign), 71, {{"Idempotency-Key", "b"}});
        QCOMPARE(over.status, 429);
        QCOMPARE(codeOf(over), u"idempotency_quota"_s);
        QVERIFY(over.header("retry-after").toInt() >= 1);
        // Another user's quota is their own.
        QCOMPARE(test::apply(gateway.port(), applyPath(campaign), 72, {{"Idempotency-Key", "b"}}).status, 202);
        QCOMPARE(gateway.terminate(15000), 0);
    }

    // Keys are read again on SIGHUP; a file that does not parse keeps the old ones.
    void keysReloadOnSighup()
    {
        QTemporaryDir dir;
        const QString keys = dir.filePath(u"keys.jwks"_s);
        writeFile(keys, secretJwks('a'));
        writeFile(dir.filePath(u"b.jwks"_s), secretJwks('b'));
        const auto signerA = auth::Signer::fromFile(keys);
        const auto signerB = auth::Signer::fromFile(dir.filePath(u"b.jwks"_s));
        QVERIFY(signerA && signerB);
        test::GatewayProcess gateway(QStringList{u"--set"_s, u"gateway.auth.keys="_s + keys});
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        const QString campaign = openCampaign(u"id-reload"_s, 10);
        const QByteArray path = "/api/v1/campaigns/" + campaign.toLatin1();
        auto statusWith = [&](const auth::Signer &signer) {
            const QByteArray token = signer.mint({.user = 81, .nowS = QDateTime::currentSecsSinceEpoch()});
            return test::http(gateway.port(), "GET", path + "/users/81", {}, withToken(token)).status;
        };
        QCOMPARE(statusWith(*signerA), 200);
        QCOMPARE(statusWith(*signerB), 401);
        writeFile(keys, "not a key");
        QCOMPARE(::kill(pid_t(gateway.pid()), SIGHUP), 0);
        QVERIFY(test::waitFor([&] { return gateway.output().contains(u"keeping the keys in use"_s); }, 10000));
        QCOMPARE(statusWith(*signerA), 200);
        writeFile(keys, secretJwks('b'));
        QCOMPARE(::kill(pid_t(gateway.pid()), SIGHUP), 0);
        QVERIFY(test::waitFor([&] { return statusWith(*signerB) == 200; }, 10000));
        QCOMPARE(statusWith(*signerA), 401);
        QCOMPARE(gateway.terminate(15000), 0);
    }

    void noKeysStopsTheGateway()
    {
        const QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        const test::ProgramRun run = test::runProgram(QStringLiteral(COUPON_GATEWAY_BIN),
                                                      {u"--config"_s, environment.value(u"COUPON_GATEWAY_CONFIG"_s),
                                                       u"--set"_s, u"gateway.auth.keys="_s, u"--set"_s,
                                                       u"gateway.listen=127.0.0.1:0"_s},
                                                      environment, 30000);
        QCOMPARE(run.exitCode, 2); // ExitUsage: configuration
        QVERIFY2(run.err.contains(u"gateway.auth.keys: required when gateway.auth = jwt"_s), qPrintable(run.text()));
    }
};

QTEST_GUILESS_MAIN(TestIdentity)
#include "tst_identity.moc"
