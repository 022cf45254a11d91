#pragma once

#include "counter_panel.h"
#include "coupon_browser.h"
#include "failed_events_panel.h"
#include "lag_panel.h"
#include "overview_panel.h"
#include "simulation_panel.h"
#include "types.h"

#include <QMainWindow>

class QAction;
class QDockWidget;
class QLabel;
class QLineEdit;
class QPushButton;
class QSplitter;
class QTabWidget;
class QTimer;

namespace coupon::console {

class Backend;
class CampaignBar;
class CouponBrowser;
class CounterGauge;
class CouponTableModel;
class FailedEventTableModel;
class LagTableModel;
class RunRecorder;
class RunsPanel;
class ServiceBar;
class StatusBadge;

// The console's window: its actions and menus, the panels laid out in
// splitters and tabs, and what ties them to the Backend: the Backend's
// answers go to the panels that show them, the operator's requests to the
// Backend. It runs the one-click flow (create a campaign, simulate against
// it, audit), and remembers its layout between sessions.
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
    QPushButton *simulateButton() const { return m_simulation->simulateButton(); }
    QPushButton *cancelButton() const { return m_simulation->cancelButton(); }
    CounterGauge *gauge() const { return m_counter->gauge(); }
    LagTableModel *lagModel() const { return m_lag->model(); }
    StatusBadge *lagBadge() const { return m_lag->badge(); }
    CouponTableModel *couponModel() const { return m_coupons->model(); }
    CouponBrowser *couponBrowser() const { return m_coupons; }
    FailedEventTableModel *failedEventModel() const { return m_failedEvents->model(); }
    FailedEventsPanel *failedEventsPanel() const { return m_failedEvents; }
    ServiceBar *serviceBar() const { return m_serviceBar; }
    QLabel *verdictLabel() const { return m_simulation->verdictLabel(); }
    QLabel *couponTotalLabel() const { return m_coupons->totalLabel(); }
    QLineEdit *userFilter() const { return m_coupons->userFilter(); }
    qint64 couponTotal() const { return m_coupons->total(); }
    bool lagSeen() const { return m_lag->lagSeen(); }
    Backend *backend() const { return m_backend; }
    RunsPanel *runsPanel() const { return m_runs; }
    OverviewPanel *overviewPanel() const { return m_overview; }
    QDockWidget *overviewDock() const { return m_overviewDock; }
    ReservationsPanel *reservationsPanel() const { return m_reservations; }

signals:
    void simulationStarted(const QString &campaign);
    void simulationFinished(const coupon::SimulationReport &report);
    // The audit after a run: `ok` when all five invariants hold.
    void verdictReady(bool ok, const QString &text);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void buildPanels();
    void restoreLayout();
    void saveLayout();
    void wireBackend();

    void onCampaigns(const CampaignList &campaigns);
    void onCampaignChanged();
    void updateCampaignActions();
    void onOperationFinished(const QString &tag, const QString &campaign, bool ok, const QString &message);
    void onAuditFinished(quint64 auditId, const QString &campaign, const AuditReport &report, const QString &error);
    void onSimulationFinished(const SimulationReport &report, const QString &error);
    void onLiveTick();

    void startSimulation();
    void runSimulation(const QString &campaign);
    void cancelSimulation();
    void newCampaign();
    void openCampaign();
    void closeCampaign();
    void editLimit();
    void resetCampaign();
    void retryFailedEvent(const FailedEventRow &row);
    void resolveFailedEvent(const FailedEventRow &row);
    void exportCoupons();
    void exportReport(); // File → Export report…
    void editSettings();
    void message(const QString &text, bool error = false);

    Backend *m_backend;
    QString m_simulateAfterCreate; // campaign created by one click, simulated once it exists

    // Actions
    QAction *m_reportAction = nullptr; // File → Export report…
    QAction *m_newAction, *m_openAction, *m_closeAction, *m_limitAction, *m_resetAction, *m_simulateAction,
        *m_cancelAction, *m_exportAction, *m_settingsAction, *m_refreshAction, *m_quitAction, *m_filterAction,
        *m_jumpAction;

    // Panels
    CampaignBar *m_campaignBar;
    ServiceBar *m_serviceBar;
    SimulationPanel *m_simulation;
    CounterPanel *m_counter;
    LagPanel *m_lag;
    CouponBrowser *m_coupons;
    FailedEventsPanel *m_failedEvents;
    RunsPanel *m_runs; // the run history and timeline (issue 15)
    OverviewPanel *m_overview;
    QDockWidget *m_overviewDock;
    ReservationsPanel *m_reservations;
    QTabWidget *m_tabs;
    QSplitter *m_mainSplitter, *m_topSplitter;

    SimulationRun m_run;
    QString m_runCampaign;
    quint64 m_runAuditId = 0; // the audit of the last run: its verdict goes to the simulation panel
    qint64 m_lastSoldOut = 0;
    QTimer *m_liveTimer;
    RunRecorder *m_recorder;
};

} // namespace coupon::console
