// The issuing pipeline end to end on the real stack: ApplyService (Redis Lua +
// idempotent producer) in this process, the real coupon-worker binary as a
// child process, MySQL as the record. Every wait has a deadline.

#include "coupon/loadgen/simulation.h"
#include "coupon/protocol/scripts.h"
#include "coupon/protocol/soldout_memo.h"
#include "coupon/redis/redis.h"
#include "coupon/service/apply_service.h"
#include "coupon/service/campaigns.h"
#include "testsupport.h"

#include <QTest>

#include <atomic>
#include <thread>

using namespace Qt::StringLiterals;
using namespace coupon;

class TestPipeline : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();
    std::unique_ptr<CampaignOps> m_ops;
    std::unique_ptr<ApplyService> m_service;
    std::unique_ptr<test::WorkerProcess> m_worker;

    QString openCampaign(const QString &prefix, qint64 limit) { return test::openCampaign(*m_ops, prefix, limit); }

    qint64 coupons(const QString &campaign) { return m_ops->store().couponCount(campaign).value(); }

private slots:
    void initTestCase()
    {
        m_ops = std::make_unique<CampaignOps>(m_settings, u"tst_pipeline"_s);
        const Status connected = m_ops->connect();
        QVERIFY2(connected.ok(), qPrintable(connected.ok() ? QString() : connected.error().message));
        Result<std::unique_ptr<ApplyService>> service = ApplyService::create(m_settings);
        QVERIFY2(service.ok(), qPrintable(service.ok() ? QString() : service.error().message));
        m_service = std::move(service).value();
        m_worker = std::make_unique<test::WorkerProcess>();
        const QString started = m_worker->start();
        QVERIFY2(started.isEmpty(), qPrintable(started));
    }

    void cleanupTestCase()
    {
        m_service.reset();
        if (m_worker) {
            // SIGTERM: finish, commit, leave the group, exit 0 within 10 s.
            QCOMPARE(m_worker->terminate(10000), 0);
            QVERIFY2(m_worker->output().contains(u"stopped"_s), qPrintable(m_worker->output()));
        }
    }

    // 1. The tutorial's test done right: 1000 users, 32 at a time, limit 100.
    void tutorialDropIssuesExactlyTheLimit()
    {
        const QString campaign = openCampaign(u"tutorial"_s, 100);

        // Watch the counter from a second connection while the crowd applies.
        std::atomic<bool> watching{true};
        std::atomic<qint64> highest{0};
        std::atomic<qint64> samples{0};
        std::thread watcher([&] {
            RedisConnection redis(m_settings.redis);
            const CampaignKeys keys(campaign);
            while (watching.load()) {
                Result<RedisReplyHandle> r = redis.command({"GET", keys.count});
                if (r) {
                    highest.store(std::max(highest.load(), replyInteger(r->get()).value_or(0)));
                    samples.fetch_add(1);
                }
            }
        });
        SimulationOptions options;
        options.campaign = campaign;
        options.users = 1000;
        options.concurrency = 32;
        const SimulationReport report = simulate(*m_service, options);
        watching.store(false);
        watcher.join();

        QCOMPARE(report.attempts, 1000);
        QCOMPARE(report.count(ApplyOutcome::Accepted), 100);
        QCOMPARE(report.count(ApplyOutcome::SoldOut), 900);
        QVERIFY(samples.load() > 0);
        QVERIFY2(highest.load() <= 100, qPrintable(u"the counter reached %1"_s.arg(highest.load())));

        Result<AuditReport> audit = m_ops->audit(campaign, 60000, &report.answered);
        QVERIFY2(audit.ok(), qPrintable(audit.ok() ? QString() : audit.error().message));
        QVERIFY2(audit->ok, qPrintable(audit->violations.join(u"; "_s)));
        QCOMPARE(coupons(campaign), 100);
        QCOMPARE(audit->status.redisCount, 100);
        QCOMPARE(audit->status.campaign.issued, 100);
        // The 202 set is the MySQL set.
        const QList<qint64> holders = m_ops->store().couponUsers(campaign).value();
        QCOMPARE(QSet<qint64>(holders.cbegin(), holders.cend()), report.answered.accepted);
    }

    // 2. One user applying 1000 times at once gets one coupon.
    void oneUserManyTimesGetsOne()
    {
        const QString campaign = openCampaign(u"oneuser"_s, 100);
        SimulationOptions options;
        options.campaign = campaign;
        options.users = 1;
        options.firstUser = 424242;
        options.duplicatePercent = 99900; // 999 repeats
        options.concurrency = 64;
        const SimulationReport report = simulate(*m_service, options);
        QCOMPARE(report.attempts, 1000);
        QCOMPARE(report.count(ApplyOutcome::Accepted), 1);
        QCOMPARE(report.count(ApplyOutcome::Duplicate), 999);
        Result<AuditReport> audit = m_ops->audit(campaign, 60000, &report.answered);
        QVERIFY2(audit.ok() && audit->ok,
                 qPrintable(audit.ok() ? audit->violations.join(u"; "_s) : audit.error().message));
        QCOMPARE(coupons(campaign), 1);
    }

    // 3. Two campaigns racing at once don't disturb each other.
    void twoCampaignsRaceIndependently()
    {
        const QString a = openCampaign(u"race-a"_s, 50);
        const QString b = openCampaign(u"race-b"_s, 70);
        SimulationOptions oa, ob;
        oa.campaign = a;
        ob.campaign = b;
        oa.users = ob.users = 500; // the same users try both
        oa.concurrency = ob.concurrency = 32;
        oa.duplicatePercent = ob.duplicatePercent = 20;
        SimulationReport ra, rb;
        std::thread ta([&] { ra = simulate(*m_service, oa); });
        std::thread tb([&] { rb = simulate(*m_service, ob); });
        ta.join();
        tb.join();
        QCOMPARE(ra.count(ApplyOutcome::Accepted), 50);
        QCOMPARE(rb.count(ApplyOutcome::Accepted), 70);
        for (const auto &[id, report] : {std::pair{a, &ra}, std::pair{b, &rb}}) {
            Result<AuditReport> audit = m_ops->audit(id, 60000, &report->answered);
            QVERIFY2(audit.ok() && audit->ok,
                     qPrintable(audit.ok() ? audit->violations.join(u"; "_s) : audit.error().message));
        }
        QCOMPARE(coupons(a), 50);
        QCOMPARE(coupons(b), 70);
    }

    // 4. Poison interleaved with valid messages: poison recorded, valid issued.
    void poisonIsRecordedAndSkipped()
    {
        const QString campaign = openCampaign(u"poison"_s, 1000);
        const QString unknown = test::uniqueCampaign(u"nosuch"_s);
        test::RawProducer raw(m_settings);
        struct Expect
        {
            test::Produced where;
            QString reason;
        };
        QList<Expect> poison;
        const auto headers = [&](qint64 ticket) { return test::protocolHeaders(campaign, ticket); };
        for (qint64 user = 1; user <= 60; ++user) {
            raw.send(codec::encodeKey(user), codec::encodeValue(user), headers(user));
            switch (user % 10) {
            case 1:
                poison << Expect{raw.send(codec::encodeKey(user), QByteArray(7, 'x'), headers(user)), u"value_size"_s};
                break;
            case 3:
                poison << Expect{raw.send(QByteArray("999"), codec::encodeValue(user + 5000), headers(user)),
                                 u"key_mismatch"_s};
                break;
            case 5:
                poison << Expect{
                    raw.send(codec::encodeKey(user), codec::encodeValue(user), test::protocolHeaders(unknown, 1)),
                    u"unknown_campaign"_s};
                break;
            case 7:
                poison << Expect{raw.send(QByteArray("0"), codec::encodeValue(0), headers(user)), u"user_id_range"_s};
                break;
            case 9:
                poison << Expect{raw.send(codec::encodeKey(user), codec::encodeValue(user), {{"campaign", "Bad Id!"}}),
                                 u"bad_campaign"_s};
                break;
            default: break;
            }
        }
        poison << Expect{raw.send(std::nullopt, std::nullopt, headers(1)), u"value_size"_s};
        QVERIFY2(m_ops->waitForDrain(60000).ok(), "the worker did not drain the topic");

        QCOMPARE(coupons(campaign), 60);
        QCOMPARE(m_ops->store().campaign(campaign).value()->issued, 60);
        // Each poison message is in failed_event at its exact position, with its bytes and reason.
        const QList<FailedEventRow> rows = m_ops->store().failedEvents(0, 1'000'000).value();
        for (const Expect &e : std::as_const(poison)) {
            const auto it = std::find_if(rows.cbegin(), rows.cend(), [&](const FailedEventRow &r) {
                return r.topic == m_settings.kafka.topic && r.partition == e.where.partition
                    && r.offset == e.where.offset;
            });
            QVERIFY2(
                it != rows.cend(),
                qPrintable(
                    u"no failed_event for %1 at %2/%3"_s.arg(e.reason).arg(e.where.partition).arg(e.where.offset)));
            QCOMPARE(it->reason, e.reason);
        }
        const auto valueSize = std::find_if(rows.cbegin(), rows.cend(), [&](const FailedEventRow &r) {
            return r.partition == poison.first().where.partition && r.offset == poison.first().where.offset;
        });
        QCOMPARE(valueSize->value, QByteArray(7, 'x'));
        QCOMPARE(valueSize->campaign, campaign);
        // Attributed to this campaign: all but those naming another (unknown) or no readable campaign.
        const auto ours = std::count_if(poison.cbegin(), poison.cend(), [](const Expect &e) {
            return e.reason != u"unknown_campaign"_s && e.reason != u"bad_campaign"_s;
        });
        QCOMPARE(m_ops->store().failedEventCount(campaign).value(), qint64(ours));
        QCOMPARE(m_ops->store().failedEventCount(unknown).value(), 6);
    }

    // A batch that fails part-way leaves nothing behind: the transaction guard
    // rolls back the coupon and the issued count written before the failure.
    // The failure: a poison record whose key is longer than failed_event.msg_key
    // (strict mode refuses it), written after the campaign's coupons.
    void failedBatchRollsBackWhatItWrote()
    {
        const QString campaign = openCampaign(u"rollback"_s, 10);
        const QString topic = u"tst-pipeline-"_s + campaign; // positions of its own in failed_event
        IncomingRecord coupon;
        coupon.partition = 0;
        coupon.offset = 1;
        coupon.message = CouponMessage{campaign, 42, 1, {}, 0};
        IncomingRecord poison;
        poison.partition = 0;
        poison.offset = 2;
        poison.key = QByteArray(5000, 'k');
        poison.poisonReason = u"key_size"_s;
        poison.poisonCampaign = campaign;

        const Result<BatchOutcome> failed = m_ops->store().writeBatch(topic, {coupon, poison});
        QVERIFY(!failed.ok());
        QCOMPARE(failed.error().code, u"mysql.query"_s);
        QVERIFY2(failed.error().message.startsWith(u"record poison: "_s), qPrintable(failed.error().message));
        QCOMPARE(coupons(campaign), 0);
        QCOMPARE(m_ops->store().campaign(campaign).value()->issued, 0);
        QCOMPARE(m_ops->store().failedEventCount(campaign).value(), 0);

        // The same batch with a key that fits lands whole, on the same connection.
        poison.key = QByteArray(16, 'k');
        const Result<BatchOutcome> written = m_ops->store().writeBatch(topic, {coupon, poison});
        QVERIFY2(written.ok(), qPrintable(written.ok() ? QString() : written.error().message));
        QCOMPARE(written->inserted, 1);
        QCOMPARE(written->poison, 1);
        QCOMPARE(coupons(campaign), 1);
        QCOMPARE(m_ops->store().campaign(campaign).value()->issued, 1);
        QCOMPARE(m_ops->store().failedEventCount(campaign).value(), 1);
    }

    // 5. The same message produced twice gives one coupon.
    void replayedMessageGivesOneCoupon()
    {
        const QString campaign = openCampaign(u"replay"_s, 10);
        test::RawProducer raw(m_settings);
        for (int i = 0; i < 2; ++i)
            raw.send(codec::encodeKey(77), codec::encodeValue(77), test::protocolHeaders(campaign, 1));
        QVERIFY2(m_ops->waitForDrain(60000).ok(), "the worker did not drain the topic");
        QCOMPARE(coupons(campaign), 1);
        QCOMPARE(m_ops->store().campaign(campaign).value()->issued, 1);
    }

    // 7. A message as the tutorial's Java producer sends it (LongSerializer
    // value, no key, no headers) lands in the default campaign.
    void headerlessMessageLandsInTheDefaultCampaign()
    {
        const QString fallback = m_settings.defaultCampaign;
        QVERIFY2(m_ops->open(fallback).ok(), "the default campaign comes with the schema");
        QVERIFY(m_ops->reset(fallback, 60000).ok());
        const qint64 user = 9'000'000'000'000'000'001LL;
        test::RawProducer raw(m_settings);
        raw.send(std::nullopt, codec::encodeValue(user));
        QVERIFY2(m_ops->waitForDrain(60000).ok(), "the worker did not drain the topic");
        QVERIFY(m_ops->store().hasCoupon(fallback, user).value());
        QCOMPARE(coupons(fallback), 1);
    }

    // Rejections reserve nothing: closed, unknown, invalid.
    void rejectionsReserveNothing()
    {
        const QString campaign = openCampaign(u"closed"_s, 10);
        QVERIFY(m_ops->close(campaign).ok());
        QCOMPARE(toString(m_service->applyAndWait(campaign, 5).status), toString(ApplyOutcome::Closed));
        QCOMPARE(toString(m_service->applyAndWait(test::uniqueCampaign(u"unknown"_s), 5).status),
                 toString(ApplyOutcome::NotLoaded));
        QCOMPARE(toString(m_service->applyAndWait(u"Bad!"_s, 5).status), toString(ApplyOutcome::Invalid));
        QCOMPARE(toString(m_service->applyAndWait(campaign, 0).status), toString(ApplyOutcome::Invalid));
        QCOMPARE(toString(m_service->applyAndWait(campaign, -3).status), toString(ApplyOutcome::Invalid));
        const CampaignOverview s = m_ops->status(campaign).value();
        QCOMPARE(s.redisCount, 0);
        QCOMPARE(s.redisUsers, 0);
        QCOMPARE(s.pending, 0);
        QVERIFY(m_ops->open(campaign).ok());
        const ApplyResult accepted = m_service->applyAndWait(campaign, 5);
        QCOMPARE(toString(accepted.status), toString(ApplyOutcome::Accepted));
        QCOMPARE(accepted.ticket, 1);
        QVERIFY(accepted.offset >= 0);
        QCOMPARE(toString(m_service->applyAndWait(campaign, 5).status), toString(ApplyOutcome::Duplicate));
    }

    // Redis lost an open campaign, an operator closes and reopens it: the
    // reopen rebuilds from MySQL (never sells again from zero).
    void reopenAfterRedisLossRebuilds()
    {
        const QString campaign = openCampaign(u"lost"_s, 5);
        QCOMPARE(toString(m_service->applyAndWait(campaign, 1).status), toString(ApplyOutcome::Accepted));
        QVERIFY(m_ops->waitForDrain(60000).ok());
        const CampaignKeys keys(campaign);
        RedisConnection redis(m_settings.redis);
        QVERIFY(redis.command({"DEL", keys.meta, keys.users, keys.count, keys.pending}).ok());
        QCOMPARE(toString(m_service->applyAndWait(campaign, 2).status), toString(ApplyOutcome::NotLoaded));
        QVERIFY(m_ops->close(campaign).ok());
        QVERIFY(m_ops->open(campaign).ok());
        const CampaignOverview s = m_ops->status(campaign).value();
        QCOMPARE(s.redisCount, 1);
        QCOMPARE(s.redisUsers, 1);
        QCOMPARE(toString(m_service->applyAndWait(campaign, 1).status), toString(ApplyOutcome::Duplicate));
        const ApplyResult second = m_service->applyAndWait(campaign, 2);
        QCOMPARE(toString(second.status), toString(ApplyOutcome::Accepted));
        QCOMPARE(second.ticket, 2);
    }

    // The sold-out memo answers like the script would, and a release (the
    // reaper's, here) reopens the slot for the crowd within its validity.
    void soldOutMemoAnswersExactlyAndSeesARelease()
    {
        const QString campaign = openCampaign(u"memo"_s, 3);
        const CampaignKeys keys(campaign);
        auto status = [&](qint64 user) { return toString(m_service->applyAndWait(campaign, user).status); };
        QCOMPARE(status(1), toString(ApplyOutcome::Accepted));
        QCOMPARE(status(2), toString(ApplyOutcome::Accepted));
        // User 3's reservation stays pending (as if its produce were in doubt).
        RedisConnection redis(m_settings.redis);
        QVERIFY(redis.connect().ok());
        const QByteArray instance = redis.instance(); // what the scripts are told as the Redis they run on
        Result<RedisReplyHandle> reserved = redis.eval(scripts::apply(), keys.all(), {"3", instance});
        QVERIFY(reserved.ok());
        QCOMPARE(replyString(reserved->get()->element[0]), QByteArray("accepted"));

        const SoldOutMemo &memo = m_service->memo();
        const qint64 snapshotsBefore = memo.snapshots();
        QCOMPARE(status(4), toString(ApplyOutcome::SoldOut)); // Redis says so, and the memo loads
        QVERIFY(test::waitFor([&] { return memo.snapshots() > snapshotsBefore; }, 10000));
        const qint64 answersBefore = memo.answers();
        QCOMPARE(status(1), toString(ApplyOutcome::Duplicate));
        QCOMPARE(status(3), toString(ApplyOutcome::Duplicate)); // pending counts as held
        QCOMPARE(status(5), toString(ApplyOutcome::SoldOut));
        QVERIFY2(memo.answers() > answersBefore, "the memo answered none of them");

        // The reaper releases user 3 and, at once, another gateway's user 6
        // takes the slot: the count is back at the limit, but the holders
        // changed (the epoch tells). Within the memo's validity user 6 must
        // hear duplicate and user 3 sold_out.
        auto run = [&](const LuaScript &script, const char *user) -> QByteArray {
            Result<RedisReplyHandle> r = redis.eval(script, keys.all(), {user, instance});
            if (!r)
                return QByteArray("error: ") + r.error().message.toUtf8();
            const redisReply *reply = r->get();
            if (reply->type == REDIS_REPLY_INTEGER)
                return QByteArray::number(reply->integer);
            return replyString(reply->type == REDIS_REPLY_ARRAY ? reply->element[0] : reply);
        };
        QCOMPARE(run(scripts::release(), "3"), QByteArray("1"));
        QCOMPARE(run(scripts::apply(), "6"), QByteArray("accepted"));
        QVERIFY2(test::waitFor([&] { return status(6) == toString(ApplyOutcome::Duplicate); }, 5000),
                 "user 6 holds a reservation but is still told sold_out 5 s later");
        QCOMPARE(status(3), toString(ApplyOutcome::SoldOut));

        // User 6's produce never happened: the reaper releases it, and the
        // crowd gets the slot.
        QCOMPARE(run(scripts::release(), "6"), QByteArray("1"));
        QString answer;
        QVERIFY2(test::waitFor([&] { return (answer = status(5)) != toString(ApplyOutcome::SoldOut); }, 5000),
                 "user 5 still hears sold_out 5 s after a slot was released");
        QCOMPARE(answer, toString(ApplyOutcome::Accepted));
        QCOMPARE(status(5), toString(ApplyOutcome::Duplicate));

        Result<AuditReport> audit = m_ops->audit(campaign, 60000);
        QVERIFY2(audit.ok() && audit->ok,
                 qPrintable(audit.ok() ? audit->violations.join(u"; "_s) : audit.error().message));
        QCOMPARE(coupons(campaign), 3);
    }
};

QTEST_GUILESS_MAIN(TestPipeline)
#include "tst_pipeline.moc"
