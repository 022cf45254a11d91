#include "counter_panel.h"

#include "panel_parts.h"
#include "widgets.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace coupon::console {

CounterPanel::CounterPanel(QWidget *parent)
    : QGroupBox(tr("Redis counter"), parent)
    , m_gauge(new CounterGauge)
    , m_counterText(makeValueLabel(u"counterText"_s))
    , m_usersText(makeValueLabel(u"usersText"_s))
    , m_pendingText(makeValueLabel(u"pendingText"_s))
    , m_stateText(makeValueLabel(u"stateText"_s))
    , m_chart(new TimeChart(tr("count over time"), QColor(0x2e, 0x7d, 0x32)))
{
    setObjectName(u"redisBox"_s);
    auto *layout = new QVBoxLayout(this);
    auto *gaugeRow = new QHBoxLayout;
    gaugeRow->addWidget(m_gauge, 1);
    auto *facts = new QFormLayout;
    facts->addRow(tr("Count"), m_counterText);
    facts->addRow(tr("Users"), m_usersText);
    facts->addRow(tr("Pending"), m_pendingText);
    facts->addRow(tr("State"), m_stateText);
    m_pendingText->setToolTip(tr("Reservations whose Kafka delivery report is not in yet"));
    gaugeRow->addLayout(facts);
    layout->addLayout(gaugeRow, 1);
    m_chart->setObjectName(u"counterChart"_s);
    layout->addWidget(m_chart, 1);
}

void CounterPanel::showSample(const RedisSample &sample)
{
    m_gauge->setValues(sample.count, sample.limit, sample.loaded);
    m_counterText->setText(sample.loaded ? u"%1 / %2"_s.arg(sample.count).arg(sample.limit) : tr("not loaded"));
    m_usersText->setText(QString::number(sample.users));
    m_pendingText->setText(QString::number(sample.pending));
    m_stateText->setText(sample.loaded ? sample.state : tr("–"));
    m_chart->setCeiling(sample.loaded ? double(sample.limit) : -1);
    m_chart->addPoint(sample.atMs, double(sample.count));
}

void CounterPanel::clear()
{
    m_chart->clear();
    m_gauge->setValues(0, 0, false);
}

} // namespace coupon::console
