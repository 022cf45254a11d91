#include "gateway/router.h"

#include "gateway/answers.h"
#include "gateway/metrics.h"

namespace coupon::gateway {

PathParts splitPath(QByteArrayView path)
{
    PathParts parts;
    qsizetype start = 1; // after the leading '/'
    for (qsizetype i = 1; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '/') {
            if (parts.count < PathParts::kMaxParts)
                parts.part[size_t(parts.count)] = path.sliced(start, i - start);
            ++parts.count;
            start = i + 1;
        }
    }
    return parts;
}

void Router::add(Route route, const char *method, std::initializer_list<const char *> segments, Handler handler)
{
    Q_ASSERT(segments.size() <= size_t(PathParts::kMaxParts));
    Entry entry{route, QByteArrayView(method), {}, 0, std::move(handler)};
    for (const char *segment : segments)
        entry.segments[size_t(entry.count++)] = QByteArrayView(segment);
    m_entries.push_back(std::move(entry));
}

bool Router::Entry::matches(const PathParts &parts) const
{
    if (parts.size() != count)
        return false;
    for (qsizetype i = 0; i < count; ++i) {
        const QByteArrayView segment = segments[size_t(i)];
        if (segment != "*" && segment != parts[i])
            return false;
    }
    return true;
}

void Router::route(http::Request request, http::Responder responder) const
{
    const qint64 started = m_metrics.now();
    const PathParts parts = splitPath(request.path);
    const Entry *pathMatch = nullptr;
    for (const Entry &entry : m_entries) {
        if (!entry.matches(parts))
            continue;
        // HEAD is GET without the body (the server leaves it out: RFC 9110 9.3.2).
        if (request.method == entry.method || (request.method == "HEAD" && entry.method == "GET"))
            return entry.handler(parts, std::move(request), std::move(responder), started);
        if (!pathMatch)
            pathMatch = &entry;
    }
    if (pathMatch)
        return m_metrics.answer(pathMatch->route, responder, methodNotAllowed(pathMatch->method), started);
    m_metrics.answer(Route::Other, responder, fixedAnswers().notFound, started);
}

} // namespace coupon::gateway
