#pragma once

#include "coupon/loadgen/run_record.h"
#include "coupon/report/report_chart.h"

#include <QHash>
#include <QWidget>

#include <array>

class QChart;
class QChartView;
class QLabel;
class QLineSeries;
class QLogValueAxis;
class QValueAxis;

namespace coupon::console {

// A run's timeline, on one time axis (seconds since the run started): the
// applies per second by outcome, the p50/p95/p99 latency of each interval
// (log scale: a sold-out memo answers in µs, an accept takes ms), and the
// Redis counter with MySQL's issued count and the topic lag, where the
// drain after the last answer shows. Live (addSample()) or a kept run
// (showRecord()).
class RunTimeline final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunTimeline)

public:
    enum Latency { P50, P95, P99 };

    explicit RunTimeline(QWidget *parent = nullptr);

    void clear(const QString &title = {});
    void showRecord(const RunRecord &record);
    void addSample(const RunSample &sample);
    // A dashed line on every chart where the last answer came: drawn for a
    // kept run (showRecord()); the live timeline follows a run still going.
    void markLastAnswer(qint64 atMs);

    QString title() const;
    // For tests and the report: null when the outcome never occurred.
    QLineSeries *rateSeries(ApplyOutcome outcome) const { return m_rates.value(int(outcome)); }
    QLineSeries *latencySeries(Latency which) const { return m_latency[size_t(which)]; }
    QLineSeries *counterSeries() const { return m_counter; }
    QLineSeries *issuedSeries() const { return m_issued; }
    QLineSeries *lagSeries() const { return m_lag; }

private:
    void rescale();

    QLabel *m_title;
    QChart *m_rateChart, *m_latencyChart, *m_drainChart;
    QValueAxis *m_rateX, *m_rateY, *m_latencyX, *m_drainX, *m_drainY;
    QLogValueAxis *m_latencyY;
    QHash<int, QLineSeries *> m_rates; // by ApplyOutcome, made when it first occurs
    std::array<QLineSeries *, 3> m_latency{};
    QLineSeries *m_counter, *m_issued, *m_lag;
    std::array<QLineSeries *, 3> m_lastAnswer{}; // one per chart

    qint64 m_lastAtMs = 0;
    IntervalRates m_intervals; // the rates, as the report computes them
    double m_rateTop = 0, m_latencyMin = 0, m_latencyMax = 0, m_drainTop = 0;
};

} // namespace coupon::console
