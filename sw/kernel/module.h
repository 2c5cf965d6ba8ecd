// A loadable module's reference count: what try_module_get/module_put pin.
#pragma once
#include <string>

namespace ioatsim::sw {

struct module {
    std::string name;
    int refcnt = 0;
    bool going = false;  // being unloaded: new pins fail
    bool try_get() {
        if (going) return false;
        ++refcnt;
        return true;
    }
    void put() { --refcnt; }
};

}  // namespace ioatsim::sw
