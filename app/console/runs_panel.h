#pragma once

#include "backend.h"
#include "run_recorder.h"

#include <QAbstractTableModel>
#include <QWidget>

class QPushButton;
class QTableView;

namespace coupon::console {

class RunTimeline;

// The run history as a table: the newest run first.
class RunHistoryModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunHistoryModel)

public:
    enum Column {
        When,
        Campaign,
        Target,
        Users,
        Concurrency,
        AppliesPerSecond,
        Accepted,
        P50,
        P99,
        Drain,
        Verdict,
        ColumnCount
    };

    explicit RunHistoryModel(QObject *parent = nullptr);

    // The history as listed, merged with what is here: a run added
    // (prepend()) while the list was being read stays.
    void setRuns(const QList<RunRecord> &runs);
    // A new run on top (replacing one with its id); the oldest beyond RunHistory::kKeep go.
    void prepend(const RunRecord &run);
    void remove(const QString &id);
    const RunRecord &run(int row) const { return m_runs.at(row); }
    int rowOf(const QString &id) const; // -1: not listed
    // The runs of `campaign`, newest first.
    QList<RunRecord> runsOf(const QString &campaign) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    QList<RunRecord> m_runs;
};

// The history's files, read and written on a thread of its own: a record
// holds its whole timeline (4 samples a second) and is fsynced on save
// (QSaveFile), and the list parses up to 50 of them: disk waits the GUI
// thread should not make.
class RunHistoryWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunHistoryWorker)

public:
    explicit RunHistoryWorker(const QString &dir, QObject *parent = nullptr);

public slots:
    void list();
    void save(const coupon::RunRecord &record);
    void remove(const QString &id);

signals:
    void listed(const QList<coupon::RunRecord> &runs);
    void saved(const QString &id, const QString &error);
    void removed(const QString &id, const QString &error);

private:
    RunHistory m_history;
};

// The "Runs" tab: the run history (kept across restarts in RunHistory's
// folder) beside the timeline of the run in flight, or of the run picked.
class RunsPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunsPanel)

public:
    explicit RunsPanel(QWidget *parent = nullptr);
    ~RunsPanel() override;

    RunHistoryModel *model() const { return m_model; }
    RunTimeline *timeline() const { return m_timeline; }
    QTableView *view() const { return m_view; }
    QString historyDir() const { return m_dir; }
    // Whether the timeline follows the run in flight.
    bool isShowingLive() const { return m_live; }

    // The run in flight: the timeline follows it until a kept run is picked.
    void liveStarted(const RunRecord &record);
    void liveSampled(const RunSample &sample);
    // A finished run: saved to the history and listed (and shown, if live).
    void addRun(const RunRecord &record);
    void selectRun(const QString &id);
    void deleteRun(const QString &id);
    void showLive();

signals:
    void historyLoaded(int runs);
    void runSaved(const QString &id, const QString &error);
    void message(const QString &text, bool error);

private:
    void onSelectionChanged();
    void askDelete();

    QString m_dir;
    RunHistoryModel *m_model;
    QTableView *m_view;
    RunTimeline *m_timeline;
    QPushButton *m_liveButton, *m_deleteButton;
    bool m_live = false;
    bool m_recording = false;
    RunRecord m_liveRecord; // what started, with the samples so far
    ThreadPtr m_thread;
    RunHistoryWorker *m_worker;
};

} // namespace coupon::console
