// The failed-event workflow on the real stack: real poison on the topic,
// the real coupon-worker records it, and the real couponctl binary lists,
// shows, retries and resolves it. A retry goes through the normal apply
// protocol, so the limit and one-per-user still hold; the audit names the
// unresolved ones until they are handled. Every wait has a deadline.

#include "coupon/protocol/codec.h"
#include "coupon/service/campaigns.h"
#include "coupon/service/failed_events.h"
#include "testsupport.h"

#include <QRegularExpression>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

using Run = test::ProgramRun;
using test::couponctl;

// A message of `campaign` for `user` with a ticket header that is not a
// number: poison (bad_header) whose bytes still name campaign and user.
QList<test::RawHeaderValue> badTicket(const QString &campaign)
{
    return {{codec::kHeaderCampaign, campaign.toLatin1()}, {codec::kHeaderTicket, "not-a-number"}};
}

} // namespace

class TestFailedEvents : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();
    test::StackFixture m_stack;
    std::unique_ptr<CampaignOps> &m_ops = m_stack.ops;

    // Waits until the worker recorded the poison at `at`; its id, 0 if not in time.
    qint64 recorded(const QString &campaign, const test::Produced &at)
    {
        qint64 id = 0;
        test::waitFor(
            [&] {
                Result<QList<FailedEventRow>> rows = m_ops->store().failedEvents(0, 1000, campaign);
                for (const FailedEventRow &r : rows.value())
                    if (r.partition == at.partition && r.offset == at.offset)
                        id = r.id;
                return id != 0;
            },
            30000);
        return id;
    }

    FailedEventRow row(qint64 id) { return m_ops->store().failedEvent(id).value().value(); }

private slots:
    void initTestCase()
    {
        const QString started = m_stack.start(m_settings, u"tst_failed_events"_s);
        QVERIFY2(started.isEmpty(), qPrintable(started));
    }

    void cleanupTestCase()
    {
        if (m_stack.worker)
            QCOMPARE(m_stack.worker->terminate(10000), 0);
    }

    // Bad bytes: list and show them; a retry needs a correction, and the
    // correction needs its typed confirmation; then it applies and resolves.
    void badBytesNeedAConfirmedCorrection()
    {
        const QString campaign = test::openCampaign(*m_ops, u"failed-bytes"_s, 10);
        test::RawProducer producer(m_settings);
        const test::Produced at = producer.send(QByteArray("7"), QByteArray("\x01\x02\xff", 3),
                                                test::protocolHeaders(campaign, 1));
        const qint64 id = recorded(campaign, at);
        QVERIFY(id > 0);
        const QString idText = QString::number(id);

        const Run list = couponctl({u"failed"_s, u"list"_s, u"--campaign"_s, campaign});
        QVERIFY2(list.exitCode == 0, qPrintable(list.text()));
        QVERIFY2(list.out.contains(QRegularExpression(u"^\\s*%1 +%2 +value_size"_s.arg(id).arg(campaign),
                                                      QRegularExpression::MultilineOption)),
                 qPrintable(list.text()));
        QVERIFY2(list.out.contains(u"1 unresolved failed event(s)"_s), qPrintable(list.text()));

        const Run show = couponctl({u"failed"_s, u"show"_s, idText});
        QVERIFY2(show.exitCode == 0, qPrintable(show.text()));
        QVERIFY2(show.out.contains(u"value      01 02 ff |...|"_s), qPrintable(show.text()));
        QVERIFY2(show.out.contains(u"key        37 |7|"_s), qPrintable(show.text()));
        QVERIFY2(show.out.contains(u"partition %1 offset %2"_s.arg(at.partition).arg(at.offset)),
                 qPrintable(show.text()));
        QVERIFY2(show.out.contains(u"resolved   no"_s), qPrintable(show.text()));

        // The bytes name no user: refused, and it says what to do.
        const Run plain = couponctl({u"failed"_s, u"retry"_s, idText});
        QCOMPARE(plain.exitCode, 2);
        QVERIFY2(plain.err.contains(u"corrected"_s), qPrintable(plain.text()));
        // A correction without (or with a wrong) confirmation applies nothing.
        const QString phrase = u"retry %1 as %2/7"_s.arg(id).arg(campaign);
        const QStringList corrected{u"failed"_s, u"retry"_s, idText, u"--campaign"_s, campaign, u"--user"_s, u"7"_s};
        const Run unconfirmed = couponctl(corrected);
        QCOMPARE(unconfirmed.exitCode, 2);
        QVERIFY2(unconfirmed.err.contains(phrase), qPrintable(unconfirmed.text()));
        const Run mistyped = couponctl(corrected
                                       + QStringList{u"--confirm"_s, u"retry %1 as %2/8"_s.arg(id).arg(campaign)});
        QCOMPARE(mistyped.exitCode, 2);
        QCOMPARE(m_ops->status(campaign).value().redisCount, 0);
        QVERIFY(!row(id).resolved());

        const Run confirmed = couponctl(corrected + QStringList{u"--confirm"_s, phrase, u"--by"_s, u"ops-test"_s});
        QVERIFY2(confirmed.exitCode == 0, qPrintable(confirmed.text()));
        QVERIFY2(confirmed.out.startsWith(u"accepted ticket 1"_s), qPrintable(confirmed.text()));
        QVERIFY2(test::waitFor([&] { return m_ops->store().hasCoupon(campaign, 7).value(); }, 30000),
                 "the corrected retry's coupon never arrived");
        const FailedEventRow done = row(id);
        QVERIFY(done.resolved());
        QCOMPARE(done.resolvedBy, u"ops-test"_s);
        QVERIFY2(done.resolution.contains(u"accepted"_s) && done.resolution.contains(u"corrected"_s),
                 qPrintable(done.resolution));
        QCOMPARE(done.retries, 1);

        // Resolved: gone from the default list, there with --all; no second retry.
        const Run after = couponctl({u"failed"_s, u"list"_s, u"--campaign"_s, campaign});
        QVERIFY2(after.out.contains(u"0 unresolved failed event(s)"_s), qPrintable(after.text()));
        const Run all = couponctl({u"failed"_s, u"list"_s, u"--campaign"_s, campaign, u"--all"_s});
        QVERIFY2(all.out.contains(u"resolved by ops-test"_s), qPrintable(all.text()));
        const Run again = couponctl(corrected + QStringList{u"--confirm"_s, phrase});
        QCOMPARE(again.exitCode, 1);
        QVERIFY2(again.err.contains(u"resolved already"_s), qPrintable(again.text()));
        QCOMPARE(m_ops->status(campaign).value().redisCount, 1);
    }

    // A retry from the original bytes of a user who holds a coupon answers
    // duplicate, gives no second coupon and stays unresolved; past the limit
    // it answers sold_out. The audit names them until an operator resolves them.
    void retryKeepsTheLimitsAndTheAuditTellsTheRest()
    {
        const QString campaign = test::openCampaign(*m_ops, u"failed-dup"_s, 2);
        const Run applied = couponctl({u"apply"_s, u"--campaign"_s, campaign, u"--user"_s, u"8"_s});
        QVERIFY2(applied.exitCode == 0, qPrintable(applied.text()));

        test::RawProducer producer(m_settings);
        const qint64 dup = recorded(campaign,
                                    producer.send(codec::encodeKey(8), codec::encodeValue(8), badTicket(campaign)));
        QVERIFY(dup > 0);
        QCOMPARE(row(dup).reason, u"bad_header"_s);

        const Run show = couponctl({u"failed"_s, u"show"_s, QString::number(dup)});
        QVERIFY2(show.out.contains(u"retry as   %1/8"_s.arg(campaign)), qPrintable(show.text()));
        const Run retried = couponctl({u"failed"_s, u"retry"_s, QString::number(dup), u"--by"_s, u"ops-test"_s});
        QCOMPARE(retried.exitCode, 1);
        QVERIFY2(retried.out.startsWith(u"duplicate"_s), qPrintable(retried.text()));
        QVERIFY2(retried.out.contains(u"stays unresolved"_s), qPrintable(retried.text()));
        FailedEventRow r = row(dup);
        QVERIFY(!r.resolved());
        QCOMPARE(r.retries, 1);
        QCOMPARE(r.lastRetryBy, u"ops-test"_s);
        QVERIFY2(r.lastRetryOutcome.startsWith(u"duplicate"_s), qPrintable(r.lastRetryOutcome));

        // Fill the campaign, then retry a new user's poison: sold out.
        QVERIFY(couponctl({u"apply"_s, u"--campaign"_s, campaign, u"--user"_s, u"9"_s}).exitCode == 0);
        const qint64 late = recorded(campaign,
                                     producer.send(codec::encodeKey(10), codec::encodeValue(10), badTicket(campaign)));
        QVERIFY(late > 0);
        const Run soldOut = couponctl({u"failed"_s, u"retry"_s, QString::number(late)});
        QCOMPARE(soldOut.exitCode, 1);
        QVERIFY2(soldOut.out.startsWith(u"sold_out"_s), qPrintable(soldOut.text()));

        // Drained: user 8 holds exactly one coupon, the campaign exactly its two.
        QVERIFY(m_ops->waitForDrain(60000).ok());
        QCOMPARE(m_ops->store().couponCount(campaign).value(), 2);
        QCOMPARE(m_ops->store().duplicateHolders(campaign).value(), 0);

        const QString attention = u"ATTENTION 2 unresolved failed event(s) of %1"_s.arg(campaign);
        const Run audit = couponctl({u"audit"_s, u"--campaign"_s, campaign});
        QVERIFY2(audit.exitCode == 0, qPrintable(audit.text()));
        QVERIFY2(audit.out.contains(attention), qPrintable(audit.text()));

        // Resolve needs who and why; then they are handled.
        const Run bare = couponctl({u"failed"_s, u"resolve"_s, QString::number(dup)});
        QCOMPARE(bare.exitCode, 2);
        for (const qint64 id : {dup, late}) {
            const Run resolved = couponctl({u"failed"_s, u"resolve"_s, QString::number(id), u"--by"_s, u"alice"_s,
                                            u"--reason"_s, u"user already served; the drop sold out"_s});
            QVERIFY2(resolved.exitCode == 0, qPrintable(resolved.text()));
        }
        r = row(dup);
        QVERIFY(r.resolved());
        QCOMPARE(r.resolvedBy, u"alice"_s);
        QCOMPARE(r.resolution, u"user already served; the drop sold out"_s);
        const Run twice = couponctl(
            {u"failed"_s, u"resolve"_s, QString::number(dup), u"--by"_s, u"bob"_s, u"--reason"_s, u"again"_s});
        QCOMPARE(twice.exitCode, 1);
        QVERIFY2(twice.err.contains(u"by alice"_s), qPrintable(twice.text()));
        const Run clean = couponctl({u"audit"_s, u"--campaign"_s, campaign});
        QVERIFY2(clean.exitCode == 0, qPrintable(clean.text()));
        QVERIFY2(!clean.out.contains(u"of %1"_s.arg(campaign)), qPrintable(clean.text()));
        QVERIFY2(clean.out.contains(u"all five invariants hold"_s), qPrintable(clean.text()));
    }

    // Bad input gets a clear error and changes nothing.
    void badInputIsRefused()
    {
        const Run noId = couponctl({u"failed"_s, u"show"_s, u"abc"_s});
        QCOMPARE(noId.exitCode, 2);
        QVERIFY2(noId.err.contains(u"ID must be"_s), qPrintable(noId.text()));
        const Run unknown = couponctl({u"failed"_s, u"show"_s, u"9223372036854775807"_s});
        QCOMPARE(unknown.exitCode, 2);
        QVERIFY2(unknown.err.contains(u"no failed event"_s), qPrintable(unknown.text()));
        const Run verb = couponctl({u"failed"_s, u"fix"_s, u"1"_s});
        QCOMPARE(verb.exitCode, 2);
        const Run halfCorrection = couponctl({u"failed"_s, u"retry"_s, u"1"_s, u"--user"_s, u"5"_s});
        QCOMPARE(halfCorrection.exitCode, 2);
        QVERIFY2(halfCorrection.err.contains(u"both --campaign"_s), qPrintable(halfCorrection.text()));
    }
};

QTEST_GUILESS_MAIN(TestFailedEvents)
#include "tst_failed_events.moc"
