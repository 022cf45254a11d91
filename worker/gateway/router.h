#pragma once

// Method + path -> the endpoint that answers it.

#include "coupon/http/server.h"
#include "gateway/routes.h"

#include <QByteArrayView>

#include <array>
#include <functional>
#include <initializer_list>
#include <vector>

namespace coupon::gateway {

class Metrics;

// The path's segments without allocating; only the first kMaxParts are kept,
// `count` says how many there were.
struct PathParts
{
    static constexpr qsizetype kMaxParts = 6;
    std::array<QByteArrayView, kMaxParts> part;
    qsizetype count = 0;
    QByteArrayView operator[](qsizetype i) const { return part[size_t(i)]; }
    qsizetype size() const { return count; }
};

PathParts splitPath(QByteArrayView path);

// A table of (method, path pattern) -> handler. A path no pattern matches is
// answered 404 not_found under route Other; a path that matches with another
// method, 405 with Allow under the pattern's route. Patterns are segments,
// "*" standing for any one segment (the handler checks what it holds).
class Router
{
public:
    // startedNs is Metrics::now() when the request came in.
    using Handler = std::function<void(const PathParts &parts, http::Request request, http::Responder responder,
                                       qint64 startedNs)>;

    explicit Router(Metrics &metrics)
        : m_metrics(metrics)
    { }

    // Segments and method must outlive the router (string literals do).
    void add(Route route, const char *method, std::initializer_list<const char *> segments, Handler handler);
    void route(http::Request request, http::Responder responder) const;

private:
    struct Entry
    {
        Route route;
        QByteArrayView method;
        std::array<QByteArrayView, PathParts::kMaxParts> segments;
        qsizetype count = 0;
        Handler handler;
        bool matches(const PathParts &parts) const;
    };

    Metrics &m_metrics;
    std::vector<Entry> m_entries;
};

} // namespace coupon::gateway
