#include "coupon/report/report_chart.h"

#include "coupon/report/markup.h"

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

namespace coupon {

namespace {

constexpr double kLeft = 64, kRight = 16, kTop = 12, kBottom = 58;
constexpr int kTicks = 5;
// Far more than a round step gives: a bound on the tick loops whatever the values.
constexpr int kMaxTicks = 4 * kTicks;

// A round step (1, 2 or 5 times a power of ten) giving about kTicks ticks.
double niceStep(double range)
{
    const double raw = range / kTicks;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    const double fraction = raw / power;
    const double nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
    return nice * power;
}

QString tickLabel(double value, double step)
{
    const int decimals = step >= 1 ? 0 : int(std::ceil(-std::log10(step)));
    return fixedNumber(value, decimals);
}

struct Axis
{
    double min = 0, max = 1, step = 0.2;
};

// From `low` (0, or below a lone value) to a round number at or above `high`.
Axis axisFor(double low, double high)
{
    Axis axis;
    // runRecordFromJson keeps such values out; a default axis if one gets here.
    if (!std::isfinite(low) || !std::isfinite(high) || std::abs(low) > 1e300 || std::abs(high) > 1e300)
        return axis;
    if (!(high > low)) {
        // One value (or all equal): a range around it.
        high = high > 0 ? high * 2 : low + 1;
        low = std::min(0.0, low);
    }
    axis.step = niceStep(high - low);
    axis.min = std::floor(low / axis.step) * axis.step;
    axis.max = std::ceil(high / axis.step) * axis.step;
    if (axis.max <= axis.min)
        axis.max = axis.min + axis.step;
    if (!std::isfinite(axis.step) || axis.step <= 0 || !std::isfinite(axis.max - axis.min))
        return Axis{};
    return axis;
}

ChartSeries series(const QString &name, const QString &color)
{
    return ChartSeries{name, color, {}};
}

} // namespace

QString outcomeColor(ApplyOutcome outcome)
{
    switch (outcome) {
    case ApplyOutcome::Accepted: return u"#2e7d32"_s;
    case ApplyOutcome::SoldOut: return u"#1565c0"_s;
    case ApplyOutcome::Duplicate: return u"#8e24aa"_s;
    case ApplyOutcome::Closed: return u"#6d4c41"_s;
    case ApplyOutcome::NotLoaded: return u"#00838f"_s;
    case ApplyOutcome::Invalid: return u"#f9a825"_s;
    case ApplyOutcome::Unavailable: return u"#c62828"_s;
    case ApplyOutcome::Uncertain: return u"#ef6c00"_s;
    case ApplyOutcome::Reconciling: return u"#546e7a"_s;
    }
    return u"#000000"_s;
}

IntervalRates::Point IntervalRates::add(const RunSample &sample)
{
    Point p;
    if (m_any && sample.atMs <= m_endMs) {
        for (size_t o = 0; o < m_answers.size(); ++o)
            m_answers[o] += sample.answers[o];
        p.replacesLast = true;
    } else {
        m_startMs = m_any ? m_endMs : 0;
        m_endMs = sample.atMs;
        m_answers = sample.answers;
        m_any = true;
    }
    const double seconds = double(std::max<qint64>(1, m_endMs - m_startMs)) / 1000.0;
    p.startSeconds = double(m_startMs) / 1000.0;
    p.endSeconds = double(m_endMs) / 1000.0;
    for (size_t o = 0; o < m_answers.size(); ++o)
        p.perSecond[o] = double(m_answers[o]) / seconds;
    return p;
}

bool Chart::isEmpty() const
{
    return std::all_of(series.cbegin(), series.cend(), [](const ChartSeries &s) { return s.points.isEmpty(); });
}

QList<Chart> timelineCharts(const RunRecord &run)
{
    Chart rates{u"rates"_s, u"Answers per second, by outcome"_s, u"applies/s"_s, {}};
    Chart latency{u"latency"_s, u"Latency of the answers in each interval"_s, u"ms"_s, {}};
    Chart counts{u"counts"_s, u"Redis counter and coupons issued"_s, u"coupons"_s, {}};
    Chart lag{u"lag"_s, u"Worker group lag"_s, u"messages"_s, {}};

    for (int i = 0; i < kApplyOutcomeCount; ++i)
        rates.series.append(series(toString(ApplyOutcome(i)), outcomeColor(ApplyOutcome(i))));
    latency.series = {series(u"p50"_s, u"#1565c0"_s), series(u"p95"_s, u"#ef6c00"_s), series(u"p99"_s, u"#c62828"_s)};
    counts.series = {series(u"Redis counter"_s, u"#c62828"_s), series(u"issued (MySQL)"_s, u"#2e7d32"_s)};
    lag.series = {series(u"lag"_s, u"#6d4c41"_s)};

    std::array<qint64, kApplyOutcomeCount> totals{};
    IntervalRates intervals;
    for (const RunSample &s : run.samples) {
        const double x = s.atMs / 1000.0;
        const IntervalRates::Point rate = intervals.add(s);
        for (int i = 0; i < kApplyOutcomeCount; ++i) {
            QList<QPointF> &points = rates.series[i].points;
            if (rate.replacesLast && !points.isEmpty())
                points.last() = QPointF(rate.endSeconds, rate.perSecond[size_t(i)]);
            else
                points.append({rate.endSeconds, rate.perSecond[size_t(i)]});
            totals[size_t(i)] += s.answers[size_t(i)];
        }
        if (s.hasLatency()) {
            latency.series[0].points.append({x, s.p50Ms});
            latency.series[1].points.append({x, s.p95Ms});
            latency.series[2].points.append({x, s.p99Ms});
        }
        if (s.redisCount >= 0)
            counts.series[0].points.append({x, double(s.redisCount)});
        if (s.issued >= 0)
            counts.series[1].points.append({x, double(s.issued)});
        if (s.lag >= 0)
            lag.series[0].points.append({x, double(s.lag)});
    }
    // Only the outcomes that occurred: a legend of nine mostly flat lines says less.
    for (int i = kApplyOutcomeCount - 1; i >= 0; --i) {
        if (totals[size_t(i)] == 0)
            rates.series.removeAt(i);
    }
    QList<Chart> charts{rates, latency, counts};
    if (!lag.isEmpty())
        charts.append(lag);
    return charts;
}

ChartLayout layoutChart(const Chart &chart, QSizeF size)
{
    ChartLayout layout;
    layout.size = size;
    layout.plot = QRectF(
        QPointF(kLeft, kTop),
        QPointF(std::max(kLeft + 1, size.width() - kRight), std::max(kTop + 1, size.height() - kBottom)));
    layout.xLabel = u"seconds since the start"_s;
    layout.yLabel = chart.unit;
    if (chart.isEmpty()) {
        layout.emptyText = u"no samples"_s;
        return layout;
    }

    double xMax = 0, yMin = 0, yMax = 0;
    for (const ChartSeries &s : chart.series) {
        for (const QPointF &p : s.points) {
            xMax = std::max(xMax, p.x());
            yMin = std::min(yMin, p.y());
            yMax = std::max(yMax, p.y());
        }
    }
    const Axis x = axisFor(0, xMax);
    const Axis y = axisFor(yMin, yMax);
    const QRectF &plot = layout.plot;
    auto toCanvas = [&](const QPointF &p) {
        return QPointF(plot.left() + (p.x() - x.min) / (x.max - x.min) * plot.width(),
                       plot.bottom() - (p.y() - y.min) / (y.max - y.min) * plot.height());
    };
    for (int i = 0; i <= kMaxTicks && x.min + i * x.step <= x.max + x.step / 2; ++i) {
        const double v = x.min + i * x.step;
        layout.xTicks.append({toCanvas({v, y.min}).x(), tickLabel(v, x.step)});
    }
    for (int i = 0; i <= kMaxTicks && y.min + i * y.step <= y.max + y.step / 2; ++i) {
        const double v = y.min + i * y.step;
        layout.yTicks.append({toCanvas({x.min, v}).y(), tickLabel(v, y.step)});
    }
    double legendX = plot.left();
    for (const ChartSeries &s : chart.series) {
        ChartLine line{s.name, s.color, {}, QPointF(legendX, plot.bottom() + 38)};
        for (const QPointF &p : s.points)
            line.points.append(toCanvas(p));
        layout.lines.append(line);
        legendX += 24 + 7 * s.name.size();
    }
    return layout;
}

QString chartSvg(const Chart &chart, QSizeF size)
{
    const ChartLayout l = layoutChart(chart, size);
    const QRectF &plot = l.plot;
    auto n = [](double v) { return fixedNumber(v, 1); };
    QString svg = u"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"chart-%1\" width=\"%2\" "
                  "height=\"%3\" viewBox=\"0 0 %2 %3\" role=\"img\" aria-label=\"%4\">\n"_s.arg(
                      htmlEscape(chart.id), n(size.width()), n(size.height()), htmlEscape(chart.title));
    svg += u"<rect x=\"%1\" y=\"%2\" width=\"%3\" height=\"%4\" fill=\"#fafafa\" stroke=\"#9e9e9e\"/>\n"_s.arg(
        n(plot.left()), n(plot.top()), n(plot.width()), n(plot.height()));
    if (!l.emptyText.isEmpty()) {
        svg += u"<text x=\"%1\" y=\"%2\" text-anchor=\"middle\" fill=\"#757575\">%3</text>\n</svg>"_s.arg(
            n(plot.center().x()), n(plot.center().y()), htmlEscape(l.emptyText));
        return svg;
    }
    for (const ChartTick &t : l.xTicks)
        svg += u"<line x1=\"%1\" y1=\"%2\" x2=\"%1\" y2=\"%3\" stroke=\"#e0e0e0\"/>"
               "<text x=\"%1\" y=\"%4\" text-anchor=\"middle\" font-size=\"11\">%5</text>\n"_s.arg(
                   n(t.at), n(plot.top()), n(plot.bottom()), n(plot.bottom() + 14), htmlEscape(t.label));
    for (const ChartTick &t : l.yTicks)
        svg += u"<line x1=\"%1\" y1=\"%2\" x2=\"%3\" y2=\"%2\" stroke=\"#e0e0e0\"/>"
               "<text x=\"%4\" y=\"%5\" text-anchor=\"end\" font-size=\"11\">%6</text>\n"_s.arg(
                   n(plot.left()), n(t.at), n(plot.right()), n(plot.left() - 4), n(t.at + 4), htmlEscape(t.label));
    svg += u"<text x=\"%1\" y=\"%2\" text-anchor=\"middle\" font-size=\"11\">%3</text>\n"_s.arg(
        n(plot.center().x()), n(plot.bottom() + 28), htmlEscape(l.xLabel));
    svg += u"<text x=\"12\" y=\"%1\" text-anchor=\"middle\" font-size=\"11\" transform=\"rotate(-90 12 %1)\">%2</text>\n"_s
               .arg(n(plot.center().y()), htmlEscape(l.yLabel));
    for (const ChartLine &line : l.lines) {
        QStringList points;
        for (const QPointF &p : line.points)
            points.append(n(p.x()) + u',' + n(p.y()));
        const QString color = htmlEscape(line.color);
        svg += u"<polyline fill=\"none\" stroke=\"%1\" stroke-width=\"1.5\" points=\"%2\" data-series=\"%3\"/>\n"_s.arg(
            color, points.join(u' '), htmlEscape(line.name));
        // A lone sample draws no line: a dot shows it.
        if (line.points.size() == 1)
            svg += u"<circle cx=\"%1\" cy=\"%2\" r=\"3\" fill=\"%3\"/>\n"_s.arg(n(line.points[0].x()),
                                                                                n(line.points[0].y()), color);
        svg += u"<rect x=\"%1\" y=\"%2\" width=\"10\" height=\"10\" fill=\"%3\"/>"
               "<text x=\"%4\" y=\"%5\" font-size=\"11\">%6</text>\n"_s.arg(
                   n(line.legend.x()), n(line.legend.y()), color, n(line.legend.x() + 14), n(line.legend.y() + 9),
                   htmlEscape(line.name));
    }
    return svg + u"</svg>"_s;
}

} // namespace coupon
