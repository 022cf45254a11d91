#pragma once

#include "coupon/base/result.h"

#include <QSqlDatabase>

namespace coupon::mysql {

// One MySQL transaction, bound to a scope: begin() opens it, commit() ends
// it, and a Transaction that leaves its scope uncommitted (an early return on
// an error, a failed commit) rolls back. Every transaction in coupon_core is
// opened through it, so no path can forget the rollback, and every error
// comes through errors::fromSql.
class Transaction
{
public:
    // `what` names the unit of work in the error message.
    static Result<Transaction> begin(QSqlDatabase db, const QString &what);

    Transaction(Transaction &&other) noexcept;
    Transaction &operator=(Transaction &&) = delete;
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;
    ~Transaction();

    Status commit(const QString &what);

private:
    explicit Transaction(const QSqlDatabase &db);

    QSqlDatabase m_db;
    bool m_open = true; // begun, and neither committed nor handed on by a move
};

} // namespace coupon::mysql
