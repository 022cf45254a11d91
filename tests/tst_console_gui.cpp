// The operator console on the real stack, driven like an operator would:
// click Simulate and watch the counter stop at the limit, the lag drain, the
// coupons appear and the audit's verdict; cut Redis and check that the window
// keeps answering while the service bar turns red.

#include "backend.h"
#include "coupon/protocol/codec.h"
#include "coupon/protocol/scripts.h"
#include "coupon/service/apply_service.h"
#include "coupon/service/campaigns.h"
#include "coupon_browser.h"
#include "main_window.h"
#include "models.h"
#include "overview_models.h"
#include "overview_panel.h"
#include "report_export.h"
#include "report_fields.h"
#include "run_timeline.h"
#include "runs_panel.h"
#include "tcpproxy.h"
#include "testsupport.h"
#include "widgets.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSqlError>
#include <QSqlQuery>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <atomic>

using namespace Qt::StringLiterals;
using namespace coupon;
using namespace coupon::console;

namespace {

// Measures how late the GUI thread serves a 10 ms timer: the longest gap
// between two ticks is the worst event-loop latency seen.
class EventLoopProbe : public QObject
{
public:
    EventLoopProbe()
    {
        m_timer.setInterval(10);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            if (m_clock.isValid())
                m_worstMs = std::max(m_worstMs, m_clock.restart());
            else
                m_clock.start();
            ++m_ticks;
        });
        m_timer.start();
    }
    qint64 worstMs() const { return m_worstMs; }
    qint64 ticks() const { return m_ticks; }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_worstMs = 0;
    qint64 m_ticks = 0;
};

// Apply requests a gateway answered so far, whatever the answer
// (coupon_gateway_requests_total of the apply route, on its admin port).
qint64 appliesServed(const test::GatewayProcess &gateway)
{
    const QByteArray body = test::http(gateway.adminPort(), "GET", "/metrics").body;
    qint64 total = 0;
    for (const QByteArray &line : body.split('\n')) {
        if (line.startsWith("coupon_gateway_requests_total{route=\"apply\","))
            total += line.mid(line.lastIndexOf(' ') + 1).toLongLong();
    }
    return total;
}

} // namespace

class TestConsoleGui : public QObject
{
    Q_OBJECT

    QTemporaryDir m_config; // the console's QSettings, away from the user's
    QTemporaryDir m_runs;   // the run history, away from the user's
    QTemporaryDir m_data;   // XDG_DATA_HOME: nothing of this suite lands in the user's
    Settings m_settings = test::integrationSettings();
    test::StackFixture m_stack;
    std::unique_ptr<CampaignOps> &m_ops = m_stack.ops;

    std::unique_ptr<ApplyService> m_apply; // the real protocol, for coupons the tests need

    QString openCampaign(const QString &prefix, qint64 limit) { return test::openCampaign(*m_ops, prefix, limit); }

    ApplyService &applier()
    {
        if (!m_apply) {
            Result<std::unique_ptr<ApplyService>> created = ApplyService::create(m_settings);
            if (!created)
                qFatal("apply service: %s", qPrintable(created.error().message));
            m_apply = std::move(created).value();
        }
        return *m_apply;
    }

    // Applies `users` (1, 2, ...) through the protocol and waits until the
    // worker issued what was accepted and nothing is pending.
    bool issue(const QString &campaign, int users, qint64 expectIssued)
    {
        QStringList answers;
        for (int user = 1; user <= users; ++user)
            answers << toString(applier().applyAndWait(campaign, user).status);
        const bool issued = test::waitFor(
            [&] {
                Result<CampaignOverview> s = m_ops->status(campaign);
                return s && s->coupons == expectIssued && s->campaign.issued == expectIssued && s->pending == 0;
            },
            30000);
        if (!issued) {
            const Result<CampaignOverview> s = m_ops->status(campaign);
            qWarning("%s: answered %s; now %s", qPrintable(campaign), qPrintable(answers.join(u", "_s)),
                     s ? qPrintable(u"coupons %1, issued %2, pending %3, count %4"_s.arg(s->coupons)
                                        .arg(s->campaign.issued)
                                        .arg(s->pending)
                                        .arg(s->redisCount))
                       : qPrintable(s.error().message));
        }
        return issued;
    }

    // A reservation as a gateway makes it (the apply script on the stack's
    // Redis), without the produce that should follow: what a gateway that
    // died in between leaves pending. Returns its ticket.
    qint64 reserveOnly(const QString &campaign, qint64 user)
    {
        Result<RedisReplyHandle> r = m_ops->redis().eval(scripts::apply(), CampaignKeys(campaign).all(),
                                                         {QByteArray::number(user), m_ops->instance().value()});
        if (!r || replyString(r->get()->element[0]) != "accepted")
            return -1;
        return replyInteger(r->get()->element[1]).value_or(-1);
    }

    // The overview's text in a cell of `campaign`'s row.
    static QString cell(MainWindow &window, const QString &campaign, int column)
    {
        CampaignOverviewModel *model = window.overviewPanel()->model();
        const int row = model->rowOf(campaign);
        return row < 0 ? QString() : model->index(row, column).data().toString();
    }

    // Shows `window` and waits (bounded) until it has `campaign` selected.
    static bool showOn(MainWindow &window, const QString &campaign)
    {
        window.show();
        if (!QTest::qWaitForWindowExposed(&window))
            return false;
        window.selectCampaign(campaign);
        return test::waitFor([&] { return window.currentCampaign() == campaign; }, 20000);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_config.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_config.path()));
        QVERIFY(m_runs.isValid());
        qputenv("COUPON_RUN_HISTORY_DIR", QFile::encodeName(m_runs.path()));
        // Should a case drop COUPON_RUN_HISTORY_DIR, the default is here too.
        QVERIFY(m_data.isValid());
        qputenv("XDG_DATA_HOME", QFile::encodeName(m_data.path()));
        QCoreApplication::setOrganizationName(u"coupon-system-test"_s);
        QCoreApplication::setApplicationName(u"tst_console_gui"_s);
        const QString started = m_stack.start(m_settings, u"tst_console_gui"_s);
        QVERIFY2(started.isEmpty(), qPrintable(started));
    }

    void cleanupTestCase()
    {
        if (m_stack.worker)
            QCOMPARE(m_stack.worker->terminate(10000), 0);
    }

    // The issue's acceptance run: one click, the tutorial's drop.
    void clickSimulateIssuesExactlyTheLimit()
    {
        const QString campaign = openCampaign(u"console"_s, 100);
        MainWindow window(m_settings, {});
        QVERIFY(showOn(window, campaign));
        QTRY_VERIFY_WITH_TIMEOUT(window.gauge()->text() == u"0/100"_s, 10000);
        auto *users = window.findChild<QSpinBox *>(u"usersSpin"_s);
        QVERIFY(users);
        QCOMPARE(users->value(), 1000);
        QCOMPARE(window.simulateButton()->text(), u"Simulate %1 users"_s.arg(QLocale().toString(1000)));

        QSignalSpy finished(&window, &MainWindow::simulationFinished);
        QSignalSpy verdict(&window, &MainWindow::verdictReady);
        QTest::mouseClick(window.simulateButton(), Qt::LeftButton);
        QVERIFY(window.isSimulating());
        QVERIFY(finished.wait(60000));
        const auto report = finished.first().first().value<SimulationReport>();
        QCOMPARE(report.attempts, 1000);
        QCOMPARE(report.count(ApplyOutcome::Accepted), 100);
        QCOMPARE(report.count(ApplyOutcome::SoldOut), 900);
        QCOMPARE(window.findChild<QLabel *>(u"outcome-accepted"_s)->text(), u"100"_s);
        QCOMPARE(window.findChild<QLabel *>(u"outcome-sold_out"_s)->text(), u"900"_s);

        // The counter climbed to the limit and stopped there.
        QTRY_COMPARE_WITH_TIMEOUT(window.gauge()->text(), u"100/100"_s, 10000);
        // The verdict of the audit (which waits for the drain).
        QTRY_VERIFY_WITH_TIMEOUT(!verdict.isEmpty(), 120000);
        const QString text = verdict.first().at(1).toString();
        QVERIFY2(verdict.first().first().toBool(), qPrintable(text));
        QVERIFY2(text.contains(u"All five invariants hold"_s), qPrintable(text));
        QVERIFY2(text.contains(u"100 issued of 100 · 0 duplicates · 0 lost"_s), qPrintable(text));
        QVERIFY2(text.contains(u"900 sold out"_s), qPrintable(text));
        QCOMPARE(window.verdictLabel()->property("tone").toString(), u"good"_s);
        // The lag table drained to 0 with the worker in it.
        QTRY_VERIFY_WITH_TIMEOUT(
            window.lagSeen() && window.lagModel()->rowCount() > 0 && window.lagModel()->totalLag() == 0, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(toString(window.lagBadge()->status()), u"OK"_s, 10000);
        // The browser lists the 100 coupons, and says so.
        QTRY_COMPARE_WITH_TIMEOUT(window.couponModel()->rowCount(), 100, 20000);
        QTRY_COMPARE_WITH_TIMEOUT(window.couponTotal(), qint64(100), 10000);
        QCOMPARE(window.couponModel()->campaign(), campaign);
        window.couponModel()->ensureLoaded(0, 99);
        QTRY_VERIFY_WITH_TIMEOUT(window.couponModel()->isLoaded(0) && window.couponModel()->isLoaded(99), 10000);
        QSet<qint64> shown;
        for (int i = 0; i < 100; ++i)
            shown.insert(window.couponModel()->row(i).userId);
        QCOMPARE(shown, report.answered.accepted);

        // Filter by one holder: one row.
        const qint64 holder = window.couponModel()->row(42).userId;
        QTest::keyClicks(window.userFilter(), QString::number(holder));
        QTRY_COMPARE_WITH_TIMEOUT(window.couponModel()->rowCount(), 1, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window.couponModel()->isLoaded(0), 10000);
        QCOMPARE(window.couponModel()->row(0).userId, holder);
        QTRY_COMPARE_WITH_TIMEOUT(window.couponTotal(), qint64(1), 10000);
        // Export what the filter shows... and everything.
        QTemporaryDir exportDir;
        QSignalSpy exported(window.backend(), &Backend::exportFinished);
        window.backend()->exportCoupons(campaign, std::nullopt, exportDir.filePath(u"all.csv"_s));
        QVERIFY(exported.wait(30000));
        QCOMPARE(exported.first().at(1).toLongLong(), qint64(100));
        QVERIFY2(exported.first().at(2).toString().isEmpty(), qPrintable(exported.first().at(2).toString()));
        QFile csv(exportDir.filePath(u"all.csv"_s));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csv.readAll().split('\n');
        QCOMPARE(lines.size(), 102); // header, 100 rows, the final newline
        QVERIFY(lines.first().startsWith("id,campaign,user_id,ticket"));

        // A poison message of this campaign shows in the failed events tab, in hex.
        test::RawProducer producer(m_settings);
        producer.send(QByteArray("7"), QByteArray("\x01\x02\xff", 3), test::protocolHeaders(campaign, 1));
        QTRY_COMPARE_WITH_TIMEOUT(window.failedEventModel()->rowCount(), 1, 30000);
        FailedEventTableModel *failed = window.failedEventModel();
        QCOMPARE(failed->data(failed->index(0, FailedEventTableModel::Value), Qt::DisplayRole).toString(),
                 u"01 02 ff"_s);
        QVERIFY(!failed->data(failed->index(0, FailedEventTableModel::Reason), Qt::DisplayRole).toString().isEmpty());

        // And the service bar shows what answered.
        for (const QString &key : {u"redis"_s, u"mysql"_s, u"kafka"_s, u"workers"_s})
            QTRY_COMPARE_WITH_TIMEOUT(window.serviceBar()->state(key).health, int(ServiceState::Up), 10000);
    }

    // Issue 15: a million coupons, both ends reachable. The campaign is
    // written straight into MySQL (the Sequence engine) once and kept for the
    // next run on the same stack; the browser must count them all, show the
    // newest at Ctrl+End, the row MySQL has at the thumb's position, newest
    // first, and land jumps to a coupon id, a user and a time.
    // A time has no index: the search runs over ids, and batches that
    // overlapped put a later issued_at before earlier ones. The jump must
    // still land on the lowest id issued at or after the time.
    void jumpToATimeOverOverlappingBatches()
    {
        const QString campaign = test::openCampaign(*m_ops, u"timejump"_s, 100);
        QSqlDatabase db = m_ops->store().database();
        QSqlQuery q(db);
        QVERIFY(q.exec(u"SELECT COALESCE(MAX(id), 0) + 1000 FROM coupon"_s) && q.next());
        const qint64 base = q.value(0).toLongLong();
        // Position 3 was issued by a statement that started last but took its
        // ids first: ms offsets 0 1 2 9 3 4 5 6 7 8.
        const QList<int> offsets{0, 1, 2, 9, 3, 4, 5, 6, 7, 8};
        const QDateTime t0(QDate(2026, 11, 30), QTime(9, 0), Qt::UTC);
        for (int i = 0; i < offsets.size(); ++i) {
            q.prepare(
                u"INSERT INTO coupon (id, campaign_id, user_id, ticket, issued_at, kafka_partition, kafka_offset) "
                "VALUES (?, ?, ?, ?, ?, 0, ?)"_s);
            q.addBindValue(base + i * 2); // gaps, as other campaigns leave
            q.addBindValue(campaign);
            q.addBindValue(100 + i);
            q.addBindValue(i + 1);
            q.addBindValue(t0.addMSecs(offsets.at(i)).toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s));
            q.addBindValue(i);
            QVERIFY2(q.exec(), qPrintable(q.lastError().text()));
        }
        const qint64 maxId = base + 18;
        auto jump = [&](int ms) -> qint64 {
            Result<std::optional<qint64>> id = m_ops->store().findCoupon(campaign, std::nullopt,
                                                                         {CouponJump::Time, 0, t0.addMSecs(ms)}, maxId);
            return id && *id ? **id : -1;
        };
        QCOMPARE(jump(-5), base);        // before all: the first
        QCOMPARE(jump(2), base + 2 * 2); // position 2 (2 ms)
        QCOMPARE(jump(3), base + 3 * 2); // position 3 (9 ms) comes before position 4 (3 ms)
        QCOMPARE(jump(9), base + 3 * 2); // only position 3: the search over ids alone misses it
        QCOMPARE(jump(10), qint64(-1));  // after all: none
        Result<std::optional<qint64>> mine = m_ops->store().findCoupon(campaign, 108,
                                                                       {CouponJump::Time, 0, t0.addMSecs(6)}, maxId);
        QVERIFY(mine && *mine && **mine == base + 8 * 2); // with a user filter: that user's coupon (7 ms)
    }

    void millionCouponBrowser()
    {
        const QString campaign = u"browser-million"_s;
        constexpr qint64 kCoupons = 1'000'000;
        QSqlDatabase db = m_ops->store().database();
        auto scalar = [&db](const QString &sql, const QVariantList &values = {}) {
            QSqlQuery q(db);
            q.prepare(sql);
            for (const QVariant &v : values)
                q.addBindValue(v);
            if (!q.exec() || !q.next())
                qFatal("%s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
            return q.value(0);
        };
        // The browser's index (migration 3).
        QCOMPARE(scalar(u"SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics WHERE "
                        "table_schema = DATABASE() AND table_name = 'coupon' AND index_name = 'coupon_campaign_id'"_s)
                     .toInt(),
                 1);
        Campaign spec;
        spec.id = campaign;
        spec.name = u"a million coupons for the browser"_s;
        spec.limit = kCoupons + 1000;
        if (!m_ops->store().campaign(campaign).value())
            QVERIFY(m_ops->create(spec).ok());
        // Ids with uneven gaps, as when campaigns interleave: a position is
        // not an id, and guessing one from the other would show wrong rows.
        const bool ready = scalar(u"SELECT COUNT(*) = %1 AND MAX(id) - MIN(id) + 1 > COUNT(*) FROM coupon WHERE "
                                  "campaign_id = ?"_s.arg(kCoupons),
                                  {campaign})
                               .toBool();
        if (!ready) {
            QElapsedTimer clock;
            clock.start();
            // In statements of 100,000 rows: each well inside the client's
            // 30 s read timeout on a busy machine.
            constexpr qint64 kChunk = 100'000;
            QSqlQuery q(db);
            do {
                QVERIFY2(q.exec(u"DELETE FROM coupon WHERE campaign_id = '%1' LIMIT %2"_s.arg(campaign).arg(kChunk)),
                         qPrintable(q.lastError().text()));
            } while (q.numRowsAffected() > 0);
            const qint64 base = scalar(u"SELECT COALESCE(MAX(id), 0) FROM coupon"_s).toLongLong();
            // Users 5,000,001..., one coupon a millisecond, from the Sequence engine.
            for (qint64 from = 0; from < kCoupons; from += kChunk) {
                QVERIFY2(q.exec(u"INSERT INTO coupon (id, campaign_id, user_id, ticket, issued_at, kafka_partition, "
                                "kafka_offset) SELECT %3 + n * 3 + MOD(n * n, 3), '%1', 5000000 + n, n, "
                                "TIMESTAMP'2026-11-30 08:00:00' + INTERVAL n * 1000 MICROSECOND, MOD(n, 3), n DIV 3 "
                                "FROM (SELECT %4 + seq AS n FROM seq_1_to_%2) s"_s.arg(campaign)
                                    .arg(kChunk)
                                    .arg(base)
                                    .arg(from)),
                         qPrintable(q.lastError().text()));
            }
            qInfo("inserted %lld coupons in %lld ms", kCoupons, clock.elapsed());
        }
        const qint64 maxId = scalar(u"SELECT MAX(id) FROM coupon WHERE campaign_id = ?"_s, {campaign}).toLongLong();
        auto idAt = [&](qint64 position) {
            return scalar(u"SELECT id FROM coupon WHERE campaign_id = ? ORDER BY id LIMIT 1 OFFSET %1"_s.arg(position),
                          {campaign})
                .toLongLong();
        };

        MainWindow window(m_settings, {});
        CouponBrowser *browser = window.couponBrowser();
        browser->setNewestFirst(false);
        QVERIFY(showOn(window, campaign));
        window.findChild<QTabWidget *>()->setCurrentWidget(browser);
        CouponTableModel *model = window.couponModel();
        QTableView *view = browser->view();
        QTRY_COMPARE_WITH_TIMEOUT(window.couponTotal(), kCoupons, 30000);
        QCOMPARE(model->rowCount(), int(kCoupons));
        QVERIFY2(window.couponTotalLabel()->text().contains(QLocale().toString(kCoupons)),
                 qPrintable(window.couponTotalLabel()->text()));

        // Ctrl+End: the newest coupon, at once.
        view->setFocus();
        QTRY_VERIFY_WITH_TIMEOUT(model->isLoaded(0), 10000);
        QElapsedTimer clock;
        clock.start();
        QTest::keyClick(view, Qt::Key_End, Qt::ControlModifier);
        QCOMPARE(view->currentIndex().row(), int(kCoupons - 1));
        QTRY_VERIFY_WITH_TIMEOUT(model->isLoaded(int(kCoupons - 1)), 10000);
        QCOMPARE(model->row(int(kCoupons - 1)).id, maxId);
        qInfo("Ctrl+End: the newest coupon shown after %lld ms", clock.elapsed());

        // The thumb at 50 %: the rows MySQL has at those positions.
        QScrollBar *bar = view->verticalScrollBar();
        clock.restart();
        bar->setValue(bar->maximum() / 2);
        const int top = view->rowAt(0);
        QVERIFY(top > 400'000 && top < 600'000);
        QTRY_VERIFY_WITH_TIMEOUT(model->isLoaded(top) && model->isLoaded(top + 10), 10000);
        qInfo("thumb at 50 %%: row %d shown after %lld ms", top, clock.elapsed());
        QCOMPARE(model->row(top).id, idAt(top));
        QCOMPARE(model->row(top + 10).id, idAt(top + 10));

        // Newest first: the same coupons from the other end.
        browser->newestFirstBox()->click();
        QVERIFY(model->newestFirst());
        QTRY_VERIFY_WITH_TIMEOUT(model->isLoaded(0), 10000);
        QCOMPARE(model->row(0).id, maxId);

        // Jumps: a coupon id, a user, a time; each selects its row.
        QSignalSpy jumped(browser, &CouponBrowser::jumped);
        auto jumpTo = [&](const QString &text) -> qint64 {
            jumped.clear();
            browser->jumpBox()->setText(text);
            QTest::keyClick(browser->jumpBox(), Qt::Key_Return);
            if ((jumped.isEmpty() && !jumped.wait(20000)) || jumped.first().first().toInt() < 0)
                return -1;
            const int row = jumped.first().first().toInt();
            if (view->currentIndex().row() != row || !test::waitFor([&] { return model->isLoaded(row); }, 10000))
                return -2;
            return model->row(row).id;
        };
        const qint64 idMid = idAt(123'456);
        QCOMPARE(jumpTo(QString::number(idMid)), idMid);
        QCOMPARE(view->currentIndex().row(), int(kCoupons - 1 - 123'456));
        // An id between two coupons (ids have gaps): the nearer one, and the browser says so.
        for (qint64 probe = idMid + 1; probe < idMid + 6; ++probe) {
            const qint64 nearest = scalar(u"SELECT id FROM coupon WHERE campaign_id = ? AND id BETWEEN ? AND ? "
                                          "ORDER BY ABS(id - ?), id DESC LIMIT 1"_s,
                                          {campaign, probe - 10, probe + 10, probe})
                                       .toLongLong();
            QCOMPARE(jumpTo(QString::number(probe)), nearest);
            QCOMPARE(browser->jumpStatus()->isVisibleTo(browser), nearest != probe);
        }
        const qint64 user = scalar(u"SELECT user_id FROM coupon WHERE id = ?"_s, {idAt(765'432)}).toLongLong();
        QCOMPARE(jumpTo(u"user %1"_s.arg(user)), idAt(765'432));
        const QDateTime issued = QDateTime::fromString(
            scalar(u"SELECT DATE_FORMAT(issued_at, '%Y-%m-%dT%H:%i:%s.%f') FROM coupon WHERE "
                   "id = ?"_s,
                   {idAt(400'000)})
                    .toString()
                    .left(23)
                + u'Z',
            Qt::ISODateWithMs);
        QVERIFY(issued.isValid());
        const QString localTime = issued.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s);
        QCOMPARE(jumpTo(localTime), idAt(400'000));
        QCOMPARE(jumpTo(u"not a coupon"_s), qint64(-1));
        QVERIFY(browser->jumpStatus()->isVisibleTo(browser));
        QCOMPARE(jumpTo(u"user 42"_s), qint64(-1)); // no such holder: said, not crashed

        // A filter: the count and the row of one user.
        QTest::keyClicks(window.userFilter(), QString::number(user));
        QTRY_COMPARE_WITH_TIMEOUT(window.couponTotal(), qint64(1), 10000);
        QCOMPARE(model->rowCount(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(model->isLoaded(0), 10000);
        QCOMPARE(model->row(0).userId, user);
        window.userFilter()->clear();
        QTRY_COMPARE_WITH_TIMEOUT(window.couponTotal(), kCoupons, 30000);

        // Live: coupons issued now come in at the top (newest first), the
        // selected row stays on its coupon.
        QCOMPARE(jumpTo(QString::number(idMid)), idMid);
        const int topBefore = view->rowAt(0);
        QVERIFY(topBefore > 0);
        QSqlQuery q(db);
        QVERIFY2(q.exec(u"INSERT INTO coupon (campaign_id, user_id, ticket, kafka_partition, kafka_offset) "
                        "SELECT '%1', 9000000 + seq, NULL, 0, seq FROM seq_1_to_5"_s.arg(campaign)),
                 qPrintable(q.lastError().text()));
        const qint64 newest = scalar(u"SELECT MAX(id) FROM coupon WHERE campaign_id = ?"_s, {campaign}).toLongLong();
        QTRY_COMPARE_WITH_TIMEOUT(window.couponTotal(), kCoupons + 5, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(model->isLoaded(view->currentIndex().row()), 10000);
        QCOMPARE(model->row(view->currentIndex().row()).id, idMid);
        QCOMPARE(view->rowAt(0), topBefore + 5); // the same coupons stay in view
        model->ensureLoaded(0, 0);
        QTRY_VERIFY_WITH_TIMEOUT(model->isLoaded(0), 10000);
        QCOMPARE(model->row(0).id, newest);
        // Back to the million the next run reuses.
        QVERIFY(q.exec(u"DELETE FROM coupon WHERE campaign_id = '%1' AND id > %2"_s.arg(campaign).arg(maxId)));
        browser->setNewestFirst(false);
    }

    // The failed events tab: Retry… and Resolve… on the selected row, their
    // dialogs, the work on the ops worker's thread, the row's new state.
    void failedEventsRetryAndResolveFromTheTab()
    {
        const QString campaign = openCampaign(u"console-failed"_s, 10);
        MainWindow window(m_settings, {});
        QVERIFY(showOn(window, campaign));

        // Poison whose bytes name user 5 of this campaign (a bad ticket
        // header), and bytes that name nobody.
        test::RawProducer producer(m_settings);
        producer.send(codec::encodeKey(5), codec::encodeValue(5),
                      {{codec::kHeaderCampaign, campaign.toLatin1()}, {codec::kHeaderTicket, "x"}});
        producer.send(QByteArray("6"), QByteArray("\x06", 1), test::protocolHeaders(campaign, 2));
        FailedEventsPanel *panel = window.failedEventsPanel();
        FailedEventTableModel *model = window.failedEventModel();
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 30000);
        QVERIFY(!panel->retryButton()->isEnabled()); // nothing selected
        const auto stateOf = [model](int row) {
            return model->data(model->index(row, FailedEventTableModel::State), Qt::DisplayRole).toString();
        };
        QCOMPARE(stateOf(0), u"unresolved"_s);

        // Retry the first through its dialog, as an operator would.
        const auto answerDialog = [](const std::function<void(QDialog *)> &fill) {
            QTimer::singleShot(0, [fill] {
                auto *dialog = qobject_cast<QDialog *>(QApplication::activeModalWidget());
                QVERIFY(dialog);
                fill(dialog);
                dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
            });
        };
        QSignalSpy handled(window.backend(), &Backend::failedEventHandled);
        EventLoopProbe probe;
        panel->view()->selectRow(0);
        QVERIFY(panel->retryButton()->isEnabled());
        answerDialog([](QDialog *dialog) {
            QCOMPARE(dialog->objectName(), u"retryDialog"_s);
            dialog->findChildren<QLineEdit *>().first()->setText(u"console-test"_s);
        });
        QTest::mouseClick(panel->retryButton(), Qt::LeftButton);
        QVERIFY(handled.wait(30000));
        QVERIFY2(handled.first().at(1).toBool(), qPrintable(handled.first().at(3).toString()));
        QVERIFY(handled.first().at(2).toBool()); // resolved
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(0).startsWith(u"resolved by console-test: retried: accepted ticket 1"_s),
                                 10000);
        QVERIFY2(probe.worstMs() < 250, qPrintable(u"the event loop stalled for %1 ms"_s.arg(probe.worstMs())));
        QVERIFY(test::waitFor([&] { return m_ops->store().hasCoupon(campaign, 5).value(); }, 30000));
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000);
        panel->view()->selectRow(0);
        QVERIFY(!panel->retryButton()->isEnabled()); // resolved: nothing left to do

        // A second retry of user 5's message from another console answers
        // duplicate through the protocol, and leaves it as it was.
        handled.clear();
        window.backend()->retryFailedEvent({model->row(0).id, u"console-test"_s, std::nullopt, {}});
        QVERIFY(handled.wait(30000));
        QVERIFY(!handled.first().at(1).toBool());
        QVERIFY2(handled.first().at(3).toString().contains(u"resolved already"_s),
                 qPrintable(handled.first().at(3).toString()));

        // Resolve the second through its dialog: who and why.
        handled.clear();
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000); // read again after the answer
        panel->view()->selectRow(1);
        QVERIFY(panel->resolveButton()->isEnabled());
        answerDialog([](QDialog *dialog) {
            QCOMPARE(dialog->objectName(), u"resolveDialog"_s);
            const QList<QLineEdit *> edits = dialog->findChildren<QLineEdit *>();
            edits.at(0)->setText(u"console-test"_s);
            edits.at(1)->setText(u"a one-byte test message"_s);
        });
        QTest::mouseClick(panel->resolveButton(), Qt::LeftButton);
        QVERIFY(handled.wait(30000));
        QVERIFY2(handled.first().at(1).toBool(), qPrintable(handled.first().at(3).toString()));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(1), u"resolved by console-test: a one-byte test message"_s, 10000);
        QCOMPARE(m_ops->store().unresolvedFailedEvents(campaign).value(), 0);
        QCOMPARE(m_ops->status(campaign).value().redisCount, 1);
    }

    // The campaigns overview: every campaign with the figures status() and
    // MySQL give, live, sortable, filterable; a double-click focuses one.
    void overviewListsEveryCampaignAndFocusesOnDoubleClick()
    {
        const QString token = test::uniqueCampaign(u"ov"_s);
        const QString a = token + u"-a"_s, b = token + u"-b"_s;
        for (const auto &[id, limit] : {std::pair{a, 10}, std::pair{b, 3}}) {
            Campaign c;
            c.id = id;
            c.limit = limit;
            QVERIFY(m_ops->create(c).ok());
            QVERIFY(m_ops->open(id).ok());
        }
        QVERIFY(issue(a, 4, 4));
        QVERIFY(issue(b, 5, 3)); // sold out

        MainWindow window(m_settings, {});
        QVERIFY(showOn(window, a));
        QVERIFY(window.overviewDock()->isVisible());
        OverviewPanel *panel = window.overviewPanel();
        QTRY_VERIFY_WITH_TIMEOUT(panel->model()->rowOf(a) >= 0 && panel->model()->rowOf(b) >= 0, 10000);
        for (const QString &id : {a, b}) {
            const CampaignOverview s = m_ops->status(id).value();
            QCOMPARE(cell(window, id, CampaignOverviewModel::Limit), QLocale().toString(s.campaign.limit));
            QCOMPARE(cell(window, id, CampaignOverviewModel::Reserved), QLocale().toString(s.redisCount));
            QCOMPARE(cell(window, id, CampaignOverviewModel::Issued), QLocale().toString(s.coupons));
            QCOMPARE(cell(window, id, CampaignOverviewModel::Pending), QLocale().toString(s.pending));
            QCOMPARE(cell(window, id, CampaignOverviewModel::FailedEvents),
                     QLocale().toString(s.unresolvedFailedEvents));
            QCOMPARE(cell(window, id, CampaignOverviewModel::InFlight), u"0"_s);
            QCOMPARE(cell(window, id, CampaignOverviewModel::State), s.campaign.state);
        }
        QCOMPARE(cell(window, a, CampaignOverviewModel::Health), u"ok"_s);
        QCOMPARE(cell(window, b, CampaignOverviewModel::Health), u"sold out"_s);
        // What one reading costs with every campaign this stack holds.
        QElapsedTimer clock;
        clock.start();
        qsizetype listed = 0;
        for (int i = 0; i < 10; ++i)
            listed = m_ops->overview().value().campaigns.size();
        qInfo("CampaignOps::overview(): %.1f ms a reading for %lld campaigns (mean of 10)",
              double(clock.elapsed()) / 10.0, static_cast<long long>(listed));

        // Live: a new coupon shows within a reading or two.
        QCOMPARE(toString(applier().applyAndWait(a, 99).status), toString(ApplyOutcome::Accepted));
        QTRY_COMPARE_WITH_TIMEOUT(cell(window, a, CampaignOverviewModel::Issued), u"5"_s, 15000);
        QCOMPARE(cell(window, a, CampaignOverviewModel::Reserved), u"5"_s);

        // Filtered to the two, sorted by limit with a click on its header.
        auto *filter = window.findChild<QLineEdit *>(u"overviewFilter"_s);
        QVERIFY(filter);
        QTest::keyClicks(filter, token);
        QSortFilterProxyModel *proxy = panel->proxy();
        QTRY_COMPARE_WITH_TIMEOUT(proxy->rowCount(), 2, 5000);
        QHeaderView *header = panel->view()->horizontalHeader();
        const auto sortByLimit = [&] {
            QTest::mouseClick(
                header->viewport(), Qt::LeftButton, {},
                QPoint(header->sectionViewportPosition(CampaignOverviewModel::Limit) + 5, header->height() / 2));
        };
        sortByLimit();
        if (header->sortIndicatorOrder() != Qt::AscendingOrder)
            sortByLimit();
        QCOMPARE(header->sortIndicatorSection(), int(CampaignOverviewModel::Limit));
        QCOMPARE(proxy->index(0, 0).data().toString(), b); // 3 before 10
        QCOMPARE(proxy->index(1, 0).data().toString(), a);

        // Double-click b's row: the window focuses it.
        QTableView *view = panel->view();
        const QRect rect = view->visualRect(proxy->index(0, CampaignOverviewModel::Campaign));
        QVERIFY2(view->viewport()->rect().contains(rect.center()),
                 qPrintable(u"row at %1,%2 outside the %3x%4 viewport"_s.arg(rect.center().x())
                                .arg(rect.center().y())
                                .arg(view->viewport()->width())
                                .arg(view->viewport()->height())));
        QSignalSpy activated(panel, &OverviewPanel::campaignActivated);
        // A double-click as the platform delivers it: press, release, then the double-click.
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
        QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, rect.center());
        QVERIFY(!activated.isEmpty());
        QCOMPARE(activated.first().first().toString(), b);
        QTRY_COMPARE_WITH_TIMEOUT(window.currentCampaign(), b, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(window.gauge()->text(), u"3/3"_s, 10000);
        QCOMPARE(window.reservationsPanel()->campaign(), b);
    }

    // The focused campaign's pending reservations with their ages; Settle
    // now with couponctl settle's rules: too young first, then confirmed
    // where the worker wrote the coupon, released where nothing came.
    void reservationsShowPendingAndSettleNow()
    {
        // A worker whose reconciler would settle them only after ten
        // minutes: here the operator settles.
        QCOMPARE(m_stack.worker->terminate(15000), 0);
        auto restore = qScopeGuard([this] {
            m_stack.worker = std::make_unique<test::WorkerProcess>();
            const QString started = m_stack.worker->start();
            QVERIFY2(started.isEmpty(), qPrintable(started));
        });
        test::WorkerProcess patient({u"--set"_s, u"worker.settle.grace.ms=600000"_s});
        const QString started = patient.start();
        QVERIFY2(started.isEmpty(), qPrintable(started));

        const QString campaign = openCampaign(u"console-pending"_s, 10);
        MainWindow window(m_settings, {});
        QVERIFY(showOn(window, campaign));
        window.findChild<QTabWidget *>(u"browserTabs"_s)->setCurrentWidget(window.reservationsPanel());
        ReservationsPanel *panel = window.reservationsPanel();
        ReservationTableModel *model = panel->model();

        for (qint64 user : {1, 2, 3})
            QVERIFY(reserveOnly(campaign, user) > 0);
        // User 4's gateway produced before it died: the coupon arrives, the mark stays.
        const qint64 ticket = reserveOnly(campaign, 4);
        QVERIFY(ticket > 0);
        test::RawProducer producer(m_settings);
        producer.send(codec::encodeKey(4), codec::encodeValue(4), test::protocolHeaders(campaign, ticket));
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 4, 10000);
        QVERIFY2(panel->summaryLabel()->text().contains(u"4 pending"_s), qPrintable(panel->summaryLabel()->text()));
        const auto waiting = [&](int row) {
            return model->index(row, ReservationTableModel::WaitingFor).data().toString();
        };
        QVERIFY2(waiting(3).startsWith(u"its delivery"_s), qPrintable(waiting(3)));
        QCOMPARE(model->index(3, ReservationTableModel::User).data().toString(), u"4"_s); // oldest first
        QTRY_COMPARE_WITH_TIMEOUT(cell(window, campaign, CampaignOverviewModel::Health), u"draining"_s, 10000);

        // Too young: nothing settles, as couponctl says too.
        QSignalSpy settled(window.backend(), &Backend::settleFinished);
        QTest::mouseClick(panel->settleButton(), Qt::LeftButton);
        QVERIFY(settled.wait(30000));
        auto report = settled.first().at(1).value<SettleReport>();
        QVERIFY2(settled.first().at(2).toString().isEmpty(), qPrintable(settled.first().at(2).toString()));
        QCOMPARE(report.young, 4);
        QCOMPARE(report.released + report.confirmed + report.waiting, 0);
        QVERIFY2(panel->settleLabel()->text().contains(u"younger than the grace 4"_s),
                 qPrintable(panel->settleLabel()->text()));
        const test::ProgramRun cli = test::couponctl({u"settle"_s, u"--campaign"_s, campaign});
        QCOMPARE(cli.exitCode, 0);
        QVERIFY2(cli.out.contains(u"confirmed 0, released 0, waiting 0"_s), qPrintable(cli.text()));

        // Past the delivery timeout they wait for settlement, and the
        // overview asks for attention; past the grace, Settle now settles.
        QTRY_VERIFY_WITH_TIMEOUT(waiting(3).startsWith(u"settlement"_s), 30000);
        QTRY_COMPARE_WITH_TIMEOUT(cell(window, campaign, CampaignOverviewModel::Health), u"attention"_s, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(model->rowCount() == 4 && model->ageMs(3) > report.graceMs + 500, 30000);
        QVERIFY(test::waitFor([&] { return m_ops->store().hasCoupon(campaign, 4).value(); }, 30000));
        settled.clear();
        QTest::mouseClick(panel->settleButton(), Qt::LeftButton);
        QVERIFY(settled.wait(30000));
        report = settled.first().at(1).value<SettleReport>();
        QCOMPARE(report.confirmed, 1);
        QCOMPARE(report.released, 3);
        QCOMPARE(report.waiting + report.young, 0);
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 0, 10000);
        QVERIFY2(panel->settleLabel()->text().contains(u"confirmed 1, released 3"_s),
                 qPrintable(panel->settleLabel()->text()));
        const CampaignOverview s = m_ops->status(campaign).value();
        QCOMPARE(s.pending, 0);
        QCOMPARE(s.redisCount, 1);
        QCOMPARE(s.redisUsers, 1);
        QCOMPARE(s.coupons, 1);
        QTRY_COMPARE_WITH_TIMEOUT(cell(window, campaign, CampaignOverviewModel::Health), u"ok"_s, 10000);
        QCOMPARE(patient.terminate(15000), 0);
    }

    // A campaign whose Redis was restored from elsewhere answers
    // reconciling: the overview says so, the reservations tab shows the
    // reconciler's step and since when, until the worker rebuilt it.
    void reconcilingCampaignShowsItsProgress()
    {
        const QString campaign = openCampaign(u"console-reconcile"_s, 10);
        QVERIFY(issue(campaign, 2, 2));
        MainWindow window(m_settings, {});
        QVERIFY(showOn(window, campaign));
        QTRY_COMPARE_WITH_TIMEOUT(cell(window, campaign, CampaignOverviewModel::Health), u"ok"_s, 10000);

        const CampaignKeys keys(campaign);
        QVERIFY(m_ops->redis().command({"HSET", keys.meta, "instance", "restored-from-elsewhere"}).ok());
        QTRY_COMPARE_WITH_TIMEOUT(cell(window, campaign, CampaignOverviewModel::Health), u"reconciling"_s, 10000);
        QLabel *state = window.reservationsPanel()->reconcileLabel();
        QTRY_COMPARE_WITH_TIMEOUT(state->property("step").toString(), QString::fromLatin1(kReconcileStepDelivery),
                                  10000);
        QVERIFY(!state->isHidden());
        QVERIFY2(state->text().contains(u"waiting out the delivery timeout"_s), qPrintable(state->text()));
        QVERIFY2(state->text().contains(u"since "_s), qPrintable(state->text()));
        const QString tip = window.overviewPanel()
                                ->model()
                                ->index(window.overviewPanel()->model()->rowOf(campaign), CampaignOverviewModel::Health)
                                .data(Qt::ToolTipRole)
                                .toString();
        QVERIFY2(tip.contains(u"step 1 of 3"_s), qPrintable(tip));

        // Rebuilt from MySQL: current again, the progress gone with it.
        QTRY_COMPARE_WITH_TIMEOUT(cell(window, campaign, CampaignOverviewModel::Health), u"ok"_s, 90000);
        QTRY_VERIFY_WITH_TIMEOUT(state->isHidden(), 5000);
        QCOMPARE(replyInteger(m_ops->redis().command({"EXISTS", keys.reconcile}).value().get()).value_or(-1), 0);
        QCOMPARE(cell(window, campaign, CampaignOverviewModel::Reserved), u"2"_s);
        QVERIFY(m_ops->status(campaign).value().redisCurrent);
    }

    // Several gateways in the target box (commas or spaces between them):
    // the simulation sends its applies round robin, with a token each; so
    // does couponctl simulate --target with the same list.
    // File → Export report…: the dialog, the gathering on the report thread,
    // an HTML file with the audit's figures and a PDF of its pages.
    void exportReportWritesHtmlAndPdf()
    {
        // A history of this run alone: the dialog lists exactly it.
        QTemporaryDir history, out;
        QVERIFY(history.isValid() && out.isValid());
        qputenv("COUPON_RUN_HISTORY_DIR", QFile::encodeName(history.path()));
        const auto restore = qScopeGuard(
            [this] { qputenv("COUPON_RUN_HISTORY_DIR", QFile::encodeName(m_runs.path())); });
        const QString campaign = openCampaign(u"console-report"_s, 30);
        MainWindow window(m_settings, {});
        QVERIFY(showOn(window, campaign));
        QSignalSpy finished(&window, &MainWindow::simulationFinished);
        QSignalSpy verdict(&window, &MainWindow::verdictReady);
        QSignalSpy saved(window.runsPanel(), &RunsPanel::runSaved);
        window.findChild<QSpinBox *>(u"usersSpin"_s)->setValue(100);
        QTest::mouseClick(window.simulateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(60000));
        QTRY_VERIFY_WITH_TIMEOUT(!verdict.isEmpty(), 120000);
        // The run as the console recorded and kept it (after its drain and verdict).
        QTRY_VERIFY_WITH_TIMEOUT(!saved.isEmpty(), 90000);
        QVERIFY2(saved.first().at(1).toString().isEmpty(), qPrintable(saved.first().at(1).toString()));
        const Result<RunRecord> kept = RunHistory(history.path()).load(saved.first().at(0).toString());
        QVERIFY(kept.ok());
        const RunRecord run = *kept;
        QCOMPARE(run.campaign, campaign);

        // The File menu holds the report, the coupons' CSV and Quit.
        auto *fileMenu = window.menuBar()->findChild<QMenu *>(u"fileMenu"_s);
        QVERIFY(fileMenu);
        QStringList texts;
        for (QAction *a : fileMenu->actions())
            texts.append(a->text());
        QCOMPARE(texts, (QStringList{u"Export report…"_s, u"Export coupons to CSV…"_s, QString(), u"Quit"_s}));
        auto *action = window.findChild<QAction *>(u"exportReportAction"_s);
        QVERIFY(action && action->isEnabled());

        // Answers the modal dialog; any check failing there rejects it (a
        // dialog left open would block the test for good) and is reported.
        QString dialogProblem;
        const auto exportAs = [&](int format, const QString &path) {
            dialogProblem.clear();
            QTimer::singleShot(0, [format, path, &dialogProblem] {
                auto *dialog = qobject_cast<QDialog *>(QApplication::activeModalWidget());
                if (!dialog) {
                    dialogProblem = u"no modal dialog"_s;
                    return;
                }
                auto reject = qScopeGuard([dialog] { dialog->reject(); });
                auto *subject = dialog->findChild<QComboBox *>(u"reportSubject"_s);
                if (dialog->objectName() != u"reportDialog"_s || !subject) {
                    dialogProblem = u"not the report dialog: "_s + dialog->objectName();
                    return;
                }
                // The campaign alone, its one run (picked).
                if (subject->count() != 2 || subject->currentIndex() != 1) {
                    dialogProblem = u"subjects %1, current %2"_s.arg(subject->count()).arg(subject->currentIndex());
                    return;
                }
                dialog->findChild<QComboBox *>(u"reportFormat"_s)->setCurrentIndex(format);
                dialog->findChild<QLineEdit *>(u"reportPath"_s)->setText(path);
                reject.dismiss();
                dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
            });
            QSignalSpy exported(window.backend(), &Backend::reportExported);
            action->trigger();
            if (!dialogProblem.isEmpty())
                return false;
            return exported.wait(120000) && exported.first().at(1).toString().isEmpty();
        };

        const QString htmlPath = out.filePath(u"report.html"_s);
        QVERIFY2(exportAs(0, htmlPath), qPrintable(dialogProblem));
        QTRY_VERIFY(window.statusBar()->currentMessage().contains(u"Report written to"_s));
        QFile htmlFile(htmlPath);
        QVERIFY(htmlFile.open(QIODevice::ReadOnly));
        const test::ParsedReport p = test::parseReport(QString::fromUtf8(htmlFile.readAll()));
        QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
        Result<AuditReport> audit = m_ops->audit(campaign, 60000);
        QVERIFY(audit.ok());
        QCOMPARE(p.field(u"issued"_s), QString::number(audit->status.coupons));
        QCOMPARE(p.field(u"issued"_s), u"30"_s);
        QCOMPARE(p.field(u"redis-count"_s), QString::number(audit->status.redisCount));
        QCOMPARE(p.field(u"verdict"_s), u"ok"_s);
        QCOMPARE(p.field(u"run-id"_s), run.id);
        QCOMPARE(p.field(u"outcome-accepted"_s), u"30"_s);
        QCOMPARE(p.field(u"generated-tool"_s), u"coupon-console"_s);

        const QString pdfPath = out.filePath(u"report.pdf"_s);
        QVERIFY2(exportAs(1, pdfPath), qPrintable(dialogProblem));
        QFile pdf(pdfPath);
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        const QByteArray bytes = pdf.readAll();
        QVERIFY(bytes.startsWith("%PDF-"));
        QVERIFY(bytes.trimmed().endsWith("%%EOF"));
        const QString pdfText = QString::fromLatin1(bytes);
        const qsizetype pages = pdfText.count(QRegularExpression(u"/Type\\s*/Page\\b"_s));
        QVERIFY2(pages >= 2, qPrintable(QString::number(pages))); // the figures, then the charts and verdicts
        // The three charts went in as images.
        QVERIFY(pdfText.count(QRegularExpression(u"/Subtype\\s*/Image"_s)) >= 3);
        // And page 1 as the PDF lays it out is drawn, not blank.
        Result<DropReport> again = gatherDropReport(*m_ops, campaign, 60000, run, ReportStamp::now(u"t"_s, u"t"_s));
        QVERIFY(again.ok());
        const QImage page = reportPageImage(*again, 0, 600);
        QCOMPARE(page.width(), 600);
        QVERIFY(page.height() > 800);
        int dark = 0;
        for (int y = 0; y < page.height(); y += 4)
            for (int x = 0; x < page.width(); x += 4)
                dark += qGray(page.pixel(x, y)) < 128 ? 1 : 0;
        QVERIFY2(dark > 200, qPrintable(QString::number(dark)));
    }

    // Closing the console or restarting its backend asks the worker threads
    // to stop: a wait for a drain that will not come (Kafka unreachable,
    // the lag never reads) ends at once instead of at the audit's timeout.
    void anInterruptedDrainWaitEndsAtOnce()
    {
        Settings unreachable = m_settings;
        unreachable.kafka.properties.insert(u"bootstrap.servers"_s, u"127.0.0.1:1"_s);
        CampaignOps ops(unreachable, u"tst_console_gui-interrupt"_s);
        QVERIFY(ops.connect().ok());
        std::atomic<bool> waiting{false};
        Status result = Ok{};
        std::unique_ptr<QThread> thread(QThread::create([&] {
            waiting = true;
            result = ops.waitForDrain(40000);
        }));
        thread->start();
        QVERIFY(test::waitFor([&] { return waiting.load(); }, 5000));
        QElapsedTimer clock;
        clock.start();
        thread->requestInterruption();
        const bool ended = test::waitFor([&] { return thread->isFinished(); }, 15000);
        if (!ended)
            thread->wait(); // ends at the 40 s deadline: the thread must not outlive its objects
        QVERIFY2(ended, "the wait went on after the interruption");
        QVERIFY(!result.ok());
        QVERIFY2(result.error().message.contains(u"stopped waiting"_s), qPrintable(result.error().message));
        qInfo("the interrupted wait ended %lld ms after the request", clock.elapsed());
    }

    void simulationRoundRobinsOverGateways()
    {
        test::GatewayProcess first, second;
        for (test::GatewayProcess *gateway : {&first, &second}) {
            const QString started = gateway->start();
            QVERIFY2(started.isEmpty(), qPrintable(started));
            QVERIFY(
                test::waitFor([&] { return test::http(gateway->adminPort(), "GET", "/readyz").status == 200; }, 30000));
        }
        const QString firstUrl = u"http://127.0.0.1:%1"_s.arg(first.port());
        const QString secondUrl = u"http://127.0.0.1:%1"_s.arg(second.port());

        const QString campaign = openCampaign(u"console-rr"_s, 100);
        MainWindow window(m_settings, {firstUrl, secondUrl});
        QVERIFY(showOn(window, campaign));
        auto *target = window.findChild<QComboBox *>(u"targetBox"_s);
        QVERIFY(target && target->lineEdit());
        target->lineEdit()->clear();
        QTest::keyClicks(target->lineEdit(), firstUrl + u", "_s + secondUrl);
        window.findChild<QSpinBox *>(u"usersSpin"_s)->setValue(300);

        QSignalSpy finished(&window, &MainWindow::simulationFinished);
        QSignalSpy verdict(&window, &MainWindow::verdictReady);
        QTest::mouseClick(window.simulateButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!window.isSimulating(), 60000);
        QVERIFY2(finished.size() == 1, qPrintable(window.verdictLabel()->text()));
        const auto report = finished.first().first().value<SimulationReport>();
        QCOMPARE(report.attempts, 300);
        QCOMPARE(report.count(ApplyOutcome::Accepted), 100);
        QCOMPARE(report.count(ApplyOutcome::SoldOut), 200);
        // Every second apply went to each: 150 and 150, none refused for a missing token.
        QCOMPARE(appliesServed(first), 150);
        QCOMPARE(appliesServed(second), 150);
        QTRY_VERIFY_WITH_TIMEOUT(!verdict.isEmpty(), 120000);
        QVERIFY2(verdict.first().first().toBool(), qPrintable(verdict.first().at(1).toString()));

        // couponctl: the same list, spaces between.
        const QString other = openCampaign(u"console-rr-ctl"_s, 10);
        const test::ProgramRun run = test::couponctl({u"simulate"_s, u"--campaign"_s, other, u"--users"_s, u"40"_s,
                                                      u"--target"_s, firstUrl + u"  "_s + secondUrl});
        QVERIFY2(run.exitCode == 0, qPrintable(run.text()));
        QVERIFY2(run.out.contains(u"40 applies in"_s) && run.out.contains(u"10 accepted, 30 sold_out"_s),
                 qPrintable(run.text()));
        QCOMPARE(appliesServed(first), 170);
        QCOMPARE(appliesServed(second), 170);
        QCOMPARE(first.terminate(15000), 0);
        QCOMPARE(second.terminate(15000), 0);
    }

    // Issue 15: the run's timeline, live and kept. The samples add up to
    // the run, the counter and the issued count climb to the accepts, the
    // audit's verdict goes into the record, and a restarted console lists
    // the run (and couponctl's, in the same history) and shows its timeline.
    void runTimelineIsKeptAcrossRestarts()
    {
        // A history of this test's runs alone (the others' go to m_runs).
        QTemporaryDir history;
        QVERIFY(history.isValid());
        qputenv("COUPON_RUN_HISTORY_DIR", QFile::encodeName(history.path()));
        const auto restore = qScopeGuard(
            [this] { qputenv("COUPON_RUN_HISTORY_DIR", QFile::encodeName(m_runs.path())); });
        const QString campaign = openCampaign(u"console-runs"_s, 50);
        QString runId;
        {
            MainWindow window(m_settings, {});
            QVERIFY(showOn(window, campaign));
            window.findChild<QSpinBox *>(u"usersSpin"_s)->setValue(400);
            RunsPanel *runs = window.runsPanel();
            RunTimeline *timeline = runs->timeline();
            QSignalSpy saved(runs, &RunsPanel::runSaved);
            QSignalSpy finished(&window, &MainWindow::simulationFinished);
            QSignalSpy verdict(&window, &MainWindow::verdictReady);
            QTest::mouseClick(window.simulateButton(), Qt::LeftButton);
            QVERIFY(runs->isShowingLive());
            QVERIFY2(timeline->title().startsWith(u"Live"_s), qPrintable(timeline->title()));
            QVERIFY(finished.wait(60000));
            const auto report = finished.first().first().value<SimulationReport>();
            QCOMPARE(report.count(ApplyOutcome::Accepted), 50);
            QCOMPARE(report.count(ApplyOutcome::SoldOut), 350);
            // Live: a rate line per outcome that occurred, none for the others.
            QVERIFY(timeline->rateSeries(ApplyOutcome::Accepted));
            QVERIFY(timeline->rateSeries(ApplyOutcome::SoldOut));
            QVERIFY(!timeline->rateSeries(ApplyOutcome::Duplicate));
            QVERIFY(timeline->latencySeries(RunTimeline::P99)->count() > 0);

            // Kept once the drain and the verdict are in.
            QTRY_VERIFY_WITH_TIMEOUT(!verdict.isEmpty(), 120000);
            QVERIFY2(verdict.first().first().toBool(), qPrintable(verdict.first().at(1).toString()));
            QTRY_VERIFY_WITH_TIMEOUT(!saved.isEmpty(), 90000);
            runId = saved.first().at(0).toString();
            QVERIFY2(saved.first().at(1).toString().isEmpty(), qPrintable(saved.first().at(1).toString()));
            const Result<RunRecord> kept = RunHistory(history.path()).load(runId);
            QVERIFY2(kept.ok(), qPrintable(kept.ok() ? QString() : kept.error().message));
            QCOMPARE(kept->campaign, campaign);
            QCOMPARE(kept->tool, u"coupon-console"_s);
            QCOMPARE(kept->target, u"in-process"_s);
            QCOMPARE(kept->users, 400);
            QCOMPARE(kept->figures.attempts, 400);
            std::array<qint64, kApplyOutcomeCount> sums{};
            bool latency = false;
            for (const RunSample &s : kept->samples) {
                for (size_t o = 0; o < sums.size(); ++o)
                    sums[o] += s.answers[o];
                latency = latency || s.p99Ms > 0;
            }
            for (int o = 0; o < kApplyOutcomeCount; ++o)
                QCOMPARE(sums[size_t(o)], report.byStatus[size_t(o)]);
            QVERIFY(latency);
            QCOMPARE(kept->samples.constLast().redisCount, 50);
            QCOMPARE(kept->samples.constLast().issued, 50);
            QCOMPARE(kept->samples.constLast().lag, 0);
            QVERIFY2(kept->drainSeconds >= 0, "the drain was not seen");
            QVERIFY(kept->audited);
            QVERIFY2(kept->auditOk, qPrintable(kept->auditSummary));
            QVERIFY(kept->violations.isEmpty());
            // The panel lists it on top and shows it, no longer live.
            QCOMPARE(runs->model()->run(0).id, runId);
            QVERIFY(!runs->isShowingLive());
            QVERIFY2(timeline->title().contains(runId), qPrintable(timeline->title()));
            QCOMPARE(timeline->counterSeries()->points().constLast().y(), 50.0);
            QCOMPARE(timeline->issuedSeries()->points().constLast().y(), 50.0);
        }

        // couponctl's runs join the same history, and `couponctl runs` lists them.
        const QString other = openCampaign(u"console-runs-ctl"_s, 10);
        const test::ProgramRun ctl = test::couponctl(
            {u"simulate"_s, u"--campaign"_s, other, u"--users"_s, u"40"_s, u"--audit"_s});
        QVERIFY2(ctl.exitCode == 0, qPrintable(ctl.text()));
        const QRegularExpressionMatch kept
            = QRegularExpression(u"^run (\\S+) kept in "_s, QRegularExpression::MultilineOption).match(ctl.out);
        QVERIFY2(kept.hasMatch(), qPrintable(ctl.text()));
        const QString ctlId = kept.captured(1);
        const Result<RunRecord> ctlRun = RunHistory(history.path()).load(ctlId);
        QVERIFY(ctlRun.ok());
        QCOMPARE(ctlRun->tool, u"couponctl"_s);
        QCOMPARE(ctlRun->count(ApplyOutcome::Accepted), 10);
        QVERIFY(ctlRun->audited && ctlRun->auditOk);
        QVERIFY2(ctlRun->drainSeconds >= 0, qPrintable(ctl.text()));
        qint64 answered = 0;
        for (const RunSample &s : ctlRun->samples)
            answered += s.answered();
        QCOMPARE(answered, 40);
        QCOMPARE(ctlRun->samples.constLast().issued, 10);
        const test::ProgramRun unkept = test::couponctl({u"simulate"_s, u"--campaign"_s, other, u"--users"_s, u"5"_s,
                                                         u"--first-user"_s, u"100"_s, u"--no-history"_s});
        QVERIFY2(unkept.exitCode == 0 && !unkept.out.contains(u"kept in"_s), qPrintable(unkept.text()));
        const test::ProgramRun list = test::couponctl({u"runs"_s});
        QVERIFY2(list.exitCode == 0, qPrintable(list.text()));
        QVERIFY2(list.out.contains(runId) && list.out.contains(ctlId), qPrintable(list.text()));
        QVERIFY2(list.out.contains(u"2 run(s) in "_s), qPrintable(list.text()));
        const test::ProgramRun onlyCtl = test::couponctl({u"runs"_s, u"--campaign"_s, other});
        QVERIFY2(!onlyCtl.out.contains(runId) && onlyCtl.out.contains(ctlId), qPrintable(onlyCtl.text()));

        // A restart: the new window lists both runs and shows the console's.
        MainWindow again(m_settings, {});
        RunsPanel *runs = again.runsPanel();
        QTRY_COMPARE_WITH_TIMEOUT(runs->model()->rowCount(), 2, 10000);
        QCOMPARE(runs->model()->run(0).id, ctlId); // newest first
        QVERIFY(runs->model()->rowOf(runId) == 1);
        runs->selectRun(runId);
        RunTimeline *timeline = runs->timeline();
        QVERIFY2(timeline->title().contains(runId), qPrintable(timeline->title()));
        QVERIFY(timeline->rateSeries(ApplyOutcome::Accepted) && timeline->rateSeries(ApplyOutcome::SoldOut));
        QVERIFY(timeline->latencySeries(RunTimeline::P50)->count() > 0);
        QCOMPARE(timeline->counterSeries()->points().constLast().y(), 50.0);
        const QString verdictCell
            = runs->model()->data(runs->model()->index(1, RunHistoryModel::Verdict), Qt::DisplayRole).toString();
        QVERIFY2(verdictCell.contains(u"all five invariants hold"_s), qPrintable(verdictCell));
        // Deleting one: gone from the list and from the folder.
        QSignalSpy status(runs, &RunsPanel::message);
        runs->deleteRun(ctlId);
        QCOMPARE(runs->model()->rowCount(), 1);
        QVERIFY(status.wait(10000));
        QVERIFY(!RunHistory(history.path()).load(ctlId).ok());
    }

    // Redis gone: the window keeps answering, the service bar turns red and
    // says why, and the console reconnects by itself once Redis is back.
    void redisDownKeepsTheWindowResponsive()
    {
        const QString campaign = openCampaign(u"console-cut"_s, 100);
        test::TcpProxy redis(m_settings.redis.port);
        Settings settings = m_settings;
        settings.redis.port = redis.port();
        MainWindow window(settings, {});
        QVERIFY(showOn(window, campaign));
        QTRY_COMPARE_WITH_TIMEOUT(window.serviceBar()->state(u"redis"_s).health, ServiceState::Up, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window.gauge()->text() == u"0/100"_s, 10000);

        EventLoopProbe probe;
        redis.cut();
        QTRY_COMPARE_WITH_TIMEOUT(window.serviceBar()->state(u"redis"_s).health, ServiceState::Down, 10000);
        const ServiceState down = window.serviceBar()->state(u"redis"_s);
        QVERIFY(!down.lastError.isEmpty());
        QLabel *chip = window.serviceBar()->chip(u"redis"_s);
        QVERIFY(chip);
        QVERIFY2(chip->styleSheet().contains(u"#c62828"_s), qPrintable(chip->styleSheet()));
        QVERIFY2(chip->toolTip().contains(down.lastError.toHtmlEscaped()), qPrintable(chip->toolTip()));
        QVERIFY2(window.statusBar()->currentMessage().contains(u"Redis"_s),
                 qPrintable(window.statusBar()->currentMessage()));

        // Keep the outage going for a while, with the operator clicking
        // around (a simulation against the dead Redis included).
        const qint64 ticksAtRed = probe.ticks();
        // The operator clicks Simulate anyway: the run fails, and says why.
        QTest::mouseClick(window.simulateButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!window.isSimulating(), 60000);
        QTRY_COMPARE_WITH_TIMEOUT(window.verdictLabel()->property("tone").toString(), u"bad"_s, 60000);
        QVERIFY2(window.verdictLabel()->text().contains(u"Redis"_s), qPrintable(window.verdictLabel()->text()));
        QTRY_VERIFY_WITH_TIMEOUT(probe.ticks() >= ticksAtRed + 300, 30000);
        QCOMPARE(window.serviceBar()->state(u"redis"_s).health, ServiceState::Down);
        qInfo("worst event-loop latency with Redis down: %lld ms over %lld ticks", probe.worstMs(), probe.ticks());
        QVERIFY2(probe.worstMs() < 250, qPrintable(u"the event loop stalled for %1 ms"_s.arg(probe.worstMs())));

        redis.heal();
        QTRY_COMPARE_WITH_TIMEOUT(window.serviceBar()->state(u"redis"_s).health, ServiceState::Up, 15000);
        QTRY_VERIFY_WITH_TIMEOUT(window.gauge()->text() == u"0/100"_s, 10000);
    }
};

QTEST_MAIN(TestConsoleGui)
#include "tst_console_gui.moc"
