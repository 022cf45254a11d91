#pragma once

// The drop report's timeline charts as data: what each chart shows (built
// from a RunRecord's samples) and where every line, tick and label goes on
// a canvas of a given size. The HTML report draws a layout as inline SVG;
// the console's PDF draws the same layout with QPainter, so both show the
// same chart from one computation.

#include "coupon/loadgen/run_record.h"

#include <QList>
#include <QPointF>
#include <QRectF>
#include <QSizeF>
#include <QString>

#include <array>

namespace coupon {

// One colour per outcome ("#rrggbb"), the same in the report and the
// console's Runs tab: accepted green, sold out blue, unavailable red.
QString outcomeColor(ApplyOutcome outcome);

// The answers per second of each interval of a run's timeline, for the
// report's chart and the console's alike. A sample taken in the same ms as
// the one before (the last one right after a timer's) is folded into that
// interval: its answers count, and nothing is divided by 0.
class IntervalRates
{
public:
    struct Point
    {
        double startSeconds = 0; // the interval, since the run started
        double endSeconds = 0;
        std::array<double, kApplyOutcomeCount> perSecond{};
        bool replacesLast = false; // the previous point, updated
    };
    Point add(const RunSample &sample);

private:
    bool m_any = false;
    qint64 m_startMs = 0, m_endMs = 0;
    std::array<qint64, kApplyOutcomeCount> m_answers{};
};

struct ChartSeries
{
    QString name;
    QString color;         // "#rrggbb"
    QList<QPointF> points; // x: seconds since the run started, y: the value
};

struct Chart
{
    QString id; // "rates", "latency", "counts", "lag": an element id in the HTML
    QString title;
    QString unit; // of the y axis
    QList<ChartSeries> series;

    bool isEmpty() const;
};

// The run's timeline: applies/s by outcome (the outcomes that occurred),
// interval p50/p95/p99 latency, the Redis counter and the coupons issued on
// one axis, and the worker group's lag when it was sampled.
QList<Chart> timelineCharts(const RunRecord &run);

struct ChartTick
{
    double at = 0; // canvas coordinate: x for the x axis, y for the y axis
    QString label;
};

struct ChartLine
{
    QString name;
    QString color;
    QList<QPointF> points; // canvas coordinates
    QPointF legend;        // top left of its legend swatch; the name follows 14 px right
};

struct ChartLayout
{
    QSizeF size;
    QRectF plot; // the area inside the axes
    QList<ChartTick> xTicks, yTicks;
    QList<ChartLine> lines;
    QString xLabel, yLabel;
    QString emptyText; // set when there is nothing to draw
};

// Axes from 0 to a round number above the largest value (1 when all are 0),
// about five ticks each; a chart of one sample gets a range around it.
ChartLayout layoutChart(const Chart &chart, QSizeF size);

// The chart as one self-contained <svg> element (no script, no external
// reference), every text escaped.
QString chartSvg(const Chart &chart, QSizeF size);

} // namespace coupon
