#include "panel_parts.h"

#include <QHeaderView>
#include <QIcon>
#include <QLabel>
#include <QTableView>

using namespace Qt::StringLiterals;

namespace coupon::console {

QIcon consoleIcon(const QString &name)
{
    return QIcon(u":/icons/%1.png"_s.arg(name));
}

QTableView *makeTableView(QAbstractItemModel *model, const QString &name)
{
    auto *view = new QTableView;
    view->setObjectName(name);
    view->setModel(model);
    view->setAlternatingRowColors(true);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setWordWrap(false);
    view->verticalHeader()->hide();
    // Fixed row heights keep a million rows cheap to lay out.
    view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 6);
    view->horizontalHeader()->setStretchLastSection(true);
    view->horizontalHeader()->setHighlightSections(false);
    return view;
}

QLabel *makeValueLabel(const QString &name)
{
    auto *label = new QLabel(u"0"_s);
    label->setObjectName(name);
    label->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    label->setMinimumWidth(56);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    return label;
}

QString outcomeName(ApplyOutcome status)
{
    switch (status) {
    case ApplyOutcome::Accepted: return QObject::tr("Accepted");
    case ApplyOutcome::Duplicate: return QObject::tr("Duplicate");
    case ApplyOutcome::SoldOut: return QObject::tr("Sold out");
    case ApplyOutcome::Closed: return QObject::tr("Closed");
    case ApplyOutcome::NotLoaded: return QObject::tr("Not loaded");
    case ApplyOutcome::Invalid: return QObject::tr("Invalid");
    case ApplyOutcome::Unavailable: return QObject::tr("Unavailable");
    case ApplyOutcome::Uncertain: return QObject::tr("Uncertain");
    case ApplyOutcome::Reconciling: return QObject::tr("Reconciling");
    }
    return {};
}

} // namespace coupon::console
