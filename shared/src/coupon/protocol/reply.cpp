#include "coupon/protocol/reply.h"

namespace coupon {

std::optional<qint64> Reply::toInteger() const
{
    if (type == Type::Integer)
        return integer;
    if (type == Type::String) {
        bool ok = false;
        const qint64 value = text.toLongLong(&ok);
        if (ok)
            return value;
    }
    return std::nullopt;
}

} // namespace coupon
