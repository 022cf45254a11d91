// SoldOutMemo without services: replies are built here in the shapes the two
// memo scripts return (scripts.h), and time moves only when a test moves its
// ManualClock, so every branch is driven exactly. The memo against a real
// Redis is covered by tst_pipeline.

#include "coupon/protocol/soldout_memo.h"

#include <QTest>

#include <deque>
#include <optional>
#include <vector>

using namespace Qt::StringLiterals;
using coupon::ApplyOutcome;
using coupon::ManualClock;
using coupon::Reply;
using coupon::SoldOutMemo;

namespace {

// Builds replies in the shapes the memo scripts return; each lives as long as this object.
class Replies
{
public:
    const Reply *string(const QByteArray &text) { return keep(Reply::fromString(text)); }
    const Reply *integer(long long value) { return keep(Reply::fromInteger(value)); }
    const Reply *array(const std::vector<const Reply *> &items)
    {
        std::vector<Reply> elements;
        for (const Reply *item : items)
            elements.push_back(*item);
        return keep(Reply::fromArray(std::move(elements)));
    }
    // What scripts::fingerprint answers.
    const Reply *fingerprint(const QByteArray &print, qint64 nowMs = 1'000'000)
    {
        return array({string(print), integer(nowMs)});
    }
    // What scripts::soldOutSnapshot answers for a snapshot-able campaign.
    const Reply *snapshot(const QByteArray &fingerprint, const std::vector<QByteArray> &holders,
                          qint64 nowMs = 1'000'000, qint64 startsMs = 0, qint64 endsMs = 0)
    {
        std::vector<const Reply *> members;
        for (const QByteArray &h : holders)
            members.push_back(string(h));
        return array({string(fingerprint), integer(nowMs), integer(startsMs), integer(endsMs), array(members)});
    }

private:
    const Reply *keep(Reply reply) { return &m_replies.emplace_back(std::move(reply)); }
    std::deque<Reply> m_replies;
};

const QString kCampaign = u"spring"_s;
const QByteArray kPrint = "100|open|0|0|17|100";

SoldOutMemo::Options options(int validForMs, qint64 maxUsers = 1000)
{
    SoldOutMemo::Options o;
    o.validForMs = validForMs;
    o.maxUsers = maxUsers;
    return o;
}

// A memo holding a snapshot of holders 3, 1, 2 (unsorted, as SMEMBERS gives them).
void loadHolders(SoldOutMemo &memo, Replies &replies)
{
    const quint64 token = memo.claimLoad(kCampaign);
    QVERIFY(token != 0);
    memo.loaded(kCampaign, token, replies.snapshot(kPrint, {"3", "1", "2"}));
    QCOMPARE(memo.snapshots(), 1);
}

// A memo of validForMs 50 holding holders 1..3, moved on until its snapshot
// is due: `due` is the lookup asked to check it.
void dueSnapshot(SoldOutMemo &memo, ManualClock &clock, Replies &replies, SoldOutMemo::Lookup &due)
{
    loadHolders(memo, replies);
    clock.advance(49);
    QVERIFY(memo.lookup(kCampaign, 9).answer); // still valid
    clock.advance(1);
    due = memo.lookup(kCampaign, 9);
    QVERIFY(!due.answer);
    QVERIFY(due.check);
}

} // namespace

class TestSoldOutMemo : public QObject
{
    Q_OBJECT

private slots:
    void offAnswersNothing()
    {
        ManualClock clock(1000);
        SoldOutMemo memo(options(0), clock);
        QVERIFY(!memo.enabled());
        QCOMPARE(memo.claimLoad(kCampaign), 0u);
        Replies replies;
        memo.loaded(kCampaign, 1, replies.snapshot(kPrint, {"1"}));
        const SoldOutMemo::Lookup l = memo.lookup(kCampaign, 1);
        QVERIFY(!l.answer);
        QVERIFY(!l.check);
    }

    void answersLikeTheScript_data()
    {
        QTest::addColumn<qint64>("user");
        QTest::addColumn<int>("expected");
        QTest::newRow("holder 1") << qint64(1) << int(ApplyOutcome::Duplicate);
        QTest::newRow("holder 3") << qint64(3) << int(ApplyOutcome::Duplicate);
        QTest::newRow("newcomer 4") << qint64(4) << int(ApplyOutcome::SoldOut);
        QTest::newRow("newcomer 0x7fff...") << std::numeric_limits<qint64>::max() << int(ApplyOutcome::SoldOut);
    }
    void answersLikeTheScript()
    {
        QFETCH(qint64, user);
        QFETCH(int, expected);
        ManualClock clock(1000);
        SoldOutMemo memo(options(60'000), clock);
        Replies replies;
        loadHolders(memo, replies);
        const SoldOutMemo::Lookup l = memo.lookup(kCampaign, user);
        QVERIFY(l.answer.has_value());
        QCOMPARE(int(*l.answer), expected);
        QCOMPARE(memo.answers(), 1);
        QVERIFY(!memo.lookup(u"other"_s, user).answer); // only the campaign it knows
    }

    void oneLoadAtATime()
    {
        ManualClock clock(1000);
        SoldOutMemo memo(options(60'000), clock);
        const quint64 token = memo.claimLoad(kCampaign);
        QVERIFY(token != 0);
        QCOMPARE(memo.claimLoad(kCampaign), 0u);  // in flight
        QVERIFY(memo.claimLoad(u"other"_s) != 0); // per campaign
        Replies replies;
        memo.loaded(kCampaign, token + 100, replies.snapshot(kPrint, {"1"})); // not this load's reply
        QCOMPARE(memo.snapshots(), 0);
        memo.loaded(kCampaign, token, replies.snapshot(kPrint, {"1"}));
        QCOMPARE(memo.snapshots(), 1);
        QCOMPARE(memo.claimLoad(kCampaign), 0u); // a snapshot exists
    }

    void notSnapshotableWaitsBeforeTheNextLoad_data()
    {
        QTest::addColumn<int>("shape");
        QTest::newRow("fingerprint only (not sold out, closed, too many holders)") << 0;
        QTest::newRow("failed call") << 1;
        QTest::newRow("a holder that is no integer") << 2;
        QTest::newRow("wrong shape") << 3;
    }
    void notSnapshotableWaitsBeforeTheNextLoad()
    {
        QFETCH(int, shape);
        ManualClock clock(1000);
        SoldOutMemo memo(options(100), clock);
        Replies replies;
        const Reply *reply = shape == 0 ? replies.array({replies.string(kPrint)})
            : shape == 1                ? nullptr
            : shape == 2                ? replies.snapshot(kPrint, {"1", "x2"})
                                        : replies.integer(1);
        const quint64 token = memo.claimLoad(kCampaign);
        QVERIFY(token != 0);
        memo.loaded(kCampaign, token, reply);
        QCOMPARE(memo.snapshots(), 0);
        QVERIFY(!memo.lookup(kCampaign, 1).answer);
        QCOMPARE(memo.claimLoad(kCampaign), 0u); // not at once...
        clock.advance(99);
        QCOMPARE(memo.claimLoad(kCampaign), 0u);
        clock.advance(1);
        QVERIFY(memo.claimLoad(kCampaign) != 0); // ...but after validForMs
    }

    void dueSnapshotIsCheckedOnceThenRenewed()
    {
        ManualClock clock(1000);
        SoldOutMemo memo(options(50), clock);
        Replies replies;
        loadHolders(memo, replies);
        QVERIFY(memo.lookup(kCampaign, 9).answer);
        // Once due: Redis answers, and exactly one caller is asked to check.
        clock.advance(50);
        std::optional<SoldOutMemo::Lookup> due = memo.lookup(kCampaign, 9);
        QVERIFY(!due->answer);
        QVERIFY(due->check);
        SoldOutMemo::Lookup second = memo.lookup(kCampaign, 9);
        QVERIFY(!second.answer);
        QVERIFY(!second.check);
        memo.checked(kCampaign, *due, replies.fingerprint(kPrint));
        const SoldOutMemo::Lookup renewed = memo.lookup(kCampaign, 2);
        QVERIFY(renewed.answer);
        QCOMPARE(int(*renewed.answer), int(ApplyOutcome::Duplicate));
        // Renewed for validForMs from when the check was sent, not from when it came back.
        clock.advance(49);
        QVERIFY(memo.lookup(kCampaign, 2).answer);
        clock.advance(1);
        QVERIFY(!memo.lookup(kCampaign, 2).answer);
    }

    void dueLookupAsksForOneCheck()
    {
        ManualClock clock(1000);
        SoldOutMemo memo(options(50), clock);
        Replies replies;
        SoldOutMemo::Lookup due;
        dueSnapshot(memo, clock, replies, due);
        QVERIFY(!due.answer);
        QVERIFY(due.checkSentAtMs > 0);
        QVERIFY(!memo.lookup(kCampaign, 9).check);
        // A check that never comes back (a lost connection) is asked for again after 5 s.
        clock.advance(5000);
        QVERIFY(!memo.lookup(kCampaign, 9).check);
        clock.advance(1);
        QVERIFY(memo.lookup(kCampaign, 9).check);
    }

    void changedFingerprintDropsTheSnapshot_data()
    {
        QTest::addColumn<QByteArray>("now");
        QTest::newRow("released (epoch)") << QByteArray("100|open|0|0|18|99");
        QTest::newRow("released and re-sold (epoch)") << QByteArray("100|open|0|0|18|100");
        QTest::newRow("closed") << QByteArray("100|closed|0|0|17|100");
        QTest::newRow("new limit") << QByteArray("200|open|0|0|17|100");
        QTest::newRow("reset (keys gone)") << QByteArray("-|-|-|-|-|-");
    }
    void changedFingerprintDropsTheSnapshot()
    {
        QFETCH(QByteArray, now);
        ManualClock clock(1000);
        SoldOutMemo memo(options(50), clock);
        Replies replies;
        SoldOutMemo::Lookup due;
        dueSnapshot(memo, clock, replies, due);
        memo.checked(kCampaign, due, replies.fingerprint(now));
        QVERIFY(!memo.lookup(kCampaign, 1).answer);
        QVERIFY(!memo.lookup(kCampaign, 1).check);
        QVERIFY(memo.claimLoad(kCampaign) != 0); // the next sold_out may load again
    }

    void failedCheckDropsTheSnapshot()
    {
        ManualClock clock(1000);
        SoldOutMemo memo(options(50), clock);
        Replies replies;
        SoldOutMemo::Lookup due;
        dueSnapshot(memo, clock, replies, due);
        memo.checked(kCampaign, due, nullptr);
        QVERIFY(!memo.lookup(kCampaign, 1).answer);
    }

    void windowEdgesAreLeftToRedis_data()
    {
        QTest::addColumn<qint64>("startsMs");
        QTest::addColumn<qint64>("endsMs");
        QTest::addColumn<bool>("answers");
        const qint64 now = 1'000'000;
        QTest::newRow("no window") << qint64(0) << qint64(0) << true;
        QTest::newRow("inside, far from the edges") << now - 60'000 << now + 60'000 << true;
        QTest::newRow("just started") << now - 10 << qint64(0) << false;
        QTest::newRow("not yet started") << now + 60'000 << qint64(0) << false;
        QTest::newRow("about to end") << qint64(0) << now + 500 << false;
        QTest::newRow("ended") << qint64(0) << now - 1 << false;
    }
    void windowEdgesAreLeftToRedis()
    {
        QFETCH(qint64, startsMs);
        QFETCH(qint64, endsMs);
        QFETCH(bool, answers);
        ManualClock clock(1000);
        SoldOutMemo memo(options(60'000), clock);
        Replies replies;
        const quint64 token = memo.claimLoad(kCampaign);
        QVERIFY(token != 0);
        // Redis' clock at the snapshot, relative to ours: the window is placed around it.
        const qint64 redisNow = 1'000'000;
        memo.loaded(kCampaign, token, replies.snapshot(kPrint, {"1"}, redisNow, startsMs, endsMs));
        QCOMPARE(memo.lookup(kCampaign, 5).answer.has_value(), answers);
    }

    // What this process itself reserved or released voids the snapshot and
    // any load still on its way (its reply may predate the change).
    void changedVoidsSnapshotAndLoadInFlight()
    {
        ManualClock clock(1000);
        SoldOutMemo memo(options(60'000), clock);
        Replies replies;
        loadHolders(memo, replies);
        memo.changed(kCampaign);
        QVERIFY(!memo.lookup(kCampaign, 1).answer);
        const quint64 token = memo.claimLoad(kCampaign);
        QVERIFY(token != 0);
        memo.changed(kCampaign);
        memo.loaded(kCampaign, token, replies.snapshot(kPrint, {"1"}));
        QCOMPARE(memo.snapshots(), 1); // the voided load installed nothing
        QVERIFY(!memo.lookup(kCampaign, 1).answer);
        QVERIFY(memo.claimLoad(kCampaign) != 0); // and a new load may go at once
    }

    void clearDropsEverything()
    {
        ManualClock clock(1000);
        SoldOutMemo memo(options(60'000), clock);
        Replies replies;
        loadHolders(memo, replies);
        const quint64 other = memo.claimLoad(u"other"_s);
        memo.clear();
        QVERIFY(!memo.lookup(kCampaign, 1).answer);
        memo.loaded(u"other"_s, other, replies.snapshot(kPrint, {"1"}));
        QVERIFY(!memo.lookup(u"other"_s, 1).answer);
    }

    // A check's reply about a snapshot that was replaced meanwhile changes nothing.
    void checkOfAReplacedSnapshotIsIgnored()
    {
        ManualClock clock(1000);
        SoldOutMemo memo(options(50), clock);
        Replies replies;
        SoldOutMemo::Lookup due;
        dueSnapshot(memo, clock, replies, due);
        memo.changed(kCampaign);
        const quint64 token = memo.claimLoad(kCampaign);
        memo.loaded(kCampaign, token, replies.snapshot("other|print", {"5"}));
        memo.checked(kCampaign, due, replies.fingerprint(kPrint)); // about the first snapshot
        const SoldOutMemo::Lookup l = memo.lookup(kCampaign, 5);
        QVERIFY(l.answer);
        QCOMPARE(int(*l.answer), int(ApplyOutcome::Duplicate));
    }

    // With more campaigns than it keeps, the memo evicts the least recently
    // used one that has no load on its way.
    void evictionSparesLoadsInFlight()
    {
        SoldOutMemo::Options o = options(60'000);
        o.maxCampaigns = 2;
        ManualClock clock(1000);
        SoldOutMemo memo(o, clock);
        Replies replies;
        const quint64 a = memo.claimLoad(u"a"_s);
        memo.loaded(u"a"_s, a, replies.snapshot(kPrint, {"1"}));
        const quint64 b = memo.claimLoad(u"b"_s); // on its way
        QVERIFY(memo.claimLoad(u"c"_s) != 0);     // evicts a, not b
        memo.loaded(u"b"_s, b, replies.snapshot(kPrint, {"1"}));
        QVERIFY(memo.lookup(u"b"_s, 1).answer);
        QVERIFY(!memo.lookup(u"a"_s, 1).answer);
    }

    void boundedNumberOfCampaigns()
    {
        SoldOutMemo::Options o = options(60'000);
        o.maxCampaigns = 2;
        ManualClock clock(1000);
        SoldOutMemo memo(o, clock);
        Replies replies;
        for (const QString &c : {u"a"_s, u"b"_s, u"c"_s}) {
            const quint64 token = memo.claimLoad(c);
            QVERIFY(token != 0);
            memo.loaded(c, token, replies.snapshot(kPrint, {"1"}));
        }
        int answering = 0;
        for (const QString &c : {u"a"_s, u"b"_s, u"c"_s})
            answering += memo.lookup(c, 1).answer ? 1 : 0;
        QCOMPARE(answering, 2);
        QVERIFY(memo.lookup(u"c"_s, 1).answer); // the newest stays
    }
};

QTEST_GUILESS_MAIN(TestSoldOutMemo)
#include "tst_soldout_memo.moc"
