#pragma once

namespace vsd {

// `vsd bgp bird [-c FILE] [--router-id ADDR]`: argv[1] is "bgp". Prints
// this director's bird.conf from [bgp] (bgp_routes.hpp). Returns the exit code.
int bgp_main(int argc, char** argv);

}  // namespace vsd
