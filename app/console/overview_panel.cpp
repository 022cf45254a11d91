#include "overview_panel.h"

#include "overview_models.h"
#include "panel_parts.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

QString pillStyle(const QColor &color)
{
    return u"QLabel { background: %1; color: white; font-weight: bold; border-radius: 6px; padding: 3px 8px; }"_s.arg(
        color.name());
}

bool isReconciling(const CampaignOverview &c)
{
    return c.maintenance || (c.redisLoaded && !c.redisCurrent) || (!c.redisLoaded && c.campaign.state == u"open"_s);
}

} // namespace

// --- OverviewPanel -------------------------------------------------------------------

OverviewPanel::OverviewPanel(QWidget *parent)
    : QWidget(parent)
    , m_model(new CampaignOverviewModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_filter(new QLineEdit)
    , m_summary(new QLabel)
{
    setObjectName(u"overviewPanel"_s);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(CampaignOverviewModel::SortRole);
    m_proxy->setFilterKeyColumn(CampaignOverviewModel::Campaign);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    // Live: a reading re-sorts and re-filters the rows it changed.
    m_proxy->setDynamicSortFilter(true);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *top = new QHBoxLayout;
    m_filter->setObjectName(u"overviewFilter"_s);
    m_filter->setPlaceholderText(tr("Filter campaigns…"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setMaximumWidth(240);
    m_summary->setObjectName(u"overviewSummary"_s);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    top->addWidget(m_filter);
    top->addWidget(m_summary, 1);
    layout->addLayout(top);

    m_view = makeTableView(m_proxy, u"overviewTable"_s);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(CampaignOverviewModel::Campaign, Qt::AscendingOrder);
    m_view->horizontalHeader()->setStretchLastSection(false);
    m_view->horizontalHeader()->setSectionResizeMode(CampaignOverviewModel::Campaign, QHeaderView::Stretch);
    m_view->setColumnWidth(CampaignOverviewModel::Window, 200);
    m_view->setColumnWidth(CampaignOverviewModel::Pending, 140);
    m_view->setColumnWidth(CampaignOverviewModel::Health, 100);
    m_view->setToolTip(tr("Double-click a campaign to focus it"));
    layout->addWidget(m_view);

    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    auto activate = [this](const QModelIndex &index) {
        if (index.isValid())
            emit campaignActivated(index.data(CampaignOverviewModel::IdRole).toString());
    };
    connect(m_view, &QTableView::doubleClicked, this, activate);
    connect(m_view, &QTableView::activated, this, activate);
    updateSummary();
}

void OverviewPanel::setOverview(const CampaignsOverview &overview)
{
    m_model->setOverview(overview);
    m_readAtMs = QDateTime::currentMSecsSinceEpoch();
    updateSummary();
}

void OverviewPanel::setError(const QString &error)
{
    m_model->setError(error);
    updateSummary();
}

void OverviewPanel::setFocusedCampaign(const QString &id)
{
    m_model->setFocusedCampaign(id);
}

void OverviewPanel::updateSummary()
{
    const CampaignsOverview &o = m_model->overview();
    const QString read = m_readAtMs > 0 ? QDateTime::fromMSecsSinceEpoch(m_readAtMs).toString(u"HH:mm:ss"_s)
                                        : tr("not yet");
    QString text = tr("%n campaign(s) · read %1", nullptr, int(o.campaigns.size())).arg(read);
    if (o.topicLag >= 0)
        text += tr(" · the group lags %1 on the topic").arg(QLocale().toString(o.topicLag));
    if (!m_model->error().isEmpty()) {
        text = tr("%1 · the last reading failed: %2").arg(text, m_model->error());
        m_summary->setStyleSheet(u"QLabel { color: #c62828; }"_s);
    } else {
        m_summary->setStyleSheet({});
    }
    m_summary->setText(text);
}

void OverviewPanel::saveSettings(QSettings &prefs) const
{
    prefs.setValue(u"overview/columns"_s, m_view->horizontalHeader()->saveState());
}

void OverviewPanel::restoreSettings(QSettings &prefs)
{
    m_view->horizontalHeader()->restoreState(prefs.value(u"overview/columns"_s).toByteArray());
}

// --- ReservationsPanel -----------------------------------------------------------------

ReservationsPanel::ReservationsPanel(QWidget *parent)
    : QWidget(parent)
    , m_model(new ReservationTableModel(this))
    , m_summary(new QLabel)
    , m_reconcile(new QLabel)
    , m_settle(new QPushButton(consoleIcon(u"refresh"_s), tr("Settle now")))
    , m_result(new QLabel)
{
    setObjectName(u"reservationsPanel"_s);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *top = new QHBoxLayout;
    m_summary->setObjectName(u"reservationsSummary"_s);
    m_result->setObjectName(u"settleResult"_s);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_settle->setObjectName(u"settleButton"_s);
    m_settle->setToolTip(tr("What couponctl settle does: pending reservations older than the delivery timeout + 1 s "
                            "are confirmed when MySQL has their coupon, or released once the worker group drained "
                            "past them (waiting up to 5 s for that)."));
    top->addWidget(m_summary, 1);
    top->addWidget(m_result);
    top->addWidget(m_settle);
    layout->addLayout(top);
    m_reconcile->setObjectName(u"reconcileState"_s);
    m_reconcile->setWordWrap(true);
    m_reconcile->hide();
    layout->addWidget(m_reconcile);
    m_view = makeTableView(m_model, u"reservationsTable"_s);
    m_view->setColumnWidth(ReservationTableModel::User, 120);
    m_view->setColumnWidth(ReservationTableModel::ReservedAt, 190);
    m_view->setColumnWidth(ReservationTableModel::Age, 90);
    layout->addWidget(m_view);

    connect(m_settle, &QPushButton::clicked, this, [this] {
        if (m_campaign.isEmpty())
            return;
        m_settle->setEnabled(false);
        m_result->setText(tr("Settling…"));
        emit settleRequested(m_campaign);
    });
    connect(m_model, &ReservationTableModel::windowRequested, this,
            [this](int rows) { emit windowRequested(m_campaign, rows); });
    setCampaign({});
}

void ReservationsPanel::setCampaign(const QString &campaign)
{
    if (campaign == m_campaign && !campaign.isEmpty())
        return;
    m_campaign = campaign;
    m_row.reset();
    m_error.clear();
    m_model->setCampaign(campaign);
    m_result->clear();
    m_settle->setEnabled(!campaign.isEmpty());
    m_reconcile->hide();
    updateSummary();
}

void ReservationsPanel::setOverview(const CampaignsOverview &overview)
{
    m_redisNowMs = overview.redisNowMs;
    m_deliveryTimeoutMs = overview.deliveryTimeoutMs;
    m_row.reset();
    for (const CampaignOverview &c : overview.campaigns) {
        if (c.campaign.id == m_campaign)
            m_row = c;
    }
    const QString reconciling = m_row ? reconcileText(*m_row, m_redisNowMs, m_deliveryTimeoutMs) : QString();
    m_reconcile->setVisible(!reconciling.isEmpty());
    if (!reconciling.isEmpty()) {
        const QString since = m_row->reconcile.sinceMs > 0
            ? tr(" since %1").arg(QDateTime::fromMSecsSinceEpoch(m_row->reconcile.sinceMs).toString(u"HH:mm:ss"_s))
            : QString();
        m_reconcile->setText(tr("Reconciling%1: %2. Applies answer reconciling until then.").arg(since, reconciling));
        m_reconcile->setStyleSheet(pillStyle(healthColor(CampaignHealth::Reconciling)));
    }
    m_reconcile->setProperty("step",
                             m_row && !reconciling.isEmpty()
                                 ? QVariant(m_row->maintenance ? u"maintenance"_s : m_row->reconcile.step)
                                 : QVariant());
    m_model->setDeliveryTimeout(m_deliveryTimeoutMs, m_row && isReconciling(*m_row));
    updateSummary();
}

void ReservationsPanel::setSample(const ReservationsSample &sample)
{
    if (sample.campaign != m_campaign)
        return;
    m_error = sample.error;
    if (sample.error.isEmpty())
        m_model->setPage(sample.campaign, sample.page, m_deliveryTimeoutMs, m_row && isReconciling(*m_row));
    updateSummary();
}

QString ReservationsPanel::settleText(const SettleReport &r)
{
    return tr("confirmed %1, released %2, waiting %3 (not drained past yet), younger than the grace %4 (grace %5 ms)")
        .arg(r.confirmed)
        .arg(r.released)
        .arg(r.waiting)
        .arg(r.young)
        .arg(r.graceMs);
}

void ReservationsPanel::showSettleReport(const QString &campaign, const SettleReport &report, const QString &error)
{
    if (campaign != m_campaign)
        return;
    m_settle->setEnabled(true);
    m_result->setText(error.isEmpty() ? tr("Settled: %1").arg(settleText(report)) : tr("Settle failed: %1").arg(error));
    m_result->setStyleSheet(error.isEmpty() ? QString() : u"QLabel { color: #c62828; }"_s);
}

void ReservationsPanel::updateSummary()
{
    if (m_campaign.isEmpty()) {
        m_summary->setText(tr("No campaign focused: double-click one in the Campaigns overview."));
        return;
    }
    if (!m_error.isEmpty()) {
        m_summary->setText(tr("%1: the reservations could not be read: %2").arg(m_campaign, m_error));
        return;
    }
    const PendingPage &page = m_model->page();
    QString text
        = tr("%1: %n pending reservation(s)", nullptr, int(std::min<qint64>(page.total, INT_MAX))).arg(m_campaign);
    if (!page.reservations.isEmpty())
        text += tr(" · oldest %1").arg(durationText(m_model->ageMs(0)));
    if (page.total > page.reservations.size())
        text += tr(" · the oldest %1 shown").arg(page.reservations.size());
    if (m_deliveryTimeoutMs > 0)
        text += tr(" · delivery timeout %1").arg(durationText(m_deliveryTimeoutMs));
    m_summary->setText(text);
}

} // namespace coupon::console
