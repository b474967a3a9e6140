#pragma once

namespace vsd {

// `vsd ha keepalived|conntrackd [-c FILE] [--notify CMD] [--state-dir DIR]`:
// argv[1] is "ha". Returns the exit code.
int ha_main(int argc, char** argv);

}  // namespace vsd
