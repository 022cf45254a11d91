#pragma once

#include "lag_status.h"
#include "types.h"

#include <QChartView>
#include <QHash>
#include <QLabel>
#include <QWidget>

class QHBoxLayout;
class QLineSeries;
class QDateTimeAxis;
class QValueAxis;

namespace coupon::console {

// A count short enough for the gauge's face.
QString compactCount(qint64 n);

// The smallest round multiple of a power of ten at or above `value` (at
// least 1), so that an axis' four intervals read as round numbers.
double niceCeiling(double value);

// Up/down, endpoint and last error of every dependency, one chip each.
class ServiceBar final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServiceBar)

public:
    explicit ServiceBar(QWidget *parent = nullptr);

    void setState(const ServiceState &state);
    // Drops the gateway chips (the list of gateways changed).
    void clearGateways();
    ServiceState state(const QString &key) const { return m_states.value(key); }
    QLabel *chip(const QString &key) const { return m_chips.value(key); }

signals:
    void problemsChanged(const QString &summary); // empty when all is well

private:
    QLabel *ensureChip(const QString &key);
    void render(const ServiceState &state);

    QHBoxLayout *m_layout;
    QHash<QString, ServiceState> m_states;
    QHash<QString, QLabel *> m_chips;
};

// count / limit as an arc.
class CounterGauge final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CounterGauge)

public:
    explicit CounterGauge(QWidget *parent = nullptr);
    void setValues(qint64 count, qint64 limit, bool known);
    qint64 count() const { return m_count; }
    qint64 limit() const { return m_limit; }
    // "count/limit", exact (what the gauge stands for, not what it prints).
    QString text() const;

    // What paintEvent() draws at the widget's current size: the ring (its
    // path's rectangle and pen width), the count and the "of limit" line
    // with their fonts and the rectangles they are centred in.
    struct Face
    {
        QRectF arc;
        double thickness = 0;
        QString value, limit;
        QFont valueFont, limitFont;
        QRectF valueRect, limitRect;
    };
    Face face() const;
    QSize sizeHint() const override { return {190, 170}; }
    QSize minimumSizeHint() const override { return {140, 130}; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    qint64 m_count = 0;
    qint64 m_limit = 0;
    bool m_known = false;
};

// OK / WARN / STALL / STOP as a coloured pill.
class StatusBadge final : public QLabel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StatusBadge)

public:
    explicit StatusBadge(QWidget *parent = nullptr);
    void setStatus(LagStatus status);
    LagStatus status() const { return m_status; }

private:
    LagStatus m_status = LagStatus::Unknown;
};

// The audit's verdict (or what the run is doing) as a coloured box; the
// tone ("good", "bad", "busy", anything else: idle) is kept in the "tone"
// property for tests.
class VerdictLabel final : public QLabel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(VerdictLabel)

public:
    explicit VerdictLabel(QWidget *parent = nullptr);
    void setVerdict(const QString &text, const QString &tone);
};

// A value over the last minutes, optionally with a dashed ceiling.
class TimeChart final : public QChartView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TimeChart)

public:
    TimeChart(const QString &title, const QColor &color, QWidget *parent = nullptr);
    void addPoint(qint64 atMs, double value);
    void setCeiling(double value); // < 0: none
    void clear();
    int pointCount() const;
    double lastValue() const { return m_last; }

    static constexpr qint64 kWindowMs = 90'000;

private:
    void rescale(qint64 nowMs);

    QLineSeries *m_series;
    QLineSeries *m_ceiling;
    QDateTimeAxis *m_x;
    QValueAxis *m_y;
    double m_ceilingValue = -1;
    double m_last = 0;
};

} // namespace coupon::console
