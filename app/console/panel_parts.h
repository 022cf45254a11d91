#pragma once

#include "coupon/protocol/apply_outcome.h"

#include <QString>

class QAbstractItemModel;
class QIcon;
class QLabel;
class QTableView;

namespace coupon::console {

// Small pieces the window and its panels share, so that their icons,
// tables and numbers look alike.

// One of the console's icons (resources/icons/<name>.png).
QIcon consoleIcon(const QString &name);

// A read-only table of `model` with fixed row heights, named `name`.
QTableView *makeTableView(QAbstractItemModel *model, const QString &name);

// A bold, right-aligned number named `name`, showing 0.
QLabel *makeValueLabel(const QString &name);

// An outcome as the operator reads it ("Sold out").
QString outcomeName(ApplyOutcome status);

} // namespace coupon::console
