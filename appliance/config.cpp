// placeholder, written by the config work
