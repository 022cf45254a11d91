#include "failed_events_panel.h"

#include "models.h"
#include "panel_parts.h"

#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace coupon::console {

FailedEventsPanel::FailedEventsPanel(QWidget *parent)
    : QWidget(parent)
    , m_model(new FailedEventTableModel(this))
    , m_total(new QLabel)
    , m_retry(new QPushButton(consoleIcon(u"refresh"_s), tr("Retry…")))
    , m_resolve(new QPushButton(consoleIcon(u"close"_s), tr("Resolve…")))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *top = new QHBoxLayout;
    top->addWidget(m_total, 1);
    m_retry->setObjectName(u"retryFailedEvent"_s);
    m_retry->setToolTip(tr("Apply what the selected message names again, through Redis and the topic"));
    m_resolve->setObjectName(u"resolveFailedEvent"_s);
    m_resolve->setToolTip(tr("Mark the selected message handled, saying who and why"));
    top->addWidget(m_retry);
    top->addWidget(m_resolve);
    layout->addLayout(top);
    m_view = makeTableView(m_model, u"failedView"_s);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setColumnWidth(FailedEventTableModel::Reason, 200);
    m_view->setColumnWidth(FailedEventTableModel::Key, 160);
    m_view->setColumnWidth(FailedEventTableModel::Value, 260);
    m_view->setColumnWidth(FailedEventTableModel::State, 320);
    layout->addWidget(m_view);

    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &FailedEventsPanel::updateButtons);
    connect(m_model, &QAbstractItemModel::modelReset, this, &FailedEventsPanel::updateButtons);
    connect(m_retry, &QPushButton::clicked, this, [this] {
        if (const std::optional<FailedEventRow> row = selected())
            emit retryRequested(*row);
    });
    connect(m_resolve, &QPushButton::clicked, this, [this] {
        if (const std::optional<FailedEventRow> row = selected())
            emit resolveRequested(*row);
    });
    updateButtons();
}

std::optional<FailedEventRow> FailedEventsPanel::selected() const
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    if (rows.size() != 1 || rows.first().row() >= m_model->rowCount())
        return std::nullopt;
    return m_model->row(rows.first().row());
}

void FailedEventsPanel::updateButtons()
{
    const std::optional<FailedEventRow> row = selected();
    const bool open = row && !row->resolved();
    m_retry->setEnabled(open);
    m_resolve->setEnabled(open);
}

void FailedEventsPanel::setCampaign(const QString &campaign)
{
    m_total->clear();
    m_model->setQuery(campaign);
}

void FailedEventsPanel::reload()
{
    m_model->setQuery(m_model->campaign());
    m_model->fetchMore({}); // the first page now, whether or not the tab is showing
}

void FailedEventsPanel::setCount(const QString &campaign, qint64 count)
{
    if (campaign == m_model->campaign())
        m_total->setText(tr("%1 poison message(s) recorded for this campaign").arg(QLocale().toString(count)));
}

void FailedEventsPanel::fetchNewer()
{
    m_model->fetchNewer();
}

} // namespace coupon::console
