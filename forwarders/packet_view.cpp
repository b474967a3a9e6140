// placeholder, written by the forwarders work
