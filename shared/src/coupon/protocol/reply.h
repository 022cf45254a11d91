#pragma once

#include <QByteArray>

#include <optional>
#include <vector>

namespace coupon {

// A Redis reply as plain values: what the protocol reads (the apply
// script's verdict, the memo's snapshot), with none of a client library's
// types, so the protocol is unit-tested from replies built by hand. The
// Redis layer makes these from hiredis' replies (redis/redis.h toReply).
struct Reply
{
    enum class Type : quint8 { Nil, Integer, String, SimpleString, ErrorReply, Array };

    Type type = Type::Nil;
    qint64 integer = 0;          // Integer
    QByteArray text;             // String, SimpleString, ErrorReply (and any other scalar, as Redis sent it)
    std::vector<Reply> elements; // Array

    static Reply nil() { return {}; }
    static Reply fromInteger(qint64 value) { return {Type::Integer, value, {}, {}}; }
    static Reply fromString(QByteArray value) { return {Type::String, 0, std::move(value), {}}; }
    static Reply fromError(QByteArray value) { return {Type::ErrorReply, 0, std::move(value), {}}; }
    static Reply fromArray(std::vector<Reply> items) { return {Type::Array, 0, {}, std::move(items)}; }

    bool isArray(size_t size) const { return type == Type::Array && elements.size() == size; }
    // The text of a String, SimpleString or ErrorReply; empty for anything else.
    QByteArray string() const
    {
        return type == Type::Nil || type == Type::Integer || type == Type::Array ? QByteArray() : text;
    }
    // An Integer, or a String that is one (Lua numbers often come back as strings).
    std::optional<qint64> toInteger() const;
};

} // namespace coupon
