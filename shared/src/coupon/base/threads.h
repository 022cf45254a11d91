#pragma once

#include <QByteArray>

#include <pthread.h>

namespace coupon {

// Names the calling thread as top, gdb and perf show it (Linux keeps 15
// characters). Every thread the core starts calls this first, so a stuck or
// busy thread can be told apart from the others.
inline void setCurrentThreadName(const char *name)
{
    pthread_setname_np(pthread_self(), QByteArray(name).left(15).constData());
}

} // namespace coupon
