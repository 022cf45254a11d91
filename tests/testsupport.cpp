#include "testsupport.h"

#include "coupon/loadgen/tokens.h"

#include "coupon/http/response_parser.h"
#include "coupon/kafka/kafka.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QHostAddress>
#include <QProcessEnvironment>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <cstdlib>
#include <sys/prctl.h>

using namespace Qt::StringLiterals;

namespace coupon::test {

Settings integrationSettings()
{
    SettingsSources sources;
    sources.environment = QProcessEnvironment::systemEnvironment();
    sources.iniPath = sources.environment.value(u"COUPON_CONFIG"_s);
    Result<Settings> settings = Settings::load(sources);
    if (!settings) {
        qFatal("integration test settings: %s (run the tests through scripts/test, or set "
               "COUPON_CONFIG to the stack's admin.ini)",
               qPrintable(settings.error().message));
    }
    return std::move(settings).value();
}

QString uniqueCampaign(const QString &prefix)
{
    return prefix + u'-' + QString::number(QRandomGenerator::global()->generate64() % 1'000'000'000'000ULL, 36);
}

QString openCampaign(CampaignOps &ops, const QString &prefix, qint64 limit)
{
    Campaign c;
    c.id = uniqueCampaign(prefix);
    c.limit = limit;
    if (const Status created = ops.create(c); !created)
        qFatal("create %s: %s", qPrintable(c.id), qPrintable(created.error().message));
    if (const Status opened = ops.open(c.id); !opened)
        qFatal("open %s: %s", qPrintable(c.id), qPrintable(opened.error().message));
    return c.id;
}

bool waitFor(const std::function<bool()> &condition, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        if (condition())
            return true;
        if (deadline.hasExpired())
            return false;
        QTest::qWait(2); // the poll interval: runs the event loop for 2 ms
    }
}

ServiceProcess::ServiceProcess(QString program, QString configVariable, QString readyPattern, QStringList extraArgs)
    : m_program(std::move(program))
    , m_configVariable(std::move(configVariable))
    , m_readyPattern(std::move(readyPattern))
    , m_args(std::move(extraArgs))
{
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    // If the test process dies (a crash, a ctest timeout), its services must
    // not live on and consume from the next run's stack.
    m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
}

ProgramRun couponctl(const QStringList &args)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    // simulate keeps its runs: in a test's own folder, never the user's history.
    if (!environment.contains(u"COUPON_RUN_HISTORY_DIR"_s)) {
        static QTemporaryDir runs;
        environment.insert(u"COUPON_RUN_HISTORY_DIR"_s, runs.path());
    }
    return runProgram(QStringLiteral(COUPONCTL_BIN), args, environment, 60000);
}

QString StackFixture::start(const Settings &settings, const QString &connectionName)
{
    ops = std::make_unique<CampaignOps>(settings, connectionName);
    if (Status connected = ops->connect(); !connected)
        return connected.error().message;
    worker = std::make_unique<WorkerProcess>();
    return worker->start();
}

WorkerProcess::WorkerProcess(QStringList extraArgs, QString readyPattern)
    : ServiceProcess(QStringLiteral(COUPON_WORKER_BIN), u"COUPON_WORKER_CONFIG"_s,
                     // owning partitions means it consumes; "assigned 0" would not do
                     readyPattern.isEmpty() ? u"assigned [1-9][0-9]* partition"_s : readyPattern,
                     QStringList{u"--status-interval"_s, u"1"_s, u"--set"_s, u"worker.admin.listen=127.0.0.1:0"_s}
                         + extraArgs)
{ }

quint16 WorkerProcess::adminPort() const
{
    static const QRegularExpression admin(u"coupon-worker: admin on [0-9.]+:([0-9]+)"_s);
    return quint16(admin.match(output()).captured(1).toUInt());
}

GatewayProcess::GatewayProcess(QStringList extraArgs)
    : ServiceProcess(
        QStringLiteral(COUPON_GATEWAY_BIN), u"COUPON_GATEWAY_CONFIG"_s,
        u"listening on [0-9.]+:[0-9]+; admin on [0-9.]+:[0-9]+"_s,
        QStringList{u"--set"_s, u"gateway.listen=127.0.0.1:0"_s, u"--set"_s, u"gateway.admin.listen=127.0.0.1:0"_s}
            + extraArgs)
{ }

quint16 GatewayProcess::port() const
{
    static const QRegularExpression listening(u"listening on [0-9.]+:([0-9]+)"_s);
    return quint16(listening.match(output()).captured(1).toUInt());
}

quint16 GatewayProcess::adminPort() const
{
    static const QRegularExpression admin(u"listening on [0-9.]+:[0-9]+; admin on [0-9.]+:([0-9]+)"_s);
    return quint16(admin.match(output()).captured(1).toUInt());
}

ServiceProcess::~ServiceProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(10000);
    }
}

void ServiceProcess::drain()
{
    m_output += m_process.readAll();
}

QString ServiceProcess::output() const
{
    const_cast<ServiceProcess *>(this)->drain();
    return QString::fromUtf8(m_output);
}

QString ServiceProcess::start(int timeoutMs)
{
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    QString config = env.value(m_configVariable);
    if (config.isEmpty())
        config = env.value(u"COUPON_CONFIG"_s);
    m_process.start(m_program, QStringList{u"--config"_s, config} + m_args);
    const QString name = QFileInfo(m_program).fileName();
    if (!m_process.waitForStarted(10000))
        return name + u" did not start: "_s + m_process.errorString();
    const QRegularExpression ready(m_readyPattern);
    const QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        m_process.waitForReadyRead(50);
        drain();
        if (ready.match(QString::fromUtf8(m_output)).hasMatch())
            return {};
        if (m_process.state() == QProcess::NotRunning)
            return u"%1 exited (%2): %3"_s.arg(name).arg(m_process.exitCode()).arg(QString::fromUtf8(m_output));
    }
    return u"%1 not ready within %2 ms: %3"_s.arg(name).arg(timeoutMs).arg(QString::fromUtf8(m_output));
}

int ServiceProcess::terminate(int timeoutMs)
{
    if (m_process.state() == QProcess::NotRunning)
        return m_process.exitCode();
    ::kill(pid_t(m_process.processId()), SIGTERM);
    if (!m_process.waitForFinished(timeoutMs))
        return -1;
    drain();
    return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
}

void ServiceProcess::kill9()
{
    ::kill(pid_t(m_process.processId()), SIGKILL);
    m_process.waitForFinished(10000);
    drain();
}

QString ProgramRun::text() const
{
    return u"exit %1\nstdout: %2\nstderr: %3"_s.arg(exitCode).arg(out, err);
}

ProgramRun runProgram(const QString &program, const QStringList &args, const QProcessEnvironment &environment,
                      int timeoutMs)
{
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(program, args);
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        return {};
    }
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            QString::fromUtf8(process.readAllStandardOutput()), QString::fromUtf8(process.readAllStandardError())};
}

RedisServer::RedisServer(QStringList extraArgs)
    : m_extraArgs(std::move(extraArgs))
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    m_port = probe.serverPort();
    probe.close();
    m_dir = QDir::tempPath() + u"/coupon-redis-"_s + QString::number(m_port) + u"-"_s
        + QString::number(QRandomGenerator::global()->generate(), 36);
    QDir().mkpath(m_dir);
}

RedisServer::~RedisServer()
{
    if (m_process.state() != QProcess::NotRunning) {
        thaw();
        m_process.kill();
        m_process.waitForFinished(10000);
    }
    QDir(m_dir).removeRecursively();
}

QString RedisServer::start(int timeoutMs)
{
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.start(u"redis-server"_s,
                    QStringList{u"--bind"_s, u"127.0.0.1"_s, u"--port"_s, QString::number(m_port), u"--dir"_s, m_dir,
                                u"--save"_s, u""_s, u"--appendonly"_s, u"yes"_s, u"--appendfsync"_s, u"everysec"_s}
                        + m_extraArgs);
    if (!m_process.waitForStarted(10000))
        return u"redis-server did not start: "_s + m_process.errorString();
    const QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_port);
        if (socket.waitForConnected(200)) {
            socket.write("PING\r\n");
            if (socket.waitForReadyRead(1000)) {
                const QByteArray reply = socket.readAll();
                // NOAUTH: it answers, and wants a user (an --aclfile of the test's)
                if (reply.startsWith("+PONG") || reply.startsWith("-LOADING") || reply.startsWith("-NOAUTH"))
                    return {};
            }
        }
        if (m_process.state() == QProcess::NotRunning)
            return u"redis-server exited: "_s + QString::fromUtf8(m_process.readAll());
        m_process.waitForFinished(50);
    }
    return u"redis-server did not answer within %1 ms: %2"_s.arg(timeoutMs).arg(QString::fromUtf8(m_process.readAll()));
}

void RedisServer::kill9()
{
    ::kill(pid_t(m_process.processId()), SIGKILL);
    m_process.waitForFinished(10000);
}

void RedisServer::freeze()
{
    ::kill(pid_t(m_process.processId()), SIGSTOP);
}

void RedisServer::thaw()
{
    ::kill(pid_t(m_process.processId()), SIGCONT);
}

QString RedisServer::incrAof() const
{
    // appendonly.aof.<n>.incr.aof: the highest n is the one written to.
    QString newest;
    int highest = -1;
    for (const QFileInfo &f : QDir(m_dir + u"/appendonlydir"_s).entryInfoList({u"*.incr.aof"_s}, QDir::Files)) {
        const int n = f.fileName().section(u'.', -3, -3).toInt();
        if (n > highest) {
            highest = n;
            newest = f.absoluteFilePath();
        }
    }
    return newest;
}

Settings RedisServer::pointed(Settings settings) const
{
    settings.redis.host = u"127.0.0.1"_s;
    settings.redis.port = m_port;
    settings.redis.user.clear(); // no ACL users here: the default user, no password
    settings.redis.password.clear();
    settings.redis.sentinels.clear(); // this Redis, not the master a Sentinel names
    return settings;
}

QStringList RedisServer::serviceArgs() const
{
    return {u"--set"_s, u"redis.host=127.0.0.1"_s, u"--set"_s, u"redis.port=%1"_s.arg(m_port),
            u"--set"_s, u"redis.user="_s,          u"--set"_s, u"redis.password="_s,
            u"--set"_s, u"redis.sentinels="_s};
}

MockKafka::MockKafka(const QString &topic)
{
    char errstr[512];
    KafkaConfHandle conf(rd_kafka_conf_new());
    m_host.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr));
    if (!m_host) {
        m_error = QString::fromUtf8(errstr);
        return;
    }
    conf.release(); // owned by m_host
    m_cluster = rd_kafka_mock_cluster_new(m_host.get(), 1);
    if (!m_cluster) {
        m_error = u"rd_kafka_mock_cluster_new failed"_s;
        return;
    }
    if (rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(m_cluster, topic.toUtf8().constData(), 3, 1))
        m_error = QString::fromUtf8(rd_kafka_err2str(err));
}

MockKafka::~MockKafka()
{
    if (m_cluster)
        rd_kafka_mock_cluster_destroy(m_cluster);
}

QString MockKafka::bootstraps() const
{
    return m_cluster ? QString::fromLatin1(rd_kafka_mock_cluster_bootstraps(m_cluster)) : QString();
}

QStringList MockKafka::serviceArgs() const
{
    return {u"--set"_s, u"kafka.bootstrap.servers="_s + bootstraps(), u"--set"_s,
            u"kafka.security.protocol=plaintext"_s};
}

QByteArray HttpResult::header(const QByteArray &lowerName) const
{
    for (const auto &[name, value] : headers) {
        if (name == lowerName)
            return value;
    }
    return {};
}

HttpResult httpRaw(quint16 port, const QByteArray &raw, int timeoutMs)
{
    HttpResult result;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(timeoutMs))
        return result;
    socket.write(raw);
    socket.waitForBytesWritten(timeoutMs);
    QByteArray buffer;
    http::ResponseParser parser;
    const QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        const bool more = socket.bytesAvailable() > 0
            || socket.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())));
        buffer += socket.readAll();
        const http::ResponseParser::Progress status = parser.parse(buffer);
        if (status == http::ResponseParser::Progress::Failed)
            break;
        if (status == http::ResponseParser::Progress::Complete) {
            http::ReceivedResponse response = parser.takeResponse();
            result.status = response.status;
            result.headers = std::move(response.headers);
            result.body = std::move(response.body);
            break;
        }
        if (!more)
            break; // closed or deadline
    }
    return result;
}

double metricSample(const QByteArray &page, const QByteArray &series)
{
    for (const QByteArray &line : page.split('\n')) {
        if (line.startsWith(QByteArray(series + ' ')))
            return line.mid(series.size() + 1).toDouble();
    }
    return -1;
}

HttpResult http(quint16 port, const QByteArray &method, const QByteArray &path, const QByteArray &body,
                const QList<std::pair<QByteArray, QByteArray>> &headers)
{
    QByteArray raw = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto &[name, value] : headers)
        raw += name + ": " + value + "\r\n";
    if (!body.isEmpty() || method == "POST")
        raw += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    return httpRaw(port, raw + "\r\n" + body);
}

QByteArray tokenFor(qint64 user, int ttlS)
{
    static const std::shared_ptr<const TokenMinter> minter = [] {
        Result<std::shared_ptr<const TokenMinter>> m = TokenMinter::fromSettings(integrationSettings());
        if (!m || !*m)
            qFatal("test tokens: %s",
                   m ? "auth.signing.key is not set in $COUPON_CONFIG" : qPrintable(m.error().message));
        return *m;
    }();
    return minter->token(user, ttlS);
}

QList<std::pair<QByteArray, QByteArray>> asUser(qint64 user)
{
    return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + tokenFor(user)}};
}

HttpResult apply(quint16 port, const QByteArray &path, qint64 user,
                 const QList<std::pair<QByteArray, QByteArray>> &headers)
{
    return http(port, "POST", path, "{\"userId\":" + QByteArray::number(user) + '}', asUser(user) + headers);
}

namespace {
struct DeliveryWait
{
    bool done = false;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    Produced where;
};

void onRawDelivery(rd_kafka_t *, const rd_kafka_message_t *m, void *)
{
    auto *wait = static_cast<DeliveryWait *>(m->_private);
    wait->done = true;
    wait->err = m->err;
    wait->where = {m->partition, m->offset};
}
} // namespace

RawProducer::RawProducer(const Settings &settings)
    : m_topic(settings.kafka.topic.toUtf8())
{
    Result<KafkaConfHandle> conf = makeKafkaConf(settings, {{u"linger.ms"_s, u"0"_s}},
                                                 {{u"enable.idempotence"_s, u"true"_s}});
    if (!conf)
        qFatal("raw producer: %s", qPrintable(conf.error().message));
    rd_kafka_conf_set_dr_msg_cb(conf->get(), onRawDelivery);
    char errstr[512];
    m_rk.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr, sizeof errstr));
    if (!m_rk)
        qFatal("raw producer: %s", errstr);
    conf.value().release(); // owned by the producer now
}

Produced RawProducer::send(const std::optional<QByteArray> &key, const std::optional<QByteArray> &value,
                           const QList<RawHeaderValue> &headers)
{
    KafkaHeadersHandle hdrs(rd_kafka_headers_new(headers.size()));
    for (const RawHeaderValue &h : headers)
        rd_kafka_header_add(hdrs.get(), h.name.constData(), h.name.size(), h.value ? h.value->constData() : nullptr,
                            h.value ? h.value->size() : 0);
    DeliveryWait wait;
    const char *keyData = key ? key->constData() : nullptr;
    const size_t keySize = key ? size_t(key->size()) : 0;
    char *valueData = value ? const_cast<char *>(value->constData()) : nullptr;
    const size_t valueSize = value ? size_t(value->size()) : 0;
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        m_rk.get(), RD_KAFKA_V_TOPIC(m_topic.constData()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(keyData, keySize), RD_KAFKA_V_VALUE(valueData, valueSize), RD_KAFKA_V_HEADERS(hdrs.get()),
        RD_KAFKA_V_OPAQUE(&wait), RD_KAFKA_V_END);
    if (err)
        qFatal("raw produce: %s", rd_kafka_err2str(err));
    hdrs.release(); // producev took the headers
    const QDeadlineTimer deadline(20000);
    while (!wait.done && !deadline.hasExpired())
        rd_kafka_poll(m_rk.get(), 50);
    if (!wait.done || wait.err)
        qFatal("raw produce: %s", wait.done ? rd_kafka_err2str(wait.err) : "no delivery report in 20 s");
    return wait.where;
}

QList<RawHeaderValue> protocolHeaders(const QString &campaign, qint64 ticket)
{
    return {{codec::kHeaderCampaign, campaign.toLatin1()},
            {codec::kHeaderTicket, QByteArray::number(ticket)},
            {codec::kHeaderRequestId, "test-" + QByteArray::number(ticket)},
            {codec::kHeaderAppliedAt, QByteArray::number(QDateTime::currentMSecsSinceEpoch())}};
}

} // namespace coupon::test
