// The scheduler names vsd knows (config `scheduler = "..."`, vsadm -s) and
// the flags each accepts (config `scheduler_flags`, ipvsadm -b).
#pragma once

#include <string_view>
#include <vector>

namespace vsd {

bool is_known_scheduler(std::string_view name);
std::vector<std::string_view> scheduler_names();

// sh: sh-fallback, sh-port; mh: mh-fallback, mh-port. ipvsadm's generic
// names flag-1 and flag-2 are accepted as aliases of the first and second.
// Every other scheduler takes no flags.
bool is_known_scheduler_flag(std::string_view sched, std::string_view flag);
std::vector<std::string_view> scheduler_flag_names(std::string_view sched);  // without aliases

}  // namespace vsd
