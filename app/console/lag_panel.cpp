#include "lag_panel.h"

#include "models.h"
#include "panel_parts.h"
#include "widgets.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSettings>
#include <QSpinBox>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

// Samples kept for the badge's evaluation: more than its window needs.
constexpr int kLagHistory = 64;

} // namespace

LagPanel::LagPanel(QWidget *parent)
    : QGroupBox(tr("Topic lag"), parent)
    , m_model(new LagTableModel(this))
    , m_badge(new StatusBadge)
    , m_total(new QLabel(tr("total lag –")))
    , m_interval(new QSpinBox)
    , m_pause(new QToolButton)
    , m_view(makeTableView(m_model, u"lagView"_s))
    , m_chart(new TimeChart(tr("total lag over time"), QColor(0xef, 0x6c, 0x00)))
{
    setObjectName(u"lagBox"_s);
    auto *layout = new QVBoxLayout(this);
    auto *row = new QHBoxLayout;
    row->addWidget(m_badge);
    m_total->setObjectName(u"lagTotal"_s);
    row->addWidget(m_total);
    row->addStretch(1);
    row->addWidget(new QLabel(tr("every")));
    m_interval->setRange(100, 60'000);
    m_interval->setSingleStep(250);
    m_interval->setSuffix(tr(" ms"));
    m_interval->setValue(QSettings().value(u"lag/intervalMs"_s, 1000).toInt());
    connect(m_interval, &QSpinBox::valueChanged, this, &LagPanel::intervalChanged);
    row->addWidget(m_interval);
    m_pause->setObjectName(u"lagPause"_s);
    m_pause->setCheckable(true);
    m_pause->setIcon(consoleIcon(u"pause"_s));
    m_pause->setToolTip(tr("Pause the lag refresh (Ctrl+P)"));
    m_pause->setShortcut(QKeySequence(u"Ctrl+P"_s));
    connect(m_pause, &QToolButton::toggled, this, &LagPanel::pausedChanged);
    row->addWidget(m_pause);
    layout->addLayout(row);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->setMinimumHeight(100);
    layout->addWidget(m_view, 1);
    m_chart->setObjectName(u"lagChart"_s);
    layout->addWidget(m_chart, 1);
}

void LagPanel::showSnapshot(const LagSnapshot &snapshot)
{
    LagSample sample;
    sample.atMs = snapshot.atMs;
    sample.ok = snapshot.lagOk;
    sample.members = snapshot.groupOk ? int(snapshot.group.members.size()) : -1;
    if (snapshot.lagOk) {
        m_model->setSnapshot(snapshot.partitions, snapshot.group.members);
        sample.lag = LagProbe::total(snapshot.partitions);
        for (const PartitionLag &p : snapshot.partitions)
            sample.committed += std::max<int64_t>(0, p.committed);
        m_total->setText(tr("total lag <b>%1</b> · %n member(s)", nullptr, std::max(0, sample.members))
                             .arg(QLocale().toString(sample.lag)));
        m_chart->addPoint(snapshot.atMs, double(sample.lag));
        m_lagSeen = true;
    } else {
        m_total->setText(tr("Kafka: %1").arg(snapshot.lagError));
    }
    m_samples << sample;
    if (m_samples.size() > kLagHistory)
        m_samples.removeFirst();
    m_badge->setStatus(evaluateLag(m_samples));
}

int LagPanel::intervalMs() const
{
    return m_interval->value();
}

void LagPanel::saveSettings(QSettings &prefs) const
{
    prefs.setValue(u"lag/intervalMs"_s, m_interval->value());
}

} // namespace coupon::console
