#include "coupon/mysql/transaction.h"

#include "coupon/mysql/sql_errors.h"

#include <QSqlError>

namespace coupon::mysql {

Transaction::Transaction(const QSqlDatabase &db)
    : m_db(db)
{ }

Transaction::Transaction(Transaction &&other) noexcept
    : m_db(other.m_db)
    , m_open(std::exchange(other.m_open, false))
{ }

Transaction::~Transaction()
{
    if (m_open)
        m_db.rollback();
}

Result<Transaction> Transaction::begin(QSqlDatabase db, const QString &what)
{
    if (!db.transaction())
        return errors::fromSql(db.lastError(), what);
    return Transaction(db);
}

Status Transaction::commit(const QString &what)
{
    if (!m_db.commit())
        return errors::fromSql(m_db.lastError(), what); // the destructor rolls back
    m_open = false;
    return Ok{};
}

} // namespace coupon::mysql
