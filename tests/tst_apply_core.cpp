// The apply protocol's decisions (ApplyCore) with no server: replies and
// delivery reports are built here in the shapes Redis and Kafka give, and
// time moves only with the test's ManualClock. The two services that carry
// these decisions over real Redis and Kafka are covered by tst_pipeline and
// tst_gateway.

#include "coupon/protocol/apply_core.h"

#include <QTest>

#include <set>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

const QString kCampaign = u"spring"_s;

ApplySettings memoSettings(int validForMs)
{
    ApplySettings s;
    s.soldOutMemoMs = validForMs;
    s.soldOutMemoMaxUsers = 1000;
    return s;
}

// {verdict, ticket, now_ms}: what scripts::apply returns.
Reply applyReply(const QByteArray &verdict, qint64 ticket = 0, qint64 nowMs = 1'700'000'000'000)
{
    return Reply::fromArray({Reply::fromString(verdict), Reply::fromInteger(ticket), Reply::fromInteger(nowMs)});
}

// What scripts::soldOutSnapshot returns for a sold-out campaign held by `holders`.
Reply snapshotReply(const std::vector<QByteArray> &holders)
{
    std::vector<Reply> members;
    for (const QByteArray &h : holders)
        members.push_back(Reply::fromString(h));
    return Reply::fromArray({Reply::fromString("3|open|0|0|1|3"), Reply::fromInteger(1'000'000), Reply::fromInteger(0),
                             Reply::fromInteger(0), Reply::fromArray(std::move(members))});
}

DeliveryReport report(DeliveryReport::Outcome outcome, const QString &text = {})
{
    DeliveryReport r;
    r.outcome = outcome;
    if (outcome == DeliveryReport::Outcome::Persisted) {
        r.partition = 2;
        r.offset = 41;
    } else {
        r.error = Error(Errc::Kafka, u"kafka._MSG_TIMED_OUT"_s, text, true);
    }
    return r;
}

// Takes a core's campaign to sold out with holders 1..3 in its memo.
void soldOutWithHolders(ApplyCore &core)
{
    ApplyResult result = core.begin(kCampaign, 4).result;
    const Reply soldOut = applyReply("sold_out", 3);
    const ApplyCore::Decision d = core.decide(kCampaign, &soldOut, {}, result);
    QCOMPARE(int(result.status), int(ApplyOutcome::SoldOut));
    QVERIFY(d.memoLoad != 0);
    const Reply snapshot = snapshotReply({"1", "2", "3"});
    core.memoLoaded(kCampaign, d.memoLoad, &snapshot);
    QCOMPARE(core.memo().snapshots(), 1);
}

} // namespace

class TestApplyCore : public QObject
{
    Q_OBJECT

private slots:
    void invalidInputIsAnsweredAtOnce_data()
    {
        QTest::addColumn<QString>("campaign");
        QTest::addColumn<qint64>("user");
        QTest::addColumn<QString>("detail");
        QTest::newRow("campaign with a capital") << u"Spring"_s << qint64(1) << u"campaign id must match"_s;
        QTest::newRow("empty campaign") << QString() << qint64(1) << u"campaign id must match"_s;
        QTest::newRow("campaign of 65 characters") << QString(65, u'a') << qint64(1) << u"campaign id must match"_s;
        QTest::newRow("user 0") << kCampaign << qint64(0) << u"user id must be an integer"_s;
        QTest::newRow("negative user") << kCampaign << qint64(-5) << u"user id must be an integer"_s;
    }
    void invalidInputIsAnsweredAtOnce()
    {
        QFETCH(QString, campaign);
        QFETCH(qint64, user);
        QFETCH(QString, detail);
        ApplyCore core(memoSettings(100));
        const ApplyCore::Begin b = core.begin(campaign, user);
        QVERIFY(b.answered);
        QCOMPARE(int(b.result.status), int(ApplyOutcome::Invalid));
        QVERIFY2(b.result.detail.startsWith(detail), qPrintable(b.result.detail));
    }

    void everyRequestHasItsOwnId()
    {
        ApplyCore core(memoSettings(100));
        std::set<QByteArray> ids;
        for (int i = 0; i < 1000; ++i) {
            const ApplyCore::Begin b = core.begin(kCampaign, i + 1);
            QVERIFY(!b.answered);
            QVERIFY(!b.result.requestId.isEmpty());
            ids.insert(b.result.requestId);
        }
        QCOMPARE(ids.size(), size_t(1000));
        // Another process (another core) never repeats them.
        ApplyCore other(memoSettings(100));
        QVERIFY(!ids.contains(other.begin(kCampaign, 1).result.requestId));
    }

    void readsTheScriptsVerdict_data()
    {
        QTest::addColumn<QByteArray>("verdict");
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("produce");
        QTest::addColumn<qint64>("ticket");
        QTest::newRow("accepted") << QByteArray("accepted") << int(ApplyOutcome::Accepted) << true << qint64(7);
        QTest::newRow("duplicate") << QByteArray("duplicate") << int(ApplyOutcome::Duplicate) << false << qint64(0);
        QTest::newRow("sold_out") << QByteArray("sold_out") << int(ApplyOutcome::SoldOut) << false << qint64(0);
        QTest::newRow("closed") << QByteArray("closed") << int(ApplyOutcome::Closed) << false << qint64(0);
        QTest::newRow("not_loaded") << QByteArray("not_loaded") << int(ApplyOutcome::NotLoaded) << false << qint64(0);
        QTest::newRow("reconciling") << QByteArray("reconciling") << int(ApplyOutcome::Reconciling) << false
                                     << qint64(0);
        QTest::newRow("unknown verdict") << QByteArray("maybe") << int(ApplyOutcome::NotLoaded) << false << qint64(0);
    }
    void readsTheScriptsVerdict()
    {
        QFETCH(QByteArray, verdict);
        QFETCH(int, status);
        QFETCH(bool, produce);
        QFETCH(qint64, ticket);
        ApplyCore core(memoSettings(0));
        ApplyResult result = core.begin(kCampaign, 9).result;
        const Reply reply = applyReply(verdict, 7, 1'700'000'000'123);
        const ApplyCore::Decision d = core.decide(kCampaign, &reply, {}, result);
        QCOMPARE(int(result.status), status);
        QCOMPARE(d.produce, produce);
        QCOMPARE(result.ticket, ticket); // only a reservation carries its ticket
        QCOMPARE(result.appliedAtMs, 1'700'000'000'123);
        QCOMPARE(d.memoLoad, 0u); // the memo is off
    }

    void aReplyOfAnotherShapeIsUnavailable_data()
    {
        QTest::addColumn<Reply>("reply");
        QTest::newRow("integer") << Reply::fromInteger(1);
        QTest::newRow("two elements") << Reply::fromArray({Reply::fromString("accepted"), Reply::fromInteger(1)});
        QTest::newRow("error reply") << Reply::fromError("ERR something");
        QTest::newRow("nil") << Reply::nil();
    }
    void aReplyOfAnotherShapeIsUnavailable()
    {
        QFETCH(Reply, reply);
        ApplyCore core(memoSettings(100));
        ApplyResult result = core.begin(kCampaign, 9).result;
        const ApplyCore::Decision d = core.decide(kCampaign, &reply, {}, result);
        QCOMPARE(int(result.status), int(ApplyOutcome::Unavailable));
        QCOMPARE(result.detail, u"unexpected reply from the apply script"_s);
        QVERIFY(!d.produce);
    }

    void redisFailureIsUnavailableAndForgetsTheMemo()
    {
        ApplyCore core(memoSettings(60'000));
        soldOutWithHolders(core);
        QVERIFY(core.begin(kCampaign, 9).answered); // the memo answers...
        ApplyResult result = core.begin(u"other"_s, 9).result;
        const ApplyCore::Decision d = core.decide(
            u"other"_s, nullptr, Error(Errc::RedisUnavailable, u"Redis 127.0.0.1:1: connection lost"_s), result);
        QCOMPARE(int(result.status), int(ApplyOutcome::Unavailable));
        QCOMPARE(result.detail, u"Redis 127.0.0.1:1: connection lost"_s);
        QVERIFY(!d.produce);
        QVERIFY(!core.begin(kCampaign, 9).answered); // ...not after Redis failed: it may come back with other data
    }

    // Sent, and no reply within the timeout: the script may still run when
    // Redis wakes up, so the caller is not told "nothing reserved".
    void aScriptSentWithoutReplyIsUncertain()
    {
        ApplyCore core(memoSettings(60'000));
        soldOutWithHolders(core);
        ApplyResult result = core.begin(u"other"_s, 9).result;
        const ApplyCore::Decision d = core.decide(
            u"other"_s, nullptr, Error(Errc::RedisNoReply, u"Redis 127.0.0.1:1: no reply within 1000 ms"_s), result);
        QCOMPARE(int(result.status), int(ApplyOutcome::Uncertain));
        QVERIFY2(result.detail.contains(u"may have been reserved"_s), qPrintable(result.detail));
        QVERIFY(!d.produce);
        QVERIFY(!core.begin(kCampaign, 9).answered);
    }

    void soldOutTakesOneSnapshotThatAnswersLikeTheScript()
    {
        ManualClock clock(1000);
        ApplyCore core(memoSettings(100), clock);
        soldOutWithHolders(core);
        // A second sold_out while the snapshot holds loads nothing more.
        ApplyResult again = core.begin(u"other"_s, 9).result;
        const Reply soldOut = applyReply("sold_out");
        QCOMPARE(core.decide(kCampaign, &soldOut, {}, again).memoLoad, 0u);

        ApplyCore::Begin holder = core.begin(kCampaign, 2);
        QVERIFY(holder.answered);
        QCOMPARE(int(holder.result.status), int(ApplyOutcome::Duplicate));
        ApplyCore::Begin newcomer = core.begin(kCampaign, 5);
        QVERIFY(newcomer.answered);
        QCOMPARE(int(newcomer.result.status), int(ApplyOutcome::SoldOut));
        QCOMPARE(core.memo().answers(), 2);

        // Due after 100 ms: Redis decides again and one caller re-checks the fingerprint.
        clock.advance(100);
        const ApplyCore::Begin due = core.begin(kCampaign, 5);
        QVERIFY(!due.answered);
        QVERIFY(due.memo.check);
        const Reply changed = Reply::fromArray({Reply::fromString("3|open|0|0|2|2"), Reply::fromInteger(1'000'100)});
        core.memoChecked(kCampaign, due.memo, &changed);
        QVERIFY(!core.begin(kCampaign, 5).answered); // a slot came back: Redis answers
    }

    void ownReservationVoidsTheSnapshot()
    {
        ApplyCore core(memoSettings(60'000));
        soldOutWithHolders(core);
        // Another process released a slot and this one reserved it (the
        // fingerprint check would also notice, later).
        ApplyResult result = core.begin(u"spring"_s, 9).result;
        QVERIFY(core.begin(kCampaign, 9).answered);
        const Reply accepted = applyReply("accepted", 3);
        QVERIFY(core.decide(kCampaign, &accepted, {}, result).produce);
        QVERIFY(!core.begin(kCampaign, 9).answered);
    }

    void deliveryDecidesTheAnswer()
    {
        ApplyCore core(memoSettings(100));
        ApplyResult persisted = core.begin(kCampaign, 1).result;
        QCOMPARE(int(core.delivered(kCampaign, report(DeliveryReport::Outcome::Persisted), persisted)),
                 int(ApplyCore::AfterDelivery::Confirm));
        QCOMPARE(int(persisted.status), int(ApplyOutcome::Accepted));
        QCOMPARE(persisted.partition, 2);
        QCOMPARE(persisted.offset, 41);

        ApplyResult lost = core.begin(kCampaign, 2).result;
        QCOMPARE(int(core.delivered(
                     kCampaign, report(DeliveryReport::Outcome::NotPersisted, u"Local: Message timed out"_s), lost)),
                 int(ApplyCore::AfterDelivery::Release));
        QCOMPARE(int(lost.status), int(ApplyOutcome::Unavailable));
        QCOMPARE(lost.detail, u"Kafka: Local: Message timed out"_s);

        ApplyResult unknown = core.begin(kCampaign, 3).result;
        QCOMPARE(int(core.delivered(kCampaign,
                                    report(DeliveryReport::Outcome::PossiblyPersisted, u"Local: Message timed out"_s),
                                    unknown)),
                 int(ApplyCore::AfterDelivery::KeepPending));
        QCOMPARE(int(unknown.status), int(ApplyOutcome::Uncertain));
        QCOMPARE(unknown.detail, u"Kafka (possibly persisted): Local: Message timed out"_s);
    }

    // A produce that queued nothing comes back as NotPersisted with the
    // producer's reason already in the answer: that reason stays.
    void producerRefusalKeepsItsReason()
    {
        ApplyCore core(memoSettings(100));
        ApplyResult refused = core.begin(kCampaign, 1).result;
        refused.detail = u"Kafka producer queue full"_s;
        QCOMPARE(int(core.delivered(kCampaign, report(DeliveryReport::Outcome::NotPersisted, u"ignored"_s), refused)),
                 int(ApplyCore::AfterDelivery::Release));
        QCOMPARE(refused.detail, u"Kafka producer queue full"_s);
    }

    // A release gives a slot back: a snapshot asked for before the release
    // script ran may still hold the user, and must not be installed.
    void releaseVoidsASnapshotOnItsWay()
    {
        ApplyCore core(memoSettings(60'000));
        ApplyResult lost = core.begin(kCampaign, 3).result;
        QCOMPARE(int(core.delivered(kCampaign, report(DeliveryReport::Outcome::NotPersisted), lost)),
                 int(ApplyCore::AfterDelivery::Release));
        // Meanwhile another apply hears sold_out and asks for a snapshot...
        ApplyResult soldOut = core.begin(kCampaign, 4).result;
        const Reply reply = applyReply("sold_out", 3);
        const quint64 token = core.decide(kCampaign, &reply, {}, soldOut).memoLoad;
        QVERIFY(token != 0);
        // ...then the release script runs, then the snapshot (taken before it) arrives.
        core.released(kCampaign);
        const Reply snapshot = snapshotReply({"1", "2", "3"});
        core.memoLoaded(kCampaign, token, &snapshot);
        QCOMPARE(core.memo().snapshots(), 0);
        QVERIFY(!core.begin(kCampaign, 3).answered);
    }

    void theMessageCarriesTheReservation()
    {
        ApplyCore core(memoSettings(100));
        ApplyResult result = core.begin(kCampaign, 77).result;
        const Reply accepted = applyReply("accepted", 12, 1'700'000'000'456);
        QVERIFY(core.decide(kCampaign, &accepted, {}, result).produce);
        const CouponMessage m = core.message(kCampaign, 77, result);
        QCOMPARE(m.campaign, kCampaign);
        QCOMPARE(m.userId, 77);
        QCOMPARE(m.ticket, 12);
        QCOMPARE(m.appliedAtMs, 1'700'000'000'456);
        QCOMPARE(m.requestId, result.requestId);
    }
};

Q_DECLARE_METATYPE(coupon::Reply)

QTEST_GUILESS_MAIN(TestApplyCore)
#include "tst_apply_core.moc"
