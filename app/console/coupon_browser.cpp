#include "coupon_browser.h"

#include "models.h"
#include "panel_parts.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpressionValidator>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace coupon::console {

CouponBrowser::CouponBrowser(QAction *exportAction, QWidget *parent)
    : QWidget(parent)
    , m_model(new CouponTableModel(this))
    , m_userFilter(new QLineEdit)
    , m_total(new QLabel)
    , m_view(makeTableView(m_model, u"couponView"_s))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *filterRow = new QHBoxLayout;
    filterRow->addWidget(new QLabel(tr("User id")));
    m_userFilter->setObjectName(u"userFilter"_s);
    m_userFilter->setClearButtonEnabled(true);
    m_userFilter->setPlaceholderText(tr("filter by user id (Ctrl+F)"));
    m_userFilter->setValidator(new QRegularExpressionValidator(QRegularExpression(u"[0-9]{0,19}"_s), m_userFilter));
    m_userFilter->setMaximumWidth(240);
    connect(m_userFilter, &QLineEdit::textChanged, this, &CouponBrowser::applyUserFilter);
    filterRow->addWidget(m_userFilter);
    m_total->setObjectName(u"couponTotal"_s);
    filterRow->addWidget(m_total, 1);
    auto *exportButton = new QToolButton;
    exportButton->setDefaultAction(exportAction);
    exportButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    filterRow->addWidget(exportButton);
    layout->addLayout(filterRow);
    layout->addWidget(m_view);
    for (int c = 0; c < CouponTableModel::ColumnCount; ++c)
        m_view->setColumnWidth(c, c == CouponTableModel::IssuedAt ? 190 : 110);
}

void CouponBrowser::setCampaign(const QString &campaign)
{
    m_count = -1;
    m_total->clear();
    m_model->setQuery(campaign, m_model->userFilter());
}

void CouponBrowser::setCount(const QString &campaign, qint64 count)
{
    if (campaign != m_model->campaign())
        return;
    m_count = count;
    m_total->setText(m_model->userFilter()
                         ? tr("user %1: %n coupon(s)", nullptr, int(count)).arg(*m_model->userFilter())
                         : tr("%1 coupon(s) in total").arg(QLocale().toString(count)));
}

void CouponBrowser::fetchNewer()
{
    m_model->fetchNewer();
}

void CouponBrowser::focusFilter()
{
    m_userFilter->setFocus();
    m_userFilter->selectAll();
}

QByteArray CouponBrowser::columnState() const
{
    return m_view->horizontalHeader()->saveState();
}

void CouponBrowser::restoreColumnState(const QByteArray &state)
{
    m_view->horizontalHeader()->restoreState(state);
}

void CouponBrowser::applyUserFilter()
{
    const QString text = m_userFilter->text().trimmed();
    bool ok = false;
    const qint64 user = text.toLongLong(&ok);
    const UserFilter filter = ok && user > 0 ? UserFilter(user) : std::nullopt;
    const QString campaign = m_model->campaign();
    m_model->setQuery(campaign, filter);
    m_count = -1;
    if (!campaign.isEmpty())
        emit countRequested(campaign, filter);
}

} // namespace coupon::console
