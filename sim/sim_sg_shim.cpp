/*
 * sim_sg_shim.cpp - C wrappers for C++-only SimGrid 3.32 calls (see
 * sim_sg_shim.h).  Exceptions never cross into C: each wrapper catches
 * everything and returns an error.
 */
#include "sim_sg_shim.h"

#include <cstring>
#include <exception>
#include <string>

#include <simgrid/engine.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Disk.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Io.hpp>
#include <simgrid/simix.hpp>
#include <unordered_map>
#include <vector>

/* Copy the first line of text into msg. */
static void first_line(const char *text, char *msg, size_t len)
{
    if (len == 0)
        return;
    size_t n = std::strcspn(text, "\n");
    if (n >= len)
        n = len - 1;
    std::memcpy(msg, text, n);
    msg[n] = '\0';
}

extern "C" int sim_sg_load_platform(const char *path, char *msg, size_t len)
{
    try {
        simgrid_load_platform(path);
        return 0;
    } catch (const std::exception &e) {
        first_line(e.what(), msg, len);
    } catch (...) {
        first_line("unknown exception while loading the platform", msg, len);
    }
    return -1;
}

extern "C" void sim_sg_disk_io(sg_disk_t disk, unsigned long long bytes, int is_write,
                               double weight)
{
    /* made here, in the actor: the activity is the actor's (see sim_disk.c) */
    simgrid::s4u::IoPtr io = simgrid::s4u::Io::init();
    simgrid::s4u::Io::OpType type = is_write ? simgrid::s4u::Io::OpType::WRITE
                                             : simgrid::s4u::Io::OpType::READ;
    if (weight != 1.0)
        simgrid::kernel::actor::simcall_answered([&io, weight] { io->set_priority(weight); });
    simgrid::kernel::actor::simcall_answered([&io, disk, bytes, type] {
        io->set_disk(disk)->set_size(bytes)->set_op_type(type)->start();
    });
    io->wait();
}

extern "C" const char *sim_sg_disk_property(const_sg_disk_t disk, const char *key)
{
    try {
        return disk->get_property(key);
    } catch (...) {
        return nullptr;
    }
}

extern "C" int sim_sg_disk_unknown_prop(const_sg_disk_t disk, const char *const *known,
                                        char *name, size_t len)
{
    try {
        const std::unordered_map<std::string, std::string> *props = disk->get_properties();
        const std::string *first = nullptr;
        for (const auto &kv : *props) {
            bool ok = false;
            for (const char *const *k = known; *k && !ok; k++)
                ok = kv.first == *k;
            if (!ok && (!first || kv.first < *first))
                first = &kv.first;
        }
        if (!first)
            return 0;
        first_line(first->c_str(), name, len);
        return 1;
    } catch (...) {
        return -1;
    }
}

extern "C" int sim_sg_sendto(sg_host_t from, sg_host_t to, unsigned long long bytes)
{
    try {
        simgrid::s4u::Comm::sendto(from, to, bytes);
        return 0;
    } catch (const std::exception &) {
        /* a network failure; the actor's ForcefulKillException (not a
         * std::exception) must go on unwinding, so the kill works */
        return -1;
    }
}

extern "C" int sim_sg_route_links(sg_host_t from, sg_host_t to, double *lat_s)
{
    try {
        std::vector<simgrid::s4u::Link *> links;
        double lat = 0;
        from->route_to(to, links, &lat);
        *lat_s = lat;
        return (int)links.size();
    } catch (...) {
        return -1;
    }
}

extern "C" int sim_sg_actor_start(const char *name, sg_host_t host, void (*code)(void), void *data,
                                  unsigned stack_kib)
{
    try {
        /* in maestro, each s4u call below runs at once, not as a simcall */
        simgrid::kernel::actor::simcall_answered([name, host, code, data, stack_kib] {
            simgrid::s4u::ActorPtr a = simgrid::s4u::Actor::init(name, host);
            a->set_data(data);
            if (stack_kib)
                a->set_stacksize(stack_kib);
            a->start([code] { code(); });
        });
        return 0;
    } catch (const std::exception &) {
        return -1;
    }
}

extern "C" void sim_sg_self_daemonize_on_exit(void (*on_exit)(int failed, void *arg), void *arg)
{
    simgrid::s4u::Actor *self = simgrid::s4u::Actor::self();
    simgrid::kernel::actor::simcall_answered([self, on_exit, arg] {
        self->daemonize();
        self->on_exit([on_exit, arg](bool failed) { on_exit(failed ? 1 : 0, arg); });
    });
}
