#include "main_window.h"

#include "backend.h"
#include "campaign_bar.h"
#include "counter_panel.h"
#include "coupon_browser.h"
#include "dialogs.h"
#include "failed_events_panel.h"
#include "lag_panel.h"
#include "models.h"
#include "overview_models.h"
#include "panel_parts.h"
#include "report_export.h"
#include "run_recorder.h"
#include "runs_panel.h"
#include "simulation_panel.h"
#include "widgets.h"

#include <QAction>
#include <QCloseEvent>
#include <QDateTime>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QMenuBar>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>

using namespace Qt::StringLiterals;

// The icons are compiled into this static library; its users need not know.
static void initConsoleResources()
{
    Q_INIT_RESOURCE(console);
}

namespace coupon::console {

MainWindow::MainWindow(const Settings &settings, const QStringList &gatewayUrls, QWidget *parent)
    : QMainWindow(parent)
    , m_backend(new Backend(settings, gatewayUrls, QSettings().value(u"lag/intervalMs"_s, 1000).toInt(), this))
    , m_liveTimer(new QTimer(this))
    , m_recorder(new RunRecorder(m_backend, this))
{
    initConsoleResources();
    setObjectName(u"mainWindow"_s);
    setWindowTitle(tr("Coupon System console"));
    setWindowIcon(consoleIcon(u"app"_s));
    buildActions();
    buildPanels();
    wireBackend();
    restoreLayout();

    m_liveTimer->setInterval(1000);
    connect(m_liveTimer, &QTimer::timeout, this, &MainWindow::onLiveTick);
    m_liveTimer->start();
    updateCampaignActions();
    m_simulateAction->setText(m_simulation->simulateText());
    message(tr("Connecting…"));
}

MainWindow::~MainWindow()
{
    if (m_run.cancel)
        m_run.cancel->store(true);
    // Keeps what the timeline has (the panel saves it before it goes).
    m_recorder->stop(tr("the console closed during the run"));
}

// --- construction ---------------------------------------------------------------------

void MainWindow::buildActions()
{
    auto make = [this](const QString &iconName, const QString &text, const QKeySequence &key, auto slot) {
        auto *action = new QAction(consoleIcon(iconName), text, this);
        action->setShortcut(key);
        action->setToolTip(u"%1 (%2)"_s.arg(text, key.toString(QKeySequence::NativeText)));
        connect(action, &QAction::triggered, this, slot);
        addAction(action);
        return action;
    };
    m_newAction = make(u"new"_s, tr("New campaign…"), QKeySequence::New, &MainWindow::newCampaign);
    m_openAction = make(u"open"_s, tr("Open"), QKeySequence(u"Ctrl+O"_s), &MainWindow::openCampaign);
    m_closeAction = make(u"close"_s, tr("Close"), QKeySequence(u"Ctrl+Shift+O"_s), &MainWindow::closeCampaign);
    m_limitAction = make(u"limit"_s, tr("Edit limit…"), QKeySequence(u"Ctrl+L"_s), &MainWindow::editLimit);
    m_resetAction = make(u"reset"_s, tr("Reset…"), QKeySequence(u"Ctrl+Shift+R"_s), &MainWindow::resetCampaign);
    m_simulateAction = make(u"simulate"_s, tr("Simulate"), QKeySequence(u"Ctrl+R"_s), &MainWindow::startSimulation);
    m_cancelAction = make(u"cancel"_s, tr("Cancel simulation"), QKeySequence(u"Ctrl+."_s),
                          &MainWindow::cancelSimulation);
    m_exportAction = make(u"export"_s, tr("Export coupons to CSV…"), QKeySequence(u"Ctrl+E"_s),
                          &MainWindow::exportCoupons);
    m_settingsAction = make(u"settings"_s, tr("Endpoints…"), QKeySequence::Preferences, &MainWindow::editSettings);
    m_refreshAction = make(u"refresh"_s, tr("Refresh"), QKeySequence::Refresh, [this] {
        m_backend->refreshCampaigns();
        onCampaignChanged();
    });
    m_quitAction = make(u"quit"_s, tr("Quit"), QKeySequence::Quit, &QWidget::close);
    m_filterAction = make(u"filter"_s, tr("Filter coupons by user"), QKeySequence::Find, [this] {
        m_tabs->setCurrentIndex(0);
        m_coupons->focusFilter();
    });
    m_jumpAction = make(u"coupon"_s, tr("Go to coupon, user or time"), QKeySequence(u"Ctrl+J"_s), [this] {
        m_tabs->setCurrentIndex(0);
        m_coupons->focusJump();
    });
    m_settingsAction->setShortcuts({QKeySequence::Preferences, QKeySequence(u"Ctrl+,"_s)});

    // File: the report, the coupons' CSV, Quit.
    m_reportAction = make(u"export"_s, tr("Export report…"), QKeySequence(u"Ctrl+Shift+E"_s),
                          &MainWindow::exportReport);
    m_reportAction->setObjectName(u"exportReportAction"_s);
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->setObjectName(u"fileMenu"_s);
    file->addAction(m_reportAction);
    file->addAction(m_exportAction);
    file->addSeparator();
    file->addAction(m_quitAction);
}

void MainWindow::buildPanels()
{
    m_campaignBar = new CampaignBar({m_newAction, m_openAction, m_closeAction, m_limitAction, m_resetAction},
                                    {m_refreshAction, m_settingsAction}, this);
    addToolBar(m_campaignBar);

    // The service bar, a row of its own.
    addToolBarBreak();
    auto *servicesBar = addToolBar(tr("Services"));
    servicesBar->setObjectName(u"servicesToolBar"_s);
    m_serviceBar = new ServiceBar;
    servicesBar->addWidget(m_serviceBar);

    m_simulation = new SimulationPanel(m_backend->gatewayUrls());
    m_counter = new CounterPanel;
    m_lag = new LagPanel;
    m_topSplitter = new QSplitter(Qt::Horizontal);
    m_topSplitter->setObjectName(u"topSplitter"_s);
    m_topSplitter->addWidget(m_simulation);
    m_topSplitter->addWidget(m_counter);
    m_topSplitter->addWidget(m_lag);
    m_topSplitter->setStretchFactor(0, 3);
    m_topSplitter->setStretchFactor(1, 3);
    m_topSplitter->setStretchFactor(2, 4);

    m_coupons = new CouponBrowser(m_exportAction);
    m_failedEvents = new FailedEventsPanel;
    m_tabs = new QTabWidget;
    m_tabs->setObjectName(u"browserTabs"_s);
    m_tabs->addTab(m_coupons, consoleIcon(u"coupon"_s), tr("Coupons"));
    m_tabs->addTab(m_failedEvents, consoleIcon(u"failed"_s), tr("Failed events"));
    // The run timeline and history: the recorder samples the run, the panel shows and keeps it.
    m_runs = new RunsPanel;
    m_tabs->addTab(m_runs, consoleIcon(u"simulate"_s), tr("Runs"));
    connect(m_recorder, &RunRecorder::started, m_runs, &RunsPanel::liveStarted);
    connect(m_recorder, &RunRecorder::sampled, m_runs, &RunsPanel::liveSampled);
    connect(m_recorder, &RunRecorder::recorded, m_runs, &RunsPanel::addRun);
    connect(m_runs, &RunsPanel::message, this, &MainWindow::message);

    m_reservations = new ReservationsPanel;
    m_tabs->addTab(m_reservations, consoleIcon(u"limit"_s), tr("Reservations"));

    // Every campaign at once, above the focused one's panels; closable and
    // movable, its place kept with the window's state (saveState).
    m_overview = new OverviewPanel;
    m_overviewDock = new QDockWidget(tr("Campaigns"), this);
    m_overviewDock->setObjectName(u"campaignsDock"_s);
    m_overviewDock->setWidget(m_overview);
    m_overviewDock->toggleViewAction()->setShortcut(QKeySequence(u"Ctrl+Shift+C"_s));
    addDockWidget(Qt::TopDockWidgetArea, m_overviewDock);
    addAction(m_overviewDock->toggleViewAction());

    m_mainSplitter = new QSplitter(Qt::Vertical);
    m_mainSplitter->setObjectName(u"mainSplitter"_s);
    m_mainSplitter->addWidget(m_topSplitter);
    m_mainSplitter->addWidget(m_tabs);
    m_mainSplitter->setStretchFactor(0, 3);
    m_mainSplitter->setStretchFactor(1, 2);
    m_mainSplitter->setSizes({500, 340});
    setCentralWidget(m_mainSplitter);

    connect(m_campaignBar, &CampaignBar::currentCampaignChanged, this, &MainWindow::onCampaignChanged);
    connect(m_simulation, &SimulationPanel::simulateRequested, this, &MainWindow::startSimulation);
    connect(m_simulation, &SimulationPanel::cancelRequested, this, &MainWindow::cancelSimulation);
    connect(m_simulation, &SimulationPanel::simulateTextChanged, m_simulateAction, &QAction::setText);
    connect(m_serviceBar, &ServiceBar::problemsChanged, this, [this](const QString &problems) {
        if (!problems.isEmpty())
            message(problems, true);
        else
            message(tr("All services answer."));
    });
}

void MainWindow::restoreLayout()
{
    QSettings prefs;
    prefs.beginGroup(u"window"_s);
    if (!restoreGeometry(prefs.value(u"geometry"_s).toByteArray()))
        resize(1440, 900);
    restoreState(prefs.value(u"state"_s).toByteArray());
    m_mainSplitter->restoreState(prefs.value(u"mainSplitter"_s).toByteArray());
    m_topSplitter->restoreState(prefs.value(u"topSplitter"_s).toByteArray());
    m_coupons->restoreColumnState(prefs.value(u"couponColumns"_s).toByteArray());
    m_coupons->setNewestFirst(prefs.value(u"couponNewestFirst"_s, false).toBool());
    m_overview->restoreSettings(prefs);
    m_tabs->setCurrentIndex(prefs.value(u"tab"_s, 0).toInt());
    prefs.endGroup();
    m_campaignBar->selectWhenListed(prefs.value(u"campaign/current"_s).toString());
}

void MainWindow::saveLayout()
{
    QSettings prefs;
    prefs.beginGroup(u"window"_s);
    prefs.setValue(u"geometry"_s, saveGeometry());
    prefs.setValue(u"state"_s, saveState());
    prefs.setValue(u"mainSplitter"_s, m_mainSplitter->saveState());
    prefs.setValue(u"topSplitter"_s, m_topSplitter->saveState());
    prefs.setValue(u"couponColumns"_s, m_coupons->columnState());
    prefs.setValue(u"couponNewestFirst"_s, m_coupons->newestFirst());
    m_overview->saveSettings(prefs);
    prefs.setValue(u"tab"_s, m_tabs->currentIndex());
    prefs.endGroup();
    prefs.setValue(u"campaign/current"_s, currentCampaign());
    m_simulation->saveSettings(prefs);
    m_lag->saveSettings(prefs);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveLayout();
    cancelSimulation();
    QMainWindow::closeEvent(event);
}

void MainWindow::wireBackend()
{
    connect(m_backend, &Backend::serviceChanged, m_serviceBar, &ServiceBar::setState);
    connect(m_backend, &Backend::campaignsLoaded, this, &MainWindow::onCampaigns);
    connect(m_backend, &Backend::redisSampled, this, [this](const RedisSample &sample) {
        if (sample.campaign == currentCampaign())
            m_counter->showSample(sample);
    });
    connect(m_backend, &Backend::lagSampled, m_lag, &LagPanel::showSnapshot);
    connect(m_lag, &LagPanel::intervalChanged, m_backend, &Backend::setLagInterval);
    connect(m_lag, &LagPanel::pausedChanged, m_backend, &Backend::setLagPaused);
    connect(m_backend, &Backend::operationFinished, this, &MainWindow::onOperationFinished);
    connect(m_backend, &Backend::auditFinished, this, &MainWindow::onAuditFinished);
    connect(m_backend, &Backend::simulationFinished, this, &MainWindow::onSimulationFinished);

    connect(m_backend, &Backend::couponWindow, couponModel(), &CouponTableModel::setWindow);
    connect(m_backend, &Backend::couponSpan, couponModel(), &CouponTableModel::setSpan);
    connect(m_backend, &Backend::couponLocated, couponModel(), &CouponTableModel::setLocated);
    connect(couponModel(), &CouponTableModel::windowRequested, m_backend, &Backend::fetchCouponWindow);
    connect(couponModel(), &CouponTableModel::spanRequested, m_backend, &Backend::countCouponSpan);
    connect(couponModel(), &CouponTableModel::locateRequested, m_backend, &Backend::locateCoupon);
    connect(m_backend, &Backend::exportProgress, this,
            [this](qint64 rows) { message(tr("Exporting… %1 rows").arg(QLocale().toString(rows))); });
    connect(m_backend, &Backend::exportFinished, this, [this](const QString &path, qint64 rows, const QString &error) {
        m_exportAction->setEnabled(true);
        if (error.isEmpty())
            message(tr("Exported %1 coupon(s) to %2").arg(QLocale().toString(rows), path));
        else
            message(tr("Export to %1 failed: %2").arg(path, error), true);
    });

    connect(m_backend, &Backend::reportExported, this, [this](const QString &path, const QString &error) {
        if (error.isEmpty())
            message(tr("Report written to %1").arg(path));
        else
            message(tr("Report to %1 failed: %2").arg(path, error), true);
    });
    connect(m_backend, &Backend::overviewSampled, this, [this](const CampaignsOverview &overview) {
        m_overview->setOverview(overview);
        m_reservations->setOverview(overview);
    });
    connect(m_backend, &Backend::overviewFailed, m_overview, &OverviewPanel::setError);
    connect(m_backend, &Backend::reservationsSampled, m_reservations, &ReservationsPanel::setSample);
    connect(m_overview, &OverviewPanel::campaignActivated, this, &MainWindow::selectCampaign);
    connect(m_reservations, &ReservationsPanel::settleRequested, this, [this](const QString &campaign) {
        m_backend->settle(campaign);
        message(tr("Settling the pending reservations of %1…").arg(campaign));
    });
    connect(m_reservations, &ReservationsPanel::windowRequested, m_backend, &Backend::setReservationsFocus);
    connect(m_backend, &Backend::settleFinished, this,
            [this](const QString &campaign, const SettleReport &report, const QString &error) {
                m_reservations->showSettleReport(campaign, report, error);
                if (error.isEmpty())
                    message(tr("Settled %1: %2").arg(campaign, ReservationsPanel::settleText(report)));
                m_backend->refreshOverview();
            });

    connect(m_failedEvents, &FailedEventsPanel::retryRequested, this, &MainWindow::retryFailedEvent);
    connect(m_failedEvents, &FailedEventsPanel::resolveRequested, this, &MainWindow::resolveFailedEvent);
    connect(m_backend, &Backend::failedEventHandled, this, [this](qint64, bool ok, bool, const QString &text) {
        message(text, !ok);
        m_failedEvents->reload();
        if (const QString campaign = currentCampaign(); !campaign.isEmpty())
            m_backend->countFailedEvents(campaign);
    });
    connect(m_backend, &Backend::failedEventsPage, failedEventModel(), &FailedEventTableModel::appendPage);
    connect(m_backend, &Backend::failedEventCount, m_failedEvents, &FailedEventsPanel::setCount);
    connect(failedEventModel(), &PagedTableModel::pageRequested, this,
            [this](quint64 generation, qint64 afterId, int limit) {
                m_backend->fetchFailedEvents(generation, failedEventModel()->campaign(), afterId, limit);
            });
}

// --- campaigns -----------------------------------------------------------------------------

void MainWindow::selectCampaign(const QString &campaign)
{
    if (!m_campaignBar->select(campaign))
        m_backend->refreshCampaigns();
}

QString MainWindow::currentCampaign() const
{
    return m_campaignBar->currentCampaign();
}

void MainWindow::onCampaigns(const CampaignList &campaigns)
{
    const QString current = currentCampaign();
    m_campaignBar->setCampaigns(campaigns);
    // A change the bar made with its signals blocked (the list changed).
    if (currentCampaign() != current)
        onCampaignChanged();
    updateCampaignActions();
    if (!m_simulateAfterCreate.isEmpty() && m_campaignBar->contains(m_simulateAfterCreate)) {
        const QString campaign = std::exchange(m_simulateAfterCreate, {});
        m_campaignBar->setCurrentCampaign(campaign);
        runSimulation(campaign);
    }
}

void MainWindow::onCampaignChanged()
{
    const QString campaign = currentCampaign();
    m_backend->setCampaign(campaign);
    m_counter->clear();
    m_coupons->setCampaign(campaign);
    m_failedEvents->setCampaign(campaign);
    m_reservations->setCampaign(campaign);
    m_overview->setFocusedCampaign(campaign);
    m_backend->setReservationsFocus(campaign, m_reservations->model()->window());
    if (!campaign.isEmpty())
        m_backend->countFailedEvents(campaign);
    updateCampaignActions();
}

void MainWindow::updateCampaignActions()
{
    const QString id = currentCampaign();
    const bool known = m_campaignBar->contains(id);
    const bool open = known && m_campaignBar->campaign(id).state == u"open"_s;
    m_openAction->setEnabled(known && !open);
    m_closeAction->setEnabled(open);
    m_limitAction->setEnabled(known && !open);
    m_resetAction->setEnabled(known && !isSimulating());
    m_exportAction->setEnabled(known);
    m_reportAction->setEnabled(known);
}

void MainWindow::newCampaign()
{
    CampaignDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const Campaign c = dialog.campaign();
    m_campaignBar->selectWhenListed(c.id);
    m_backend->createCampaign(c, dialog.openNow(), u"create"_s);
    message(tr("Creating %1…").arg(c.id));
}

void MainWindow::openCampaign()
{
    if (const QString id = currentCampaign(); !id.isEmpty()) {
        m_backend->openCampaign(id);
        message(tr("Opening %1…").arg(id));
    }
}

void MainWindow::closeCampaign()
{
    if (const QString id = currentCampaign(); !id.isEmpty()) {
        m_backend->closeCampaign(id);
        message(tr("Closing %1…").arg(id));
    }
}

void MainWindow::editLimit()
{
    const QString id = currentCampaign();
    if (!m_campaignBar->contains(id))
        return;
    const Campaign c = m_campaignBar->campaign(id);
    bool ok = false;
    const int limit = QInputDialog::getInt(this, tr("Limit of %1").arg(id),
                                           tr("Coupons (at least the %1 issued):").arg(c.issued),
                                           int(std::min<qint64>(c.limit, std::numeric_limits<int>::max())),
                                           int(c.issued), std::numeric_limits<int>::max(), 1, &ok);
    if (ok) {
        m_backend->setLimit(id, limit);
        message(tr("Setting the limit of %1 to %2…").arg(id).arg(limit));
    }
}

void MainWindow::resetCampaign()
{
    const QString id = currentCampaign();
    if (id.isEmpty())
        return;
    ResetDialog dialog(id, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_backend->resetCampaign(id);
    message(tr("Resetting %1: waiting for the topic to drain…").arg(id));
}

void MainWindow::retryFailedEvent(const FailedEventRow &row)
{
    RetryDialog dialog(row, operatorName(), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_backend->retryFailedEvent(dialog.retry());
    message(tr("Retrying failed event %1 through Redis and the topic…").arg(row.id));
}

void MainWindow::resolveFailedEvent(const FailedEventRow &row)
{
    ResolveDialog dialog(row, operatorName(), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_backend->resolveFailedEvent(row.id, dialog.by(), dialog.reason());
    message(tr("Resolving failed event %1…").arg(row.id));
}

void MainWindow::onOperationFinished(const QString &tag, const QString &campaign, bool ok, const QString &text)
{
    message(ok ? text : tr("%1 %2 failed: %3").arg(tag, campaign, text), !ok);
    m_backend->refreshCampaigns();
    if (tag == u"simulate"_s) {
        if (ok) {
            m_simulateAfterCreate = campaign;
            m_campaignBar->selectWhenListed(campaign);
        } else {
            m_simulation->setVerdict(tr("Could not create campaign %1: %2").arg(campaign, text), u"bad"_s);
            m_simulation->setSimulateEnabled(true);
        }
    }
    if (ok && tag == u"reset"_s && campaign == currentCampaign())
        onCampaignChanged();
}

// --- live views ------------------------------------------------------------------------------

void MainWindow::onLiveTick()
{
    // Coupons keep arriving while the worker drains: read what is new.
    m_coupons->fetchNewer();
    m_failedEvents->fetchNewer();
    if (const QString campaign = currentCampaign(); !campaign.isEmpty())
        m_backend->countFailedEvents(campaign);
}

void MainWindow::exportCoupons()
{
    const QString campaign = currentCampaign();
    if (campaign.isEmpty())
        return;
    const QString path = QFileDialog::getSaveFileName(this, tr("Export coupons"), campaign + u"-coupons.csv"_s,
                                                      tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    m_exportAction->setEnabled(false);
    m_backend->exportCoupons(campaign, couponModel()->userFilter(), path);
    message(tr("Exporting coupons of %1…").arg(campaign));
}

void MainWindow::exportReport()
{
    const QString campaign = currentCampaign();
    if (!m_campaignBar->contains(campaign))
        return;
    // The runs the Runs tab has listed (its files are read on its thread);
    // the report worker loads the one picked by its id.
    const QList<RunRecord> runs = m_runs->model()->runsOf(campaign);
    QSettings prefs;
    const QString folder = prefs
                               .value(u"report/folder"_s,
                                      QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation))
                               .toString();
    ReportDialog dialog(campaign, runs, folder, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    ReportRequest request = dialog.request();
    request.by = operatorName();
    prefs.setValue(u"report/folder"_s, QFileInfo(request.path).absolutePath());
    m_backend->exportReport(request);
    message(tr("Writing the report on %1 (its audit waits for the drain)…").arg(campaign));
}

void MainWindow::editSettings()
{
    SettingsDialog dialog(m_backend->settings(), m_backend->gatewayUrls(), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    cancelSimulation();
    if (dialog.remember())
        saveEndpoints(dialog.settings(), dialog.gatewayUrls());
    m_serviceBar->clearGateways();
    m_backend->restart(dialog.settings(), dialog.gatewayUrls());
    m_simulation->setGatewayUrls(dialog.gatewayUrls());
    m_lag->clearHistory();
    onCampaignChanged();
    message(tr("Reconnecting with the new endpoints…"));
}

void MainWindow::message(const QString &text, bool error)
{
    statusBar()->setStyleSheet(error ? u"QStatusBar { color: #c62828; }"_s : QString());
    statusBar()->showMessage(text);
}

// --- simulation --------------------------------------------------------------------------------

void MainWindow::startSimulation()
{
    if (isSimulating() || !m_simulation->isSimulateEnabled())
        return;
    const QString campaign = currentCampaign();
    if (campaign.isEmpty()) {
        // The tutorial's drop: 100 coupons.
        simulateNewCampaign(100, m_simulation->users(), m_simulation->concurrency());
        return;
    }
    runSimulation(campaign);
}

void MainWindow::simulateNewCampaign(qint64 limit, qint64 users, int concurrency)
{
    Campaign c;
    c.id = u"drop-"_s + QDateTime::currentDateTime().toString(u"yyyyMMdd-HHmmss"_s);
    c.name = tr("Drop of %1").arg(limit);
    c.limit = limit;
    m_simulation->setUsers(int(users));
    m_simulation->setConcurrency(concurrency);
    m_simulation->setSimulateEnabled(false);
    m_simulation->setVerdict(tr("Creating campaign %1 with %2 coupons…").arg(c.id).arg(limit), u"busy"_s);
    m_backend->createCampaign(c, true, u"simulate"_s);
}

void MainWindow::runSimulation(const QString &campaign)
{
    m_run = {};
    m_run.options.campaign = campaign;
    m_run.options.users = m_simulation->users();
    m_run.options.concurrency = m_simulation->concurrency();
    m_run.options.duplicatePercent = m_simulation->duplicatePercent();
    m_run.target = m_simulation->target();
    m_run.progress = std::make_shared<SimulationProgress>();
    m_run.cancel = std::make_shared<std::atomic<bool>>(false);
    m_runCampaign = campaign;
    m_simulateAction->setEnabled(false);
    m_resetAction->setEnabled(false);
    const qint64 attempts = m_run.options.users + m_run.options.users * m_run.options.duplicatePercent / 100;
    m_simulation->runStarted(attempts, m_run.progress);
    m_simulation->setVerdict(tr("Simulating %1 users against %2 (%3)…")
                                 .arg(QLocale().toString(m_run.options.users), campaign,
                                      m_run.target.isEmpty() ? tr("in-process") : m_run.target),
                             u"busy"_s);
    m_recorder->start(m_run);
    m_backend->runSimulation(m_run);
    emit simulationStarted(campaign);
}

void MainWindow::cancelSimulation()
{
    if (m_run.cancel) {
        m_run.cancel->store(true);
        m_simulation->setCancelEnabled(false);
        message(tr("Cancelling: no new applies start, those in flight finish."));
    }
}

void MainWindow::onSimulationFinished(const SimulationReport &report, const QString &error)
{
    m_run = {};
    m_simulation->runFinished(error.isEmpty() ? &report : nullptr);
    m_simulateAction->setEnabled(true);
    updateCampaignActions();
    if (!error.isEmpty()) {
        m_recorder->finish(nullptr, error, 0);
        m_simulation->setVerdict(tr("The simulation could not run: %1").arg(error), u"bad"_s);
        return;
    }
    // The recorder waits for this audit's verdict (by its id: an earlier
    // run's audit of the same campaign may still be on its way).
    m_runAuditId = m_backend->audit(m_runCampaign, report.answered, RunRecorder::kAuditTimeoutMs);
    m_recorder->finish(&report, {}, m_runAuditId);
    m_lastSoldOut = report.count(ApplyOutcome::SoldOut);
    emit simulationFinished(report);
    m_simulation->setVerdict(tr("%1 applies in %2 s%3. Waiting for the topic to drain, then auditing…")
                                 .arg(QLocale().toString(report.attempts))
                                 .arg(report.seconds, 0, 'f', 2)
                                 .arg(report.cancelled ? tr(" (cancelled)") : QString()),
                             u"busy"_s);
}

void MainWindow::onAuditFinished(quint64 auditId, const QString &campaign, const AuditReport &report,
                                 const QString &error)
{
    m_recorder->setAudit(auditId, error.isEmpty() ? &report : nullptr, error);
    if (auditId != m_runAuditId)
        return;
    if (!error.isEmpty()) {
        const QString text = tr("✖ No verdict for %1: %2").arg(campaign, error);
        m_simulation->setVerdict(text, u"bad"_s);
        emit verdictReady(false, text);
        return;
    }
    const QString line = tr("%1 · %2 sold out").arg(report.summary).arg(m_lastSoldOut);
    QString text = report.ok ? tr("✔ All five invariants hold: %1").arg(line)
                             : tr("✖ %1<br>%2").arg(line, report.violations.join(u"<br>"_s).toHtmlEscaped());
    for (const QString &note : report.notes)
        text += u"<br>⚠ "_s + note.toHtmlEscaped();
    m_simulation->setVerdict(text, report.ok ? u"good"_s : u"bad"_s);
    emit verdictReady(report.ok, text);
    m_backend->refreshCampaigns();
}

} // namespace coupon::console
