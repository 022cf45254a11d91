#pragma once

#include "lag_status.h"
#include "types.h"

#include <QGroupBox>
#include <QList>

class QLabel;
class QSettings;
class QSpinBox;
class QTableView;
class QToolButton;

namespace coupon::console {

class LagTableModel;
class StatusBadge;
class TimeChart;

// The "Topic lag" box: the consumer group's health as a badge (judged on
// the recent samples it keeps), its total lag, the lag of every partition
// and the total over time; and how often to ask, or to stop asking.
class LagPanel final : public QGroupBox
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LagPanel)

public:
    // Starts from the interval the last session saved (saveSettings()).
    explicit LagPanel(QWidget *parent = nullptr);

    void showSnapshot(const LagSnapshot &snapshot);
    // Other endpoints: the samples so far say nothing about the new group.
    void clearHistory() { m_samples.clear(); }
    int intervalMs() const;
    void saveSettings(QSettings &prefs) const;

    LagTableModel *model() const { return m_model; }
    StatusBadge *badge() const { return m_badge; }
    // Whether Kafka answered with the lag at least once.
    bool lagSeen() const { return m_lagSeen; }

signals:
    void intervalChanged(int ms);
    void pausedChanged(bool paused);

private:
    LagTableModel *m_model;
    StatusBadge *m_badge;
    QLabel *m_total;
    QSpinBox *m_interval;
    QToolButton *m_pause;
    QTableView *m_view;
    TimeChart *m_chart;
    QList<LagSample> m_samples;
    bool m_lagSeen = false;
};

} // namespace coupon::console
