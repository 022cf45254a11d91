#include "simulation_panel.h"

#include "panel_parts.h"
#include "widgets.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

int progressMaximum(qint64 attempts)
{
    return int(std::min<qint64>(attempts, std::numeric_limits<int>::max()));
}

} // namespace

SimulationPanel::SimulationPanel(const QStringList &gatewayUrls, QWidget *parent)
    : QGroupBox(tr("Simulation"), parent)
    , m_users(new QSpinBox)
    , m_concurrency(new QSpinBox)
    , m_repeats(new QSpinBox)
    , m_target(new QComboBox)
    , m_simulate(new QPushButton(consoleIcon(u"simulate"_s), {}))
    , m_cancel(new QPushButton(consoleIcon(u"cancel"_s), tr("Cancel")))
    , m_progress(new QProgressBar)
    , m_rate(new QLabel(tr("– applies/s · p50 – · p95 – · p99 –")))
    , m_verdict(new VerdictLabel)
    , m_progressTimer(new QTimer(this))
{
    setObjectName(u"simulationBox"_s);
    auto *layout = new QVBoxLayout(this);

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    QSettings prefs;
    m_users->setObjectName(u"usersSpin"_s);
    m_users->setRange(1, 10'000'000);
    m_users->setGroupSeparatorShown(true);
    m_users->setValue(prefs.value(u"simulation/users"_s, 1000).toInt());
    m_concurrency->setRange(1, 1024);
    m_concurrency->setValue(prefs.value(u"simulation/concurrency"_s, 32).toInt());
    m_repeats->setRange(0, 1000);
    m_repeats->setSuffix(tr(" % of users"));
    m_repeats->setValue(prefs.value(u"simulation/repeats"_s, 0).toInt());
    m_target->setObjectName(u"targetBox"_s);
    m_target->setEditable(true);
    m_target->setToolTip(tr("In this process, or gateway URLs: several, separated by commas or spaces, "
                            "take the applies in turn (round robin)."));
    m_target->addItem(tr("in-process (this console)"));
    setGatewayUrls(gatewayUrls);
    form->addRow(tr("Users"), m_users);
    form->addRow(tr("Concurrent"), m_concurrency);
    form->addRow(tr("Repeat attempts"), m_repeats);
    form->addRow(tr("Target"), m_target);
    layout->addLayout(form);

    auto *buttons = new QHBoxLayout;
    m_simulate->setObjectName(u"simulateButton"_s);
    m_simulate->setDefault(true);
    m_simulate->setMinimumHeight(32);
    QFont bold = m_simulate->font();
    bold.setBold(true);
    m_simulate->setFont(bold);
    m_simulate->setText(simulateText());
    connect(m_simulate, &QPushButton::clicked, this, &SimulationPanel::simulateRequested);
    m_cancel->setObjectName(u"cancelButton"_s);
    m_cancel->setEnabled(false);
    m_cancel->setMinimumHeight(32);
    connect(m_cancel, &QPushButton::clicked, this, &SimulationPanel::cancelRequested);
    buttons->addWidget(m_simulate, 1);
    buttons->addWidget(m_cancel);
    layout->addLayout(buttons);

    m_progress->setObjectName(u"simulationProgress"_s);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("no run yet")); // runStarted() makes it count
    layout->addWidget(m_progress);
    auto *counts = new QGridLayout;
    counts->setHorizontalSpacing(10);
    counts->setVerticalSpacing(2);
    for (int s = 0; s < kApplyOutcomeCount; ++s) {
        auto *name = new QLabel(outcomeName(ApplyOutcome(s)));
        auto *value = makeValueLabel(u"outcome-"_s + toString(ApplyOutcome(s)));
        m_outcomeLabels.insert(s, value);
        counts->addWidget(name, s / 2, (s % 2) * 2);
        counts->addWidget(value, s / 2, (s % 2) * 2 + 1);
    }
    counts->setColumnStretch(1, 1);
    counts->setColumnStretch(3, 1);
    layout->addLayout(counts);
    m_rate->setObjectName(u"rateLabel"_s);
    layout->addWidget(m_rate);
    layout->addWidget(m_verdict);
    layout->addStretch(1);
    setVerdict(tr("Press Simulate: 1000 users race for 100 coupons, 32 at a time."), u"idle"_s);

    connect(m_users, &QSpinBox::valueChanged, this, [this] {
        m_simulate->setText(simulateText());
        emit simulateTextChanged(simulateText());
    });
    m_progressTimer->setInterval(100);
    connect(m_progressTimer, &QTimer::timeout, this, &SimulationPanel::showProgress);
}

int SimulationPanel::users() const
{
    return m_users->value();
}

void SimulationPanel::setUsers(int users)
{
    m_users->setValue(users);
}

int SimulationPanel::concurrency() const
{
    return m_concurrency->value();
}

void SimulationPanel::setConcurrency(int concurrency)
{
    m_concurrency->setValue(concurrency);
}

int SimulationPanel::duplicatePercent() const
{
    return m_repeats->value();
}

QString SimulationPanel::target() const
{
    // The first entry means in-process, unless the operator typed over it.
    if (m_target->currentIndex() == 0 && m_target->currentText() == m_target->itemText(0))
        return {};
    return m_target->currentText().trimmed();
}

void SimulationPanel::setGatewayUrls(const QStringList &urls)
{
    while (m_target->count() > 1)
        m_target->removeItem(1);
    QStringList bases;
    for (const QString &line : urls) // "<base URL> [<admin URL>]": the simulation uses the base
        bases << line.section(u' ', 0, 0, QString::SectionSkipEmpty);
    if (bases.size() > 1)
        m_target->addItem(bases.join(u", "_s)); // all of them, round robin
    m_target->addItems(bases);
}

QString SimulationPanel::simulateText() const
{
    return tr("Simulate %1 users").arg(QLocale().toString(m_users->value()));
}

bool SimulationPanel::isSimulateEnabled() const
{
    return m_simulate->isEnabled();
}

void SimulationPanel::setSimulateEnabled(bool enabled)
{
    m_simulate->setEnabled(enabled);
}

void SimulationPanel::setCancelEnabled(bool enabled)
{
    m_cancel->setEnabled(enabled);
}

void SimulationPanel::runStarted(qint64 attempts, std::shared_ptr<const SimulationProgress> progress)
{
    m_running = std::move(progress);
    m_runClock.start();
    m_simulate->setEnabled(false);
    m_cancel->setEnabled(true);
    m_progress->setRange(0, progressMaximum(attempts));
    m_progress->setValue(0);
    m_progress->setFormat(tr("%v of %m applies"));
    showOutcome({}, 0);
    m_progressTimer->start();
}

void SimulationPanel::runFinished(const SimulationReport *report)
{
    m_progressTimer->stop();
    m_running.reset();
    m_simulate->setEnabled(true);
    m_cancel->setEnabled(false);
    if (!report)
        return;
    m_progress->setRange(0, std::max(1, progressMaximum(report->attempts)));
    showOutcome(report->byStatus, report->attempts);
    showRate(report->appliesPerSecond, report->p50Ms, report->p95Ms, report->p99Ms);
}

void SimulationPanel::setVerdict(const QString &text, const QString &tone)
{
    m_verdict->setVerdict(text, tone);
}

QLabel *SimulationPanel::verdictLabel() const
{
    return m_verdict;
}

void SimulationPanel::saveSettings(QSettings &prefs) const
{
    prefs.setValue(u"simulation/users"_s, m_users->value());
    prefs.setValue(u"simulation/concurrency"_s, m_concurrency->value());
    prefs.setValue(u"simulation/repeats"_s, m_repeats->value());
}

void SimulationPanel::showProgress()
{
    if (!m_running)
        return;
    const SimulationProgress &p = *m_running;
    std::array<qint64, kApplyOutcomeCount> byStatus{};
    for (int s = 0; s < kApplyOutcomeCount; ++s)
        byStatus[size_t(s)] = p.byStatus[size_t(s)].load(std::memory_order_relaxed);
    const qint64 done = p.done.load(std::memory_order_relaxed);
    showOutcome(byStatus, done);
    const double seconds = double(m_runClock.elapsed()) / 1000.0;
    showRate(seconds > 0 ? double(done) / seconds : 0.0, p.latencyPercentileMs(0.50), p.latencyPercentileMs(0.95),
             p.latencyPercentileMs(0.99));
}

void SimulationPanel::showOutcome(const std::array<qint64, kApplyOutcomeCount> &byStatus, qint64 done)
{
    for (int s = 0; s < kApplyOutcomeCount; ++s)
        m_outcomeLabels.value(s)->setText(QLocale().toString(byStatus[size_t(s)]));
    m_progress->setValue(int(std::min<qint64>(done, m_progress->maximum())));
}

void SimulationPanel::showRate(double appliesPerSecond, double p50Ms, double p95Ms, double p99Ms)
{
    m_rate->setText(tr("%1 applies/s · p50 %2 · p95 %3 · p99 %4")
                        .arg(QLocale().toString(appliesPerSecond, 'f', 0), latencyText(p50Ms), latencyText(p95Ms),
                             latencyText(p99Ms)));
}

} // namespace coupon::console
