#pragma once

#include "types.h"

#include <QGroupBox>

class QLabel;

namespace coupon::console {

class CounterGauge;
class TimeChart;

// The "Redis counter" box: the current campaign's count against its limit
// as a gauge, its users, pending reservations and state, and the count over
// time.
class CounterPanel final : public QGroupBox
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CounterPanel)

public:
    explicit CounterPanel(QWidget *parent = nullptr);

    void showSample(const RedisSample &sample);
    // Another campaign: forget the chart and the gauge's values.
    void clear();

    CounterGauge *gauge() const { return m_gauge; }

private:
    CounterGauge *m_gauge;
    QLabel *m_counterText, *m_usersText, *m_pendingText, *m_stateText;
    TimeChart *m_chart;
};

} // namespace coupon::console
