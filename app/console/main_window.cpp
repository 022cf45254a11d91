#include "main_window.h"

#include "backend.h"
#include "dialogs.h"
#include "models.h"
#include "widgets.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

// The icons are compiled into this static library; its users need not know.
static void initConsoleResources()
{
    Q_INIT_RESOURCE(console);
}

namespace coupon::console {

namespace {

constexpr int kAuditTimeoutMs = 120'000;
constexpr int kLagHistory = 64;

QIcon icon(const QString &name)
{
    return QIcon(u":/icons/%1.png"_s.arg(name));
}

QString outcomeName(ApplyStatus status)
{
    switch (status) {
    case ApplyStatus::Accepted: return QObject::tr("Accepted");
    case ApplyStatus::Duplicate: return QObject::tr("Duplicate");
    case ApplyStatus::SoldOut: return QObject::tr("Sold out");
    case ApplyStatus::Closed: return QObject::tr("Closed");
    case ApplyStatus::NotLoaded: return QObject::tr("Not loaded");
    case ApplyStatus::Invalid: return QObject::tr("Invalid");
    case ApplyStatus::Unavailable: return QObject::tr("Unavailable");
    case ApplyStatus::Uncertain: return QObject::tr("Uncertain");
    }
    return {};
}

QTableView *tableView(QAbstractItemModel *model, const QString &name)
{
    auto *view = new QTableView;
    view->setObjectName(name);
    view->setModel(model);
    view->setAlternatingRowColors(true);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setWordWrap(false);
    view->verticalHeader()->hide();
    // Fixed row heights keep a million rows cheap to lay out.
    view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 6);
    view->horizontalHeader()->setStretchLastSection(true);
    view->horizontalHeader()->setHighlightSections(false);
    return view;
}

QLabel *valueLabel(const QString &name)
{
    auto *label = new QLabel(u"0"_s);
    label->setObjectName(name);
    label->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    label->setMinimumWidth(56);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    return label;
}

} // namespace

MainWindow::MainWindow(const Settings &settings, const QStringList &gatewayUrls, QWidget *parent)
    : QMainWindow(parent)
    , m_backend(new Backend(settings, gatewayUrls, QSettings().value(u"lag/intervalMs"_s, 1000).toInt(), this))
    , m_lagModel(new LagTableModel(this))
    , m_couponModel(new CouponTableModel(this))
    , m_failedModel(new FailedEventTableModel(this))
    , m_progressTimer(new QTimer(this))
    , m_liveTimer(new QTimer(this))
{
    initConsoleResources();
    setObjectName(u"mainWindow"_s);
    setWindowTitle(tr("Coupon System console"));
    setWindowIcon(icon(u"app"_s));
    buildActions();
    buildUi();
    wireBackend();
    restoreLayout();

    m_progressTimer->setInterval(100);
    connect(m_progressTimer, &QTimer::timeout, this, &MainWindow::onProgressTick);
    m_liveTimer->setInterval(1000);
    connect(m_liveTimer, &QTimer::timeout, this, &MainWindow::onLiveTick);
    m_liveTimer->start();
    updateCampaignActions();
    updateSimulateText();
    message(tr("Connecting…"));
}

MainWindow::~MainWindow()
{
    if (m_run.cancel)
        m_run.cancel->store(true);
}

// --- construction ---------------------------------------------------------------------

void MainWindow::buildActions()
{
    auto make = [this](const QString &iconName, const QString &text, const QKeySequence &key, auto slot) {
        auto *action = new QAction(icon(iconName), text, this);
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
        m_userFilter->setFocus();
        m_userFilter->selectAll();
    });
    m_settingsAction->setShortcuts({QKeySequence::Preferences, QKeySequence(u"Ctrl+,"_s)});
}

void MainWindow::buildUi()
{
    // Campaign toolbar.
    auto *campaignBar = addToolBar(tr("Campaign"));
    campaignBar->setObjectName(u"campaignToolBar"_s);
    campaignBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    campaignBar->setIconSize({20, 20});
    auto *campaignLabel = new QLabel(tr("  Campaign "));
    campaignBar->addWidget(campaignLabel);
    m_campaignBox = new QComboBox;
    m_campaignBox->setObjectName(u"campaignBox"_s);
    m_campaignBox->setMinimumWidth(220);
    m_campaignBox->setPlaceholderText(tr("(none yet: Simulate creates one)"));
    campaignBar->addWidget(m_campaignBox);
    campaignBar->addAction(m_newAction);
    campaignBar->addAction(m_openAction);
    campaignBar->addAction(m_closeAction);
    campaignBar->addAction(m_limitAction);
    campaignBar->addAction(m_resetAction);
    campaignBar->addSeparator();
    m_campaignInfo = new QLabel;
    m_campaignInfo->setObjectName(u"campaignInfo"_s);
    campaignBar->addWidget(m_campaignInfo);
    auto *spacer = new QWidget;
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    campaignBar->addWidget(spacer);
    campaignBar->addAction(m_refreshAction);
    campaignBar->addAction(m_settingsAction);

    // Service bar, a row of its own.
    addToolBarBreak();
    auto *servicesBar = addToolBar(tr("Services"));
    servicesBar->setObjectName(u"servicesToolBar"_s);
    m_serviceBar = new ServiceBar;
    servicesBar->addWidget(m_serviceBar);

    // Simulation.
    auto *simBox = new QGroupBox(tr("Simulation"));
    simBox->setObjectName(u"simulationBox"_s);
    auto *simLayout = new QVBoxLayout(simBox);
    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    QSettings prefs;
    m_users = new QSpinBox;
    m_users->setObjectName(u"usersSpin"_s);
    m_users->setRange(1, 10'000'000);
    m_users->setGroupSeparatorShown(true);
    m_users->setValue(prefs.value(u"simulation/users"_s, 1000).toInt());
    m_concurrency = new QSpinBox;
    m_concurrency->setRange(1, 1024);
    m_concurrency->setValue(prefs.value(u"simulation/concurrency"_s, 32).toInt());
    m_repeats = new QSpinBox;
    m_repeats->setRange(0, 1000);
    m_repeats->setSuffix(tr(" % of users"));
    m_repeats->setValue(prefs.value(u"simulation/repeats"_s, 0).toInt());
    m_target = new QComboBox;
    m_target->setObjectName(u"targetBox"_s);
    m_target->setEditable(true);
    m_target->addItem(tr("in-process (this console)"));
    for (const QString &url : m_backend->gatewayUrls())
        m_target->addItem(url);
    form->addRow(tr("Users"), m_users);
    form->addRow(tr("Concurrent"), m_concurrency);
    form->addRow(tr("Repeat attempts"), m_repeats);
    form->addRow(tr("Target"), m_target);
    simLayout->addLayout(form);
    auto *buttons = new QHBoxLayout;
    m_simulate = new QPushButton(icon(u"simulate"_s), {});
    m_simulate->setObjectName(u"simulateButton"_s);
    m_simulate->setDefault(true);
    m_simulate->setMinimumHeight(32);
    QFont bold = m_simulate->font();
    bold.setBold(true);
    m_simulate->setFont(bold);
    connect(m_simulate, &QPushButton::clicked, this, &MainWindow::startSimulation);
    m_cancel = new QPushButton(icon(u"cancel"_s), tr("Cancel"));
    m_cancel->setObjectName(u"cancelButton"_s);
    m_cancel->setEnabled(false);
    m_cancel->setMinimumHeight(32);
    connect(m_cancel, &QPushButton::clicked, this, &MainWindow::cancelSimulation);
    buttons->addWidget(m_simulate, 1);
    buttons->addWidget(m_cancel);
    simLayout->addLayout(buttons);
    m_progress = new QProgressBar;
    m_progress->setObjectName(u"simulationProgress"_s);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("%v of %m applies"));
    simLayout->addWidget(m_progress);
    auto *counts = new QGridLayout;
    counts->setHorizontalSpacing(10);
    counts->setVerticalSpacing(2);
    for (int s = 0; s < kApplyStatusCount; ++s) {
        auto *name = new QLabel(outcomeName(ApplyStatus(s)));
        auto *value = valueLabel(u"outcome-"_s + toString(ApplyStatus(s)));
        m_outcomeLabels.insert(s, value);
        counts->addWidget(name, s / 2, (s % 2) * 2);
        counts->addWidget(value, s / 2, (s % 2) * 2 + 1);
    }
    counts->setColumnStretch(1, 1);
    counts->setColumnStretch(3, 1);
    simLayout->addLayout(counts);
    m_rate = new QLabel(tr("– applies/s · p50 – · p95 – · p99 –"));
    m_rate->setObjectName(u"rateLabel"_s);
    simLayout->addWidget(m_rate);
    m_verdict = new QLabel;
    m_verdict->setObjectName(u"verdictLabel"_s);
    m_verdict->setWordWrap(true);
    m_verdict->setMinimumHeight(48);
    m_verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);
    simLayout->addWidget(m_verdict);
    simLayout->addStretch(1);
    setVerdict(tr("Press Simulate: 1000 users race for 100 coupons, 32 at a time."), u"idle"_s);

    // Redis counter.
    auto *redisBox = new QGroupBox(tr("Redis counter"));
    redisBox->setObjectName(u"redisBox"_s);
    auto *redisLayout = new QVBoxLayout(redisBox);
    auto *gaugeRow = new QHBoxLayout;
    m_gauge = new CounterGauge;
    gaugeRow->addWidget(m_gauge, 1);
    auto *facts = new QFormLayout;
    facts->addRow(tr("Count"), m_counterText = valueLabel(u"counterText"_s));
    facts->addRow(tr("Users"), m_usersText = valueLabel(u"usersText"_s));
    facts->addRow(tr("Pending"), m_pendingText = valueLabel(u"pendingText"_s));
    facts->addRow(tr("State"), m_stateText = valueLabel(u"stateText"_s));
    m_pendingText->setToolTip(tr("Reservations whose Kafka delivery report is not in yet"));
    gaugeRow->addLayout(facts);
    redisLayout->addLayout(gaugeRow, 1);
    m_counterChart = new TimeChart(tr("count over time"), QColor(0x2e, 0x7d, 0x32));
    m_counterChart->setObjectName(u"counterChart"_s);
    redisLayout->addWidget(m_counterChart, 1);

    // Topic lag.
    auto *lagBox = new QGroupBox(tr("Topic lag"));
    lagBox->setObjectName(u"lagBox"_s);
    auto *lagLayout = new QVBoxLayout(lagBox);
    auto *lagRow = new QHBoxLayout;
    m_lagBadge = new StatusBadge;
    lagRow->addWidget(m_lagBadge);
    m_lagTotal = new QLabel(tr("total lag –"));
    m_lagTotal->setObjectName(u"lagTotal"_s);
    lagRow->addWidget(m_lagTotal);
    lagRow->addStretch(1);
    lagRow->addWidget(new QLabel(tr("every")));
    m_lagInterval = new QSpinBox;
    m_lagInterval->setRange(100, 60'000);
    m_lagInterval->setSingleStep(250);
    m_lagInterval->setSuffix(tr(" ms"));
    m_lagInterval->setValue(QSettings().value(u"lag/intervalMs"_s, 1000).toInt());
    connect(m_lagInterval, &QSpinBox::valueChanged, this, [this](int ms) { m_backend->setLagInterval(ms); });
    lagRow->addWidget(m_lagInterval);
    m_lagPause = new QToolButton;
    m_lagPause->setObjectName(u"lagPause"_s);
    m_lagPause->setCheckable(true);
    m_lagPause->setIcon(icon(u"pause"_s));
    m_lagPause->setToolTip(tr("Pause the lag refresh (Ctrl+P)"));
    m_lagPause->setShortcut(QKeySequence(u"Ctrl+P"_s));
    connect(m_lagPause, &QToolButton::toggled, this, [this](bool paused) { m_backend->setLagPaused(paused); });
    lagRow->addWidget(m_lagPause);
    lagLayout->addLayout(lagRow);
    m_lagView = tableView(m_lagModel, u"lagView"_s);
    m_lagView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_lagView->setMinimumHeight(100);
    lagLayout->addWidget(m_lagView, 1);
    m_lagChart = new TimeChart(tr("total lag over time"), QColor(0xef, 0x6c, 0x00));
    m_lagChart->setObjectName(u"lagChart"_s);
    lagLayout->addWidget(m_lagChart, 1);

    m_topSplitter = new QSplitter(Qt::Horizontal);
    m_topSplitter->setObjectName(u"topSplitter"_s);
    m_topSplitter->addWidget(simBox);
    m_topSplitter->addWidget(redisBox);
    m_topSplitter->addWidget(lagBox);
    m_topSplitter->setStretchFactor(0, 3);
    m_topSplitter->setStretchFactor(1, 3);
    m_topSplitter->setStretchFactor(2, 4);

    // Coupons and failed events.
    m_tabs = new QTabWidget;
    m_tabs->setObjectName(u"browserTabs"_s);
    auto *couponPage = new QWidget;
    auto *couponLayout = new QVBoxLayout(couponPage);
    couponLayout->setContentsMargins(4, 4, 4, 4);
    auto *filterRow = new QHBoxLayout;
    filterRow->addWidget(new QLabel(tr("User id")));
    m_userFilter = new QLineEdit;
    m_userFilter->setObjectName(u"userFilter"_s);
    m_userFilter->setClearButtonEnabled(true);
    m_userFilter->setPlaceholderText(tr("filter by user id (Ctrl+F)"));
    m_userFilter->setValidator(new QRegularExpressionValidator(QRegularExpression(u"[0-9]{0,19}"_s), m_userFilter));
    m_userFilter->setMaximumWidth(240);
    connect(m_userFilter, &QLineEdit::textChanged, this, &MainWindow::applyUserFilter);
    filterRow->addWidget(m_userFilter);
    m_couponTotal = new QLabel;
    m_couponTotal->setObjectName(u"couponTotal"_s);
    filterRow->addWidget(m_couponTotal, 1);
    auto *exportButton = new QToolButton;
    exportButton->setDefaultAction(m_exportAction);
    exportButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    filterRow->addWidget(exportButton);
    couponLayout->addLayout(filterRow);
    m_couponView = tableView(m_couponModel, u"couponView"_s);
    couponLayout->addWidget(m_couponView);
    for (int c = 0; c < CouponTableModel::ColumnCount; ++c)
        m_couponView->setColumnWidth(c, c == CouponTableModel::IssuedAt ? 190 : 110);
    m_tabs->addTab(couponPage, icon(u"coupon"_s), tr("Coupons"));

    auto *failedPage = new QWidget;
    auto *failedLayout = new QVBoxLayout(failedPage);
    failedLayout->setContentsMargins(4, 4, 4, 4);
    m_failedTotal = new QLabel;
    failedLayout->addWidget(m_failedTotal);
    m_failedView = tableView(m_failedModel, u"failedView"_s);
    m_failedView->setColumnWidth(FailedEventTableModel::Reason, 260);
    m_failedView->setColumnWidth(FailedEventTableModel::Key, 160);
    m_failedView->setColumnWidth(FailedEventTableModel::Value, 260);
    failedLayout->addWidget(m_failedView);
    m_tabs->addTab(failedPage, icon(u"failed"_s), tr("Failed events"));

    m_mainSplitter = new QSplitter(Qt::Vertical);
    m_mainSplitter->setObjectName(u"mainSplitter"_s);
    m_mainSplitter->addWidget(m_topSplitter);
    m_mainSplitter->addWidget(m_tabs);
    m_mainSplitter->setStretchFactor(0, 3);
    m_mainSplitter->setStretchFactor(1, 2);
    m_mainSplitter->setSizes({500, 340});
    setCentralWidget(m_mainSplitter);

    connect(m_campaignBox, &QComboBox::currentIndexChanged, this, &MainWindow::onCampaignChanged);
    connect(m_users, &QSpinBox::valueChanged, this, &MainWindow::updateSimulateText);
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
    m_couponView->horizontalHeader()->restoreState(prefs.value(u"couponColumns"_s).toByteArray());
    m_tabs->setCurrentIndex(prefs.value(u"tab"_s, 0).toInt());
    prefs.endGroup();
    m_pendingSelection = prefs.value(u"campaign/current"_s).toString();
}

void MainWindow::saveLayout()
{
    QSettings prefs;
    prefs.beginGroup(u"window"_s);
    prefs.setValue(u"geometry"_s, saveGeometry());
    prefs.setValue(u"state"_s, saveState());
    prefs.setValue(u"mainSplitter"_s, m_mainSplitter->saveState());
    prefs.setValue(u"topSplitter"_s, m_topSplitter->saveState());
    prefs.setValue(u"couponColumns"_s, m_couponView->horizontalHeader()->saveState());
    prefs.setValue(u"tab"_s, m_tabs->currentIndex());
    prefs.endGroup();
    prefs.setValue(u"campaign/current"_s, currentCampaign());
    prefs.setValue(u"simulation/users"_s, m_users->value());
    prefs.setValue(u"simulation/concurrency"_s, m_concurrency->value());
    prefs.setValue(u"simulation/repeats"_s, m_repeats->value());
    prefs.setValue(u"lag/intervalMs"_s, m_lagInterval->value());
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
    connect(m_backend, &Backend::redisSampled, this, &MainWindow::onRedisSample);
    connect(m_backend, &Backend::lagSampled, this, &MainWindow::onLagSnapshot);
    connect(m_backend, &Backend::operationFinished, this, &MainWindow::onOperationFinished);
    connect(m_backend, &Backend::auditFinished, this, &MainWindow::onAuditFinished);
    connect(m_backend, &Backend::simulationFinished, this, &MainWindow::onSimulationFinished);
    connect(m_backend, &Backend::couponsPage, m_couponModel, &CouponTableModel::appendPage);
    connect(m_backend, &Backend::failedEventsPage, m_failedModel, &FailedEventTableModel::appendPage);
    connect(m_backend, &Backend::couponCount, this, [this](const QString &campaign, qint64 count) {
        if (campaign != m_couponModel->campaign())
            return;
        m_couponCount = count;
        m_couponTotal->setText(m_couponModel->userFilter()
                                   ? tr("user %1: %n coupon(s)", nullptr, int(count)).arg(*m_couponModel->userFilter())
                                   : tr("%1 coupon(s) in total").arg(QLocale().toString(count)));
    });
    connect(m_backend, &Backend::failedEventCount, this, [this](const QString &campaign, qint64 count) {
        if (campaign == m_failedModel->campaign())
            m_failedTotal->setText(
                tr("%1 poison message(s) recorded for this campaign").arg(QLocale().toString(count)));
    });
    connect(m_backend, &Backend::exportProgress, this,
            [this](qint64 rows) { message(tr("Exporting… %1 rows").arg(QLocale().toString(rows))); });
    connect(m_backend, &Backend::exportFinished, this, [this](const QString &path, qint64 rows, const QString &error) {
        m_exportAction->setEnabled(true);
        if (error.isEmpty())
            message(tr("Exported %1 coupon(s) to %2").arg(QLocale().toString(rows), path));
        else
            message(tr("Export to %1 failed: %2").arg(path, error), true);
    });
    connect(
        m_couponModel, &PagedTableModel::pageRequested, this, [this](quint64 generation, qint64 afterId, int limit) {
            m_backend->fetchCoupons(generation, m_couponModel->campaign(), afterId, limit, m_couponModel->userFilter());
        });
    connect(m_failedModel, &PagedTableModel::pageRequested, this,
            [this](quint64 generation, qint64 afterId, int limit) {
                m_backend->fetchFailedEvents(generation, m_failedModel->campaign(), afterId, limit);
            });
}

// --- campaigns -----------------------------------------------------------------------------

void MainWindow::selectCampaign(const QString &campaign)
{
    const int index = m_campaignBox->findData(campaign);
    if (index >= 0) {
        m_pendingSelection.clear();
        m_campaignBox->setCurrentIndex(index);
    } else {
        m_pendingSelection = campaign;
        m_backend->refreshCampaigns();
    }
}

QString MainWindow::currentCampaign() const
{
    return m_campaignBox->currentData().toString();
}

void MainWindow::onCampaigns(const CampaignList &campaigns)
{
    QStringList before, after;
    for (int i = 0; i < m_campaignBox->count(); ++i)
        before << m_campaignBox->itemData(i).toString();
    m_campaigns.clear();
    for (const Campaign &c : campaigns) {
        m_campaigns.insert(c.id, c);
        after << c.id;
    }
    const QString current = currentCampaign();
    if (before != after) {
        QSignalBlocker block(m_campaignBox);
        m_campaignBox->clear();
        for (const Campaign &c : campaigns)
            m_campaignBox->addItem(c.id == c.name || c.name.isEmpty() ? c.id : u"%1 — %2"_s.arg(c.id, c.name), c.id);
        m_campaignBox->setCurrentIndex(m_campaignBox->findData(current));
    }
    for (int i = 0; i < m_campaignBox->count(); ++i) {
        const Campaign &c = m_campaigns[m_campaignBox->itemData(i).toString()];
        m_campaignBox->setItemIcon(i, icon(c.state == u"open"_s ? u"open"_s : u"close"_s));
        m_campaignBox->setItemData(
            i, tr("%1: limit %2, issued %3, %4").arg(c.id).arg(c.limit).arg(c.issued).arg(c.state), Qt::ToolTipRole);
    }
    if (!m_pendingSelection.isEmpty() && m_campaigns.contains(m_pendingSelection)) {
        const QString wanted = std::exchange(m_pendingSelection, {});
        m_campaignBox->setCurrentIndex(m_campaignBox->findData(wanted));
    } else if (m_campaignBox->currentIndex() < 0 && m_campaignBox->count() > 0 && m_pendingSelection.isEmpty()) {
        m_campaignBox->setCurrentIndex(m_campaignBox->count() - 1);
    }
    if (currentCampaign() != current)
        onCampaignChanged();
    updateCampaignActions();
    if (!m_simulateAfterCreate.isEmpty() && m_campaigns.contains(m_simulateAfterCreate)) {
        const QString campaign = std::exchange(m_simulateAfterCreate, {});
        m_campaignBox->setCurrentIndex(m_campaignBox->findData(campaign));
        runSimulation(campaign);
    }
}

void MainWindow::onCampaignChanged()
{
    const QString campaign = currentCampaign();
    m_backend->setCampaign(campaign);
    m_counterChart->clear();
    m_gauge->setValues(0, 0, false);
    m_couponCount = -1;
    m_couponTotal->clear();
    m_failedTotal->clear();
    m_couponModel->setQuery(campaign, m_couponModel->userFilter());
    m_failedModel->setQuery(campaign);
    if (!campaign.isEmpty()) {
        m_backend->countCoupons(campaign, m_couponModel->userFilter());
        m_backend->countFailedEvents(campaign);
    }
    updateCampaignActions();
}

void MainWindow::updateCampaignActions()
{
    const QString id = currentCampaign();
    const bool known = m_campaigns.contains(id);
    const Campaign c = m_campaigns.value(id);
    const bool open = known && c.state == u"open"_s;
    m_openAction->setEnabled(known && !open);
    m_closeAction->setEnabled(open);
    m_limitAction->setEnabled(known && !open);
    m_resetAction->setEnabled(known && !isSimulating());
    m_exportAction->setEnabled(known);
    if (!known) {
        m_campaignInfo->setText(tr("no campaign selected"));
        return;
    }
    QString window;
    if (c.startsAt.isValid() || c.endsAt.isValid())
        window = tr(" · window %1 – %2")
                     .arg(c.startsAt.isValid() ? c.startsAt.toLocalTime().toString(u"MM-dd HH:mm"_s) : u"…"_s,
                          c.endsAt.isValid() ? c.endsAt.toLocalTime().toString(u"MM-dd HH:mm"_s) : u"…"_s);
    m_campaignInfo->setText(tr("<b>%1</b> · limit %2 · issued %3%4")
                                .arg(open ? tr("open") : tr("closed"))
                                .arg(c.limit)
                                .arg(c.issued)
                                .arg(window));
}

void MainWindow::newCampaign()
{
    CampaignDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const Campaign c = dialog.campaign();
    m_pendingSelection = c.id;
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
    if (!m_campaigns.contains(id))
        return;
    const Campaign c = m_campaigns.value(id);
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

void MainWindow::onOperationFinished(const QString &tag, const QString &campaign, bool ok, const QString &text)
{
    message(ok ? text : tr("%1 %2 failed: %3").arg(tag, campaign, text), !ok);
    m_backend->refreshCampaigns();
    if (tag == u"simulate"_s) {
        if (ok) {
            m_simulateAfterCreate = campaign;
            m_pendingSelection = campaign;
        } else {
            setVerdict(tr("Could not create campaign %1: %2").arg(campaign, text), u"bad"_s);
            m_simulate->setEnabled(true);
        }
    }
    if (ok && tag == u"reset"_s && campaign == currentCampaign())
        onCampaignChanged();
}

// --- live views ------------------------------------------------------------------------------

void MainWindow::onRedisSample(const RedisSample &sample)
{
    if (sample.campaign != currentCampaign())
        return;
    m_gauge->setValues(sample.count, sample.limit, sample.loaded);
    m_counterText->setText(sample.loaded ? u"%1 / %2"_s.arg(sample.count).arg(sample.limit) : tr("not loaded"));
    m_usersText->setText(QString::number(sample.users));
    m_pendingText->setText(QString::number(sample.pending));
    m_stateText->setText(sample.loaded ? sample.state : tr("–"));
    m_counterChart->setCeiling(sample.loaded ? double(sample.limit) : -1);
    m_counterChart->addPoint(sample.atMs, double(sample.count));
}

void MainWindow::onLagSnapshot(const LagSnapshot &snapshot)
{
    LagSample sample;
    sample.atMs = snapshot.atMs;
    sample.ok = snapshot.lagOk;
    sample.members = snapshot.groupOk ? int(snapshot.group.members.size()) : -1;
    if (snapshot.lagOk) {
        m_lagModel->setSnapshot(snapshot.partitions, snapshot.group.members);
        sample.lag = LagProbe::total(snapshot.partitions);
        for (const PartitionLag &p : snapshot.partitions)
            sample.committed += std::max<int64_t>(0, p.committed);
        m_lagTotal->setText(tr("total lag <b>%1</b> · %n member(s)", nullptr, std::max(0, sample.members))
                                .arg(QLocale().toString(sample.lag)));
        m_lagChart->addPoint(snapshot.atMs, double(sample.lag));
        m_lagSeen = true;
    } else {
        m_lagTotal->setText(tr("Kafka: %1").arg(snapshot.lagError));
    }
    m_lagSamples << sample;
    if (m_lagSamples.size() > kLagHistory)
        m_lagSamples.removeFirst();
    m_lagBadge->setStatus(evaluateLag(m_lagSamples));
}

void MainWindow::onLiveTick()
{
    // Coupons keep arriving while the worker drains: read what is new.
    m_couponModel->fetchNewer();
    m_failedModel->fetchNewer();
    if (const QString campaign = currentCampaign(); !campaign.isEmpty()) {
        m_backend->countCoupons(campaign, m_couponModel->userFilter());
        m_backend->countFailedEvents(campaign);
    }
}

void MainWindow::applyUserFilter()
{
    const QString text = m_userFilter->text().trimmed();
    bool ok = false;
    const qint64 user = text.toLongLong(&ok);
    const UserFilter filter = ok && user > 0 ? UserFilter(user) : std::nullopt;
    m_couponModel->setQuery(currentCampaign(), filter);
    m_couponCount = -1;
    if (!currentCampaign().isEmpty())
        m_backend->countCoupons(currentCampaign(), filter);
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
    m_backend->exportCoupons(campaign, m_couponModel->userFilter(), path);
    message(tr("Exporting coupons of %1…").arg(campaign));
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
    while (m_target->count() > 1)
        m_target->removeItem(1);
    for (const QString &url : dialog.gatewayUrls())
        m_target->addItem(url);
    m_lagSamples.clear();
    onCampaignChanged();
    message(tr("Reconnecting with the new endpoints…"));
}

void MainWindow::message(const QString &text, bool error)
{
    statusBar()->setStyleSheet(error ? u"QStatusBar { color: #c62828; }"_s : QString());
    statusBar()->showMessage(text);
}

// --- simulation --------------------------------------------------------------------------------

void MainWindow::updateSimulateText()
{
    const QString text = tr("Simulate %1 users").arg(QLocale().toString(m_users->value()));
    m_simulate->setText(text);
    m_simulateAction->setText(text);
}

void MainWindow::setVerdict(const QString &text, const QString &tone)
{
    QString style = u"QLabel { border-radius: 6px; padding: 6px; font-weight: bold; "_s;
    if (tone == u"good"_s)
        style += u"background: #e8f5e9; color: #1b5e20; border: 1px solid #66bb6a; }"_s;
    else if (tone == u"bad"_s)
        style += u"background: #fdecea; color: #b71c1c; border: 1px solid #e57373; }"_s;
    else if (tone == u"busy"_s)
        style += u"background: #fff8e1; color: #6d4c00; border: 1px solid #ffca28; }"_s;
    else
        style += u"background: #f3f4f6; color: #37474f; border: 1px solid #cfd8dc; font-weight: normal; }"_s;
    m_verdict->setStyleSheet(style);
    m_verdict->setText(text);
    m_verdict->setProperty("tone", tone);
}

void MainWindow::startSimulation()
{
    if (isSimulating() || !m_simulate->isEnabled())
        return;
    const QString campaign = currentCampaign();
    if (campaign.isEmpty()) {
        // The tutorial's drop: 100 coupons.
        simulateNewCampaign(100, m_users->value(), m_concurrency->value());
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
    m_users->setValue(int(users));
    m_concurrency->setValue(concurrency);
    m_simulate->setEnabled(false);
    setVerdict(tr("Creating campaign %1 with %2 coupons…").arg(c.id).arg(limit), u"busy"_s);
    m_backend->createCampaign(c, true, u"simulate"_s);
}

void MainWindow::runSimulation(const QString &campaign)
{
    m_run = {};
    m_run.options.campaign = campaign;
    m_run.options.users = m_users->value();
    m_run.options.concurrency = m_concurrency->value();
    m_run.options.duplicatePercent = m_repeats->value();
    m_run.target = m_target->currentIndex() == 0 && m_target->currentText() == m_target->itemText(0)
        ? QString()
        : m_target->currentText().trimmed();
    m_run.progress = std::make_shared<SimulationProgress>();
    m_run.cancel = std::make_shared<std::atomic<bool>>(false);
    m_runCampaign = campaign;
    m_runClock.start();
    m_simulate->setEnabled(false);
    m_simulateAction->setEnabled(false);
    m_cancel->setEnabled(true);
    m_resetAction->setEnabled(false);
    const qint64 attempts = m_run.options.users + m_run.options.users * m_run.options.duplicatePercent / 100;
    m_progress->setRange(0, int(std::min<qint64>(attempts, std::numeric_limits<int>::max())));
    m_progress->setValue(0);
    showOutcome({}, 0, attempts);
    setVerdict(tr("Simulating %1 users against %2 (%3)…")
                   .arg(QLocale().toString(m_run.options.users), campaign,
                        m_run.target.isEmpty() ? tr("in-process") : m_run.target),
               u"busy"_s);
    m_progressTimer->start();
    m_backend->runSimulation(m_run);
    emit simulationStarted(campaign);
}

void MainWindow::cancelSimulation()
{
    if (m_run.cancel) {
        m_run.cancel->store(true);
        m_cancel->setEnabled(false);
        message(tr("Cancelling: no new applies start, those in flight finish."));
    }
}

void MainWindow::showOutcome(const std::array<qint64, kApplyStatusCount> &byStatus, qint64 done, qint64 total)
{
    for (int s = 0; s < kApplyStatusCount; ++s)
        m_outcomeLabels.value(s)->setText(QLocale().toString(byStatus[size_t(s)]));
    m_progress->setValue(int(std::min<qint64>(done, m_progress->maximum())));
    Q_UNUSED(total)
}

void MainWindow::onProgressTick()
{
    if (!m_run.progress)
        return;
    const SimulationProgress &p = *m_run.progress;
    std::array<qint64, kApplyStatusCount> byStatus{};
    for (int s = 0; s < kApplyStatusCount; ++s)
        byStatus[size_t(s)] = p.byStatus[size_t(s)].load(std::memory_order_relaxed);
    const qint64 done = p.done.load(std::memory_order_relaxed);
    showOutcome(byStatus, done, p.total.load());
    const double seconds = double(m_runClock.elapsed()) / 1000.0;
    m_rate->setText(tr("%1 applies/s · p50 %2 ms · p95 %3 ms · p99 %4 ms")
                        .arg(QLocale().toString(seconds > 0 ? double(done) / seconds : 0.0, 'f', 0))
                        .arg(p.latencyPercentileMs(0.50), 0, 'f', 2)
                        .arg(p.latencyPercentileMs(0.95), 0, 'f', 2)
                        .arg(p.latencyPercentileMs(0.99), 0, 'f', 2));
}

void MainWindow::onSimulationFinished(const SimulationReport &report, const QString &error)
{
    m_progressTimer->stop();
    m_run = {};
    m_simulate->setEnabled(true);
    m_simulateAction->setEnabled(true);
    m_cancel->setEnabled(false);
    updateCampaignActions();
    if (!error.isEmpty()) {
        setVerdict(tr("The simulation could not run: %1").arg(error), u"bad"_s);
        return;
    }
    m_progress->setRange(0,
                         int(std::max<qint64>(1, std::min<qint64>(report.attempts, std::numeric_limits<int>::max()))));
    showOutcome(report.byStatus, report.attempts, report.attempts);
    m_rate->setText(tr("%1 applies/s · p50 %2 ms · p95 %3 ms · p99 %4 ms")
                        .arg(QLocale().toString(report.appliesPerSecond, 'f', 0))
                        .arg(report.p50Ms, 0, 'f', 2)
                        .arg(report.p95Ms, 0, 'f', 2)
                        .arg(report.p99Ms, 0, 'f', 2));
    m_lastSoldOut = report.count(ApplyStatus::SoldOut);
    emit simulationFinished(report);
    setVerdict(tr("%1 applies in %2 s%3. Waiting for the topic to drain, then auditing…")
                   .arg(QLocale().toString(report.attempts))
                   .arg(report.seconds, 0, 'f', 2)
                   .arg(report.cancelled ? tr(" (cancelled)") : QString()),
               u"busy"_s);
    m_backend->audit(m_runCampaign, report.answered, kAuditTimeoutMs);
}

void MainWindow::onAuditFinished(const QString &campaign, const AuditReport &report, const QString &error)
{
    if (campaign != m_runCampaign)
        return;
    if (!error.isEmpty()) {
        const QString text = tr("✖ No verdict for %1: %2").arg(campaign, error);
        setVerdict(text, u"bad"_s);
        emit verdictReady(false, text);
        return;
    }
    const QString line = tr("%1 · %2 sold out").arg(report.summary).arg(m_lastSoldOut);
    const QString text = report.ok ? tr("✔ All five invariants hold: %1").arg(line)
                                   : tr("✖ %1<br>%2").arg(line, report.violations.join(u"<br>"_s).toHtmlEscaped());
    setVerdict(text, report.ok ? u"good"_s : u"bad"_s);
    emit verdictReady(report.ok, text);
    m_backend->refreshCampaigns();
}

} // namespace coupon::console
