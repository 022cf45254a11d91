// The operator console on the real stack, driven like an operator would:
// click Simulate and watch the counter stop at the limit, the lag drain, the
// coupons appear and the audit's verdict; cut Redis and check that the window
// keeps answering while the service bar turns red.

#include "backend.h"
#include "coupon/protocol/codec.h"
#include "coupon/protocol/scripts.h"
#include "coupon/service/apply_service.h"
#include "coupon/service/campaigns.h"
#include "main_window.h"
#include "models.h"
#include "overview_models.h"
#include "overview_panel.h"
#include "tcpproxy.h"
#include "testsupport.h"
#include "widgets.h"

#include <QApplication>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

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
        QSet<qint64> shown;
        for (int i = 0; i < 100; ++i)
            shown.insert(window.couponModel()->row(i).userId);
        QCOMPARE(shown, report.answered.accepted);

        // Filter by one holder: one row.
        const qint64 holder = window.couponModel()->row(42).userId;
        QTest::keyClicks(window.userFilter(), QString::number(holder));
        QTRY_COMPARE_WITH_TIMEOUT(window.couponModel()->rowCount(), 1, 10000);
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
