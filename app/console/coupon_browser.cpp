#include "coupon_browser.h"

#include "models.h"
#include "panel_parts.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpressionValidator>
#include <QScrollBar>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace coupon::console {

CouponBrowser::CouponBrowser(QAction *exportAction, QWidget *parent)
    : QWidget(parent)
    , m_model(new CouponTableModel(this))
    , m_userFilter(new QLineEdit)
    , m_jump(new QLineEdit)
    , m_newestFirst(new QCheckBox(tr("Newest first")))
    , m_total(new QLabel)
    , m_jumpStatus(new QLabel)
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
    filterRow->addWidget(new QLabel(tr("Go to")));
    m_jump->setObjectName(u"couponJump"_s);
    m_jump->setClearButtonEnabled(true);
    m_jump->setPlaceholderText(tr("coupon id, user 42, or 2026-11-30 10:15:00"));
    m_jump->setToolTip(tr("A coupon id (that coupon or the nearest), “user <id>” (their coupon), or a time "
                          "(the first coupon issued at or after it; ISO 8601, or local “yyyy-MM-dd HH:mm:ss”)"));
    m_jump->setMaximumWidth(300);
    connect(m_jump, &QLineEdit::returnPressed, this, [this] { jumpTo(m_jump->text()); });
    filterRow->addWidget(m_jump);
    m_newestFirst->setObjectName(u"newestFirst"_s);
    connect(m_newestFirst, &QCheckBox::toggled, this, &CouponBrowser::setNewestFirst);
    filterRow->addWidget(m_newestFirst);
    m_total->setObjectName(u"couponTotal"_s);
    filterRow->addWidget(m_total, 1);
    auto *exportButton = new QToolButton;
    exportButton->setDefaultAction(exportAction);
    exportButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    filterRow->addWidget(exportButton);
    layout->addLayout(filterRow);
    m_jumpStatus->setObjectName(u"couponJumpStatus"_s);
    m_jumpStatus->hide();
    layout->addWidget(m_jumpStatus);
    layout->addWidget(m_view);
    for (int c = 0; c < CouponTableModel::ColumnCount; ++c)
        m_view->setColumnWidth(c, c == CouponTableModel::IssuedAt ? 190 : 110);

    connect(m_model, &CouponTableModel::totalChanged, this, &CouponBrowser::showTotal);
    connect(m_model, &CouponTableModel::located, this, &CouponBrowser::onLocated);
    connect(m_model, &CouponTableModel::locateFailed, this, [this](const QString &why) {
        m_jumpStatus->setText(tr("Not found: %1").arg(why));
        m_jumpStatus->show();
        emit jumped(-1);
    });
    connect(m_model, &CouponTableModel::rowsInserted, this,
            [this](const QModelIndex &, int first, int last) { keepViewOnInsert(first, last); });
}

void CouponBrowser::setCampaign(const QString &campaign)
{
    m_jumpStatus->hide();
    m_model->setQuery(campaign, m_model->userFilter());
}

qint64 CouponBrowser::total() const
{
    return m_model->total();
}

void CouponBrowser::showTotal(qint64 total)
{
    if (total < 0) {
        m_total->clear();
        return;
    }
    m_total->setText(m_model->userFilter()
                         ? tr("user %1: %n coupon(s)", nullptr, int(total)).arg(*m_model->userFilter())
                         : tr("%1 coupon(s) in total").arg(QLocale().toString(total)));
}

void CouponBrowser::fetchNewer()
{
    m_model->refresh();
}

void CouponBrowser::focusFilter()
{
    m_userFilter->setFocus();
    m_userFilter->selectAll();
}

void CouponBrowser::focusJump()
{
    m_jump->setFocus();
    m_jump->selectAll();
}

bool CouponBrowser::jumpTo(const QString &text)
{
    QString error;
    const std::optional<CouponJump> jump = parseCouponJump(text, &error);
    if (!jump) {
        m_jumpStatus->setText(error);
        m_jumpStatus->show();
        emit jumped(-1);
        return false;
    }
    m_jumpStatus->hide();
    m_pendingJump = *jump;
    m_model->locate(*jump);
    return true;
}

void CouponBrowser::onLocated(int row, qint64 id)
{
    const QModelIndex index = m_model->index(row, CouponTableModel::Id);
    m_view->scrollTo(index, QAbstractItemView::PositionAtCenter);
    m_view->setCurrentIndex(index);
    m_view->selectRow(row);
    if (m_pendingJump.kind == CouponJump::Id && m_pendingJump.value != id) {
        m_jumpStatus->setText(tr("No coupon %1 here; the nearest is %2.").arg(m_pendingJump.value).arg(id));
        m_jumpStatus->show();
    }
    emit jumped(row);
}

void CouponBrowser::keepViewOnInsert(int first, int last)
{
    // Newest first, new coupons come in at the top: an operator reading
    // further down keeps the same rows in view (the selection follows the
    // coupons by itself); one at the top sees them arrive.
    QScrollBar *bar = m_view->verticalScrollBar();
    if (!m_model->newestFirst() || first != 0 || bar->value() == 0)
        return;
    const int rows = last - first + 1;
    const int by = m_view->verticalScrollMode() == QAbstractItemView::ScrollPerPixel
        ? rows * m_view->verticalHeader()->defaultSectionSize()
        : rows;
    const int value = bar->value();
    m_view->doItemsLayout(); // the scroll bar's new range now, not on the next event-loop turn
    bar->setValue(value + by);
}

bool CouponBrowser::newestFirst() const
{
    return m_model->newestFirst();
}

void CouponBrowser::setNewestFirst(bool newestFirst)
{
    if (m_newestFirst->isChecked() != newestFirst)
        m_newestFirst->setChecked(newestFirst); // comes back here through toggled
    if (m_model->newestFirst() == newestFirst)
        return;
    m_model->setNewestFirst(newestFirst);
    m_view->scrollToTop();
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
    m_jumpStatus->hide();
    m_model->setQuery(m_model->campaign(), filter);
}

} // namespace coupon::console
