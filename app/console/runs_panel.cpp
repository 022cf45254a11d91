#include "runs_panel.h"

#include "panel_parts.h"
#include "run_timeline.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace coupon::console {

// --- RunHistoryModel ------------------------------------------------------------------

RunHistoryModel::RunHistoryModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

void RunHistoryModel::setRuns(const QList<RunRecord> &runs)
{
    QList<RunRecord> merged = runs;
    for (const RunRecord &mine : std::as_const(m_runs)) {
        const bool listed = std::any_of(runs.cbegin(), runs.cend(),
                                        [&](const RunRecord &r) { return r.id == mine.id; });
        if (!listed)
            merged.append(mine);
    }
    // Ids sort by start time.
    std::sort(merged.begin(), merged.end(), [](const RunRecord &a, const RunRecord &b) { return a.id > b.id; });
    if (merged.size() > RunHistory::kKeep)
        merged.resize(RunHistory::kKeep);
    beginResetModel();
    m_runs = std::move(merged);
    endResetModel();
}

void RunHistoryModel::prepend(const RunRecord &run)
{
    remove(run.id);
    beginInsertRows({}, 0, 0);
    m_runs.prepend(run);
    endInsertRows();
    if (m_runs.size() > RunHistory::kKeep) {
        beginRemoveRows({}, RunHistory::kKeep, int(m_runs.size()) - 1);
        m_runs.resize(RunHistory::kKeep);
        endRemoveRows();
    }
}

void RunHistoryModel::remove(const QString &id)
{
    const int row = rowOf(id);
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_runs.removeAt(row);
    endRemoveRows();
}

int RunHistoryModel::rowOf(const QString &id) const
{
    for (int i = 0; i < m_runs.size(); ++i) {
        if (m_runs.at(i).id == id)
            return i;
    }
    return -1;
}

QList<RunRecord> RunHistoryModel::runsOf(const QString &campaign) const
{
    QList<RunRecord> runs;
    for (const RunRecord &r : m_runs) {
        if (r.campaign == campaign)
            runs.append(r);
    }
    return runs;
}

int RunHistoryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_runs.size());
}

int RunHistoryModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunHistoryModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_runs.size())
        return {};
    const RunRecord &r = m_runs.at(index.row());
    const SimulationFigures &f = r.figures;
    const QLocale locale;
    if (role == Qt::ToolTipRole)
        return tr("%1\nby %2 with %3\n%4").arg(r.id, r.operatorName, r.tool, runVerdictText(r));
    const RunVerdict verdict = runVerdict(r);
    if (role == Qt::TextAlignmentRole) {
        const int column = index.column();
        return column >= Users && column <= Drain ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    }
    // Red for a broken invariant only: no verdict is not a violation.
    if (role == Qt::ForegroundRole && index.column() == Verdict) {
        if (verdict == RunVerdict::Held)
            return QColor(0x1b, 0x5e, 0x20);
        if (verdict == RunVerdict::Violated)
            return QColor(0xb7, 0x1c, 0x1c);
        if (verdict == RunVerdict::NoVerdict)
            return QColor(0xe6, 0x51, 0x00);
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    const bool ran = r.error.isEmpty();
    switch (Column(index.column())) {
    case When: return QDateTime::fromMSecsSinceEpoch(r.startedAtMs).toString(u"yyyy-MM-dd HH:mm:ss"_s);
    case Campaign: return r.campaign;
    case Target: return r.target;
    case Users: return locale.toString(r.users);
    case Concurrency: return r.concurrency;
    case AppliesPerSecond: return ran ? locale.toString(f.appliesPerSecond, 'f', 0) : QString();
    case Accepted: return ran ? locale.toString(r.count(ApplyOutcome::Accepted)) : QString();
    case P50: return ran ? latencyText(f.p50Ms) : QString();
    case P99: return ran ? latencyText(f.p99Ms) : QString();
    case Drain: return r.drainSeconds >= 0 ? tr("%1 s").arg(r.drainSeconds, 0, 'f', 2) : u"–"_s;
    case Verdict: return runVerdictText(r);
    case ColumnCount: break;
    }
    return {};
}

QVariant RunHistoryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case When: return tr("When");
    case Campaign: return tr("Campaign");
    case Target: return tr("Target");
    case Users: return tr("Users");
    case Concurrency: return tr("Concurrent");
    case AppliesPerSecond: return tr("Applies/s");
    case Accepted: return tr("Accepted");
    case P50: return tr("p50");
    case P99: return tr("p99");
    case Drain: return tr("Drain");
    case Verdict: return tr("Verdict");
    case ColumnCount: break;
    }
    return {};
}

// --- RunHistoryWorker -----------------------------------------------------------------

RunHistoryWorker::RunHistoryWorker(const QString &dir, QObject *parent)
    : QObject(parent)
    , m_history(dir)
{ }

void RunHistoryWorker::list()
{
    emit listed(m_history.list());
}

void RunHistoryWorker::save(const RunRecord &record)
{
    const Status st = m_history.save(record);
    emit saved(record.id, st ? QString() : st.error().message);
}

void RunHistoryWorker::remove(const QString &id)
{
    const Status st = m_history.remove(id);
    emit removed(id, st ? QString() : st.error().message);
}

// --- RunsPanel ------------------------------------------------------------------------

RunsPanel::RunsPanel(QWidget *parent)
    : QWidget(parent)
    , m_dir(RunHistory::defaultDir())
    , m_model(new RunHistoryModel(this))
    , m_timeline(new RunTimeline)
    , m_liveButton(new QPushButton(consoleIcon(u"simulate"_s), tr("Live run")))
    , m_deleteButton(new QPushButton(consoleIcon(u"reset"_s), tr("Delete run…")))
    , m_worker(new RunHistoryWorker(m_dir))
{
    setObjectName(u"runsPanel"_s);
    qRegisterMetaType<RunRecord>();
    qRegisterMetaType<QList<RunRecord>>();
    m_view = makeTableView(m_model, u"runHistoryView"_s);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setToolTip(
        tr("The last %1 runs of the console and of couponctl simulate, kept in %2.").arg(RunHistory::kKeep).arg(m_dir));
    m_liveButton->setObjectName(u"liveRunButton"_s);
    m_liveButton->setToolTip(tr("Follow the run in flight"));
    m_liveButton->setEnabled(false);
    m_deleteButton->setObjectName(u"deleteRunButton"_s);
    m_deleteButton->setEnabled(false);

    auto *left = new QWidget;
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_view, 1);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_liveButton);
    buttons->addStretch(1);
    buttons->addWidget(m_deleteButton);
    leftLayout->addLayout(buttons);

    auto *splitter = new QSplitter(Qt::Horizontal);
    splitter->setObjectName(u"runsSplitter"_s);
    splitter->addWidget(left);
    splitter->addWidget(m_timeline);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &RunsPanel::onSelectionChanged);
    connect(m_liveButton, &QPushButton::clicked, this, &RunsPanel::showLive);
    connect(m_deleteButton, &QPushButton::clicked, this, &RunsPanel::askDelete);

    m_thread.reset(new QThread);
    m_thread->setObjectName(u"console-runs"_s);
    m_worker->moveToThread(m_thread.get());
    connect(m_thread.get(), &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &RunHistoryWorker::listed, this, [this](const QList<RunRecord> &runs) {
        m_model->setRuns(runs);
        emit historyLoaded(int(runs.size()));
    });
    connect(m_worker, &RunHistoryWorker::saved, this, [this](const QString &id, const QString &error) {
        if (!error.isEmpty())
            emit message(tr("Run %1 not kept: %2").arg(id, error), true);
        emit runSaved(id, error);
    });
    connect(m_worker, &RunHistoryWorker::removed, this, [this](const QString &id, const QString &error) {
        if (error.isEmpty())
            emit message(tr("Run %1 deleted.").arg(id), false);
        else
            emit message(tr("Run %1 not deleted: %2").arg(id, error), true);
    });
    m_thread->start();
    QMetaObject::invokeMethod(m_worker, &RunHistoryWorker::list);
}

RunsPanel::~RunsPanel()
{
    // A save still queued would be dropped with the thread's event loop:
    // wait for the worker to get past it (a few ms).
    QMetaObject::invokeMethod(
        m_worker, [] {}, Qt::BlockingQueuedConnection);
}

void RunsPanel::liveStarted(const RunRecord &record)
{
    m_recording = true;
    m_liveRecord = record;
    m_liveButton->setEnabled(true);
    showLive();
}

void RunsPanel::liveSampled(const RunSample &sample)
{
    // The recorder's own rule (RunRecord::addSample): this copy stays as
    // bounded as the record.
    const qsizetype before = m_liveRecord.samples.size();
    m_liveRecord.addSample(sample);
    if (!m_live)
        return;
    if (m_liveRecord.samples.size() > before)
        m_timeline->addSample(sample);
    else
        showLive(); // the samples were merged: draw the merged timeline afresh
}

void RunsPanel::addRun(const RunRecord &record)
{
    m_recording = false;
    m_liveButton->setEnabled(false);
    QMetaObject::invokeMethod(m_worker, [w = m_worker, record] { w->save(record); });
    m_model->prepend(record);
    // Followed live: now the kept run, with its figures and verdict.
    if (m_live)
        selectRun(record.id);
}

void RunsPanel::selectRun(const QString &id)
{
    const int row = m_model->rowOf(id);
    if (row >= 0)
        m_view->selectRow(row);
}

void RunsPanel::deleteRun(const QString &id)
{
    if (m_model->rowOf(id) < 0)
        return;
    m_model->remove(id);
    QMetaObject::invokeMethod(m_worker, [w = m_worker, id] { w->remove(id); });
}

void RunsPanel::showLive()
{
    if (!m_recording)
        return;
    m_live = true;
    {
        const QSignalBlocker blocker(m_view->selectionModel());
        m_view->clearSelection();
    }
    m_deleteButton->setEnabled(false);
    m_timeline->clear(tr("Live: %1 users against %2 (%3)…")
                          .arg(QLocale().toString(m_liveRecord.users), m_liveRecord.campaign, m_liveRecord.target));
    for (const RunSample &sample : std::as_const(m_liveRecord.samples))
        m_timeline->addSample(sample);
}

void RunsPanel::onSelectionChanged()
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    m_deleteButton->setEnabled(!rows.isEmpty());
    if (rows.isEmpty())
        return;
    m_live = false;
    m_timeline->showRecord(m_model->run(rows.first().row()));
}

void RunsPanel::askDelete()
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    const QString id = m_model->run(rows.first().row()).id;
    if (QMessageBox::question(this, tr("Delete run"), tr("Delete run %1 from the history in %2?").arg(id, m_dir))
        == QMessageBox::Yes)
        deleteRun(id);
}

} // namespace coupon::console
