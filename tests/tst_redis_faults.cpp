// Redis is a cache of promises; the topic and MySQL are the record. Each
// test here breaks the cache the way a real Redis breaks (a crash that loses
// the AOF's tail, a freeze past the command timeout, a restart that takes a
// while to load) or loses the caller of a reservation (a gateway killed
// mid-produce), on a Redis of its own, with the real coupon-gateway and
// coupon-worker, and checks that no promise breaks and that everything heals
// with no operator command run.

#include "coupon/protocol/keys.h"
#include "coupon/service/apply_service.h"
#include "coupon/service/campaigns.h"
#include "testsupport.h"

#include <librdkafka/rdkafka_mock.h>

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QScopeGuard>
#include <QTest>

#include <memory>
#include <thread>
#include <vector>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

QByteArray applyPath(const QString &campaign)
{
    return "/api/v1/campaigns/" + campaign.toLatin1() + "/applications";
}

QString codeOf(const test::HttpResult &r)
{
    return QJsonDocument::fromJson(r.body).object().value(u"code"_s).toString();
}

// Short timeouts so a test waits seconds, not the defaults' tens of seconds:
// the reconciler derives its waits from kafka.message.timeout.ms.
const QStringList kFastWorker{u"--set"_s, u"kafka.message.timeout.ms=3000"_s, u"--set"_s,
                              u"worker.reconcile.interval.ms=200"_s};
// The tests' callers retry each user until an answer settles: faster than
// the per-user rate limit a person meets (tst_identity tests that).
const QStringList kRetryingCallers{u"--set"_s, u"gateway.limit.user.burst=100000"_s};
const QStringList kFastGateway = QStringList{u"--set"_s, u"kafka.message.timeout.ms=3000"_s} + kRetryingCallers;

// A Redis of the test's own, CampaignOps on it and an open campaign, closed
// again at the end (so a later test's worker does not rebuild it into the
// stack's Redis).
struct Rig
{
    explicit Rig(QStringList redisArgs = {})
        : redis(std::move(redisArgs))
    { }
    ~Rig()
    {
        if (ops && !campaign.isEmpty())
            (void)ops->close(campaign);
    }
    // An error text, empty when all is up.
    QString open(const Settings &base, const QString &prefix, qint64 limit)
    {
        if (QString error = redis.start(); !error.isEmpty())
            return error;
        settings = redis.pointed(base);
        ops = std::make_unique<CampaignOps>(settings, u"tst_redis_faults_"_s + prefix);
        if (Status st = ops->connect(); !st)
            return st.error().message;
        campaign = test::openCampaign(*ops, prefix, limit);
        return {};
    }
    QString startGateway(test::GatewayProcess &gateway)
    {
        if (QString error = gateway.start(); !error.isEmpty())
            return error;
        if (!test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 200; }, 30000))
            return u"gateway not ready: "_s + gateway.output().right(1500);
        return {};
    }
    test::HttpResult apply(const test::GatewayProcess &gateway, qint64 user) const
    {
        return test::apply(gateway.port(), applyPath(campaign), user);
    }
    // The five invariants with the answers given; an error text, empty when they hold.
    QString audit(const AnsweredApplies &answered)
    {
        Result<AuditReport> report = ops->audit(campaign, 60000, &answered);
        if (!report)
            return report.error().message;
        return report->ok ? QString() : report->violations.join(u"; "_s);
    }

    test::RedisServer redis;
    Settings settings;
    std::unique_ptr<CampaignOps> ops;
    QString campaign;
};

} // namespace

class TestRedisFaults : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();

private slots:
    // The minimal case of the issue: Redis comes back without the last
    // writes it acknowledged. Nothing may be decided on what it kept; the
    // campaign answers 503 reconciling until it is rebuilt from MySQL, then
    // reopens by itself with every holder known again.
    void aofTailLossIsReconciledBeforeAnyDecision()
    {
        Rig rig;
        const QString up = rig.open(m_settings, u"aof-tail"_s, 10);
        QVERIFY2(up.isEmpty(), qPrintable(up));
        test::WorkerProcess worker(rig.redis.serviceArgs() + kFastWorker);
        QVERIFY2(worker.start().isEmpty(), qPrintable(worker.output()));
        test::GatewayProcess gateway(rig.redis.serviceArgs() + kFastGateway);
        const QString ready = rig.startGateway(gateway);
        QVERIFY2(ready.isEmpty(), qPrintable(ready));
        auto apply = [&](qint64 user) { return rig.apply(gateway, user); };

        for (qint64 user = 1; user <= 5; ++user)
            QCOMPARE(apply(user).status, 202);
        // What a host crash keeps of an everysec AOF: the file as it is now.
        const QString aof = rig.redis.incrAof();
        QVERIFY2(!aof.isEmpty(), "no AOF file");
        const qint64 kept = QFileInfo(aof).size();
        for (qint64 user = 6; user <= 10; ++user)
            QCOMPARE(apply(user).status, 202);
        QVERIFY(rig.ops->waitForDrain(60000).ok());

        rig.redis.kill9();
        QVERIFY(QFile::resize(aof, kept));
        QVERIFY2(rig.redis.start().isEmpty(), "redis-server did not come back");
        // The test's own connection went with the old process.
        QVERIFY(test::waitFor([&] { return rig.ops->redis().connect().ok(); }, 60000));
        // Redis now says 5 of 10 are taken and users 6-10 never applied.
        // Until the campaign is rebuilt, no apply is decided on that.
        test::HttpResult first;
        QVERIFY2(test::waitFor(
                     [&] {
                         first = apply(11);
                         return first.status != 503 || codeOf(first) == u"reconciling"_s;
                     },
                     30000),
                 "the gateway did not reconnect");
        QCOMPARE(first.status, 503);
        QCOMPARE(codeOf(first), u"reconciling"_s);
        QVERIFY(!first.header("retry-after").isEmpty());

        // It reopens by itself: user 6 holds a coupon and hears so.
        QElapsedTimer clock;
        clock.start();
        test::HttpResult six;
        QVERIFY2(test::waitFor(
                     [&] {
                         six = apply(6);
                         return six.status != 503;
                     },
                     60000),
                 qPrintable(u"still reconciling after 60 s: "_s + worker.output().right(1500)));
        qInfo("campaign decided again %lld ms after the first reconciling answer", clock.elapsed());
        QCOMPARE(six.status, 409);
        for (qint64 user = 7; user <= 10; ++user)
            QCOMPARE(apply(user).status, 409);
        for (qint64 user = 11; user <= 15; ++user)
            QCOMPARE(apply(user).status, 410);

        AnsweredApplies answered;
        for (qint64 user = 1; user <= 10; ++user)
            answered.accepted.insert(user);
        for (qint64 user = 11; user <= 15; ++user)
            answered.rejected.insert(user);
        const QString broken = rig.audit(answered);
        QVERIFY2(broken.isEmpty(), qPrintable(broken));
        QCOMPARE(rig.ops->store().couponCount(rig.campaign).value(), 10);
        QCOMPARE(gateway.terminate(), 0);
        QCOMPARE(worker.terminate(), 0);
    }

    // The same loss while the lost reservations' messages are still on their
    // way (the gateway's producer lingers 3 s): they land after Redis is
    // back, and their users hear 202. The rebuild must wait for them, or it
    // would count 5 holders, sell users 11-15 the slots, and MySQL's limit
    // would refuse coupons promised with a 202.
    void aofTailLossWithProducesInFlightWaitsForThem()
    {
        Rig rig;
        const QString up = rig.open(m_settings, u"aof-inflight"_s, 10);
        QVERIFY2(up.isEmpty(), qPrintable(up));
        test::WorkerProcess worker(rig.redis.serviceArgs() + kFastWorker);
        QVERIFY2(worker.start().isEmpty(), qPrintable(worker.output()));
        test::GatewayProcess gateway(
            rig.redis.serviceArgs() + kRetryingCallers
            + QStringList{u"--set"_s, u"kafka.message.timeout.ms=8000"_s, u"--set"_s, u"kafka.linger.ms=3000"_s});
        const QString ready = rig.startGateway(gateway);
        QVERIFY2(ready.isEmpty(), qPrintable(ready));
        // Callers on threads of their own, each with its slot in `answers`.
        auto applyAll = [&](qint64 from, qint64 to) {
            auto answers = std::make_shared<std::vector<test::HttpResult>>(size_t(to - from + 1));
            std::vector<std::thread> callers;
            for (qint64 user = from; user <= to; ++user)
                callers.emplace_back([&rig, &gateway, answers, from, user] {
                    (*answers)[size_t(user - from)] = rig.apply(gateway, user);
                });
            return std::make_pair(std::move(callers), answers);
        };

        auto [first, firstAnswers] = applyAll(1, 5);
        for (std::thread &t : first)
            t.join();
        for (const test::HttpResult &r : *firstAnswers)
            QCOMPARE(r.status, 202);
        const QString aof = rig.redis.incrAof();
        QVERIFY2(!aof.isEmpty(), "no AOF file");
        const qint64 kept = QFileInfo(aof).size();

        // Users 6-10 reserve; their messages wait in the producer.
        auto [second, secondAnswers] = applyAll(6, 10);
        const bool reserved = test::waitFor(
            [&] {
                Result<CampaignOverview> s = rig.ops->status(rig.campaign);
                return s && s->redisCount == 10;
            },
            2500);
        rig.redis.kill9();
        QVERIFY(QFile::resize(aof, kept));
        QVERIFY2(rig.redis.start().isEmpty(), "redis-server did not come back");
        for (std::thread &t : second)
            t.join();
        QVERIFY2(reserved, "users 6-10 were not all reserved before the crash");
        for (const test::HttpResult &r : *secondAnswers)
            QCOMPARE(r.status, 202); // persisted after the crash: promised
        QVERIFY(test::waitFor([&] { return rig.ops->redis().connect().ok(); }, 60000));

        test::HttpResult answer;
        QVERIFY2(test::waitFor(
                     [&] {
                         answer = rig.apply(gateway, 11);
                         return answer.status != 503;
                     },
                     60000),
                 qPrintable(worker.output().right(1500)));
        QCOMPARE(answer.status, 410); // ten holders known again: sold out
        for (qint64 user = 6; user <= 10; ++user)
            QCOMPARE(rig.apply(gateway, user).status, 409);
        AnsweredApplies answered;
        for (qint64 user = 1; user <= 10; ++user)
            answered.accepted.insert(user);
        answered.rejected.insert(11);
        const QString broken = rig.audit(answered);
        QVERIFY2(broken.isEmpty(), qPrintable(broken));
        QCOMPARE(rig.ops->store().couponCount(rig.campaign).value(), 10);
        QCOMPARE(gateway.terminate(), 0);
        QCOMPARE(worker.terminate(), 0);
    }

    // Redis frozen past the command timeout: the scripts already sent run
    // when it wakes. Their callers hear outcome_unknown (never "nothing
    // reserved"), and what they reserved is released by the worker with no
    // command run: each can apply again and get a coupon.
    void frozenRedisAnswersOutcomeUnknownAndSettlesByItself()
    {
        Rig rig;
        const QString up = rig.open(m_settings, u"frozen"_s, 100);
        QVERIFY2(up.isEmpty(), qPrintable(up));
        test::WorkerProcess worker(rig.redis.serviceArgs() + kFastWorker);
        QVERIFY2(worker.start().isEmpty(), qPrintable(worker.output()));
        test::GatewayProcess gateway(rig.redis.serviceArgs() + kFastGateway
                                     + QStringList{u"--set"_s, u"redis.command.timeout.ms=500"_s});
        const QString ready = rig.startGateway(gateway);
        QVERIFY2(ready.isEmpty(), qPrintable(ready));
        QCOMPARE(rig.apply(gateway, 1).status, 202);

        rig.redis.freeze();
        constexpr int kCallers = 8;
        std::vector<test::HttpResult> answers(kCallers);
        {
            std::vector<std::thread> callers;
            for (int i = 0; i < kCallers; ++i)
                callers.emplace_back([&, i] { answers[size_t(i)] = rig.apply(gateway, 2 + i); });
            for (std::thread &t : callers)
                t.join();
        }
        rig.redis.thaw();

        QSet<qint64> unknown, refused;
        for (int i = 0; i < kCallers; ++i) {
            const test::HttpResult &r = answers[size_t(i)];
            QCOMPARE(r.status, 503);
            if (codeOf(r) == u"outcome_unknown"_s)
                unknown.insert(2 + i);
            else
                refused.insert(2 + i);
        }
        // They were sent before the timeout dropped the connection.
        QVERIFY2(!unknown.isEmpty(), qPrintable(u"no outcome_unknown among: "_s + QString::fromUtf8(answers[0].body)));

        // The sent scripts ran when Redis woke: their reservations are pending.
        QVERIFY2(test::waitFor(
                     [&] {
                         Result<CampaignOverview> s = rig.ops->status(rig.campaign);
                         return s && s->pending >= 1;
                     },
                     5000),
                 "no script sent before the freeze ran after it: nothing here to settle");
        // Nothing answered "unavailable" was reserved; what the sent scripts
        // reserved is settled by itself: pending empties, no command run.
        RedisConnection direct(rig.settings.redis);
        QVERIFY(direct.connect().ok());
        const CampaignKeys keys(rig.campaign);
        for (qint64 user : refused) {
            Result<RedisReplyHandle> member = direct.command({"SISMEMBER", keys.users, QByteArray::number(user)});
            QVERIFY(member.ok());
            QCOMPARE(replyInteger(member->get()).value_or(-1), 0);
        }
        QVERIFY2(test::waitFor(
                     [&] {
                         Result<CampaignOverview> s = rig.ops->status(rig.campaign);
                         return s && s->pending == 0 && s->redisUsers == 1 && s->redisCount == 1;
                     },
                     40000),
                 qPrintable(u"reservations of unanswered scripts still held: "_s + worker.output().right(1500)));

        AnsweredApplies answered;
        answered.accepted.insert(1);
        for (qint64 user : unknown) {
            QCOMPARE(rig.apply(gateway, user).status, 202);
            answered.accepted.insert(user);
        }
        const QString broken = rig.audit(answered);
        QVERIFY2(broken.isEmpty(), qPrintable(broken));
        QCOMPARE(gateway.terminate(), 0);
        QCOMPARE(worker.terminate(), 0);
    }

    // A gateway killed while its produces are in flight leaves reservations
    // nobody will confirm or release. The worker releases them within its
    // settle grace and a drain, with no command run.
    void reservationsOfAKilledGatewayAreReleasedByThemselves()
    {
        Rig rig;
        const QString up = rig.open(m_settings, u"orphans"_s, 5);
        QVERIFY2(up.isEmpty(), qPrintable(up));
        // The gateway's Kafka: librdkafka's mock cluster, which answers
        // Produce only after 30 s, so its reservations stay pending.
        test::MockKafka mock(m_settings.kafka.topic);
        QVERIFY2(mock.error().isEmpty(), qPrintable(mock.error()));
        constexpr int16_t kProduce = 0;
        for (int i = 0; i < 50; ++i)
            QCOMPARE(rd_kafka_mock_broker_push_request_error_rtts(mock.cluster(), 1, kProduce, 1,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 30000),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
        test::GatewayProcess gateway(rig.redis.serviceArgs() + mock.serviceArgs() + kRetryingCallers
                                     + QStringList{u"--set"_s, u"kafka.message.timeout.ms=8000"_s});
        const QString ready = rig.startGateway(gateway);
        QVERIFY2(ready.isEmpty(), qPrintable(ready));

        std::vector<std::thread> callers;
        for (qint64 user = 1; user <= 5; ++user)
            callers.emplace_back([&rig, &gateway, user] { rig.apply(gateway, user); });
        const bool held = test::waitFor(
            [&] {
                Result<CampaignOverview> s = rig.ops->status(rig.campaign);
                return s && s->pending == 5;
            },
            30000);
        gateway.kill9();
        for (std::thread &t : callers)
            t.join();
        QVERIFY2(held, "the five reservations were never pending");
        QCOMPARE(rig.ops->status(rig.campaign).value().redisCount, 5); // sold out, to nobody

        test::WorkerProcess worker(rig.redis.serviceArgs() + kFastWorker);
        QVERIFY2(worker.start().isEmpty(), qPrintable(worker.output()));
        QElapsedTimer clock;
        clock.start();
        QVERIFY2(test::waitFor(
                     [&] {
                         Result<CampaignOverview> s = rig.ops->status(rig.campaign);
                         return s && s->pending == 0 && s->redisCount == 0 && s->redisUsers == 0;
                     },
                     40000),
                 qPrintable(u"orphaned reservations still held: "_s + worker.output().right(1500)));
        qInfo("orphans released %lld ms after the worker started", clock.elapsed());

        // The slots are back for the crowd.
        Result<std::unique_ptr<ApplyService>> service = ApplyService::create(rig.settings);
        QVERIFY(service.ok());
        AnsweredApplies answered;
        for (qint64 user = 1; user <= 5; ++user) {
            QCOMPARE(toString((*service)->applyAndWait(rig.campaign, user).status), toString(ApplyOutcome::Accepted));
            answered.accepted.insert(user);
        }
        service.value().reset();
        const QString broken = rig.audit(answered);
        QVERIFY2(broken.isEmpty(), qPrintable(broken));
        QCOMPARE(worker.terminate(), 0);
    }

    // A Redis flushed (or restored from a file without the campaign) no
    // longer has an open campaign at all. Clients take a 404 as final: the
    // gateway asks MySQL, answers 503 reconciling, and the worker rebuilds
    // the campaign by itself. An id MySQL does not know stays a 404.
    void aCampaignRedisLostIsReconcilingNeverUnknown()
    {
        Rig rig;
        const QString up = rig.open(m_settings, u"flushed"_s, 3);
        QVERIFY2(up.isEmpty(), qPrintable(up));
        test::GatewayProcess gateway(rig.redis.serviceArgs() + kFastGateway);
        const QString ready = rig.startGateway(gateway);
        QVERIFY2(ready.isEmpty(), qPrintable(ready));
        QCOMPARE(rig.apply(gateway, 1).status, 202);

        QVERIFY(rig.ops->redis().command({"FLUSHALL"}).ok());
        const test::HttpResult lost = rig.apply(gateway, 2);
        QCOMPARE(lost.status, 503);
        QCOMPARE(codeOf(lost), u"reconciling"_s);
        QVERIFY(!lost.header("retry-after").isEmpty());
        const test::HttpResult unknown = test::apply(gateway.port(), applyPath(test::uniqueCampaign(u"never"_s)), 2);
        QCOMPARE(unknown.status, 404);
        QCOMPARE(codeOf(unknown), u"unknown_campaign"_s);

        test::WorkerProcess worker(rig.redis.serviceArgs() + kFastWorker);
        QVERIFY2(worker.start().isEmpty(), qPrintable(worker.output()));
        test::HttpResult answer;
        QVERIFY2(test::waitFor(
                     [&] {
                         answer = rig.apply(gateway, 1);
                         return answer.status != 503;
                     },
                     60000),
                 qPrintable(worker.output().right(1500)));
        QCOMPARE(answer.status, 409); // user 1's coupon is known again
        // The rebuild waited for a barrier it wrote, and the worker passed it.
        const QByteArray metrics = test::http(worker.adminPort(), "GET", "/metrics").body;
        QVERIFY2(test::metricSample(metrics, "coupon_worker_reconciler_barriers_total{result=\"ok\"}") >= 1,
                 metrics.constData());
        QVERIFY2(test::metricSample(metrics, "coupon_worker_barriers_consumed_total") >= 1, metrics.constData());
        QVERIFY(test::metricSample(metrics, "coupon_worker_reconciler_barrier_last_seconds") >= 0);
        QCOMPARE(rig.apply(gateway, 2).status, 202);
        AnsweredApplies answered;
        answered.accepted = {1, 2};
        const QString broken = rig.audit(answered);
        QVERIFY2(broken.isEmpty(), qPrintable(broken));
        QCOMPARE(gateway.terminate(), 0);
        QCOMPARE(worker.terminate(), 0);
    }

    // What Sentinel does to a master that was cut off while its replica was
    // promoted, then to the promoted one when it fails in turn: the old
    // master becomes a replica of the new one (so it holds the new one's
    // data, without the writes it acknowledged alone), then is promoted
    // back. It kept its run_id, and the campaign's meta came over still
    // stamped with it. Nothing may be decided on that copy: the campaign
    // answers reconciling. (Each REPLICAOF comes with CLIENT KILL TYPE
    // normal, as Sentinel sends it, so the gateway reconnects.)
    void aMasterPromotedBackIsReconciled()
    {
        Rig rig;
        const QString up = rig.open(m_settings, u"promoted"_s, 5);
        QVERIFY2(up.isEmpty(), qPrintable(up));
        test::RedisServer other;
        QVERIFY2(other.start().isEmpty(), "the second Redis did not start");
        RedisConnection a(rig.settings.redis);
        RedisConnection b(other.pointed(m_settings).redis);
        const CampaignKeys keys(rig.campaign);
        auto replicaOf = [](RedisConnection &node, quint16 port) {
            return node.command({"REPLICAOF", "127.0.0.1", QByteArray::number(port)}).ok()
                && node.command({"CLIENT", "KILL", "TYPE", "normal"}).ok();
        };
        auto promote = [](RedisConnection &node) {
            return node.command({"REPLICAOF", "NO", "ONE"}).ok()
                && node.command({"CLIENT", "KILL", "TYPE", "normal"}).ok();
        };
        auto synced = [](RedisConnection &node) {
            Result<RedisReplyHandle> info = node.command({"INFO", "replication"});
            return info && (*info)->type == REDIS_REPLY_STRING
                && QByteArray((*info)->str, qsizetype((*info)->len)).contains("master_link_status:up");
        };
        auto holds = [&keys](RedisConnection &node, qint64 user) {
            Result<RedisReplyHandle> r = node.command({"SISMEMBER", keys.users, QByteArray::number(user)});
            return r && (*r)->type == REDIS_REPLY_INTEGER && (*r)->integer == 1;
        };
        auto metaThere = [&keys](RedisConnection &node) {
            Result<RedisReplyHandle> r = node.command({"EXISTS", keys.meta});
            return r && (*r)->type == REDIS_REPLY_INTEGER && (*r)->integer == 1;
        };

        // B replicates A (A's first replica must not change its instance),
        // then is promoted while A goes on alone.
        QVERIFY(replicaOf(b, rig.redis.port()));
        QVERIFY(test::waitFor([&] { return synced(b) && metaThere(b); }, 30000));
        QVERIFY(promote(b));
        test::GatewayProcess gateway(rig.redis.serviceArgs() + kFastGateway);
        const QString ready = rig.startGateway(gateway);
        QVERIFY2(ready.isEmpty(), qPrintable(ready));
        QCOMPARE(rig.apply(gateway, 1).status, 202); // on A alone: B never hears of it

        // A comes back as B's replica, then is promoted back.
        QVERIFY(replicaOf(a, other.port()));
        QVERIFY(test::waitFor([&] { return synced(a) && !holds(a, 1) && metaThere(a); }, 30000));
        QVERIFY(promote(a));

        test::HttpResult answer;
        QVERIFY(test::waitFor(
            [&] {
                answer = rig.apply(gateway, 1);
                return answer.status != 503 || codeOf(answer) != u"redis_unavailable"_s;
            },
            30000));
        QVERIFY2(answer.status == 503 && codeOf(answer) == u"reconciling"_s,
                 qPrintable(u"user 1, accepted before on the lost history, was answered %1 %2"_s.arg(answer.status)
                                .arg(codeOf(answer))));
        QCOMPARE(gateway.terminate(), 0);
    }

    // Redis restarts and takes seconds to load its data. The gateway must
    // not load its scripts into a loading Redis and stay unready for good:
    // /readyz comes back by itself once Redis is done, and applies are
    // reconciling (never decided on the restarted data) until the worker
    // rebuilt the campaign.
    void readinessRecoversAfterARestartThatLoadsSlowly()
    {
        // 0.2 ms per key while loading: 20,000 keys take about 4 s.
        Rig rig({u"--key-load-delay"_s, u"200"_s});
        const QString up = rig.open(m_settings, u"loading"_s, 10);
        QVERIFY2(up.isEmpty(), qPrintable(up));
        {
            RedisConnection fill(rig.settings.redis);
            QVERIFY(fill.connect().ok());
            for (int batch = 0; batch < 20; ++batch) {
                std::vector<RedisArgs> sets;
                for (int i = 0; i < 1000; ++i)
                    sets.push_back({"SET", "filler:" + QByteArray::number(batch * 1000 + i), "x"});
                QVERIFY(fill.pipeline(sets).ok());
            }
        }
        test::GatewayProcess gateway(rig.redis.serviceArgs() + kFastGateway);
        const QString ready = rig.startGateway(gateway);
        QVERIFY2(ready.isEmpty(), qPrintable(ready));
        QCOMPARE(rig.apply(gateway, 1).status, 202);

        rig.redis.kill9();
        QVERIFY2(rig.redis.start().isEmpty(), "redis-server did not come back");
        QElapsedTimer clock;
        clock.start();
        // While it loads: not ready, and saying why; nothing is decided.
        test::HttpResult loading;
        QVERIFY2(test::waitFor(
                     [&] {
                         loading = test::http(gateway.adminPort(), "GET", "/readyz");
                         return loading.body.contains("loading");
                     },
                     10000),
                 qPrintable(u"/readyz never said Redis was loading: "_s + QString::fromUtf8(loading.body)));
        QCOMPARE(loading.status, 503);
        QCOMPARE(rig.apply(gateway, 3).status, 503);
        QVERIFY2(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 200; }, 60000),
                 qPrintable(u"/readyz still 503: "_s
                            + QString::fromUtf8(test::http(gateway.adminPort(), "GET", "/readyz").body)));
        qInfo("ready again %lld ms after Redis was restarted", clock.elapsed());
        QVERIFY(test::waitFor([&] { return rig.ops->redis().connect().ok(); }, 60000));
        const test::HttpResult stale = rig.apply(gateway, 2);
        QCOMPARE(stale.status, 503);
        QCOMPARE(codeOf(stale), u"reconciling"_s);

        test::WorkerProcess worker(rig.redis.serviceArgs() + kFastWorker);
        QVERIFY2(worker.start().isEmpty(), qPrintable(worker.output()));
        test::HttpResult answer;
        QVERIFY2(test::waitFor(
                     [&] {
                         answer = rig.apply(gateway, 2);
                         return answer.status != 503;
                     },
                     60000),
                 qPrintable(worker.output().right(1500)));
        QCOMPARE(answer.status, 202);
        QCOMPARE(rig.apply(gateway, 1).status, 409);
        AnsweredApplies answered;
        answered.accepted = {1, 2};
        const QString broken = rig.audit(answered);
        QVERIFY2(broken.isEmpty(), qPrintable(broken));
        QCOMPARE(gateway.terminate(), 0);
        QCOMPARE(worker.terminate(), 0);
    }

    // Redis at its memory cap, run as the stack runs it (noeviction): the
    // writes it refuses are applies answered 503 unavailable (nothing
    // reserved, try again), and no reservation is ever evicted to make room.
    void aFullRedisRefusesAndEvictsNoReservation()
    {
        // The stack's own Redis is capped and never evicts.
        RedisConnection stack(m_settings.redis);
        Result<RedisReplyHandle> info = stack.command({"INFO", "memory"});
        QVERIFY(info.ok());
        const QByteArray memory = replyString(info->get());
        QVERIFY2(memory.contains("\r\nmaxmemory_policy:noeviction\r\n"), memory.constData());
        QVERIFY2(!memory.contains("\r\nmaxmemory:0\r\n"), "the stack's Redis has no memory cap");

        Rig rig({u"--maxmemory"_s, u"16mb"_s, u"--maxmemory-policy"_s, u"noeviction"_s});
        const QString up = rig.open(m_settings, u"full"_s, 1000);
        QVERIFY2(up.isEmpty(), qPrintable(up));
        test::GatewayProcess gateway(rig.redis.serviceArgs() + kFastGateway);
        const QString ready = rig.startGateway(gateway);
        QVERIFY2(ready.isEmpty(), qPrintable(ready));
        for (qint64 user = 1; user <= 20; ++user)
            QCOMPARE(rig.apply(gateway, user).status, 202);
        // Fill it with something else until it refuses a write; then,
        // since it hovers at the cap (client and AOF buffers come and go and
        // do not count), put the cap well under what it holds.
        const QByteArray filler(64 * 1024, 'x');
        int junk = 0;
        while (junk < 2000 && rig.ops->redis().command({"SET", "junk:" + QByteArray::number(junk), filler}))
            ++junk;
        QVERIFY2(junk > 100 && junk < 2000, qPrintable(u"%1 values of 64 KiB under a 16 MB cap"_s.arg(junk)));
        QVERIFY(rig.ops->redis().command({"CONFIG", "SET", "maxmemory", "4mb"}).ok());
        QVERIFY(!rig.ops->redis().command({"SET", "junk:last", "x"}).ok());
        const test::HttpResult full = rig.apply(gateway, 21);
        QCOMPARE(full.status, 503);
        QCOMPARE(codeOf(full), u"unavailable"_s);
        const CampaignOverview held = rig.ops->status(rig.campaign).value();
        QCOMPARE(held.redisUsers, 20);
        QCOMPARE(held.redisCount, 20);
        for (int i = 0; i < junk; ++i)
            QVERIFY(rig.ops->redis().command({"DEL", "junk:" + QByteArray::number(i)}).ok());
        QVERIFY(rig.ops->redis().command({"CONFIG", "SET", "maxmemory", "16mb"}).ok());
        QVERIFY(test::waitFor([&] { return rig.apply(gateway, 21).status == 202; }, 10000));
        QCOMPARE(rig.ops->status(rig.campaign)->redisUsers, 21);
        QCOMPARE(gateway.terminate(), 0);
    }
};

QTEST_GUILESS_MAIN(TestRedisFaults)
#include "tst_redis_faults.moc"
