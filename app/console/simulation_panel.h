#pragma once

#include "types.h"

#include <QElapsedTimer>
#include <QGroupBox>
#include <QHash>

#include <array>
#include <memory>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSettings;
class QSpinBox;
class QTimer;

namespace coupon::console {

class VerdictLabel;

// The "Simulation" box: what to run (users, concurrency, repeat attempts,
// target), the Simulate and Cancel buttons, and how the run goes: its
// progress, the answers by outcome, rate and latency, and the verdict. The
// window decides what a click does; this panel only asks and shows.
class SimulationPanel final : public QGroupBox
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SimulationPanel)

public:
    // Starts from the settings the last session saved (saveSettings()).
    explicit SimulationPanel(const QStringList &gatewayUrls, QWidget *parent = nullptr);

    int users() const;
    void setUsers(int users);
    int concurrency() const;
    void setConcurrency(int concurrency);
    int duplicatePercent() const;
    // Empty: in this process; else the gateway base URLs picked or typed
    // (several, separated by commas or spaces: the run goes round robin).
    QString target() const;
    void setGatewayUrls(const QStringList &urls);
    // "Simulate N users", for the button and the window's action alike.
    QString simulateText() const;

    bool isSimulateEnabled() const;
    void setSimulateEnabled(bool enabled);
    void setCancelEnabled(bool enabled);

    // A run of `attempts` applies started: shows `progress` until runFinished().
    void runStarted(qint64 attempts, std::shared_ptr<const SimulationProgress> progress);
    // The run ended; with a report, shows its final numbers.
    void runFinished(const SimulationReport *report);
    void setVerdict(const QString &text, const QString &tone);

    void saveSettings(QSettings &prefs) const;

    QPushButton *simulateButton() const { return m_simulate; }
    QPushButton *cancelButton() const { return m_cancel; }
    QLabel *verdictLabel() const;

signals:
    void simulateRequested();
    void cancelRequested();
    void simulateTextChanged(const QString &text);

private:
    void showProgress();
    void showOutcome(const std::array<qint64, kApplyOutcomeCount> &byStatus, qint64 done);
    void showRate(double appliesPerSecond, double p50Ms, double p95Ms, double p99Ms);

    QSpinBox *m_users, *m_concurrency, *m_repeats;
    QComboBox *m_target;
    QPushButton *m_simulate, *m_cancel;
    QProgressBar *m_progress;
    QHash<int, QLabel *> m_outcomeLabels;
    QLabel *m_rate;
    VerdictLabel *m_verdict;

    std::shared_ptr<const SimulationProgress> m_running;
    QElapsedTimer m_runClock;
    QTimer *m_progressTimer;
};

} // namespace coupon::console
