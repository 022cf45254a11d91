#include "run_timeline.h"

#include "panel_parts.h"
#include "widgets.h"

#include <QChart>
#include <QChartView>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

QChart *makeChart(const QString &title)
{
    auto *chart = new QChart;
    chart->setTitle(title);
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->setBackgroundRoundness(4);
    QFont font = chart->titleFont();
    font.setPointSizeF(font.pointSizeF() * 0.9);
    chart->setTitleFont(font);
    chart->legend()->setAlignment(Qt::AlignRight);
    font.setPointSizeF(font.pointSizeF() * 0.9);
    chart->legend()->setFont(font);
    return chart;
}

QChartView *makeView(QChart *chart, const QString &name)
{
    auto *view = new QChartView(chart);
    view->setObjectName(name);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(140);
    return view;
}

template <typename Axis>
Axis *addAxis(QChart *chart, Axis *axis, Qt::Alignment alignment, const QString &title)
{
    QFont font = axis->labelsFont();
    font.setPointSizeF(font.pointSizeF() * 0.85);
    axis->setLabelsFont(font);
    axis->setTitleFont(font);
    axis->setTitleText(title);
    chart->addAxis(axis, alignment);
    return axis;
}

QLineSeries *addSeries(QChart *chart, const QString &name, const QPen &pen, QAbstractAxis *x, QAbstractAxis *y)
{
    auto *series = new QLineSeries;
    series->setName(name);
    series->setPen(pen);
    chart->addSeries(series);
    series->attachAxis(x);
    series->attachAxis(y);
    return series;
}

// The line marking the last answer: not a series the legend should list.
QLineSeries *addMarker(QChart *chart, QAbstractAxis *x, QAbstractAxis *y)
{
    QLineSeries *marker = addSeries(chart, {}, QPen(QColor(0x90, 0x90, 0x90), 1, Qt::DashLine), x, y);
    const QList<QLegendMarker *> markers = chart->legend()->markers(marker);
    for (QLegendMarker *m : markers)
        m->setVisible(false);
    return marker;
}

} // namespace

RunTimeline::RunTimeline(QWidget *parent)
    : QWidget(parent)
    , m_title(new QLabel)
    , m_rateChart(makeChart(tr("applies/s by outcome")))
    , m_latencyChart(makeChart(tr("latency of the answers (ms)")))
    , m_drainChart(makeChart(tr("Redis counter, MySQL issued, topic lag")))
{
    setObjectName(u"runTimeline"_s);
    m_title->setObjectName(u"runTimelineTitle"_s);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_title);
    layout->addWidget(makeView(m_rateChart, u"rateChart"_s), 1);
    layout->addWidget(makeView(m_latencyChart, u"latencyChart"_s), 1);
    layout->addWidget(makeView(m_drainChart, u"drainChart"_s), 1);

    const QString seconds = tr("s since start");
    m_rateX = addAxis(m_rateChart, new QValueAxis, Qt::AlignBottom, seconds);
    m_rateY = addAxis(m_rateChart, new QValueAxis, Qt::AlignLeft, {});
    m_rateY->setLabelFormat(u"%.0f"_s);
    m_latencyX = addAxis(m_latencyChart, new QValueAxis, Qt::AlignBottom, seconds);
    m_latencyY = addAxis(m_latencyChart, new QLogValueAxis, Qt::AlignLeft, {});
    m_latencyY->setBase(10);
    m_latencyY->setLabelFormat(u"%g"_s);
    m_drainX = addAxis(m_drainChart, new QValueAxis, Qt::AlignBottom, seconds);
    m_drainY = addAxis(m_drainChart, new QValueAxis, Qt::AlignLeft, {});
    m_drainY->setLabelFormat(u"%.0f"_s);
    for (QValueAxis *x : {m_rateX, m_latencyX, m_drainX})
        x->setLabelFormat(u"%.0f"_s);

    const std::array<QString, 3> names{u"p50"_s, u"p95"_s, u"p99"_s};
    const std::array<QColor, 3> colors{QColor(0x2e, 0x7d, 0x32), QColor(0xef, 0x8f, 0x00), QColor(0xc6, 0x28, 0x28)};
    for (size_t i = 0; i < m_latency.size(); ++i)
        m_latency[i] = addSeries(m_latencyChart, names[i], QPen(colors[i], 2), m_latencyX, m_latencyY);
    m_counter = addSeries(m_drainChart, tr("Redis counter"), QPen(QColor(0x15, 0x65, 0xc0), 2), m_drainX, m_drainY);
    m_issued = addSeries(m_drainChart, tr("MySQL issued"), QPen(QColor(0x2e, 0x7d, 0x32), 2), m_drainX, m_drainY);
    m_lag = addSeries(m_drainChart, tr("topic lag"), QPen(QColor(0xef, 0x6c, 0x00), 1), m_drainX, m_drainY);
    m_lastAnswer = {addMarker(m_rateChart, m_rateX, m_rateY), addMarker(m_latencyChart, m_latencyX, m_latencyY),
                    addMarker(m_drainChart, m_drainX, m_drainY)};
    clear(tr("No run yet: press Simulate, or pick a run from the history."));
}

void RunTimeline::clear(const QString &title)
{
    m_title->setText(title);
    for (QLineSeries *s : std::as_const(m_rates)) {
        m_rateChart->removeSeries(s);
        delete s;
    }
    m_rates.clear();
    for (QLineSeries *s : m_latency)
        s->clear();
    for (QLineSeries *s : {m_counter, m_issued, m_lag})
        s->clear();
    for (QLineSeries *s : m_lastAnswer)
        s->clear();
    m_lastAtMs = 0;
    m_intervals = IntervalRates();
    m_rateTop = m_latencyMax = m_drainTop = 0;
    m_latencyMin = 0;
    rescale();
}

QString RunTimeline::title() const
{
    return m_title->text();
}

void RunTimeline::showRecord(const RunRecord &record)
{
    clear(tr("Run %1 by %2: %3 users against %4 (%5) · %6")
              .arg(record.id, record.tool, QLocale().toString(record.users), record.campaign, record.target,
                   runVerdictText(record)));
    for (const RunSample &sample : record.samples)
        addSample(sample);
    if (record.finishedAtMs > record.startedAtMs)
        markLastAnswer(record.finishedAtMs - record.startedAtMs);
}

void RunTimeline::addSample(const RunSample &sample)
{
    const double x = double(sample.atMs) / 1000.0;
    const IntervalRates::Point interval = m_intervals.add(sample);
    for (int o = 0; o < kApplyOutcomeCount; ++o) {
        const double rate = interval.perSecond[size_t(o)];
        QLineSeries *series = m_rates.value(o);
        if (!series && rate == 0)
            continue;
        if (!series) {
            // An outcome seen for the first time: it was 0 until this interval.
            series = addSeries(m_rateChart, outcomeName(ApplyOutcome(o)),
                               QPen(QColor(outcomeColor(ApplyOutcome(o))), 2), m_rateX, m_rateY);
            series->append(interval.startSeconds, 0);
            m_rates.insert(o, series);
        } else if (interval.replacesLast) {
            // A sample in the same ms as the one before: its answers join that interval.
            series->removePoints(series->count() - 1, 1);
        }
        series->append(interval.endSeconds, rate);
        m_rateTop = std::max(m_rateTop, rate);
    }
    // An interval without answers has no latency (and 0 has no place on a log axis).
    if (sample.hasLatency()) {
        const std::array<double, 3> values{sample.p50Ms, sample.p95Ms, sample.p99Ms};
        for (size_t i = 0; i < values.size(); ++i)
            m_latency[i]->append(x, values[i]);
        m_latencyMin = m_latencyMin > 0 ? std::min(m_latencyMin, sample.p50Ms) : sample.p50Ms;
        m_latencyMax = std::max(m_latencyMax, sample.p99Ms);
    }
    if (sample.redisCount >= 0)
        m_counter->append(x, double(sample.redisCount));
    if (sample.issued >= 0)
        m_issued->append(x, double(sample.issued));
    if (sample.lag >= 0)
        m_lag->append(x, double(sample.lag));
    m_drainTop = std::max({m_drainTop, double(sample.redisCount), double(sample.issued), double(sample.lag)});
    m_lastAtMs = std::max(m_lastAtMs, sample.atMs);
    rescale();
}

void RunTimeline::markLastAnswer(qint64 atMs)
{
    const double x = double(atMs) / 1000.0;
    m_lastAnswer[0]->replace({QPointF(x, 0), QPointF(x, 1e12)});
    m_lastAnswer[1]->replace({QPointF(x, 1e-6), QPointF(x, 1e9)});
    m_lastAnswer[2]->replace({QPointF(x, 0), QPointF(x, 1e15)});
    m_lastAtMs = std::max(m_lastAtMs, atMs);
    rescale();
}

void RunTimeline::rescale()
{
    // The same time axis on all three: at least 10 s, to the newest sample.
    const double end = std::max(10.0, double(m_lastAtMs) / 1000.0);
    for (QValueAxis *x : {m_rateX, m_latencyX, m_drainX})
        x->setRange(0, end);
    m_rateY->setRange(0, niceCeiling(std::max(10.0, m_rateTop * 1.05)));
    m_drainY->setRange(0, niceCeiling(std::max(10.0, m_drainTop * 1.05)));
    // Whole decades around what was seen (1 µs .. 10 s at the extremes).
    const double low = m_latencyMin > 0 ? std::pow(10.0, std::floor(std::log10(m_latencyMin))) : 0.01;
    const double high = m_latencyMax > 0 ? std::pow(10.0, std::ceil(std::log10(m_latencyMax))) : 100.0;
    m_latencyY->setRange(std::max(1e-3, low), std::min(1e4, std::max(high, low * 10)));
}

} // namespace coupon::console
