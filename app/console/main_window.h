#pragma once

#include "lag_status.h"
#include "types.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMainWindow>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QSplitter;
class QTableView;
class QTabWidget;
class QTimer;
class QToolButton;

namespace coupon::console {

class Backend;
class CounterGauge;
class CouponTableModel;
class FailedEventTableModel;
class LagTableModel;
class ServiceBar;
class StatusBadge;
class TimeChart;

class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    MainWindow(const Settings &settings, const QStringList &gatewayUrls, QWidget *parent = nullptr);
    ~MainWindow() override;

    // Selects `campaign` now, or as soon as the campaign list has it.
    void selectCampaign(const QString &campaign);
    QString currentCampaign() const;
    // Creates and opens a campaign of `limit` coupons, then simulates
    // `users` users against it (what one click does without a campaign).
    void simulateNewCampaign(qint64 limit, qint64 users, int concurrency);
    bool isSimulating() const { return bool(m_run.progress); }

    // For tests and the screenshot script.
    QPushButton *simulateButton() const { return m_simulate; }
    QPushButton *cancelButton() const { return m_cancel; }
    CounterGauge *gauge() const { return m_gauge; }
    LagTableModel *lagModel() const { return m_lagModel; }
    StatusBadge *lagBadge() const { return m_lagBadge; }
    CouponTableModel *couponModel() const { return m_couponModel; }
    FailedEventTableModel *failedEventModel() const { return m_failedModel; }
    ServiceBar *serviceBar() const { return m_serviceBar; }
    QLabel *verdictLabel() const { return m_verdict; }
    QLabel *couponTotalLabel() const { return m_couponTotal; }
    QLineEdit *userFilter() const { return m_userFilter; }
    qint64 couponTotal() const { return m_couponCount; }
    bool lagSeen() const { return m_lagSeen; }
    Backend *backend() const { return m_backend; }

signals:
    void simulationStarted(const QString &campaign);
    void simulationFinished(const coupon::SimulationReport &report);
    // The audit after a run: `ok` when all five invariants hold.
    void verdictReady(bool ok, const QString &text);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void buildUi();
    void restoreLayout();
    void saveLayout();
    void wireBackend();

    void onCampaigns(const CampaignList &campaigns);
    void onCampaignChanged();
    void updateCampaignActions();
    void onRedisSample(const RedisSample &sample);
    void onLagSnapshot(const LagSnapshot &snapshot);
    void onOperationFinished(const QString &tag, const QString &campaign, bool ok, const QString &message);
    void onAuditFinished(const QString &campaign, const AuditReport &report, const QString &error);
    void onSimulationFinished(const SimulationReport &report, const QString &error);
    void onLiveTick();
    void onProgressTick();
    void applyUserFilter();

    void startSimulation();
    void runSimulation(const QString &campaign);
    void cancelSimulation();
    void newCampaign();
    void openCampaign();
    void closeCampaign();
    void editLimit();
    void resetCampaign();
    void exportCoupons();
    void editSettings();
    void updateSimulateText();
    void setVerdict(const QString &text, const QString &tone);
    void showOutcome(const std::array<qint64, kApplyStatusCount> &byStatus, qint64 done, qint64 total);
    void message(const QString &text, bool error = false);

    Backend *m_backend;
    QHash<QString, Campaign> m_campaigns;
    QString m_pendingSelection;
    QString m_simulateAfterCreate; // campaign created by one click, simulated once it exists

    // Actions
    QAction *m_newAction, *m_openAction, *m_closeAction, *m_limitAction, *m_resetAction, *m_simulateAction,
        *m_cancelAction, *m_exportAction, *m_settingsAction, *m_refreshAction, *m_quitAction, *m_filterAction;

    // Widgets
    ServiceBar *m_serviceBar;
    QComboBox *m_campaignBox;
    QLabel *m_campaignInfo;
    QSplitter *m_mainSplitter, *m_topSplitter;
    QSpinBox *m_users, *m_concurrency, *m_repeats;
    QComboBox *m_target;
    QPushButton *m_simulate, *m_cancel;
    QProgressBar *m_progress;
    QHash<int, QLabel *> m_outcomeLabels;
    QLabel *m_rate, *m_verdict;
    CounterGauge *m_gauge;
    QLabel *m_counterText, *m_usersText, *m_pendingText, *m_stateText;
    TimeChart *m_counterChart, *m_lagChart;
    StatusBadge *m_lagBadge;
    QLabel *m_lagTotal;
    QSpinBox *m_lagInterval;
    QToolButton *m_lagPause;
    QTableView *m_lagView, *m_couponView, *m_failedView;
    QTabWidget *m_tabs;
    QLineEdit *m_userFilter;
    QLabel *m_couponTotal, *m_failedTotal;

    LagTableModel *m_lagModel;
    CouponTableModel *m_couponModel;
    FailedEventTableModel *m_failedModel;
    QList<LagSample> m_lagSamples;
    bool m_lagSeen = false;
    qint64 m_couponCount = -1;

    SimulationRun m_run;
    QString m_runCampaign;
    QElapsedTimer m_runClock;
    qint64 m_lastSoldOut = 0;
    QTimer *m_progressTimer;
    QTimer *m_liveTimer;
};

} // namespace coupon::console
