// The console's models and rules without any server: keyset paging (failed
// events) and the coupon browser's windows over a whole campaign, its jumps,
// newest-first order and user filter, against fake sources; the lag table's
// shape, Burrow-like status rules over sample sequences, the member assignment decoder, how
// counts, latencies and a run's progress are shown.

#include "coupon/kafka/group.h"
#include "dialogs.h"
#include "lag_status.h"
#include "models.h"
#include "overview_models.h"
#include "overview_panel.h"
#include "simulation_panel.h"
#include "widgets.h"

#include <QDialogButtonBox>
#include <QElapsedTimer>
#include <QFontMetricsF>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTest>
#include <QtEndian>

#include <cmath>

using namespace Qt::StringLiterals;
using namespace coupon;
using namespace coupon::console;

Q_DECLARE_METATYPE(QList<coupon::console::LagSample>)
Q_DECLARE_METATYPE(coupon::console::LagStatus)
Q_DECLARE_METATYPE(coupon::console::CampaignHealth::Verdict)
Q_DECLARE_METATYPE(coupon::CampaignOverview)

namespace {

// Serves pages of failed events held in memory the way CouponStore::failedEvents()
// does: id > afterId, optionally one campaign, ordered by id, at most `limit`.
class FakeFailedEventSource
{
public:
    QList<FailedEventRow> rows;
    int requests = 0;
    bool deferred = false; // keep requests instead of answering them
    QList<std::tuple<quint64, qint64, int>> pendingRequests;

    void attach(FailedEventTableModel &model)
    {
        QObject::connect(&model, &PagedTableModel::pageRequested, &model,
                         [this, &model](quint64 generation, qint64 afterId, int limit) {
                             ++requests;
                             if (deferred)
                                 pendingRequests.append({generation, afterId, limit});
                             else
                                 model.appendPage(generation, page(model.campaign(), afterId, limit), {});
                         });
    }

    FailedEventRows page(const QString &campaign, qint64 afterId, int limit) const
    {
        FailedEventRows out;
        for (const FailedEventRow &r : rows) {
            if (r.id > afterId && (campaign.isEmpty() || r.campaign == campaign))
                out << r;
            if (out.size() == limit)
                break;
        }
        return out;
    }

    void add(qint64 count)
    {
        const qint64 first = rows.isEmpty() ? 1 : rows.constLast().id + 1;
        for (qint64 i = 0; i < count; ++i) {
            FailedEventRow r;
            r.id = first + i;
            r.campaign = (first + i) % 500 == 0 ? u"rare"_s : u"c"_s;
            rows << r;
        }
    }
};

// A campaign's coupons held in memory, served the way StoreWorker serves the
// browser (CouponStore::coupons/couponsBefore/couponsAt/couponSpan/
// findCoupon/couponPosition): positions in id order among ids <= maxId. Ids
// have gaps, as when campaigns interleave. Answers at once, or keeps the
// requests (deferred) for the test to answer.
class FakeCouponSource
{
public:
    QList<CouponRow> rows; // by id
    int windowRequests = 0, keyRequests = 0, positionRequests = 0, spanRequests = 0;
    bool deferred = false;
    QList<std::pair<quint64, CouponWindowRequest>> pendingWindows;

    void attach(CouponTableModel &model)
    {
        QObject::connect(&model, &CouponTableModel::spanRequested, &model,
                         [this, &model](quint64 generation, const QString &, UserFilter user, qint64 afterId) {
                             ++spanRequests;
                             qint64 count = 0, maxId = 0;
                             for (const CouponRow &r : rows) {
                                 if (r.id > afterId && (!user || r.userId == *user)) {
                                     ++count;
                                     maxId = r.id;
                                 }
                             }
                             model.setSpan(generation, afterId, count, maxId, {});
                         });
        QObject::connect(&model, &CouponTableModel::windowRequested, &model,
                         [this, &model](quint64 generation, const CouponWindowRequest &request) {
                             ++windowRequests;
                             (request.afterId || request.beforeId ? keyRequests : positionRequests)++;
                             if (deferred)
                                 pendingWindows.append({generation, request});
                             else
                                 model.setWindow(generation, request.position, window(request), {});
                         });
        QObject::connect(
            &model, &CouponTableModel::locateRequested, &model,
            [this, &model](quint64 generation, const QString &, UserFilter user, const CouponJump &jump, qint64 maxId) {
                const QList<CouponRow> shown = of(user, maxId);
                qint64 found = -1;
                for (qsizetype i = 0; i < shown.size() && found < 0; ++i) {
                    const CouponRow &r = shown[i];
                    if ((jump.kind == CouponJump::User && r.userId == jump.value)
                        || (jump.kind == CouponJump::Time && r.issuedAt >= jump.time)
                        || (jump.kind == CouponJump::Id && r.id >= jump.value))
                        found = i;
                }
                // An id between two coupons: the nearer one.
                if (jump.kind == CouponJump::Id && !shown.isEmpty()) {
                    if (found < 0)
                        found = shown.size() - 1;
                    else if (found > 0 && shown[found].id != jump.value
                             && jump.value - shown[found - 1].id < shown[found].id - jump.value)
                        --found;
                }
                if (found < 0)
                    model.setLocated(generation, -1, 0, {});
                else
                    model.setLocated(generation, found, shown[found].id, {});
            });
    }

    QList<CouponRow> of(UserFilter user, qint64 maxId) const
    {
        QList<CouponRow> out;
        for (const CouponRow &r : rows) {
            if (r.id <= maxId && (!user || r.userId == *user))
                out << r;
        }
        return out;
    }

    CouponRows window(const CouponWindowRequest &request) const
    {
        const QList<CouponRow> shown = of(request.user, request.maxId);
        qsizetype from = request.position;
        if (request.afterId) {
            from = std::find_if(shown.begin(), shown.end(), [&](const CouponRow &r) { return r.id > request.afterId; })
                - shown.begin();
        } else if (request.beforeId) {
            const qsizetype below = std::find_if(shown.begin(), shown.end(),
                                                 [&](const CouponRow &r) { return r.id >= request.beforeId; })
                - shown.begin();
            from = std::max<qsizetype>(0, below - request.limit);
        }
        return shown.mid(from, request.limit);
    }

    void answerPending(CouponTableModel &model)
    {
        while (!pendingWindows.isEmpty()) {
            const auto [generation, request] = pendingWindows.takeFirst();
            model.setWindow(generation, request.position, window(request), {});
        }
    }

    void add(qint64 count)
    {
        const qint64 first = rows.isEmpty() ? 1 : rows.constLast().id + 3;
        const QDateTime t0(QDate(2026, 11, 30), QTime(10, 0), Qt::UTC);
        for (qint64 i = 0; i < count; ++i) {
            CouponRow r;
            r.id = first + 3 * i;
            r.campaign = u"c"_s;
            r.userId = 1'000'000 + r.id;
            r.ticket = r.id;
            r.issuedAt = t0.addMSecs(r.id);
            r.partition = int(r.id % 3);
            r.offset = r.id;
            rows << r;
        }
    }
};

// Lets the model's queued dispatch run (it asks for what data() wanted).
void settle()
{
    for (int i = 0; i < 5; ++i)
        QCoreApplication::processEvents();
}

// What a view does as the user scrolls to the bottom again and again.
int fetchAll(QAbstractItemModel &model)
{
    int rounds = 0;
    while (model.canFetchMore({}) && rounds < 100000) {
        model.fetchMore({});
        ++rounds;
    }
    return rounds;
}

LagSample sample(qint64 lag, qint64 committed, int members = 1, bool ok = true)
{
    LagSample s;
    s.lag = lag;
    s.committed = committed;
    s.members = members;
    s.ok = ok;
    return s;
}

QByteArray assignment(const QList<std::pair<QByteArray, QList<int32_t>>> &topics)
{
    QByteArray out;
    auto i16 = [&out](qint16 v) {
        char b[2];
        qToBigEndian(v, b);
        out.append(b, 2);
    };
    auto i32 = [&out](qint32 v) {
        char b[4];
        qToBigEndian(v, b);
        out.append(b, 4);
    };
    i16(1);
    i32(qint32(topics.size()));
    for (const auto &[name, partitions] : topics) {
        i16(qint16(name.size()));
        out += name;
        i32(qint32(partitions.size()));
        for (int32_t p : partitions)
            i32(p);
    }
    i32(-1); // no user data
    return out;
}

} // namespace

namespace {

constexpr qint64 kNow = 1'000'000'000; // Redis ms of the readings below
constexpr qint64 kDelivery = 10'000;   // the delivery timeout they carry

// A campaign as overview() reads it: current in Redis, everything issued.
CampaignOverview campaignRow(const QString &id, qint64 limit, qint64 issued, const QString &state = u"open"_s)
{
    CampaignOverview c;
    c.campaign.id = id;
    c.campaign.limit = limit;
    c.campaign.issued = issued;
    c.campaign.state = state;
    c.redisLoaded = true;
    c.redisCurrent = true;
    c.redisState = state;
    c.redisLimit = limit;
    c.redisCount = issued;
    c.redisUsers = issued;
    c.pending = 0;
    c.unresolvedFailedEvents = 0;
    return c;
}

CampaignsOverview overviewOf(const QList<CampaignOverview> &rows, qint64 topicLag = 0)
{
    CampaignsOverview o;
    o.campaigns = rows;
    o.redisNowMs = kNow;
    o.deliveryTimeoutMs = kDelivery;
    o.topicLag = topicLag;
    return o;
}

} // namespace

class TestConsoleModels : public QObject
{
    Q_OBJECT

private slots:
    // PagedTableModel (the failed events' tab): keyset pages as the view scrolls.
    void paging_data()
    {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("pageSize");
        QTest::addColumn<QString>("campaign");
        QTest::addColumn<int>("expectedRows");
        QTest::addColumn<int>("expectedRequests");

        QTest::newRow("empty") << 0 << 500 << QString() << 0 << 1;
        QTest::newRow("one short page") << 100 << 500 << QString() << 100 << 1;
        QTest::newRow("exactly one page, then an empty one") << 500 << 500 << QString() << 500 << 2;
        QTest::newRow("several pages") << 1234 << 500 << QString() << 1234 << 3;
        QTest::newRow("small pages") << 1000 << 7 << QString() << 1000 << 143;
        QTest::newRow("filter: a campaign with rows") << 2000 << 500 << u"rare"_s << 4 << 1;
        QTest::newRow("filter: nothing") << 2000 << 500 << u"none"_s << 0 << 1;
    }

    void paging()
    {
        QFETCH(int, rows);
        QFETCH(int, pageSize);
        QFETCH(QString, campaign);
        QFETCH(int, expectedRows);
        QFETCH(int, expectedRequests);

        FakeFailedEventSource source;
        source.add(rows);
        FailedEventTableModel model;
        model.setPageSize(pageSize);
        source.attach(model);
        QVERIFY(!model.canFetchMore({})); // no query yet: nothing to fetch
        model.setQuery(campaign);
        QVERIFY(model.canFetchMore({}));
        fetchAll(model);
        QCOMPARE(model.rowCount(), expectedRows);
        QCOMPARE(source.requests, expectedRequests);
        QVERIFY(!model.canFetchMore({}));
        QVERIFY(model.atEnd());
        for (int i = 1; i < model.rowCount(); ++i)
            QVERIFY(model.row(i).id > model.row(i - 1).id);
        for (int i = 0; i < model.rowCount() && !campaign.isEmpty(); ++i)
            QCOMPARE(model.row(i).campaign, campaign);
    }

    // Only one request in flight; a page of an older query is dropped.
    void staleAndOverlappingPagesAreIgnored()
    {
        FakeFailedEventSource source;
        source.add(1200);
        source.deferred = true;
        FailedEventTableModel model;
        source.attach(model);
        model.setQuery({});
        model.fetchMore({});
        model.fetchMore({}); // the view asks again before the answer: no second request
        QCOMPARE(source.requests, 1);
        QVERIFY(model.isLoading());
        const auto [oldGeneration, oldAfter, oldLimit] = source.pendingRequests.takeFirst();
        model.setQuery(u"rare"_s);
        model.appendPage(oldGeneration, source.page({}, oldAfter, oldLimit), {});
        QCOMPARE(model.rowCount(), 0);
        model.fetchMore({});
        QCOMPARE(source.requests, 2);
        const auto [generation, after, limit] = source.pendingRequests.takeFirst();
        QCOMPARE(generation, model.generation());
        model.appendPage(generation, source.page(u"rare"_s, after, limit), {});
        QCOMPARE(model.rowCount(), 2);
        QVERIFY(!model.canFetchMore({}));
    }

    // Rows that arrive after the end was reached are appended, nothing twice.
    void fetchNewerAppendsLiveRows()
    {
        FakeFailedEventSource source;
        source.add(40);
        FailedEventTableModel model;
        source.attach(model);
        model.setQuery({});
        fetchAll(model);
        QCOMPARE(model.rowCount(), 40);
        model.fetchNewer();
        QCOMPARE(model.rowCount(), 40);
        source.add(60);
        model.fetchNewer();
        fetchAll(model);
        QCOMPARE(model.rowCount(), 100);
        QCOMPARE(model.row(99).id, 100);
    }

    // An error ends the paging for now with the reason; fetchNewer retries.
    void errorsStopAndRetry()
    {
        FailedEventTableModel model;
        int requests = 0;
        connect(&model, &PagedTableModel::pageRequested, &model, [&](quint64 generation, qint64, int) {
            ++requests;
            model.appendPage(generation, {}, u"mysql.connection: gone"_s);
        });
        model.setQuery({});
        fetchAll(model);
        QCOMPARE(requests, 1);
        QCOMPARE(model.lastError(), u"mysql.connection: gone"_s);
        model.fetchNewer();
        QCOMPARE(requests, 2);
    }

    // --- the coupon browser's model: the whole campaign, read in windows ---

    // The row count is the campaign's; rows show a placeholder until their
    // block is in, and any position is reachable: the far end by position,
    // a neighbour's block by key.
    void couponsAtAnyPosition()
    {
        FakeCouponSource source;
        source.add(100'000);
        CouponTableModel model;
        source.attach(model);
        QCOMPARE(model.rowCount(), 0);
        model.setQuery(u"c"_s);
        QCOMPARE(source.spanRequests, 1);
        QCOMPARE(model.total(), qint64(100'000));
        QCOMPARE(model.rowCount(), 100'000);
        QCOMPARE(model.maxId(), source.rows.constLast().id);
        // Nothing read yet: a placeholder, and data() asks for the block.
        QCOMPARE(model.data(model.index(0, CouponTableModel::Id), Qt::DisplayRole).toString(), u"…"_s);
        QVERIFY(!model.data(model.index(0, CouponTableModel::User), Qt::DisplayRole).isValid());
        QCOMPARE(source.windowRequests, 0);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        settle();
        QCOMPARE(source.windowRequests, 1);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(model.row(0).id, source.rows[0].id);
        QCOMPARE(model.data(model.index(0, CouponTableModel::Id), Qt::DisplayRole).toLongLong(), source.rows[0].id);
        // The end (Ctrl+End): by position, the newest coupon.
        model.ensureLoaded(99'999, 99'999);
        QCOMPARE(model.row(99'999).id, source.rows.constLast().id);
        QCOMPARE(source.positionRequests, 2);
        // The middle (the thumb at 50 %), then the rows just above it: by key.
        model.ensureLoaded(50'000, 50'010);
        for (int r = 50'000; r <= 50'010; ++r)
            QCOMPARE(model.row(r).id, source.rows[r].id);
        const int keyed = source.keyRequests;
        model.ensureLoaded(49'990, 49'999);
        QCOMPARE(source.keyRequests, keyed + 1);
        QCOMPARE(model.row(49'990).id, source.rows[49'990].id);
        model.ensureLoaded(50'300, 50'300); // the block after a loaded one: by key too
        QCOMPARE(source.keyRequests, keyed + 2);
        QCOMPARE(model.row(50'300).id, source.rows[50'300].id);
        // Loaded rows are not asked for again.
        const int before = source.windowRequests;
        model.ensureLoaded(50'000, 50'010);
        QCOMPARE(source.windowRequests, before);
    }

    void couponCells()
    {
        FakeCouponSource source;
        source.add(3);
        source.rows[0].ticket = 0; // another producer's coupon: no ticket
        CouponTableModel model;
        source.attach(model);
        model.setQuery(u"c"_s);
        model.ensureLoaded(0, 2);
        QCOMPARE(model.columnCount(), int(CouponTableModel::ColumnCount));
        QCOMPARE(model.headerData(CouponTableModel::User, Qt::Horizontal, Qt::DisplayRole).toString(), u"User"_s);
        QCOMPARE(model.data(model.index(1, CouponTableModel::Id), Qt::DisplayRole).toLongLong(), 4);
        QCOMPARE(model.data(model.index(1, CouponTableModel::User), Qt::DisplayRole).toLongLong(), 1'000'004);
        QCOMPARE(model.data(model.index(1, CouponTableModel::Partition), Qt::DisplayRole).toInt(), 1);
        QCOMPARE(model.data(model.index(0, CouponTableModel::Ticket), Qt::DisplayRole).toString(), QString());
        QCOMPARE(model.data(model.index(1, CouponTableModel::Ticket), Qt::DisplayRole).toLongLong(), 4);
        QVERIFY(!model.data(model.index(5, 0), Qt::DisplayRole).isValid());
        QCOMPARE(couponCsvFields(source.rows[0]).at(couponCsvHeader().indexOf(u"ticket"_s)), QString());
        QCOMPARE(couponCsvFields(source.rows[1]).at(couponCsvHeader().indexOf(u"ticket"_s)), u"4"_s);
    }

    // Newest first: the same positions from the other end, the blocks kept.
    void newestFirst()
    {
        FakeCouponSource source;
        source.add(1000);
        CouponTableModel model;
        model.setBlockRows(100);
        source.attach(model);
        model.setQuery(u"c"_s);
        model.ensureLoaded(0, 9);
        const int requests = source.windowRequests;
        model.setNewestFirst(true);
        QCOMPARE(model.rowCount(), 1000);
        QCOMPARE(model.row(999).id, source.rows[0].id); // still loaded, now at the bottom
        QCOMPARE(source.windowRequests, requests);
        model.ensureLoaded(0, 0);
        QCOMPARE(model.row(0).id, source.rows.constLast().id);
        QCOMPARE(model.rowOfPosition(0), 999);
        QCOMPARE(model.positionOfRow(0), 999);
        for (int r = 1; r < 100; ++r)
            QVERIFY(model.row(r).id < model.row(r - 1).id);
    }

    // A user filter: the count and rows of that user only.
    void userFilter()
    {
        FakeCouponSource source;
        source.add(5000);
        CouponTableModel model;
        source.attach(model);
        const qint64 user = source.rows[1234].userId;
        model.setQuery(u"c"_s, user);
        QCOMPARE(model.total(), qint64(1));
        model.ensureLoaded(0, 0);
        QCOMPARE(model.row(0).userId, user);
        model.setQuery(u"c"_s, qint64(42));
        QCOMPARE(model.total(), qint64(0));
        QCOMPARE(model.rowCount(), 0);
    }

    // Coupons issued meanwhile add rows at the newest end; nothing loaded
    // moves, a partial last block is read again, and newest first the
    // selection (a persistent index) stays on its coupon.
    void liveRowsKeepTheirPlace()
    {
        FakeCouponSource source;
        source.add(250);
        CouponTableModel model;
        model.setBlockRows(100);
        source.attach(model);
        model.setQuery(u"c"_s);
        model.ensureLoaded(0, 249);
        QCOMPARE(model.row(249).id, source.rows[249].id);
        model.refresh(); // nothing new
        QCOMPARE(model.rowCount(), 250);
        source.add(30);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.refresh();
        QCOMPARE(model.rowCount(), 280);
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(inserted[0][1].toInt(), 250);
        QVERIFY(!model.isLoaded(260));
        model.ensureLoaded(240, 279);
        QCOMPARE(model.row(279).id, source.rows.constLast().id);
        QCOMPARE(model.row(100).id, source.rows[100].id);

        model.setNewestFirst(true);
        model.ensureLoaded(0, 20);
        const QPersistentModelIndex selected = model.index(5, 0);
        const qint64 selectedId = model.row(5).id;
        source.add(7);
        model.refresh();
        QCOMPARE(inserted.size(), 2);
        QCOMPARE(inserted[1][1].toInt(), 0);
        QCOMPARE(inserted[1][2].toInt(), 6);
        QCOMPARE(selected.row(), 12);
        QCOMPARE(model.row(selected.row()).id, selectedId);
        model.ensureLoaded(0, 0);
        QCOMPARE(model.row(0).id, source.rows.constLast().id);
        QCOMPARE(model.total(), qint64(287));
    }

    // Answers for an old query are dropped; so are requests the view moved
    // past (dragging the thumb): the newest wanted block goes first, at most
    // kMaxInFlight at a time.
    void staleWindowsAndWants()
    {
        FakeCouponSource source;
        source.add(100'000);
        source.deferred = true;
        CouponTableModel model;
        source.attach(model);
        model.setQuery(u"c"_s);
        for (int block = 0; block < 40; ++block) // a drag across 40 blocks, before any answer
            model.data(model.index(block * model.blockRows(), 0), Qt::DisplayRole);
        settle();
        QCOMPARE(source.windowRequests, CouponTableModel::kMaxInFlight);
        QCOMPARE(source.pendingWindows[0].second.position, qint64(39 * model.blockRows()));
        while (!source.pendingWindows.isEmpty()) {
            source.answerPending(model);
            settle();
        }
        // What was passed long ago is not read; the last few wants are.
        QVERIFY2(source.windowRequests <= 2 + 8, qPrintable(QString::number(source.windowRequests)));
        QVERIFY(model.isLoaded(39 * model.blockRows()));
        QVERIFY(model.isLoaded(35 * model.blockRows()));
        QVERIFY(!model.isLoaded(0));

        const quint64 old = model.generation();
        model.data(model.index(50'000, 0), Qt::DisplayRole);
        settle();
        QVERIFY(std::any_of(source.pendingWindows.cbegin(), source.pendingWindows.cend(),
                            [](const auto &pending) { return pending.second.position == 50'000; }));
        model.setQuery(u"c"_s, qint64(1'000'004));
        source.answerPending(model); // the old query's window
        QCOMPARE(model.loadedBlocks(), 0);
        QVERIFY(model.generation() != old);
        model.setWindow(old, 0, source.rows.mid(0, 1), {});
        QCOMPARE(model.loadedBlocks(), 0);
    }

    // Memory stays bounded however far the view travels.
    void blocksAreEvicted()
    {
        FakeCouponSource source;
        source.add(100'000);
        CouponTableModel model;
        source.attach(model);
        model.setQuery(u"c"_s);
        for (int block = 0; block < 200; ++block)
            model.ensureLoaded(block * model.blockRows(), block * model.blockRows());
        QCOMPARE(model.loadedBlocks(), CouponTableModel::kMaxBlocks);
        QVERIFY(model.isLoaded(199 * model.blockRows()));
        QVERIFY(!model.isLoaded(0));
    }

    void windowErrorsAreRetried()
    {
        CouponTableModel model;
        int requests = 0;
        connect(&model, &CouponTableModel::spanRequested, &model,
                [&](quint64 generation, const QString &, UserFilter, qint64 afterId) {
                    model.setSpan(generation, afterId, 10, 10, {});
                });
        connect(&model, &CouponTableModel::windowRequested, &model,
                [&](quint64 generation, const CouponWindowRequest &request) {
                    ++requests;
                    model.setWindow(generation, request.position, {}, u"mysql.connection: gone"_s);
                });
        model.setQuery(u"c"_s);
        model.ensureLoaded(0, 9);
        QCOMPARE(requests, 1);
        QCOMPARE(model.lastError(), u"mysql.connection: gone"_s);
        QVERIFY(!model.isLoaded(0));
        model.ensureLoaded(0, 9);
        QCOMPARE(requests, 2);
    }

    void locate()
    {
        FakeCouponSource source;
        source.add(1000); // ids 1, 4, 7, ...
        CouponTableModel model;
        source.attach(model);
        QSignalSpy located(&model, &CouponTableModel::located);
        QSignalSpy failed(&model, &CouponTableModel::locateFailed);
        model.locate({CouponJump::Id, 4, {}});
        QCOMPARE(failed.size(), 1); // no query, nothing counted
        model.setQuery(u"c"_s);
        model.locate({CouponJump::Id, 301, {}});
        QCOMPARE(located.size(), 1);
        QCOMPARE(located[0][0].toInt(), 100);
        QCOMPARE(located[0][1].toLongLong(), 301);
        model.locate({CouponJump::Id, 303, {}}); // between 301 and 304: the nearer
        QCOMPARE(located[1][1].toLongLong(), 304);
        model.locate({CouponJump::User, 1'000'000 + 1501, {}});
        QCOMPARE(located[2][0].toInt(), 500);
        model.locate({CouponJump::Time, 0, source.rows[700].issuedAt.addMSecs(-1)});
        QCOMPARE(located[3][0].toInt(), 700);
        model.setNewestFirst(true);
        model.locate({CouponJump::Id, 1, {}});
        QCOMPARE(located[4][0].toInt(), 999);
        model.locate({CouponJump::User, 7, {}});
        QCOMPARE(failed.size(), 2);
    }

    void parseJump_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("kind"); // -1: not understood
        QTest::addColumn<qint64>("value");
        QTest::addColumn<QDateTime>("time");

        const QDateTime none;
        QTest::newRow("coupon id") << u" 1234 "_s << int(CouponJump::Id) << qint64(1234) << none;
        QTest::newRow("user") << u"user 42"_s << int(CouponJump::User) << qint64(42) << none;
        QTest::newRow("u") << u"u42"_s << int(CouponJump::User) << qint64(42) << none;
        QTest::newRow("User:") << u"User: 7"_s << int(CouponJump::User) << qint64(7) << none;
        QTest::newRow("local time") << u"2026-11-30 10:15:00"_s << int(CouponJump::Time) << qint64(0)
                                    << QDateTime(QDate(2026, 11, 30), QTime(10, 15));
        QTest::newRow("local minutes") << u"2026-11-30 10:15"_s << int(CouponJump::Time) << qint64(0)
                                       << QDateTime(QDate(2026, 11, 30), QTime(10, 15));
        QTest::newRow("ISO UTC") << u"2026-11-30T10:15:00.250Z"_s << int(CouponJump::Time) << qint64(0)
                                 << QDateTime(QDate(2026, 11, 30), QTime(10, 15, 0, 250), Qt::UTC);
        QTest::newRow("ISO offset") << u"2026-11-30T12:15:00+02:00"_s << int(CouponJump::Time) << qint64(0)
                                    << QDateTime(QDate(2026, 11, 30), QTime(10, 15), Qt::UTC);
        QTest::newRow("empty") << QString() << -1 << qint64(0) << none;
        QTest::newRow("negative") << u"-5"_s << -1 << qint64(0) << none;
        QTest::newRow("word") << u"newest"_s << -1 << qint64(0) << none;
        QTest::newRow("no such date") << u"2026-02-30 10:00"_s << -1 << qint64(0) << none;
        QTest::newRow("too long") << u"12345678901234567890"_s << -1 << qint64(0) << none;
    }

    void parseJump()
    {
        QFETCH(QString, text);
        QFETCH(int, kind);
        QFETCH(qint64, value);
        QFETCH(QDateTime, time);
        QString error;
        const std::optional<CouponJump> jump = parseCouponJump(text, &error);
        if (kind < 0) {
            QVERIFY(!jump);
            QVERIFY2(error.contains(u"user <id>"_s), qPrintable(error));
            return;
        }
        QVERIFY2(jump, qPrintable(error));
        QCOMPARE(int(jump->kind), kind);
        QCOMPARE(jump->value, value);
        if (kind == CouponJump::Time)
            QCOMPARE(jump->time.toMSecsSinceEpoch(), time.toMSecsSinceEpoch());
    }

    // A million coupons behind a view dragged from end to end: each repaint
    // stays short, and only the blocks shown are read (not the million).
    void millionRowsStaySmooth()
    {
        constexpr int kRows = 1'000'000;
        CouponTableModel model;
        int windows = 0;
        connect(&model, &CouponTableModel::spanRequested, &model,
                [&model](quint64 generation, const QString &, UserFilter, qint64 afterId) {
                    model.setSpan(generation, afterId, kRows, kRows, {});
                });
        connect(&model, &CouponTableModel::windowRequested, &model,
                [&](quint64 generation, const CouponWindowRequest &request) {
                    ++windows;
                    CouponRows page;
                    for (qint64 id = request.position + 1; id <= request.position + request.limit; ++id) {
                        CouponRow r;
                        r.id = id;
                        r.userId = id;
                        r.ticket = id;
                        page << r;
                    }
                    model.setWindow(generation, request.position, page, {});
                });
        QTableView view;
        view.verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
        view.verticalHeader()->setDefaultSectionSize(20);
        view.setModel(&model);
        view.resize(800, 600);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        model.setQuery(u"c"_s);
        QCOMPARE(model.rowCount(), kRows);
        qint64 worstMs = 0;
        for (int step = 0; step <= 20; ++step) {
            QElapsedTimer frame;
            frame.start();
            view.verticalScrollBar()->setValue(view.verticalScrollBar()->maximum() * step / 20);
            view.viewport()->repaint();
            settle(); // the shown blocks are read, then painted
            view.viewport()->repaint();
            worstMs = std::max(worstMs, frame.elapsed());
        }
        QVERIFY(model.isLoaded(kRows - 1)); // shown at the bottom, so read
        QCOMPARE(model.data(model.index(kRows - 1, CouponTableModel::User), Qt::DisplayRole).toLongLong(),
                 qint64(kRows));
        qInfo("1M rows: %d windows read, worst step %lld ms", windows, worstMs);
        QVERIFY2(windows <= 2 * 21, qPrintable(QString::number(windows)));
        QVERIFY2(worstMs < 200, qPrintable(u"a step took %1 ms"_s.arg(worstMs)));
    }

    void failedEvents()
    {
        FailedEventTableModel model;
        connect(&model, &PagedTableModel::pageRequested, &model, [&model](quint64 generation, qint64 afterId, int) {
            FailedEventRows rows;
            if (afterId == 0) {
                FailedEventRow r;
                r.id = 7;
                r.partition = 1;
                r.offset = 99;
                r.key = "42";
                r.value = QByteArray::fromHex("000000000000002a");
                r.reason = u"value is 8 bytes but no campaign header"_s;
                rows << r;
                FailedEventRow poison;
                poison.id = 8;
                poison.value = QByteArray("\xff\x00\x01", 3);
                rows << poison;
            }
            model.appendPage(generation, rows, {});
        });
        model.setQuery(u"c"_s);
        fetchAll(model);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.data(model.index(0, FailedEventTableModel::Value), Qt::DisplayRole).toString(),
                 u"00 00 00 00 00 00 00 2a"_s);
        QCOMPARE(model.data(model.index(0, FailedEventTableModel::Key), Qt::DisplayRole).toString(), u"34 32"_s);
        QCOMPARE(model.data(model.index(1, FailedEventTableModel::Key), Qt::DisplayRole).toString(), u"(null)"_s);
        QCOMPARE(model.data(model.index(1, FailedEventTableModel::Value), Qt::DisplayRole).toString(), u"ff 00 01"_s);
        QCOMPARE(model.data(model.index(0, FailedEventTableModel::Reason), Qt::DisplayRole).toString(),
                 u"value is 8 bytes but no campaign header"_s);
    }

    void lagTable_data()
    {
        QTest::addColumn<int>("row");
        QTest::addColumn<int>("column");
        QTest::addColumn<QString>("expected");

        QTest::newRow("partition") << 0 << int(LagTableModel::Partition) << u"0"_s;
        QTest::newRow("committed") << 0 << int(LagTableModel::CurrentOffset) << u"90"_s;
        QTest::newRow("log end") << 0 << int(LagTableModel::LogEndOffset) << u"100"_s;
        QTest::newRow("lag") << 0 << int(LagTableModel::Lag) << u"10"_s;
        QTest::newRow("owner") << 0 << int(LagTableModel::ConsumerId) << u"member-a"_s;
        QTest::newRow("host") << 0 << int(LagTableModel::Host) << u"/10.0.0.1"_s;
        QTest::newRow("client") << 1 << int(LagTableModel::ClientId) << u"coupon-worker-b"_s;
        QTest::newRow("never committed") << 2 << int(LagTableModel::CurrentOffset) << u"-"_s;
        QTest::newRow("never committed: lag from the log start") << 2 << int(LagTableModel::Lag) << u"45"_s;
        QTest::newRow("unowned partition") << 2 << int(LagTableModel::ConsumerId) << u"-"_s;
    }

    void lagTable()
    {
        QFETCH(int, row);
        QFETCH(int, column);
        QFETCH(QString, expected);
        LagTableModel model;
        const QList<PartitionLag> partitions{{0, 90, 0, 100}, {1, 50, 0, 50}, {2, -1, 5, 50}};
        const QList<GroupMember> members{{u"member-a"_s, u"coupon-worker-a"_s, u"/10.0.0.1"_s, {0}},
                                         {u"member-b"_s, u"coupon-worker-b"_s, u"/10.0.0.2"_s, {1}}};
        model.setSnapshot(partitions, members);
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.columnCount(), int(LagTableModel::ColumnCount));
        QCOMPARE(model.totalLag(), 55);
        QCOMPARE(model.data(model.index(row, column), Qt::DisplayRole).toString(), expected);
    }

    // Same partitions again: the rows change in place (no reset, no flicker).
    void lagTableUpdatesInPlace()
    {
        LagTableModel model;
        model.setSnapshot({{0, 1, 0, 5}, {1, 1, 0, 5}}, {});
        int resets = 0, changes = 0;
        connect(&model, &QAbstractItemModel::modelReset, this, [&] { ++resets; });
        connect(&model, &QAbstractItemModel::dataChanged, this, [&] { ++changes; });
        model.setSnapshot({{0, 5, 0, 5}, {1, 5, 0, 7}}, {});
        QCOMPARE(resets, 0);
        QCOMPARE(changes, 1);
        QCOMPARE(model.totalLag(), 2);
        model.setSnapshot({{0, 5, 0, 5}, {1, 5, 0, 7}, {2, 0, 0, 0}}, {});
        QCOMPARE(resets, 1);
    }

    void lagStatus_data()
    {
        QTest::addColumn<QList<LagSample>>("samples");
        QTest::addColumn<LagStatus>("expected");

        auto series = [](std::initializer_list<std::pair<qint64, qint64>> lagCommitted, int members = 1) {
            QList<LagSample> out;
            for (const auto &[lag, committed] : lagCommitted)
                out << sample(lag, committed, members);
            return out;
        };
        QTest::newRow("no sample") << QList<LagSample>{} << LagStatus::Unknown;
        QTest::newRow("Kafka did not answer last")
            << QList<LagSample>{sample(0, 0), sample(0, 0, 1, false)} << LagStatus::Unknown;
        QTest::newRow("one sample, no lag") << series({{0, 100}}) << LagStatus::Ok;
        QTest::newRow("drained") << series({{5, 1}, {3, 3}, {0, 6}}) << LagStatus::Ok;
        QTest::newRow("short window with lag: not enough evidence")
            << series({{10, 1}, {20, 1}, {30, 1}}) << LagStatus::Ok;
        QTest::newRow("lag rises then drains, commits move")
            << series({{10, 0}, {40, 10}, {80, 30}, {120, 60}, {90, 130}, {60, 190}, {20, 250}, {5, 270}})
            << LagStatus::Ok;
        QTest::newRow("a zero in the window is OK")
            << series({{0, 0}, {5, 0}, {9, 0}, {12, 0}, {15, 0}, {20, 0}, {25, 0}, {30, 0}}) << LagStatus::Ok;
        QTest::newRow("lag grows at every sample while commits move: WARN")
            << series({{10, 0}, {12, 5}, {15, 9}, {15, 20}, {18, 30}, {25, 41}, {30, 50}, {40, 61}}) << LagStatus::Warn;
        QTest::newRow("lag grows but dipped once: OK")
            << series({{10, 0}, {12, 5}, {11, 9}, {15, 20}, {18, 30}, {25, 41}, {30, 50}, {40, 61}}) << LagStatus::Ok;
        QTest::newRow("lag flat, commits move: OK")
            << series({{10, 0}, {10, 5}, {10, 9}, {10, 20}, {10, 30}, {10, 41}, {10, 50}, {10, 61}}) << LagStatus::Ok;
        QTest::newRow("commits frozen with lag, members there: STALL")
            << series({{10, 7}, {11, 7}, {12, 7}, {12, 7}, {15, 7}, {15, 7}, {16, 7}, {20, 7}}) << LagStatus::Stall;
        QTest::newRow("commits frozen, lag constant: STALL")
            << series({{10, 7}, {10, 7}, {10, 7}, {10, 7}, {10, 7}, {10, 7}, {10, 7}, {10, 7}}) << LagStatus::Stall;
        QTest::newRow("only the window counts: old movement forgotten")
            << series({{1, 1}, {2, 2}, {10, 7}, {10, 7}, {10, 7}, {10, 7}, {10, 7}, {10, 7}, {10, 7}, {10, 7}})
            << LagStatus::Stall;
        QTest::newRow("no member left, lag > 0: STOP") << series({{10, 7}, {12, 7}}, 0) << LagStatus::Stop;
        QTest::newRow("no member, nothing to do: OK") << series({{0, 7}, {0, 7}}, 0) << LagStatus::Ok;
        QTest::newRow("members unknown: no STOP") << series({{10, 7}, {12, 7}}, -1) << LagStatus::Ok;
        QList<LagSample> gaps = series({{10, 7}, {11, 7}, {12, 7}, {12, 7}});
        gaps << sample(0, 0, 1, false);
        gaps << series({{15, 7}, {15, 7}, {16, 7}, {20, 7}});
        QTest::newRow("failed samples are skipped, not zeros") << gaps << LagStatus::Stall;
    }

    void lagStatus()
    {
        QFETCH(QList<LagSample>, samples);
        QFETCH(LagStatus, expected);
        QCOMPARE(toString(evaluateLag(samples)), toString(expected));
    }

    void memberAssignment_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QList<int32_t>>("expected");

        QTest::newRow("one topic") << assignment({{"coupon_create", {2, 0}}}) << QList<int32_t>{0, 2};
        QTest::newRow("other topics ignored")
            << assignment({{"other", {0, 1}}, {"coupon_create", {1}}}) << QList<int32_t>{1};
        QTest::newRow("nothing assigned") << assignment({}) << QList<int32_t>{};
        QTest::newRow("empty bytes") << QByteArray() << QList<int32_t>{};
        QTest::newRow("truncated") << assignment({{"coupon_create", {2, 0}}}).left(20) << QList<int32_t>{};
    }

    void memberAssignment()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QList<int32_t>, expected);
        QCOMPARE(decodeMemberAssignment(bytes, "coupon_create"), expected);
    }

    // Reset needs the campaign id typed out; a new campaign needs a valid id.
    void dialogsGuardTheirOkButton()
    {
        ResetDialog reset(u"spring"_s);
        auto *typed = reset.findChild<QLineEdit *>();
        auto *ok = reset.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        QVERIFY(!ok->isEnabled());
        QTest::keyClicks(typed, u"sprin"_s);
        QVERIFY(!ok->isEnabled());
        QTest::keyClicks(typed, u"g"_s);
        QVERIFY(ok->isEnabled());

        CampaignDialog create;
        auto *createOk = create.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        QVERIFY(!createOk->isEnabled());
        QLineEdit *id = create.findChildren<QLineEdit *>().first();
        id->setText(u"Spring Drop"_s);
        QVERIFY(!createOk->isEnabled());
        id->setText(u"spring-2"_s);
        QVERIFY(createOk->isEnabled());
        QCOMPARE(create.campaign().limit, 100);
        QVERIFY(!create.campaign().startsAt.isValid());
    }

    // Resolve asks who and why; a retry of bytes that name no user needs a
    // correction, and the correction its typed confirmation.
    void failedEventDialogsGuardTheirOkButton()
    {
        FailedEventRow row;
        row.id = 17;
        row.reason = u"value_size"_s;
        row.campaign = u"spring"_s;
        row.key = "42";
        row.value = QByteArray("\x01\x02", 2);

        ResolveDialog resolve(row, u"alice"_s);
        auto *resolveOk = resolve.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        QVERIFY(!resolveOk->isEnabled()); // no reason yet
        resolve.findChildren<QLineEdit *>().at(1)->setText(u"a test message"_s);
        QVERIFY(resolveOk->isEnabled());
        resolve.findChildren<QLineEdit *>().at(0)->setText(u"  "_s);
        QVERIFY(!resolveOk->isEnabled());

        RetryDialog retry(row, u"alice"_s);
        auto *retryOk = retry.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        QVERIFY(!retryOk->isEnabled()); // the bytes name no user: a correction, confirmed
        retry.findChild<QLineEdit *>(u"retryUser"_s)->setText(u"42"_s);
        QVERIFY(!retryOk->isEnabled());
        auto *confirm = retry.findChild<QLineEdit *>(u"retryConfirm"_s);
        QTest::keyClicks(confirm, u"retry 17 as spring/4"_s);
        QVERIFY(!retryOk->isEnabled());
        QTest::keyClicks(confirm, u"2"_s);
        QVERIFY(retryOk->isEnabled());
        QCOMPARE(retry.retry().correction->userId, 42);
        QCOMPARE(retry.retry().confirmation, u"retry 17 as spring/42"_s);
        retry.findChild<QLineEdit *>(u"retryUser"_s)->setText(u"43"_s); // the phrase no longer matches
        QVERIFY(!retryOk->isEnabled());

        // Bytes that name campaign and user: retried as they are, no typing.
        row.value = QByteArray::fromHex("000000000000002a");
        RetryDialog plain(row, u"alice"_s);
        QVERIFY(plain.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->isEnabled());
        QVERIFY(!plain.retry().correction);
    }

    void failedEventState()
    {
        FailedEventRow r;
        QCOMPARE(FailedEventTableModel::stateText(r), u"unresolved"_s);
        r.retries = 1;
        r.lastRetryOutcome = u"duplicate as spring/42 (original bytes)"_s;
        QCOMPARE(FailedEventTableModel::stateText(r),
                 u"unresolved · last retry: duplicate as spring/42 (original bytes)"_s);
        r.resolvedAt = QDateTime::currentDateTimeUtc();
        r.resolvedBy = u"alice"_s;
        r.resolution = u"served by hand"_s;
        QCOMPARE(FailedEventTableModel::stateText(r), u"resolved by alice: served by hand"_s);
    }

    void settingsDialogHidesPasswords()
    {
        Settings settings;
        settings.redis.password = u"secret"_s;
        settings.mysql.password = u"other"_s;
        SettingsDialog dialog(settings, {u"http://127.0.0.1:8080"_s});
        int hidden = 0;
        for (QLineEdit *edit : dialog.findChildren<QLineEdit *>())
            hidden += edit->echoMode() == QLineEdit::Password ? 1 : 0;
        QCOMPARE(hidden, 2);
        QCOMPARE(dialog.settings().redis.password, u"secret"_s);
        QCOMPARE(dialog.gatewayUrls(), QStringList{u"http://127.0.0.1:8080"_s});
    }

    void csv_data()
    {
        QTest::addColumn<QStringList>("fields");
        QTest::addColumn<QString>("expected");
        QTest::newRow("plain") << QStringList{u"1"_s, u"spring"_s, u"42"_s} << u"1,spring,42"_s;
        QTest::newRow("comma") << QStringList{u"a,b"_s, u"c"_s} << u"\"a,b\",c"_s;
        QTest::newRow("quote") << QStringList{u"say \"hi\""_s} << u"\"say \"\"hi\"\"\""_s;
        QTest::newRow("newline") << QStringList{u"a\nb"_s, QString()} << u"\"a\nb\","_s;
    }

    void csv()
    {
        QFETCH(QStringList, fields);
        QFETCH(QString, expected);
        QCOMPARE(csvRecord(fields), expected);
    }

    void latencyUnits_data()
    {
        QTest::addColumn<double>("ms");
        QTest::addColumn<QString>("expected");
        QTest::newRow("none") << 0.0 << u"0 µs"_s;
        QTest::newRow("sub-µs") << 0.0004 << u"0.40 µs"_s;
        QTest::newRow("memo") << 0.0123 << u"12.3 µs"_s;
        QTest::newRow("µs") << 0.25 << u"250 µs"_s;
        QTest::newRow("rounds up to 1 ms") << 0.9996 << u"1.00 ms"_s;
        QTest::newRow("ms") << 1.5 << u"1.50 ms"_s;
        QTest::newRow("tens of ms") << 12.345 << u"12.3 ms"_s;
        QTest::newRow("hundreds of ms") << 250.0 << u"250 ms"_s;
        QTest::newRow("s") << 1234.0 << u"1.23 s"_s;
    }

    void latencyUnits()
    {
        QFETCH(double, ms);
        QFETCH(QString, expected);
        QCOMPARE(latencyText(ms), expected);
    }

    // Answers from the sold-out memo take microseconds: the panel and
    // couponctl simulate's summary say so, in the shape scripts/bench-cluster
    // reads ("p50 12.3 µs", with its pattern).
    void microsecondLatenciesAreShown()
    {
        SimulationReport report;
        report.attempts = 1000;
        report.byStatus[size_t(ApplyOutcome::SoldOut)] = 1000;
        report.seconds = 0.05;
        report.p50Ms = 0.0123;
        report.p95Ms = 0.2;
        report.p99Ms = 3;
        const QString summary = report.summary();
        QVERIFY2(summary.contains(u"latency p50 12.3 µs, p95 200 µs, p99 3.00 ms"_s), qPrintable(summary));
        for (const QString &p : {u"p50"_s, u"p95"_s, u"p99"_s})
            QVERIFY2(QRegularExpression(p + u" ([0-9.]+ (µs|ms|s))"_s).match(summary).hasMatch(), qPrintable(summary));

        SimulationPanel panel({});
        panel.runStarted(1000, std::make_shared<SimulationProgress>());
        panel.runFinished(&report);
        auto *rate = panel.findChild<QLabel *>(u"rateLabel"_s);
        QVERIFY(rate);
        QVERIFY2(rate->text().contains(u"p50 12.3 µs · p95 200 µs · p99 3.00 ms"_s), qPrintable(rate->text()));
    }

    // Before the first run there is nothing to count: no "0 of 1 applies".
    void progressBeforeTheFirstRun()
    {
        SimulationPanel panel({});
        auto *bar = panel.findChild<QProgressBar *>(u"simulationProgress"_s);
        QVERIFY(bar);
        QCOMPARE(bar->text(), u"no run yet"_s);
        auto progress = std::make_shared<SimulationProgress>();
        panel.runStarted(1000, progress);
        // (QProgressBar's own number format: with or without a group separator)
        const auto counted = [bar] { return QString(bar->text()).remove(bar->locale().groupSeparator()); };
        QCOMPARE(counted(), u"0 of 1000 applies"_s);
        SimulationReport report;
        report.attempts = 1000;
        panel.runFinished(&report);
        QCOMPARE(counted(), u"1000 of 1000 applies"_s);
    }

    void compactCounts_data()
    {
        QTest::addColumn<qint64>("n");
        QTest::addColumn<QString>("expected");
        QTest::newRow("0") << qint64(0) << u"0"_s;
        QTest::newRow("999") << qint64(999) << u"999"_s;
        QTest::newRow("9,999") << qint64(9999) << u"9,999"_s;
        QTest::newRow("10k") << qint64(10'000) << u"10.0k"_s;
        QTest::newRow("12.3k") << qint64(12'345) << u"12.3k"_s;
        // Never rounded up: a count one short of the limit does not read as it.
        QTest::newRow("999.9k") << qint64(999'999) << u"999.9k"_s;
        QTest::newRow("1.0M") << qint64(1'000'000) << u"1.0M"_s;
        QTest::newRow("1.9M") << qint64(1'999'999) << u"1.9M"_s;
        QTest::newRow("123.4M") << qint64(123'456'789) << u"123.4M"_s;
        QTest::newRow("2.5B") << qint64(2'500'000'000) << u"2.5B"_s;
    }

    void compactCounts()
    {
        QFETCH(qint64, n);
        QFETCH(QString, expected);
        const QLocale before;
        QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates));
        const QString text = compactCount(n);
        QLocale::setDefault(before);
        QCOMPARE(text, expected);
    }

    // The count and its "of limit" line stay inside the ring, at the
    // gauge's smallest size and above, for a million coupons and more.
    void gaugeTextFitsInsideTheRing_data()
    {
        QTest::addColumn<QSize>("size");
        QTest::addColumn<qint64>("count");
        QTest::addColumn<qint64>("limit");
        for (const QSize &size : {QSize(140, 130), QSize(190, 170), QSize(420, 200)}) {
            const QByteArray at = QByteArray::number(size.width()) + 'x' + QByteArray::number(size.height());
            QTest::newRow(QByteArray(at + " 100/100").constData()) << size << qint64(100) << qint64(100);
            QTest::newRow(QByteArray(at + " 1M/1M").constData()) << size << qint64(1'000'000) << qint64(1'000'000);
            QTest::newRow(QByteArray(at + " 999999/1M").constData()) << size << qint64(999'999) << qint64(1'000'000);
            QTest::newRow(QByteArray(at + " 123456789/200M").constData())
                << size << qint64(123'456'789) << qint64(200'000'000);
        }
    }

    void gaugeTextFitsInsideTheRing()
    {
        QFETCH(QSize, size);
        QFETCH(qint64, count);
        QFETCH(qint64, limit);
        CounterGauge gauge;
        gauge.resize(size);
        gauge.setValues(count, limit, true);
        QCOMPARE(gauge.text(), u"%1/%2"_s.arg(count).arg(limit)); // exact, for whoever reads it
        const CounterGauge::Face face = gauge.face();
        const QPointF center = face.arc.center();
        const double inner = face.arc.width() / 2 - face.thickness / 2; // the ring's inner edge
        const auto fits = [&](const QString &text, const QFont &font, const QRectF &rect) {
            const QFontMetricsF metrics(font);
            const double halfWidth = metrics.horizontalAdvance(text) / 2;
            const double top = rect.center().y() - metrics.height() / 2 - center.y();
            const double bottom = rect.center().y() + metrics.height() / 2 - center.y();
            const double reach = std::hypot(halfWidth, std::max(std::abs(top), std::abs(bottom)));
            return reach <= inner
                ? QString()
                : u"\"%1\" reaches %2 px from the centre, the ring starts at %3"_s.arg(text).arg(reach).arg(inner);
        };
        QVERIFY(!face.value.isEmpty());
        const QString value = fits(face.value, face.valueFont, face.valueRect);
        QVERIFY2(value.isEmpty(), qPrintable(value));
        const QString of = fits(face.limit, face.limitFont, face.limitRect);
        QVERIFY2(of.isEmpty(), qPrintable(of));
    }

    // The verdict from one reading, worst rule first.
    void campaignHealthVerdicts_data()
    {
        QTest::addColumn<CampaignOverview>("row");
        QTest::addColumn<CampaignHealth::Verdict>("verdict");
        QTest::addColumn<QString>("reason"); // a piece of the tooltip

        QTest::newRow("open, all issued") << campaignRow(u"a"_s, 100, 40) << CampaignHealth::Ok << u"Open"_s;
        QTest::newRow("closed") << campaignRow(u"a"_s, 100, 40, u"closed"_s) << CampaignHealth::Closed << u"Closed"_s;
        QTest::newRow("sold out") << campaignRow(u"a"_s, 100, 100) << CampaignHealth::SoldOut << u"100"_s;
        CampaignOverview draining = campaignRow(u"a"_s, 100, 60);
        draining.redisCount = 100;
        QTest::newRow("draining: reserved, not issued yet") << draining << CampaignHealth::Draining << u"40"_s;
        CampaignOverview young = campaignRow(u"a"_s, 100, 60);
        young.pending = 2;
        young.oldestPendingMs = kNow - kDelivery + 1;
        QTest::newRow("draining: pending, younger than the delivery timeout")
            << young << CampaignHealth::Draining << u"2 pending"_s;
        CampaignOverview old = young;
        old.oldestPendingMs = kNow - kDelivery - 1;
        QTest::newRow("attention: pending past the delivery timeout")
            << old << CampaignHealth::Attention << u"past the delivery timeout"_s;
        CampaignOverview poison = campaignRow(u"a"_s, 100, 100);
        poison.unresolvedFailedEvents = 3;
        QTest::newRow("attention: unresolved failed events")
            << poison << CampaignHealth::Attention << u"3 unresolved"_s;
        CampaignOverview stale = poison;
        stale.redisCurrent = false;
        stale.reconcile.step = QString::fromLatin1(kReconcileStepDrain);
        stale.reconcile.sinceMs = kNow - 12'000;
        stale.reconcile.behind = 7;
        QTest::newRow("reconciling, over everything else")
            << stale << CampaignHealth::Reconciling << u"7 message(s) to go, for 12.0 s"_s;
        CampaignOverview unpublished = campaignRow(u"a"_s, 100, 10);
        unpublished.redisCurrent = false;
        QTest::newRow("reconciling, no reconciler has published")
            << unpublished << CampaignHealth::Reconciling << u"is a coupon-worker running"_s;
        CampaignOverview lostOpen = campaignRow(u"a"_s, 100, 10);
        lostOpen.redisLoaded = false;
        lostOpen.reconcile.step = QString::fromLatin1(kReconcileStepDelivery);
        lostOpen.reconcile.sinceMs = kNow - 4000;
        QTest::newRow("an open campaign Redis lost reconciles")
            << lostOpen << CampaignHealth::Reconciling << u"waiting out the delivery timeout (4.0 s of 10.0 s)"_s;
        CampaignOverview lostClosed = campaignRow(u"a"_s, 100, 10, u"closed"_s);
        lostClosed.redisLoaded = false;
        QTest::newRow("a closed campaign Redis lost is not loaded")
            << lostClosed << CampaignHealth::NotLoaded << u"not_loaded"_s;
        CampaignOverview rebuilding = campaignRow(u"a"_s, 100, 10);
        rebuilding.maintenance = true;
        QTest::newRow("an operator's rebuild") << rebuilding << CampaignHealth::Reconciling << u"operator"_s;
    }

    void campaignHealthVerdicts()
    {
        QFETCH(CampaignOverview, row);
        QFETCH(CampaignHealth::Verdict, verdict);
        QFETCH(QString, reason);
        const CampaignHealth health = campaignHealth(row, kNow, kDelivery);
        QCOMPARE(toString(health.verdict), toString(verdict));
        QVERIFY2(health.reason.contains(reason), qPrintable(health.reason));
    }

    // In flight is reserved − issued; a campaign's lag share its part of
    // every campaign's in flight; a failed reading turns every verdict to error.
    void overviewModelFiguresAndShare()
    {
        CampaignOverviewModel model;
        CampaignOverview a = campaignRow(u"a"_s, 100, 20);
        a.redisCount = 50; // 30 in flight
        CampaignOverview b = campaignRow(u"b"_s, 100, 90);
        b.redisCount = 100; // 10 in flight
        const CampaignOverview c = campaignRow(u"c"_s, 100, 100);
        model.setOverview(overviewOf({a, b, c}, 40));
        QCOMPARE(model.rowCount(), 3);
        const int rowA = model.rowOf(u"a"_s);
        QCOMPARE(model.index(rowA, CampaignOverviewModel::Reserved).data().toString(), QLocale().toString(50));
        QCOMPARE(model.index(rowA, CampaignOverviewModel::Issued).data().toString(), QLocale().toString(20));
        QCOMPARE(model.index(rowA, CampaignOverviewModel::InFlight).data().toString(), QLocale().toString(30));
        QCOMPARE(model.lagShare(rowA), 0.75);
        QCOMPARE(model.index(rowA, CampaignOverviewModel::LagShare).data().toString(), u"75 %"_s);
        QVERIFY(
            model.index(rowA, CampaignOverviewModel::LagShare).data(Qt::ToolTipRole).toString().contains(u"≈ 30"_s));
        QCOMPARE(model.lagShare(model.rowOf(u"c"_s)), 0.0);
        QCOMPARE(model.index(model.rowOf(u"c"_s), CampaignOverviewModel::Health).data().toString(), u"sold out"_s);

        model.setError(u"redis: connection refused"_s);
        QCOMPARE(model.index(rowA, CampaignOverviewModel::Health).data().toString(), u"error"_s);
        QVERIFY(model.index(rowA, CampaignOverviewModel::Health)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(u"connection refused"_s));
        model.setOverview(overviewOf({a, b, c}, -1)); // Kafka did not answer
        QCOMPARE(model.index(rowA, CampaignOverviewModel::Health).data().toString(), u"draining"_s);
        QCOMPARE(model.index(rowA, CampaignOverviewModel::LagShare).data().toString(), u"?"_s);
    }

    // A reading updates rows in place (a selection survives), drops gone
    // campaigns and appends new ones; the proxy sorts numbers as numbers.
    void overviewModelUpdatesInPlaceAndSortsNumerically()
    {
        CampaignOverviewModel model;
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(CampaignOverviewModel::SortRole);
        proxy.setDynamicSortFilter(true);
        proxy.sort(CampaignOverviewModel::Limit, Qt::AscendingOrder);
        model.setOverview(
            overviewOf({campaignRow(u"a"_s, 9, 0), campaignRow(u"b"_s, 10, 0), campaignRow(u"c"_s, 100, 0)}));
        auto order = [&] {
            QStringList ids;
            for (int row = 0; row < proxy.rowCount(); ++row)
                ids << proxy.index(row, 0).data(CampaignOverviewModel::IdRole).toString();
            return ids;
        };
        QCOMPARE(order(), (QStringList{u"a"_s, u"b"_s, u"c"_s})); // as text it would be 10, 100, 9

        QPersistentModelIndex b(model.index(model.rowOf(u"b"_s), 0));
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        model.setOverview(
            overviewOf({campaignRow(u"d"_s, 1, 0), campaignRow(u"b"_s, 1000, 5), campaignRow(u"a"_s, 9, 0)}));
        QCOMPARE(reset.count(), 0);
        QVERIFY(b.isValid());
        QCOMPARE(b.data(CampaignOverviewModel::IdRole).toString(), u"b"_s);
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.rowOf(u"c"_s), -1);
        QCOMPARE(model.index(model.rowOf(u"b"_s), CampaignOverviewModel::Issued).data().toString(), u"5"_s);
        QCOMPARE(order(), (QStringList{u"d"_s, u"a"_s, u"b"_s}));
        proxy.sort(CampaignOverviewModel::Health, Qt::AscendingOrder); // worst first
        CampaignOverview poisoned = campaignRow(u"a"_s, 9, 0);
        poisoned.unresolvedFailedEvents = 1;
        model.setOverview(overviewOf({campaignRow(u"d"_s, 1, 1), campaignRow(u"b"_s, 1000, 5), poisoned}));
        QCOMPARE(order().first(), u"a"_s);
    }

    // Each reservation says what it waits for by its age; the window grows
    // a page at a time as the view scrolls.
    void reservationModelAgesAndWindow()
    {
        ReservationTableModel model;
        model.setCampaign(u"spring"_s);
        QSignalSpy window(&model, &ReservationTableModel::windowRequested);
        PendingPage page;
        page.redisNowMs = kNow;
        page.total = 1200;
        for (int i = 0; i < ReservationTableModel::kPage; ++i)
            page.reservations.append({1000 + i, kNow - 20'000 + i * 30});
        model.setPage(u"other"_s, page, kDelivery, false); // not the focused campaign: dropped
        QCOMPARE(model.rowCount(), 0);
        model.setPage(u"spring"_s, page, kDelivery, false);
        QCOMPARE(model.rowCount(), ReservationTableModel::kPage);
        QCOMPARE(model.index(0, ReservationTableModel::User).data().toString(), u"1000"_s);
        QCOMPARE(model.index(0, ReservationTableModel::Age).data().toString(), u"20.0 s"_s);
        QVERIFY(model.index(0, ReservationTableModel::WaitingFor).data().toString().startsWith(u"settlement"_s));
        const int young = ReservationTableModel::kPage - 1; // 20 s - 499 * 30 ms = 5.03 s old
        QVERIFY2(model.index(young, ReservationTableModel::WaitingFor).data().toString().startsWith(u"its delivery"_s),
                 qPrintable(model.index(young, ReservationTableModel::WaitingFor).data().toString()));
        model.setDeliveryTimeout(kDelivery, true);
        QVERIFY(model.index(young, ReservationTableModel::WaitingFor).data().toString().startsWith(u"the rebuild"_s));

        QVERIFY(model.canFetchMore({}));
        model.fetchMore({});
        QCOMPARE(window.count(), 1);
        QCOMPARE(window.first().first().toInt(), 2 * ReservationTableModel::kPage);
        QVERIFY(!model.canFetchMore({})); // asked already: wait for the reading
        model.setCampaign(u"summer"_s);
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(model.window(), ReservationTableModel::kPage);
    }

    void settleTextIsCouponctls()
    {
        SettleReport r;
        r.confirmed = 1;
        r.released = 2;
        r.waiting = 3;
        r.young = 4;
        r.graceMs = 11000;
        QCOMPARE(
            ReservationsPanel::settleText(r),
            u"confirmed 1, released 2, waiting 3 (not drained past yet), younger than the grace 4 (grace 11000 ms)"_s);
    }

    void durations()
    {
        QCOMPARE(durationText(-5), u"0 ms"_s);
        QCOMPARE(durationText(850), u"850 ms"_s);
        QCOMPARE(durationText(4200), u"4.2 s"_s);
        QCOMPARE(durationText(185'000), u"3 min 05 s"_s);
        QCOMPARE(durationText(7'800'000), u"2 h 10 min"_s);
    }
};

QTEST_MAIN(TestConsoleModels)
#include "tst_console_models.moc"
