#include "gateway.h"

#include "coupon/base/validation.h"
#include "coupon/kafka/kafka.h"
#include "coupon/mysql/sql_errors.h"
#include "coupon/mysql/store.h"
#include "coupon/protocol/apply_request.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTimer>

#include <algorithm>
#include <array>
#include <charconv>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcGateway, "coupon.gateway")

namespace coupon {

// MySQL reads for the GET endpoints, on their own thread with their own
// connection (the gateway role may only SELECT): the event loop never waits.
class DbReader : public QObject
{
public:
    explicit DbReader(MysqlSettings settings)
        : m_settings(std::move(settings))
    { }

    std::atomic<int> backlog{0};

    // Runs on the reader's thread.
    CouponStore *store()
    {
        if (!m_store) {
            m_store = std::make_unique<CouponStore>(m_settings, u"gateway-reader"_s);
            m_open = false;
        }
        if (!m_open) {
            m_open = m_store->open().ok();
            if (!m_open)
                return nullptr;
        }
        return m_store.get();
    }
    void failed(const Error &error)
    {
        if (errors::isConnectionError(error))
            m_open = false;
    }
    void close() { m_store.reset(); }

private:
    MysqlSettings m_settings;
    std::unique_ptr<CouponStore> m_store;
    bool m_open = false;
};

namespace {

using SharedResponder = std::shared_ptr<http::Responder>;

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

// Answers whose bytes never change are serialized once.
struct FixedAnswers
{
    http::Response alive = http::Response::json(200, {{u"status"_s, u"alive"_s}});
    http::Response notFound = http::Response::error(404, u"not_found"_s, u"no such endpoint"_s);
    http::Response unsupportedMediaType = http::Response::error(415, u"unsupported_media_type"_s,
                                                                u"send Content-Type: application/json"_s);
    http::Response duplicate = http::Response::error(409, u"duplicate"_s,
                                                     u"this user already holds or reserved a coupon"_s);
    http::Response soldOut = http::Response::error(410, u"sold_out"_s, u"all coupons of this campaign are taken"_s);
    http::Response closed = http::Response::error(403, u"closed"_s, u"the campaign is closed or outside its window"_s);
};

const FixedAnswers &fixed()
{
    static const FixedAnswers answers;
    return answers;
}

// Bytes that a JSON string carries as they are (QJsonDocument escapes the rest).
char16_t codeUnit(char c)
{
    return uchar(c);
}
char16_t codeUnit(QChar c)
{
    return c.unicode();
}

template <typename Text>
bool isPlainJsonString(const Text &text)
{
    return std::all_of(text.begin(), text.end(), [](auto c) {
        const char16_t u = codeUnit(c);
        return u >= 0x20 && u < 0x7f && u != '"' && u != '\\';
    });
}

void appendNumber(QByteArray &out, qint64 number)
{
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, number);
    out.append(digits, result.ptr - digits);
}

// The 202 body, byte for byte what QJsonDocument(...).toJson(Compact) gives
// (QJsonObject orders keys by name), without building a QJsonObject.
QByteArray acceptedBody(const QString &campaign, qint64 userId, const ApplyResult &r)
{
    // Campaign ids are [a-z0-9_-] (validated), request ids ours; anything else takes the slow path.
    if (!isPlainJsonString(campaign) || !isPlainJsonString(r.requestId))
        return QJsonDocument(QJsonObject{{u"status"_s, u"accepted"_s},
                                         {u"ticket"_s, r.ticket},
                                         {u"campaign"_s, campaign},
                                         {u"userId"_s, userId},
                                         {u"requestId"_s, QString::fromLatin1(r.requestId)}})
            .toJson(QJsonDocument::Compact);
    QByteArray out;
    out.reserve(96 + campaign.size() + r.requestId.size());
    out.append("{\"campaign\":\"");
    for (const QChar c : campaign)
        out.append(char(c.unicode()));
    out.append("\",\"requestId\":\"");
    out.append(r.requestId);
    out.append("\",\"status\":\"accepted\",\"ticket\":");
    appendNumber(out, r.ticket);
    out.append(",\"userId\":");
    appendNumber(out, userId);
    out.append('}');
    return out;
}

http::Response methodNotAllowed(const char *allow)
{
    http::Response r = http::Response::error(405, u"method_not_allowed"_s, u"allowed: %1"_s.arg(QLatin1String(allow)));
    r.headers.append(std::pair<QByteArray, QByteArray>("Allow", allow));
    return r;
}

http::Response unavailable(const QString &code, const QString &message)
{
    http::Response r = http::Response::error(503, code, message);
    r.headers.append(std::pair<QByteArray, QByteArray>("Retry-After", "1"));
    return r;
}

bool validIdempotencyKey(QByteArrayView key)
{
    if (key.isEmpty() || key.size() > 128)
        return false;
    for (const char c : key) {
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

QJsonValue iso(qint64 ms)
{
    return ms > 0 ? QJsonValue(QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs)) : QJsonValue();
}

} // namespace

Gateway::Gateway(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
{
    m_clock.start();
}

Gateway::~Gateway()
{
    m_probeStop.store(true);
    if (m_kafkaProbe.joinable())
        m_kafkaProbe.join();
    if (m_db) {
        QMetaObject::invokeMethod(
            m_db.get(), [db = m_db.get()] { db->close(); }, Qt::BlockingQueuedConnection);
        m_dbThread.quit();
        m_dbThread.wait();
    }
}

quint16 Gateway::port() const
{
    return m_server ? m_server->port() : 0;
}

QString Gateway::kafkaError() const
{
    std::lock_guard lock(m_kafkaErrorMutex);
    return m_kafkaError;
}

Status Gateway::start()
{
    m_service = new AsyncApplyService(m_settings, this);
    if (Status st = m_service->start(); !st)
        return st;
    connect(m_service, &AsyncApplyService::drained, this, &Gateway::maybeFinishShutdown);

    // Kafka liveness: applies are refused at once while no broker answers,
    // instead of waiting out the producer's delivery timeout.
    Result<std::unique_ptr<LagProbe>> probe = LagProbe::create(m_settings, u"coupon-gateway-probe"_s);
    if (!probe)
        return probe.error();
    m_kafkaUp.store(true);
    m_kafkaProbe = std::thread([this, p = std::shared_ptr<LagProbe>(std::move(probe).value())] {
        while (!m_probeStop.load()) {
            Result<QList<PartitionLag>> r = p->query(1500);
            m_kafkaUp.store(r.ok());
            {
                std::lock_guard lock(m_kafkaErrorMutex);
                m_kafkaError = r.ok() ? QString() : r.error().message;
            }
            for (int i = 0; i < 20 && !m_probeStop.load(); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });

    m_db = std::make_unique<DbReader>(m_settings.mysql);
    m_dbThread.setObjectName(u"gateway-db"_s);
    m_db->moveToThread(&m_dbThread);
    m_dbThread.start();

    http::Limits limits;
    limits.readTimeoutMs = m_settings.gateway.readTimeoutMs;
    m_server = new http::Server(limits, this);
    m_server->setHandler(
        [this](http::Request request, http::Responder responder) { handle(std::move(request), std::move(responder)); });
    connect(m_server, &http::Server::idle, this, &Gateway::maybeFinishShutdown);
    QString error;
    QHostAddress address;
    if (!address.setAddress(m_settings.gateway.listenHost))
        return Error(Errc::ConfigInvalid,
                     u"gateway.listen = \"%1:%2\": not an IP address"_s.arg(m_settings.gateway.listenHost)
                         .arg(m_settings.gateway.listenPort));
    if (!m_server->listen(address, m_settings.gateway.listenPort, m_settings.gateway.reusePort, &error))
        return Error(Errc::GatewayListen,
                     u"cannot listen on %1:%2: %3"_s.arg(m_settings.gateway.listenHost)
                         .arg(m_settings.gateway.listenPort)
                         .arg(error));
    qCInfo(lcGateway, "listening on %s:%d", qPrintable(m_settings.gateway.listenHost), m_server->port());
    return Ok{};
}

void Gateway::shutdown()
{
    if (m_stopping)
        return;
    m_stopping = true;
    qCInfo(lcGateway, "stopping: no new connections; answering %d in-flight apply(s)", m_service->inFlight());
    m_server->stopAccepting();
    maybeFinishShutdown();
}

void Gateway::maybeFinishShutdown()
{
    if (!m_stopping || m_service->inFlight() > 0 || m_server->inFlight() > 0)
        return;
    if (Status st = m_service->flush(10000); !st)
        qCWarning(lcGateway, "%s", qPrintable(st.error().message));
    m_stopping = false; // once
    emit stopped();
}

void Gateway::answer(Route route, http::Responder &responder, http::Response response, qint64 startedNs)
{
    const int status = std::clamp(response.status, 0, 599);
    ++m_byStatus[size_t(route)][size_t(status)];
    if (route == Route::Apply) {
        const double seconds = double(m_clock.nsecsElapsed() - startedNs) / 1e9;
        size_t bucket = 0;
        while (bucket < kBuckets.size() && seconds > kBuckets[bucket])
            ++bucket;
        ++m_latency[bucket];
        m_latencySum += seconds;
        ++m_latencyCount;
    }
    responder.respond(std::move(response));
}

void Gateway::handle(http::Request request, http::Responder responder)
{
    const qint64 started = m_clock.nsecsElapsed();
    const PathParts parts = splitPath(request.path);
    const QByteArray &method = request.method;
    auto simple = [&](Route route, http::Response r) { answer(route, responder, std::move(r), started); };

    if (parts.size() == 1 && (parts[0] == "healthz" || parts[0] == "readyz" || parts[0] == "metrics")) {
        const Route route = parts[0] == "healthz" ? Route::Health
            : parts[0] == "readyz"                ? Route::Ready
                                                  : Route::Metrics;
        if (method != "GET")
            return simple(route, methodNotAllowed("GET"));
        if (route == Route::Health)
            return simple(route, fixed().alive);
        if (route == Route::Ready)
            return ready(std::move(responder));
        return metrics(std::move(responder));
    }

    const bool api = parts.size() >= 4 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "campaigns";
    const bool applyPath = api && parts.size() == 5 && parts[4] == "applications";
    const bool campaignPath = api && parts.size() == 4;
    const bool userPath = api && parts.size() == 6 && parts[4] == "users";
    if (!applyPath && !campaignPath && !userPath)
        return simple(Route::Health, fixed().notFound);
    const Route route = applyPath ? Route::Apply : campaignPath ? Route::Campaign : Route::User;
    if (applyPath && method != "POST")
        return simple(route, methodNotAllowed("POST"));
    if (!applyPath && method != "GET")
        return simple(route, methodNotAllowed("GET"));
    if (!isValidCampaignId(parts[3]))
        return simple(
            route,
            http::Response::error(400, u"bad_campaign_id"_s, u"a campaign id matches [a-z0-9][a-z0-9_-]{0,63}"_s));
    const QString campaign = QString::fromLatin1(parts[3].data(), parts[3].size());
    if (campaignPath)
        return campaignInfo(campaign, std::move(responder));
    if (userPath) {
        const std::optional<qint64> user = parseUserId(parts[5]);
        if (!user)
            return simple(
                route,
                http::Response::error(400, u"bad_user_id"_s, u"a user id is an integer in 1..9223372036854775807"_s));
        return userInfo(campaign, *user, std::move(responder));
    }
    apply(campaign, std::move(request), std::move(responder));
}

void Gateway::apply(const QString &campaign, http::Request request, http::Responder responder)
{
    const qint64 started = m_clock.nsecsElapsed();
    const QByteArray contentType = request.header("content-type");
    const auto isJson = [](QByteArrayView type) {
        constexpr QByteArrayView json("application/json");
        return type.size() >= json.size() && type.first(json.size()).compare(json, Qt::CaseInsensitive) == 0
            && (type.size() == json.size() || type[json.size()] == ';');
    };
    if (!isJson(contentType))
        return answer(Route::Apply, responder, fixed().unsupportedMediaType, started);
    Result<qint64> user = parseApplyBody(request.body);
    if (!user)
        return answer(Route::Apply, responder, http::Response::error(400, user.error().code, user.error().message),
                      started);
    const QByteArray idemKey = request.header("idempotency-key");
    if (request.hasHeader("idempotency-key") && !validIdempotencyKey(idemKey))
        return answer(Route::Apply, responder,
                      http::Response::error(400, u"bad_idempotency_key"_s,
                                            u"Idempotency-Key: 1 to 128 visible ASCII characters"_s),
                      started);
    if (m_stopping)
        return answer(Route::Apply, responder, unavailable(u"stopping"_s, u"this gateway is shutting down"_s), started);
    if (m_service->inFlight() >= m_settings.gateway.maxInFlight) {
        ++m_rejectedOverload;
        return answer(Route::Apply, responder,
                      unavailable(u"overloaded"_s, u"%1 applies in flight; try again"_s.arg(m_service->inFlight())),
                      started);
    }
    if (!m_kafkaUp.load())
        return answer(Route::Apply, responder, unavailable(u"kafka_unavailable"_s, kafkaError()), started);
    if (!m_service->redis().isConnected())
        return answer(Route::Apply, responder, unavailable(u"redis_unavailable"_s, m_service->redis().lastError()),
                      started);
    applyNow(campaign, *user, request.hasHeader("idempotency-key") ? idemKey : QByteArray(), std::move(responder));
}

http::Response Gateway::applyAnswer(const QString &campaign, qint64 userId, const ApplyResult &r)
{
    ++m_outcomes[size_t(r.status)];
    switch (r.status) {
    case ApplyStatus::Accepted: {
        http::Response response;
        response.status = 202;
        response.body = acceptedBody(campaign, userId, r);
        return response;
    }
    case ApplyStatus::Duplicate: return fixed().duplicate;
    case ApplyStatus::SoldOut: return fixed().soldOut;
    case ApplyStatus::Closed: return fixed().closed;
    case ApplyStatus::NotLoaded:
        return http::Response::error(404, u"unknown_campaign"_s,
                                     u"no campaign %1 is open for applies (unknown, or being rebuilt)"_s.arg(campaign));
    case ApplyStatus::Invalid: return http::Response::error(400, u"bad_request"_s, r.detail);
    case ApplyStatus::Unavailable: return unavailable(u"unavailable"_s, r.detail);
    case ApplyStatus::Uncertain: break;
    }
    return unavailable(u"outcome_unknown"_s,
                       u"Kafka may or may not have the apply; it stays reserved and is settled "
                       "against MySQL; see GET .../users/%1"_s.arg(userId));
}

void Gateway::applyNow(const QString &campaign, qint64 userId, const QByteArray &idemKey, http::Responder responder)
{
    const qint64 started = m_clock.nsecsElapsed();
    auto shared = std::make_shared<http::Responder>(std::move(responder));
    if (idemKey.isEmpty()) {
        // Nothing to store: no key, no replay record.
        m_service->apply(campaign, userId, [this, campaign, userId, shared, started](const ApplyResult &r) {
            answer(Route::Apply, *shared, applyAnswer(campaign, userId, r), started);
        });
        return;
    }
    const QByteArray redisKey = "coupon:{" + campaign.toLatin1() + "}:idem:" + idemKey;
    const QByteArray user = QByteArray::number(userId);

    // The apply itself; its final answer is stored for replays.
    auto run = [this, campaign, userId, redisKey, user, shared, started] {
        m_service->apply(campaign, userId, [=, this](const ApplyResult &r) {
            http::Response response = applyAnswer(campaign, userId, r);
            if (response.status == 503)
                m_service->redis().command({"DEL", redisKey}, [](Result<const redisReply *>) {});
            else
                m_service->redis().command(
                    {"SET", redisKey, "D|" + user + '|' + QByteArray::number(response.status) + '|' + response.body,
                     "EX", QByteArray::number(m_settings.gateway.idempotencyTtlS)},
                    [](Result<const redisReply *>) {});
            answer(Route::Apply, *shared, std::move(response), started);
        });
    };

    // Claim the key; a key seen before answers what it answered then.
    m_service->redis().command(
        {"SET", redisKey, "P|" + user, "NX", "PX", "60000"},
        [this, run, redisKey, user, shared, started](Result<const redisReply *> claimed) {
            if (!claimed)
                return answer(Route::Apply, *shared, unavailable(u"redis_unavailable"_s, claimed.error().message),
                              started);
            if ((*claimed)->type == REDIS_REPLY_STATUS)
                return run();
            m_service->redis().command(
                {"GET", redisKey}, [this, run, user, shared, started](Result<const redisReply *> got) {
                    if (!got)
                        return answer(Route::Apply, *shared, unavailable(u"redis_unavailable"_s, got.error().message),
                                      started);
                    const QByteArray stored = replyString(*got);
                    if (stored.isEmpty())
                        return run(); // expired between the two calls
                    const QList<QByteArray> fields = stored.split('|');
                    if (fields.value(1) != user)
                        return answer(Route::Apply, *shared,
                                      http::Response::error(422, u"idempotency_key_reused"_s,
                                                            u"this Idempotency-Key was used for another request"_s),
                                      started);
                    if (fields.value(0) == "P") {
                        http::Response r = http::Response::error(
                            409, u"request_in_progress"_s, u"a request with this Idempotency-Key is still running"_s);
                        r.headers.append(std::pair<QByteArray, QByteArray>("Retry-After", "1"));
                        return answer(Route::Apply, *shared, std::move(r), started);
                    }
                    // "D|user|status|body": the body may itself contain '|'.
                    const qsizetype bodyAt = fields[0].size() + fields[1].size() + fields[2].size() + 3;
                    http::Response replay;
                    replay.status = fields.value(2).toInt();
                    replay.body = stored.mid(bodyAt);
                    replay.headers.append(std::pair<QByteArray, QByteArray>("Idempotency-Replayed", "true"));
                    answer(Route::Apply, *shared, std::move(replay), started);
                });
        });
}

void Gateway::campaignInfo(const QString &campaign, http::Responder responder)
{
    const qint64 started = m_clock.nsecsElapsed();
    auto shared = std::make_shared<http::Responder>(std::move(responder));
    const CampaignKeys keys(campaign);
    auto json = std::make_shared<QJsonObject>();
    m_service->redis().command(
        {"HMGET", keys.meta, "limit", "state", "starts", "ends"}, [=, this](Result<const redisReply *> meta) {
            if (!meta)
                return answer(Route::Campaign, *shared, unavailable(u"redis_unavailable"_s, meta.error().message),
                              started);
            const redisReply *m = *meta;
            if (m->type != REDIS_REPLY_ARRAY || m->elements != 4 || m->element[0]->type == REDIS_REPLY_NIL)
                return answer(Route::Campaign, *shared,
                              http::Response::error(404, u"unknown_campaign"_s, u"no campaign %1"_s.arg(campaign)),
                              started);
            (*json)[u"id"_s] = campaign;
            (*json)[u"limit"_s] = replyInteger(m->element[0]).value_or(0);
            (*json)[u"state"_s] = QString::fromLatin1(replyString(m->element[1]));
            (*json)[u"startsAt"_s] = iso(replyInteger(m->element[2]).value_or(0));
            (*json)[u"endsAt"_s] = iso(replyInteger(m->element[3]).value_or(0));
            m_service->redis().command({"GET", keys.count}, [=, this](Result<const redisReply *> count) {
                if (!count)
                    return answer(Route::Campaign, *shared, unavailable(u"redis_unavailable"_s, count.error().message),
                                  started);
                (*json)[u"reserved"_s] = replyInteger(*count).value_or(0);
                // issued: the coupons in MySQL, read off the loop; null when MySQL can't say.
                if (m_db->backlog.load() > 256) {
                    (*json)[u"issued"_s] = QJsonValue();
                    return answer(Route::Campaign, *shared, http::Response::json(200, *json), started);
                }
                ++m_db->backlog;
                QMetaObject::invokeMethod(m_db.get(), [=, this] {
                    std::optional<qint64> issued;
                    if (CouponStore *store = m_db->store()) {
                        Result<std::optional<Campaign>> c = store->campaign(campaign);
                        if (c && *c)
                            issued = (*c)->issued;
                        else if (!c)
                            m_db->failed(c.error());
                    }
                    --m_db->backlog;
                    QMetaObject::invokeMethod(this, [=, this] {
                        (*json)[u"issued"_s] = issued ? QJsonValue(*issued) : QJsonValue();
                        answer(Route::Campaign, *shared, http::Response::json(200, *json), started);
                    });
                });
            });
        });
}

void Gateway::userInfo(const QString &campaign, qint64 userId, http::Responder responder)
{
    const qint64 started = m_clock.nsecsElapsed();
    auto shared = std::make_shared<http::Responder>(std::move(responder));
    const CampaignKeys keys(campaign);
    const QByteArray user = QByteArray::number(userId);
    m_service->redis().command({"ZSCORE", keys.pending, user}, [=, this](Result<const redisReply *> pending) {
        if (!pending)
            return answer(Route::User, *shared, unavailable(u"redis_unavailable"_s, pending.error().message), started);
        const bool isPending = (*pending)->type != REDIS_REPLY_NIL;
        m_service->redis().command({"SISMEMBER", keys.users, user}, [=, this](Result<const redisReply *> member) {
            if (!member)
                return answer(Route::User, *shared, unavailable(u"redis_unavailable"_s, member.error().message),
                              started);
            const bool reserved = replyInteger(*member).value_or(0) == 1;
            ++m_db->backlog;
            QMetaObject::invokeMethod(m_db.get(), [=, this] {
                std::optional<bool> has;
                if (CouponStore *store = m_db->store()) {
                    Result<bool> r = store->hasCoupon(campaign, userId);
                    if (r)
                        has = *r;
                    else
                        m_db->failed(r.error());
                }
                --m_db->backlog;
                QMetaObject::invokeMethod(this, [=, this] {
                    // issued: in MySQL. pending: reserved, Kafka's answer not in yet.
                    // accepted: durable in Kafka, on its way to MySQL. none.
                    QString state = u"none"_s;
                    if (has.value_or(false))
                        state = u"issued"_s;
                    else if (isPending)
                        state = u"pending"_s;
                    else if (reserved)
                        state = u"accepted"_s;
                    QJsonObject json{{u"campaign"_s, campaign}, {u"userId"_s, userId}, {u"state"_s, state}};
                    if (!has)
                        json[u"mysql"_s] = u"unavailable"_s;
                    answer(Route::User, *shared, http::Response::json(200, json), started);
                });
            });
        });
    });
}

void Gateway::ready(http::Responder responder)
{
    const qint64 started = m_clock.nsecsElapsed();
    QJsonObject checks{{u"redis"_s, m_service->redis().isConnected()},
                       {u"scripts"_s, m_service->isReady()},
                       {u"kafka"_s, m_kafkaUp.load()}};
    const bool ok = m_service->isReady() && m_kafkaUp.load() && !m_stopping;
    QJsonObject json{{u"status"_s, ok ? u"ready"_s : u"not_ready"_s}, {u"checks"_s, checks}};
    if (!ok)
        json[u"reason"_s] = m_stopping ? u"shutting down"_s
            : !m_kafkaUp.load()        ? kafkaError()
                                       : m_service->notReadyReason();
    answer(Route::Ready, responder, http::Response::json(ok ? 200 : 503, json), started);
}

void Gateway::metrics(http::Responder responder)
{
    static const char *routeNames[] = {"apply", "campaign", "user", "health", "ready", "metrics"};
    QByteArray out;
    out.reserve(4096);
    out += "# HELP coupon_gateway_requests_total HTTP requests by route and status code.\n"
           "# TYPE coupon_gateway_requests_total counter\n";
    for (int r = 0; r < int(Route::Count); ++r) {
        for (int code = 0; code < 600; ++code) {
            if (const qint64 n = m_byStatus[size_t(r)][size_t(code)])
                out += "coupon_gateway_requests_total{route=\"" + QByteArray(routeNames[r]) + "\",code=\""
                    + QByteArray::number(code) + "\"} " + QByteArray::number(n) + '\n';
        }
    }
    out += "# HELP coupon_gateway_apply_outcomes_total Apply protocol outcomes.\n"
           "# TYPE coupon_gateway_apply_outcomes_total counter\n";
    for (int s = 0; s < kApplyStatusCount; ++s)
        out += "coupon_gateway_apply_outcomes_total{outcome=\"" + toString(ApplyStatus(s)).toLatin1() + "\"} "
            + QByteArray::number(m_outcomes[size_t(s)]) + '\n';
    out += "# HELP coupon_gateway_apply_duration_seconds Time from request to answer of POST applications.\n"
           "# TYPE coupon_gateway_apply_duration_seconds histogram\n";
    qint64 cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
        cumulative += m_latency[b];
        out += "coupon_gateway_apply_duration_seconds_bucket{le=\""
            + (b < kBuckets.size() ? QByteArray::number(kBuckets[b]) : QByteArray("+Inf")) + "\"} "
            + QByteArray::number(cumulative) + '\n';
    }
    out += "coupon_gateway_apply_duration_seconds_sum " + QByteArray::number(m_latencySum, 'f', 6) + '\n';
    out += "coupon_gateway_apply_duration_seconds_count " + QByteArray::number(m_latencyCount) + '\n';
    out += "# HELP coupon_gateway_in_flight Applies waiting for Redis or Kafka.\n# TYPE coupon_gateway_in_flight "
           "gauge\n"
           "coupon_gateway_in_flight "
        + QByteArray::number(m_service->inFlight()) + '\n';
    out += "# HELP coupon_gateway_overload_rejections_total Applies refused because too many were in flight.\n"
           "# TYPE coupon_gateway_overload_rejections_total counter\ncoupon_gateway_overload_rejections_total "
        + QByteArray::number(m_rejectedOverload) + '\n';
    out += "# HELP coupon_gateway_redis_errors_total Redis commands that failed.\n"
           "# TYPE coupon_gateway_redis_errors_total counter\ncoupon_gateway_redis_errors_total "
        + QByteArray::number(m_service->redis().errors()) + '\n';
    out += "# HELP coupon_gateway_kafka_errors_total Produces that failed or were left uncertain.\n"
           "# TYPE coupon_gateway_kafka_errors_total counter\ncoupon_gateway_kafka_errors_total "
        + QByteArray::number(m_service->kafkaErrors()) + '\n';
    out += "# HELP coupon_gateway_soldout_memo_answers_total Applies answered by the sold-out memo, without Redis.\n"
           "# TYPE coupon_gateway_soldout_memo_answers_total counter\ncoupon_gateway_soldout_memo_answers_total "
        + QByteArray::number(m_service->memo().answers()) + '\n';
    out += "# HELP coupon_gateway_soldout_memo_snapshots_total Snapshots of sold-out campaigns' holders taken.\n"
           "# TYPE coupon_gateway_soldout_memo_snapshots_total counter\ncoupon_gateway_soldout_memo_snapshots_total "
        + QByteArray::number(m_service->memo().snapshots()) + '\n';
    out += "# HELP coupon_gateway_up Whether a dependency answers (1) or not (0).\n# TYPE coupon_gateway_up gauge\n"
           "coupon_gateway_up{dependency=\"redis\"} "
        + QByteArray(m_service->redis().isConnected() ? "1" : "0") + '\n' + "coupon_gateway_up{dependency=\"kafka\"} "
        + QByteArray(m_kafkaUp.load() ? "1" : "0") + '\n';
    http::Response r;
    r.status = 200;
    r.contentType = "text/plain; version=0.0.4";
    r.body = out;
    answer(Route::Metrics, responder, std::move(r), m_clock.nsecsElapsed());
}

} // namespace coupon
